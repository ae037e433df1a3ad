"""How high can colour-render PSNR go here? Ceilings measured on the evaluation's own seeds, truths and hints.

    python -m anisketch.render.ceilings --count 60          # prints one table (about 1 s per seed)

The issue's anchor (Zhang et al. 2017: 24.4 dB with no hints, 28.4 dB with ten) was measured on ImageNet with a
*grayscale* input that carries the luminance of every pixel. Our inputs carry none: a sketch (refined) or line
art (faithful). Each row below removes one source of error, so the closing note can say which targets are
reachable and which are out of reach by construction:

- `refined, guidance geometry`: refined mode as `anisketch eval` measures it (the guidance's face from the
  sketch, candidate 1, style seed 0);
- `refined, TRUE geometry`: the same painter on the *true* parameter vector, the same hint layers: what refined
  mode would reach with a perfect guidance;
- `TRUE geometry, TRUE palette`: the true vector with every colour right: the engine repaints the truth itself
  (a check that nothing else is lost: PSNR infinite);
- `guidance geometry, TRUE palette`: the guidance's face with every colour right: the upper bound of *any*
  painter of the guidance's face, i.e. the geometry term of refined mode;
- `TRUE geometry, random palette`: the truth repainted with another engine palette (4 donors per seed): the
  0-hint figure of a painter that guesses colours at random from the engine's own distribution;
- `TRUE geometry, likely palette`: the truth repainted with the single most likely palette (`refined.
  likely_palette`): the best one fixed palette does when no colour is known; the 0-hint ceiling of any
  method that sees no colour (PSNR rewards the palette nearest to all others, not a pretty one);
- `faithful: TRUE fills + lines composited`: faithful mode's compositing with a perfect network (the true flat
  fills, the true line art composited as `faithful.py` does): the ceiling of the network-plus-lines design.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render as render_portrait, render_regions
from ..eval.metrics import psnr
from .evaluate import HINT_COUNTS, SIZE, truth_and_inputs
from .faithful import ink_lines
from .refined import COLOR_NAMES, likely_palette, paint_candidates, with_style

EVAL_SEED_BASE = 2_000_000_000
RANDOM_PALETTES = 4
PSNR_CAP = 99.0  # an exact repaint has infinite PSNR: shown as ">= 99" so that means stay finite


def with_palette(params: P.Params, palette: P.Params) -> P.Params:
    """params (their geometry) with every colour and the background kind of `palette`."""
    out = params.copy()
    for name in COLOR_NAMES + ["background"]:
        out[name] = palette[name]
    return out


def color_of(params: P.Params) -> np.ndarray:
    return render_portrait(build_portrait(params), SIZE)["color"]


def capped_psnr(a: np.ndarray, b: np.ndarray) -> float:
    return min(psnr(a, b), PSNR_CAP)


def seed_ceilings(seed: int, guidance_model=None, faithfulness: float = 0.5) -> dict[str, list[float]]:
    """Row name -> PSNR per hint count (one value for the rows that take no hints), for one seed."""
    case = truth_and_inputs(seed)
    truth = case["truth"]["color"]
    true_params = P.sample_params(seed)
    floats, choices = P.encode(true_params)

    def painter(floats_, choices_):
        return [capped_psnr(paint_candidates(floats_, choices_, case["hints"][k] if k else None, SIZE, 1, 0)[0][0]
                            ["color"], truth) for k in HINT_COUNTS]

    rows = {"refined, TRUE geometry": painter(floats, choices),
            "TRUE geometry, TRUE palette": [capped_psnr(color_of(P.decode(floats, choices)), truth)],
            "TRUE geometry, random palette": [float(np.mean([
                capped_psnr(color_of(with_style(true_params, seed, k, {})), truth) for k in range(RANDOM_PALETTES)]))],
            "TRUE geometry, likely palette": [capped_psnr(color_of(with_palette(true_params, likely_palette())),
                                                          truth)]}
    fills = render_regions(build_portrait(true_params).regions, SIZE)[0]
    rows["faithful: TRUE fills + lines composited"] = [capped_psnr(ink_lines(fills, case["truth"]["lineart"]),
                                                                    truth)]
    if guidance_model is not None:
        guide = guidance_model.guide(case["sketch"], faithfulness=faithfulness)
        rows["refined, guidance geometry"] = painter(guide.floats, guide.choices)
        guided = P.decode(guide.floats, guide.choices)
        rows["guidance geometry, TRUE palette"] = [capped_psnr(color_of(with_palette(guided, true_params)), truth)]
    return rows


ROW_ORDER = ["refined, guidance geometry", "refined, TRUE geometry", "TRUE geometry, TRUE palette",
             "guidance geometry, TRUE palette", "TRUE geometry, random palette", "TRUE geometry, likely palette",
             "faithful: TRUE fills + lines composited"]


def measure(seeds: list[int], guidance_model=None, progress=None) -> dict[str, list[float]]:
    """Row name -> mean PSNR per hint count over the seeds."""
    totals: dict[str, list[list[float]]] = {}
    for i, seed in enumerate(seeds):
        for name, values in seed_ceilings(seed, guidance_model).items():
            totals.setdefault(name, []).append(values)
        if progress:
            progress(i + 1, len(seeds))
    return {name: np.mean(totals[name], axis=0).tolist() for name in ROW_ORDER if name in totals}


def table(means: dict[str, list[float]]) -> str:
    width = max(len(name) for name in means) + 2
    lines = [f"{'PSNR (dB) / dabs':<{width}}" + "".join(f"{k:>7}" for k in HINT_COUNTS)]
    for name, values in means.items():
        cells = [f"{v:7.1f}" if v < PSNR_CAP else "  >= 99" for v in values]
        if len(values) == 1:  # rows that take no hints: one figure, in the 0-dab column
            cells[0] = cells[0] + "  (no hints)"
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m anisketch.render.ceilings", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=60, help="evaluation seeds (default 60)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED_BASE, help=f"first seed (default {EVAL_SEED_BASE})")
    parser.add_argument("--weights", default=None, help="weights folder for the guidance rows (default: shipped)")
    parser.add_argument("--no-guidance", action="store_true", help="skip the rows that need the guidance model")
    args = parser.parse_args(argv)
    guidance_model = None
    if not args.no_guidance:
        from ..guidance.predictor import GuidanceModel

        guidance_model = GuidanceModel.load(args.weights, device="cpu")
    seeds = list(range(args.seed, args.seed + args.count))
    means = measure(seeds, guidance_model, progress=lambda i, n: print(f"\r{i}/{n} seeds", end="", flush=True))
    print(f"\n{len(seeds)} seeds from {args.seed}, {SIZE} px, candidate 1, style seed 0\n")
    print(table(means))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
