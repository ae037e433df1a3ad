"""Parts the artist did not touch hold still when new strokes grow the crop: `anisketch eval --only hold`.

On the framing evaluation's large canvas an artist draws the face (contour, ears, eyes, brows, nose, mouth), asks
for guidance on the plugin's crop around it, then draws the neck, the shoulders and the hair, whose strokes reach
beyond that crop and grow it. The guidance after them, asked with the state of the one before, should leave the
features where they were: they were drawn and not touched since.

Per portrait and feature, how far the feature's guidance lines moved on the canvas, in canvas pixels: the
farthest any of its new lines lies from the course its old lines ran, hidden or not (the old part drawn with
nothing in front of it). A feature partly hidden under new hair has not moved, so the reverse direction is not
counted; a piece the old guess of the hair hid and the new hair leaves bare, drawn on its old course, has not
moved either. The same with the features pinned, which must hold exactly; and the cost in accuracy: F1 of the
held guidance and of a fresh one (no state) on the same request.
"""

from __future__ import annotations

import numpy as np

from ..engine import params as P
from ..engine.geometry import Stroke, build_portrait
from ..engine.sketch import render_sketch

from ..engine.raster import render_lines
from ..engine.sketch import simulate_sketch
from ..engine.sketch_style import kinds_of
from ..guidance.framing import Frame
from ..guidance.hold import Drawn, farthest
from ..guidance.state import decode_state
from .framing import CANVAS, SIZE, as_sent, crop_rule, face_of, in_face_frame, moved, shrunk, with_pen
from .metrics import line_f1

FEATURES = ("eyes", "brows", "nose", "mouth")
LATER = ("neck", "hair")  # the kinds of stroke drawn after the first guidance (neck: neck, collar, shoulders)
MESSINESS = 0.5
PX_CELLS = 4  # the displacement raster's cells per canvas pixel (a quarter of a pixel)


def canvas_face(seed: int) -> tuple[list[Stroke], list[bool], Frame, list[Stroke]]:
    """The drawing in canvas pixels (a face of 100-250 px half-width anywhere on the canvas, a 2-5 px pen), which
    of its strokes come later (neck, shoulders, hair), the face's frame and its true lines on the canvas."""
    params = P.sample_params(seed)
    portrait = build_portrait(params)
    rng = np.random.default_rng([seed, 0x401D])
    strokes = simulate_sketch(portrait, rng, fraction=1.0, order="artist", messiness=MESSINESS)
    later = [kind in LATER for kind in kinds_of(strokes, params)]
    half = rng.uniform(100, 250)
    frame = Frame(rng.uniform(2.5 * half, CANVAS[0] - 2.5 * half), rng.uniform(1.6 * half, CANVAS[1] - 2.5 * half), half)
    placed = with_pen(moved(strokes, face_of(params), frame, 1.0), rng.uniform(2.0, 5.0))
    truth = moved(portrait.strokes, face_of(params), frame, half / params["scale"])  # widths in canvas px too
    return placed, later, frame, truth


def request(strokes: list[Stroke]) -> tuple[np.ndarray, tuple[int, int], int, int]:
    """The plugin's crop around the strokes (crop_rule) as the plugin sends it (as_sent): darkness, origin,
    side on the canvas, canvas px per pixel."""
    x, y, side, factor = as_sent(*crop_rule(strokes))
    local = [Stroke((s.points - np.array([x, y], np.float32)) / side, s.widths / side, s.group, s.order, s.closed)
             for s in strokes]
    return shrunk(render_sketch(local, side, rng=None, texture="pen"), factor), (x, y), side, factor


def canvas_lines(guide, origin: tuple[int, int], side: int, group: str | None = None) -> list[Stroke]:
    return [Stroke(s.points * side + np.array(origin, np.float32), s.widths * side, s.group, s.order, s.closed)
            for s in guide.portrait.strokes if group is None or s.group == group]


def crop_change(model, seed: int) -> dict:
    """One portrait: {"moved": {feature: px}, "pinned": {feature: px}, "grown": (old side, new side),
    "f1": (held, fresh)}."""
    strokes, later, frame, truth = canvas_face(seed)
    darkness, origin, side, scale = request([s for s, new in zip(strokes, later) if not new])
    before = model.guide(darkness, origin=origin, scale=scale, canvas=CANVAS)  # as the plugin asks
    darkness, origin2, side2, scale2 = request(strokes)
    after = model.guide(darkness, state=before.state, origin=origin2, scale=scale2, canvas=CANVAS)
    pinned = model.guide(darkness, state=before.state, origin=origin2, pins=FEATURES, scale=scale2, canvas=CANVAS)
    fresh = model.guide(darkness, origin=origin2, scale=scale2, canvas=CANVAS)
    old = {g: canvas_course(before, origin, side, g) for g in FEATURES}

    def moved_px(guide, group):
        return farthest([s.points for s in canvas_lines(guide, origin2, side2, group)], old[group], PX_CELLS)

    return {"moved": {g: moved_px(after, g) for g in FEATURES}, "pinned": {g: moved_px(pinned, g) for g in FEATURES},
            "grown": (side, side2), "f1": (face_f1(after, origin2, side2, frame, truth),
                                           face_f1(fresh, origin2, side2, frame, truth))}


def canvas_course(guide, origin: tuple[int, int], side: int, group: str) -> list[np.ndarray]:
    """Where a group's lines in `guide` run on the canvas, hidden or not: the part as its state records it (its
    own pose too), drawn with nothing in front of it."""
    state = decode_state(guide.state)
    course = guide.placement.strokes(Drawn(state.floats, state.choices, state.poses or {}).courses_of([group]))
    return [s.points * side + np.array(origin, np.float32) for s in course]


def face_f1(guide, origin, side, frame: Frame, truth: list[Stroke]) -> float:
    """F1 of the guidance against the true lines in the face's own frame (as eval/framing measures it)."""
    canvas_frame = Frame(frame.cx, frame.cy, frame.half_width)
    return line_f1(render_lines(in_face_frame(canvas_lines(guide, origin, side), canvas_frame), SIZE),
                   render_lines(in_face_frame(truth, canvas_frame), SIZE))


def evaluate(model, seeds) -> dict:
    """Median and largest movement per feature (and over all features) across the seeds, in canvas pixels; the
    crops' median growth; mean F1 of the held and of a fresh guidance."""
    found = [crop_change(model, seed) for seed in seeds]
    metrics = {}
    for kind in ("moved", "pinned"):
        for group in (*FEATURES, "all"):
            values = np.array([v for f in found for g, v in f[kind].items() if group in (g, "all")])
            metrics[f"hold.{kind}.{group}.median_px"] = round(float(np.median(values)), 2)
            metrics[f"hold.{kind}.{group}.max_px"] = round(float(values.max()), 2)
    metrics["hold.crop_growth"] = round(float(np.median([b / a for a, b in (f["grown"] for f in found)])), 2)
    metrics["hold.f1.held"] = round(float(np.mean([f["f1"][0] for f in found])), 4)
    metrics["hold.f1.fresh"] = round(float(np.mean([f["f1"][1] for f in found])), 4)
    return metrics
