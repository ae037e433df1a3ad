"""Parts the artist did not touch hold still when new strokes grow the crop: `anisketch eval --only hold`.

On the framing evaluation's large canvas an artist draws the face (contour, ears, eyes, brows, nose, mouth), asks
for guidance on the plugin's crop around it, then draws the neck, the shoulders and the hair, whose strokes reach
beyond that crop and grow it. The guidance after them, asked with the state of the one before, should leave the
features where they were: they were drawn and not touched since.

Per portrait and feature, how far the feature's guidance lines moved on the canvas, in canvas pixels: the
farthest any of its new lines lies from its old ones. A feature partly hidden under new hair has not moved, so
the reverse direction is not counted, nor are lines within HIDDEN_PX of the new hair (the engine ends a hidden
line under the hair's outline, a pixel or two off its old course). The same with the features pinned, which must
hold exactly; and the cost in accuracy: F1 of the held guidance and of a fresh one (no state) on the same request.
"""

from __future__ import annotations

import numpy as np

from ..engine import params as P
from ..engine.geometry import Stroke, build_portrait
from ..engine.sketch import render_sketch
import cv2

from ..engine.raster import render_lines
from ..engine.sketch import simulate_sketch
from ..engine.sketch_style import kinds_of
from ..guidance.framing import Frame
from ..guidance.hold import densify, farthest
from .framing import CANVAS, SIZE, as_sent, crop_rule, face_of, in_face_frame, moved, shrunk, with_pen
from .metrics import line_f1

FEATURES = ("eyes", "brows", "nose", "mouth")
LATER = ("neck", "hair")  # the kinds of stroke drawn after the first guidance (neck: neck, collar, shoulders)
MESSINESS = 0.5
PX_CELLS = 4  # the displacement raster's cells per canvas pixel (a quarter of a pixel)
HIDDEN_PX = 4.0


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
    before = model.guide(darkness, origin=origin, scale=scale)
    darkness, origin2, side2, scale2 = request(strokes)
    after = model.guide(darkness, state=before.state, origin=origin2, scale=scale2)
    pinned = model.guide(darkness, state=before.state, origin=origin2, pins=FEATURES, scale=scale2)
    fresh = model.guide(darkness, origin=origin2, scale=scale2)
    old = {g: [s.points for s in canvas_lines(before, origin, side, g)] for g in FEATURES}

    def moved_px(guide, group):
        hair = [s.points for s in canvas_lines(guide, origin2, side2, "hair")]
        lines = away_from([s.points for s in canvas_lines(guide, origin2, side2, group)], hair, HIDDEN_PX)
        return farthest(lines, old[group], PX_CELLS)

    return {"moved": {g: moved_px(after, g) for g in FEATURES}, "pinned": {g: moved_px(pinned, g) for g in FEATURES},
            "grown": (side, side2), "f1": (face_f1(after, origin2, side2, frame, truth),
                                           face_f1(fresh, origin2, side2, frame, truth))}


def face_f1(guide, origin, side, frame: Frame, truth: list[Stroke]) -> float:
    """F1 of the guidance against the true lines in the face's own frame (as eval/framing measures it)."""
    canvas_frame = Frame(frame.cx, frame.cy, frame.half_width)
    return line_f1(render_lines(in_face_frame(canvas_lines(guide, origin, side), canvas_frame), SIZE),
                   render_lines(in_face_frame(truth, canvas_frame), SIZE))


def away_from(lines: list[np.ndarray], others: list[np.ndarray], radius: float) -> list[np.ndarray]:
    """The pieces of `lines` (densified to a pixel) farther than `radius` pixels from every one of `others`."""
    if not others or not lines:
        return lines
    points = np.concatenate([densify(p.astype(np.float64), 1.0) for p in lines + others])
    low = np.floor(points.min(axis=0)) - radius - 2
    shape = (np.ceil(points.max(axis=0) - low) + radius + 3).astype(int)
    raster = np.zeros((shape[1], shape[0]), np.uint8)
    cv2.polylines(raster, [np.round((p - low) * 16).astype(np.int32) for p in others], False, 1, 1, cv2.LINE_8, 4)
    distance = cv2.distanceTransform((raster == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    pieces = []
    for line in lines:
        dense = densify(line.astype(np.float64), 1.0)
        cells = np.round(dense - low).astype(int)
        far = distance[cells[:, 1], cells[:, 0]] > radius
        runs = np.split(np.arange(len(dense)), np.flatnonzero(np.diff(far.astype(np.int8))) + 1)
        pieces += [dense[run] for run in runs if far[run[0]] and len(run) >= 2]
    return pieces


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
