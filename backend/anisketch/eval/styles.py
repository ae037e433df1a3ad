"""Guidance on sketches drawn the way real artists draw them: named conditions, some held out from training.

Each condition draws every seed's portrait in one style (engine/sketch_style.py) or ink (coloured pencil, thick
or light lines), takes the strokes drawn after 25/50/75/100 % of them (by stroke count, as `eval.guidance`),
asks `GuidanceModel.guide` (the path the server takes, the frame finder included) and scores the guidance
against the portrait's true line art by F1 within 3 px at 512 px. The same portraits and the same random
numbers in every condition, so the conditions compare pair by pair with `in_distribution` (exactly the
sketches of `eval.guidance`: random order, messiness 0.6, pencil).

Also per condition:
- the **invented-accessory rate**: the share of guides that draw glasses, a hat or a ribbon for a portrait
  that has none (every level counts);
- **faithful renders** (with a colouriser): the faithful candidate from the complete sketch with 10 colour
  dabs, PSNR against the true colour image, on the first `render_count` seeds.

`HELD_OUT_CONDITIONS` draw only variants the training sampler never draws (sketch_style.HELD_OUT); the others
are styles training may see (with `style_share` > 0) or inks it only sees through augmentation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.hints import simulate_hints
from ..engine.raster import render as render_portrait
from ..engine.raster import render_lines
from ..engine.sketch import render_sketch, rgba_to_darkness, simulate_sketch, sketch_to_rgba
from ..engine.sketch_style import SketchStyle, draw_styled
from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
from ..errors import BadRequest
from .guidance import EVAL_MESSINESS, LEVELS, SIZE, drawn_count
from .metrics import line_f1, psnr

ACCESSORIES = ("glasses", "hat", "ribbon")
BLUE_PENCIL = (40, 90, 220)
THICK = 2.5   # line width factor of a thick brush
LIGHT = 0.35  # the alpha of a light touch (pencil pressure, a faint layer)
RENDER_DABS = 10


@dataclass(frozen=True)
class Condition:
    style: SketchStyle | None = None  # None: the engine's strokes as eval.guidance draws them
    ink: str = "pencil"               # pencil | blue | thick | light
    held_out: bool = False


CONDITIONS = {
    "in_distribution": Condition(),
    "guides": Condition(SketchStyle(guides=True, order="random")),
    "guides_features_first": Condition(SketchStyle(guides=True, order="features")),
    "beginner": Condition(SketchStyle(beginner=True, order="random")),
    "features_first": Condition(SketchStyle(order="features")),
    "contour_first": Condition(SketchStyle(order="contour")),
    "multipass": Condition(SketchStyle(passes=3, order="random")),
    "hatching": Condition(SketchStyle(hatching=True, passes=2, order="random")),
    "blue_pencil": Condition(ink="blue"),
    "thick": Condition(ink="thick"),
    "light": Condition(ink="light"),
    "hair_first": Condition(SketchStyle(order="hair")),
    "held_out_left_first": Condition(SketchStyle(order="left_first"), held_out=True),
    "held_out_dot_eyes": Condition(SketchStyle(beginner=True, eyes="dot", guides=True, order="features"),
                                   held_out=True),
}
HELD_OUT_CONDITIONS = tuple(name for name, c in CONDITIONS.items() if c.held_out)


def drawn_strokes(portrait, seed: int, condition: Condition) -> list:
    """The complete drawing of `portrait` in the condition's style, in drawing order."""
    rng = np.random.default_rng([seed, 0xE7A1])  # eval.guidance's stream: in_distribution is its sketch
    if condition.style is None:
        return simulate_sketch(portrait, rng, fraction=1.0, order="random", messiness=EVAL_MESSINESS)
    return draw_styled(portrait, rng, condition.style, fraction=1.0, messiness=EVAL_MESSINESS)


def sketch_pixels(strokes: list, seed: int, count: int, ink: str) -> np.ndarray:
    """The first `count` strokes as the darkness the guidance reads (coloured or light inks through the sketch
    layer's RGBA, as the server reads them)."""
    if ink == "thick":
        strokes = [dataclasses.replace(s, widths=s.widths * np.float32(THICK)) for s in strokes]
    darkness = render_sketch(strokes[:count], SIZE, rng=np.random.default_rng([seed, count]))
    if ink == "blue":
        return rgba_to_darkness(sketch_to_rgba(darkness, BLUE_PENCIL))
    if ink == "light":
        return rgba_to_darkness(sketch_to_rgba(np.rint(darkness * LIGHT).astype(np.uint8)))
    return darkness


_NONE = {spec.name: spec.options.index("none") for spec in P.PARAM_SPECS if spec.name in ACCESSORIES}


def accessories_of(params) -> set[str]:
    """The accessories a portrait wears (choices are option indices; "none" is one of the options)."""
    return {name for name in ACCESSORIES if int(params[name]) != _NONE[name]}


def score_seed(model, seed: int, names, faithfulness: float, colorizer=None) -> dict:
    """{condition: {"f1": {level: F1}, "invented": [accessories per level], "psnr": float | None, "row": ...}}."""
    params = P.sample_params(seed)
    portrait = build_portrait(params)
    truth = render_lines(portrait.strokes, SIZE)
    bare = not accessories_of(params)
    colour = render_portrait(portrait, SIZE) if colorizer is not None else None
    out = {}
    for name in names:
        condition = CONDITIONS[name]
        strokes = drawn_strokes(portrait, seed, condition)
        result: dict = {"f1": {}, "invented": [], "psnr": None, "row": {"truth": truth, "levels": {}}}
        for level in LEVELS:
            sketch = sketch_pixels(strokes, seed, drawn_count(strokes, level), condition.ink)
            try:
                guide = model.guide(sketch, faithfulness=faithfulness)
            except BadRequest:  # nothing drawn yet that the guidance can read
                result["f1"][level] = 0.0
                result["row"]["levels"][level] = (sketch, np.zeros_like(sketch))
                continue
            lines = render_lines(guide.portrait.strokes, SIZE)
            result["f1"][level] = line_f1(lines, truth)
            result["row"]["levels"][level] = (sketch, lines)
            if bare:
                result["invented"].append(sorted(accessories_of(P.decode(guide.floats, guide.choices))))
        if colour is not None:
            result["psnr"], result["row"]["render"] = faithful_render(colorizer, portrait, colour, sketch, seed)
            result["row"]["colour"] = colour["color"]
        out[name] = result
    return out


def faithful_render(colorizer, portrait, colour: dict, sketch: np.ndarray, seed: int) -> tuple[float, np.ndarray]:
    """The faithful candidate of the complete sketch with RENDER_DABS dabs: (PSNR against the truth, the render)."""
    from ..render.faithful import faithful_candidates

    hints = simulate_hints(portrait, colour["color"], colour["parts"], np.random.default_rng([seed, RENDER_DABS]),
                           RENDER_DABS)
    rgba = faithful_candidates(colorizer, sketch, hints, None, None, 1, 0)[0]
    return psnr(rgba[..., :3], colour["color"]), rgba[..., :3]


def evaluate_styles(model, seeds: list[int], names=tuple(CONDITIONS), faithfulness: float = DEFAULT_FAITHFULNESS,
                    colorizer=None, render_count: int = 20,
                    progress: Callable[[int, int], None] | None = None) -> tuple[dict, dict]:
    """(flat metrics, {condition: report rows}). Keys: `robustness.COND.f1.LEVEL`, `.gap.LEVEL` (against
    in_distribution, when measured), `.invented_accessories` (+ `.glasses`/`.hat`/`.ribbon`),
    `.faithful_psnr.10`; `robustness.invented_accessories` over all conditions."""
    unknown = set(names) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown robustness conditions {sorted(unknown)}; known: {', '.join(CONDITIONS)}")
    per_seed = []
    for i, seed in enumerate(seeds):
        per_seed.append(score_seed(model, seed, names, faithfulness, colorizer if i < render_count else None))
        if progress:
            progress(i + 1, len(seeds))
    metrics: dict = {}
    all_invented: list[list[str]] = []
    for name in names:
        results = [s[name] for s in per_seed]
        metrics.update(level_means(f"robustness.{name}", [r["f1"] for r in results]))
        invented = [kinds for r in results for kinds in r["invented"]]
        all_invented += invented
        metrics.update(invented_rates(f"robustness.{name}", invented))
        rendered = [r["psnr"] for r in results if r["psnr"] is not None]
        if rendered:
            metrics[f"robustness.{name}.faithful_psnr.{RENDER_DABS}"] = round(float(np.mean(rendered)), 3)
    metrics.update(gaps_to_reference("robustness", names, metrics))
    metrics.update(invented_rates("robustness", all_invented))
    metrics["robustness.bare_guides"] = len(all_invented)
    rows = {name: [s[name]["row"] for s in per_seed] for name in names}
    return metrics, rows


def level_means(prefix: str, per_seed: list[dict[int, float]]) -> dict:
    """`PREFIX.f1.LEVEL`: the mean over seeds of each level's F1."""
    return {f"{prefix}.f1.{level}": round(float(np.mean([f1[level] for f1 in per_seed])), 4) for level in LEVELS}


def gaps_to_reference(prefix: str, names, metrics: dict, reference: str = "in_distribution") -> dict:
    """`PREFIX.COND.gap.LEVEL`: each condition's F1 less the reference condition's (none unless it was measured;
    the framing conditions' reference is the engine's own framing)."""
    if reference not in names:
        return {}
    return {f"{prefix}.{name}.gap.{level}": round(metrics[f"{prefix}.{name}.f1.{level}"]
                                                  - metrics[f"{prefix}.{reference}.f1.{level}"], 4)
            for name in names for level in LEVELS}


def invented_rates(prefix: str, invented: list[list[str]]) -> dict:
    """Share of guides (of portraits without accessories) that draw any accessory, and each kind."""
    if not invented:
        return {}
    out = {f"{prefix}.invented_accessories": round(float(np.mean([bool(k) for k in invented])), 4)}
    for name in ACCESSORIES:
        out[f"{prefix}.invented.{name}"] = round(float(np.mean([name in k for k in invented])), 4)
    return out


def report_image(name: str, rows: list[dict], thumb: int = 144, max_rows: int = 6) -> np.ndarray:
    """One row per sample: sketch and guidance at each level, the truth, then (when rendered) the faithful
    render of the complete sketch and the true colours. Dark ink on white; the title names the condition."""
    def tile(image, label):
        if image.ndim == 2:
            image = cv2.cvtColor(255 - image, cv2.COLOR_GRAY2RGB)
        image = cv2.resize(image, (thumb, thumb), interpolation=cv2.INTER_AREA)
        cv2.putText(image, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (200, 40, 40), 1, cv2.LINE_AA)
        return cv2.copyMakeBorder(image, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=(180, 180, 180))

    lines = []
    for row in rows[:max_rows]:
        tiles = []
        for level, (sketch, guide) in row["levels"].items():
            tiles += [tile(sketch, f"sketch {level}%"), tile(guide, f"guide {level}%")]
        tiles.append(tile(row["truth"], "truth"))
        if "render" in row:
            tiles += [tile(row["render"], "faithful, 10 dabs"), tile(row["colour"], "true colours")]
        else:
            tiles += [np.full_like(tiles[0], 255)] * 2
        lines.append(np.hstack(tiles))
    body = np.vstack(lines)
    title = np.full((26, body.shape[1], 3), 255, np.uint8)
    held = " (held out from training)" if CONDITIONS[name].held_out else ""
    cv2.putText(title, f"{name}{held}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([title, body])
