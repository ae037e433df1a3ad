"""`anisketch eval --count N --seed S --out DIR`: the numbers we steer by, on unseen engine samples.

Writes DIR/metrics.json (flat keys such as `guidance.f1.50`, `baseline.knn.f1.50`, `render.psnr.10`,
`generate.attribute_accuracy`, `timing.guidance_ms`) and one report PNG per capability: report_guidance.png
(sketch, guidance and truth at each level), report_render.png (hints, renders, truth), report_generate.png
(rows: one attribute changed; columns: seeds).
`robustness` (eval/styles.py): guidance on sketches drawn in artists' styles and inks, F1 per named condition and
level, the gap to in-distribution, the invented-accessory rate and faithful renders, report_robustness_COND.png
each; `framing` (eval/framing.py): the same sketches placed anywhere in the request, at any size, through the
plugin's crop rule, report_framing_COND.png each (the request, the truth and the guidance over it); `hold`
(eval/hold.py): how far the parts the artist did not touch move when new strokes grow the crop (canvas px, median
and largest), pinned parts too. Training draws its seeds from 0 upwards (hundreds of millions at most), so
evaluation seeds start at 2e9 and anything below 1e9 is refused.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

EVAL_SEED_BASE = 2_000_000_000
FIRST_UNSEEN_SEED = 1_000_000_000
# robustness: guidance on artists' styles and inks (eval/styles.py); framing: at any place and size (eval/framing.py);
# hold: untouched parts across a crop change (eval/hold.py)
CAPABILITIES = ("guidance", "render", "generate", "robustness", "framing", "hold")
# ceiling: what no reader of the style conditions' sketches could draw (eval/ceiling.py); asked for by name only
OPTIONAL_CAPABILITIES = ("ceiling",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=100, help="samples to evaluate (default 100)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED_BASE, help=f"first seed (default {EVAL_SEED_BASE})")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics.json and the report PNGs")
    parser.add_argument("--weights", type=Path, default=None, help="weights folder (default: the shipped weights/)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--replay", type=int, default=12, help="samples replayed stroke by stroke (consistency)")
    parser.add_argument("--faithfulness", type=float, default=None, help="guidance faithfulness (default: as served)")
    parser.add_argument("--only", default=",".join(CAPABILITIES),
                        help=f"comma-separated capabilities to evaluate (default: all: {', '.join(CAPABILITIES)}; "
                             f"also {', '.join(OPTIONAL_CAPABILITIES)})")
    parser.add_argument("--conditions", default=None,
                        help="robustness: comma-separated style conditions (default: all; eval/styles.py)")
    parser.add_argument("--render-count", type=int, default=20,
                        help="robustness: seeds per condition with a faithful render (default 20)")


def run(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image
    from tqdm import tqdm

    from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
    from ..guidance.predictor import GuidanceModel
    from .guidance import evaluate_guidance, report_image

    if args.count <= 0:
        raise SystemExit("anisketch eval: --count must be positive")
    if args.seed < FIRST_UNSEEN_SEED:
        raise SystemExit(f"anisketch eval: seeds below {FIRST_UNSEEN_SEED} may have been used in training; "
                         f"use --seed {EVAL_SEED_BASE} or higher")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    only = {name.strip() for name in args.only.split(",")}
    unknown = only - set(CAPABILITIES) - set(OPTIONAL_CAPABILITIES)
    if unknown:
        raise SystemExit(f"anisketch eval: unknown capability {', '.join(sorted(unknown))} "
                         f"({', '.join(CAPABILITIES + OPTIONAL_CAPABILITIES)})")
    args.out.mkdir(parents=True, exist_ok=True)
    model = GuidanceModel.load(args.weights, device=device)
    seeds = list(range(args.seed, args.seed + args.count))
    metrics: dict = {}
    if "guidance" in only:
        bar = tqdm(total=len(seeds), desc="eval guidance")
        found, rows = evaluate_guidance(model, seeds, replay_count=min(args.replay, len(seeds)),
                                        faithfulness=args.faithfulness if args.faithfulness is not None
                                        else DEFAULT_FAITHFULNESS, progress=lambda i, n: bar.update(1))
        bar.close()
        metrics.update(found)
        Image.fromarray(report_image(rows)).save(args.out / "report_guidance.png")
    if "render" in only:
        from ..render.api import load_colorizer
        from ..render.evaluate import evaluate_renders

        bar = tqdm(total=len(seeds), desc="eval render")
        metrics.update(evaluate_renders(model, load_colorizer(args.weights, device), seeds,
                                        report_path=args.out / "report_render.png",
                                        progress=lambda i, n: bar.update(1)))
        bar.close()
    if "generate" in only:
        from ..generate.evaluate import evaluate_generation
        from ..generate.model import load_judge

        # its figures (attribute accuracy per value) need a few portraits of each: at least 8 seeds
        generation_seeds = seeds if len(seeds) >= 8 else list(range(args.seed, args.seed + 8))
        if generation_seeds is not seeds:
            print(f"generation: {len(generation_seeds)} seeds (its least), not {len(seeds)}")
        found, grid = evaluate_generation(load_judge(args.weights, device), generation_seeds)
        metrics.update(found)
        Image.fromarray(grid).save(args.out / "report_generate.png")
    faithfulness = args.faithfulness if args.faithfulness is not None else DEFAULT_FAITHFULNESS
    if "robustness" in only:
        metrics.update(run_robustness(model, seeds, args, faithfulness, device))
    if "framing" in only:
        from .framing import evaluate as evaluate_framing

        from .framing import report_image as framing_report

        views: list = []
        found = evaluate_framing(model, tqdm(seeds, desc="eval framing"), views=views)
        metrics.update({f"framing.{c}.f1.{level}": v["f1"] for c, levels in found.items() for level, v in levels.items()})
        for condition in found:
            Image.fromarray(framing_report(condition, views)).save(args.out / f"report_framing_{condition}.png")
    if "ceiling" in only:
        from .ceiling import evaluate as evaluate_ceiling

        bar = tqdm(total=len(seeds), desc="eval ceiling")
        metrics.update(evaluate_ceiling(seeds, condition_names(args), model, progress=lambda i, n: bar.update(1)))
        bar.close()
    if "hold" in only:
        from .hold import evaluate as evaluate_hold

        metrics.update(evaluate_hold(model, tqdm(seeds, desc="eval hold")))
    metrics["eval.count"] = args.count
    metrics["eval.seed"] = args.seed
    metrics["eval.device"] = device if device == "cpu" else torch.cuda.get_device_name()
    metrics["eval.machine"] = f"{platform.machine()} {torch.get_num_threads()} threads"
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for key, value in metrics.items():
        print(f"{key:32s} {value}")
    return 0


def run_robustness(model, seeds: list[int], args, faithfulness: float, device: str) -> dict:
    """The style conditions (eval/styles.py): metrics, and report_robustness_COND.png per condition."""
    from PIL import Image
    from tqdm import tqdm

    from ..render.api import load_colorizer
    from .styles import evaluate_styles, report_image

    names = condition_names(args)
    bar = tqdm(total=len(seeds), desc="eval robustness")
    found, rows = evaluate_styles(model, seeds, names, faithfulness, load_colorizer(args.weights, device),
                                  render_count=args.render_count, progress=lambda i, n: bar.update(1))
    bar.close()
    for name in names:
        Image.fromarray(report_image(name, rows[name])).save(args.out / f"report_robustness_{name}.png")
    return found


def condition_names(args) -> tuple[str, ...]:
    """The style conditions that --conditions names (default: all of eval/styles.py)."""
    from .styles import CONDITIONS

    names = tuple(CONDITIONS) if args.conditions is None else tuple(n.strip() for n in args.conditions.split(","))
    unknown = set(names) - set(CONDITIONS)
    if unknown:
        raise SystemExit(f"anisketch eval: unknown condition {', '.join(sorted(unknown))} ({', '.join(CONDITIONS)})")
    return names
