"""Evaluating colour renders on unseen engine portraits (called by `anisketch eval`).

    metrics = evaluate_renders(guidance_model, colorizer_or_None, seeds, report_path=out / "report_render.png")

For each seed: the true portrait at 512 px, a complete messy sketch of it (what the artist has when asking for
colour), and simulated hint layers with 0, 1, 5, 10 and 20 dabs picked from the true colours.

- `render.psnr.K`: refined candidate 1 (style seed 0) from the sketch with K dabs, against the true colour image;
- `render.faithful_psnr.K` (K = 0, 10): faithful candidate 1 from the true line art with K dabs;
- `render.hint_delta_e`: mean CIEDE2000 between each dab's colour and what the refined render shows where the
  dab lies on its part (median off the lines: `dabs.region_color`), over all dabs that set a colour;
  `render.hint_coverage`: the share of dabs that set a colour (the rest fell on lines, brows, a mouth...);
- `render.diversity`: mean per-pixel CIEDE2000 between two candidates with no hints, over all pairs of 4;
- `timing.render_ms` / `timing.render_faithful_ms`: one `render` call at 512 px, 4 candidates, 10 dabs,
  guidance included (median over the first seeds).
"""

from __future__ import annotations

import time
from itertools import combinations
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.hints import simulate_hints
from ..engine.raster import render as render_portrait
from ..engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from ..colour import delta_e2000, srgb_to_lab
from ..eval.metrics import psnr
from .api import render
from .dabs import region_color
from .faithful import faithful_candidates
from .refined import color_param_for, paint_candidates

SIZE = 512
HINT_COUNTS = (0, 1, 5, 10, 20)
FAITHFUL_COUNTS = (0, 10)
CANDIDATES = 4
TIMED_SEEDS = 3


def truth_and_inputs(seed: int) -> dict:
    """The true portrait's layers, a complete messy sketch of it, and a hint layer per hint count."""
    rng = np.random.default_rng([seed, 0xC0108])
    portrait = build_portrait(P.sample_params(seed))
    truth = render_portrait(portrait, SIZE)
    strokes = simulate_sketch(portrait, rng, fraction=1.0, order="random", messiness=rng.uniform(0.3, 0.8))
    sketch = render_sketch(strokes, SIZE, rng=rng)
    hints = {k: simulate_hints(portrait, truth["color"], truth["parts"], np.random.default_rng([seed, k]), k)
             for k in HINT_COUNTS}
    return {"truth": truth, "sketch": sketch, "hints": hints}


def hint_errors(layers: dict, dabs, params: P.Params) -> tuple[list[float], int]:
    """CIEDE2000 of each dab that set a colour against the render there, and the number of dabs seen."""
    errors = []
    for dab in dabs:
        if color_param_for(dab.label, params, dab.color) is None:
            continue
        shown = region_color(layers["color"], layers["lineart"], layers["parts"], dab)
        if shown is not None:
            wanted = srgb_to_lab(np.asarray(dab.color, np.uint8))
            errors.append(float(delta_e2000(wanted, srgb_to_lab(np.rint(shown).astype(np.uint8)))))
    return errors, len(dabs)


def diversity(colors: list[np.ndarray], size: int = 128) -> float:
    labs = [srgb_to_lab(cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)) for c in colors]
    return float(np.mean([delta_e2000(a, b).mean() for a, b in combinations(labs, 2)]))


def evaluate_renders(guidance_model, colorizer, seeds: list[int], report_path: Path | None = None,
                     faithfulness: float = 0.5, progress: Callable[[int, int], None] | None = None) -> dict:
    """Flat metrics (see the module docstring); writes the report PNG when `report_path` is given."""
    scores: dict[str, list[float]] = {}
    delta_e: list[float] = []
    dabs_seen = dabs_used = 0
    rows = []
    timings: dict[str, list[float]] = {"refined": [], "faithful": []}

    def add(key, value):
        scores.setdefault(key, []).append(value)

    for i, seed in enumerate(seeds):
        case = truth_and_inputs(seed)
        truth = case["truth"]["color"]
        guide = guidance_model.guide(case["sketch"], faithfulness=faithfulness)
        params = P.decode(guide.floats, guide.choices)
        row = {"sketch": case["sketch"], "hints": case["hints"][10], "truth": truth}
        for k in HINT_COUNTS:
            hints = case["hints"][k] if k else None
            n = CANDIDATES if k == 0 else 1
            layers, dabs, _ = paint_candidates(guide.floats, guide.choices, hints, SIZE, n, style_seed=0)
            add(f"render.psnr.{k}", psnr(layers[0]["color"], truth))
            if k == 0:
                add("render.diversity", diversity([layer["color"] for layer in layers]))
                row["refined_0"] = layers[0]["color"]
            else:
                errors, seen = hint_errors(layers[0], dabs, params)
                delta_e += errors
                dabs_used, dabs_seen = dabs_used + len(errors), dabs_seen + seen
            if k == 10:
                row["refined_10"] = layers[0]["color"]
        if colorizer is not None:
            for k in FAITHFUL_COUNTS:
                hints = case["hints"][k] if k else None
                rgba = faithful_candidates(colorizer, case["truth"]["lineart"], hints, None, None, 1, 0)[0]
                add(f"render.faithful_psnr.{k}", psnr(rgba[..., :3], truth))
                if k == 10:
                    row["faithful_10"] = rgba[..., :3]
        if i < TIMED_SEEDS:
            for mode in ("refined", "faithful") if colorizer is not None else ("refined",):
                t = time.perf_counter()
                render(guidance_model, sketch_to_rgba(case["sketch"]), case["hints"][10], n=CANDIDATES, mode=mode,
                       style_seed=0, colorizer=colorizer)
                timings[mode].append((time.perf_counter() - t) * 1000.0)
        rows.append(row)
        if progress:
            progress(i + 1, len(seeds))

    metrics = {key: round(float(np.mean(values)), 3) for key, values in scores.items()}
    metrics["render.hint_delta_e"] = round(float(np.mean(delta_e)), 3) if delta_e else float("nan")
    metrics["render.hint_coverage"] = round(dabs_used / max(1, dabs_seen), 3)
    metrics["timing.render_ms"] = round(float(np.median(timings["refined"])), 1)
    if timings["faithful"]:
        metrics["timing.render_faithful_ms"] = round(float(np.median(timings["faithful"])), 1)
    if report_path is not None:
        from PIL import Image

        Image.fromarray(report_image(rows)).save(report_path)
    return metrics


def hints_over(sketch: np.ndarray, hints: np.ndarray) -> np.ndarray:
    """The hint dabs over the sketch on white, as the artist sees the two layers."""
    paper = np.repeat((255 - sketch)[..., None], 3, axis=2).astype(np.float32)
    a = hints[..., 3:4].astype(np.float32) / 255.0
    return np.rint(paper * (1 - a) + hints[..., :3] * a).astype(np.uint8)


def report_image(rows: list[dict], thumb: int = 192, max_rows: int = 6) -> np.ndarray:
    """One row per sample: sketch + 10 hints | refined, no hints | refined, 10 hints | faithful, 10 hints | truth."""
    columns = ["hints", "refined_0", "refined_10", "faithful_10", "truth"]
    blank = np.full((thumb, thumb, 3), 255, np.uint8)
    lines = []
    for row in rows[:max_rows]:
        cells = []
        for name in columns:
            image = hints_over(row["sketch"], row["hints"]) if name == "hints" else row.get(name)
            cells.append(blank if image is None else cv2.resize(image, (thumb, thumb), interpolation=cv2.INTER_AREA))
        lines.append(np.concatenate(cells, axis=1))
    header = np.full((24, thumb * len(columns), 3), 255, np.uint8)
    for j, name in enumerate(["sketch + 10 dabs", "refined, 0 dabs", "refined, 10 dabs", "faithful, 10 dabs",
                              "truth"]):
        cv2.putText(header, name, (j * thumb + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([header] + lines, axis=0)
