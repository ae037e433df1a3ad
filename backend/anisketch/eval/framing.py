"""Guidance where the artist puts the face: the same sketches, framed as real canvases and crops frame them.

Each condition places a beginner's partial sketch (random order, messy, as `eval.guidance`) in a request at its
own position and size, asks for guidance through the Service path (`GuidanceModel.guide` with the request's
canvas origin), and scores the guidance against the portrait's true line art by F1 within 3 px. Scores are
measured in the face's own frame (the face drawn at the engine's scale on a 512 px canvas), so 3 px means the
same precision for a small face in a corner as for a centred one and the conditions compare directly. Only
the request's own area counts: what lies beyond a crop is neither drawn by the artist nor shown to them.

Conditions (the frame finder trains on half-widths 5-50 % anywhere, and on the plugin's crop rule; the engine
framing itself, and the crop rule on the canvases below, are what an artist meets):
- `engine`: the engine's own framing (centre 0.42-0.58, half-width 0.15-0.27): the in-distribution figure;
- `small`: half-width 5-10 % of the request, centred anywhere within it;
- `large`: half-width 35-50 %, the face filling the request and beyond;
- `off_centre`: half-width 10-30 %, centre within 15 % of an edge;
- `cut`: the face's centre near or past the edge: part of the face lies outside the request;
- `crop_rule`: a 3000 x 2000 canvas, a face of 60-300 px half-width anywhere on it, and the square crop that the
  plugin's own rule (plugin/anisketch_krita/region.py: ink bounds + 25 % margin, 256 px minimum) cuts around
  the strokes drawn so far, sent as the plugin sends it (plugin/anisketch_krita/shrink.py: a crop over 1024 px
  halved, over 2048 px quartered, from its part aligned to that factor on the canvas);
- `crop_rule_guides`, `crop_rule_beginner`: the same crops around a sketch drawn the way a new user on a large
  canvas often draws it, construction guides first, or a beginner's face (eval/styles.py's conditions of those
  names). Neither style reached the frame finder's training before session 21, and the pair (the style through
  the crop rule) is in no training set.
- `small_canvas`: a bust that fills a small canvas (3-4.5 face half-widths wide, 2.6-3.4 high), its shoulders
  running off the bottom; the plugin's crop around it reaches past the canvas, where Krita reads blank paper.
  Held out: no training sketch is cut by a canvas inside its request (session 23).

Every crop-rule condition sends the canvas's size, as the plugin does, and is drawn and scored on the canvas alone
(since session 23: before, strokes past the canvas's edge were drawn into the request and counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import Portrait, Stroke, build_portrait
from ..engine.raster import render_lines
from ..engine.sketch import render_sketch, simulate_sketch
from ..errors import BadRequest
from ..guidance.completion import on_canvas
from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
from ..guidance.framing import CANONICAL_HALF_WIDTH, Frame
from .guidance import EVAL_MESSINESS, LEVELS, drawn_count
from .styles import CONDITIONS as STYLES
from .styles import drawn_strokes as styled_strokes
from .metrics import line_f1

SIZE = 512  # the face-frame canvas F1 is measured on
# The plugin's crop rule around a sketch in one of eval/styles.py's styles, by condition name.
STYLED_CROPS = {"crop_rule_guides": "guides", "crop_rule_beginner": "beginner"}
CONDITIONS = ("engine", "small", "large", "off_centre", "cut", "crop_rule", *STYLED_CROPS, "small_canvas")
CANVAS = (3000, 2000)
CROP_MARGIN, CROP_MIN, CROP_MAX = 0.25, 256, 4096  # plugin/anisketch_krita/region.py
REQUEST_PX = 768  # request side for the conditions that are not cut from a canvas
SEND_SIDE, MAX_SHRINK = 1024, 4  # plugin/anisketch_krita/shrink.py


@dataclass
class Placed:
    """One request: its darkness pixels, the canvas origin of its top-left pixel, and the face's frame in it."""

    darkness: np.ndarray
    origin: tuple[int, int]
    frame: Frame  # request units (the padded square's side is 1)
    side: int  # on the canvas
    scale: int = 1  # canvas px per pixel of `darkness` (a crop sent shrunk)
    canvas: tuple[int, int] | None = None  # the canvas's size, told as the plugin tells it (a crop cut from one)


def face_of(params) -> Frame:
    return Frame(params["cx"], params["cy"], params["scale"])


def moved(strokes: list, face: Frame, target: Frame, width_scale: float) -> list:
    zoom = target.half_width / face.half_width
    shift = np.array([target.cx - zoom * face.cx, target.cy - zoom * face.cy], np.float32)
    return [Stroke((s.points * np.float32(zoom) + shift).astype(np.float32),
                   (s.widths * np.float32(width_scale)).astype(np.float32), s.group, s.order, s.closed)
            for s in strokes]


def target_frame(condition: str, rng: np.random.Generator) -> Frame:
    if condition == "engine":
        return Frame(rng.uniform(0.42, 0.58), rng.uniform(0.42, 0.58), rng.uniform(0.15, 0.27))
    if condition == "small":
        half = rng.uniform(0.05, 0.10)
        return Frame(rng.uniform(half, 1 - half), rng.uniform(half, 1 - half), half)
    if condition == "large":
        return Frame(rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.50))
    if condition == "off_centre":
        edge = lambda: rng.choice([rng.uniform(0.02, 0.15), rng.uniform(0.85, 0.98)])  # noqa: E731
        return Frame(edge(), rng.uniform(0.2, 0.8), rng.uniform(0.10, 0.30)) if rng.random() < 0.5 else \
            Frame(rng.uniform(0.2, 0.8), edge(), rng.uniform(0.10, 0.30))
    if condition == "cut":
        half = rng.uniform(0.15, 0.30)
        past = rng.uniform(-0.4, 0.1) * half
        return Frame(past if rng.random() < 0.5 else 1 - past, rng.uniform(0.3, 0.7), half)
    raise ValueError(condition)


def place_request(strokes: list, face: Frame, condition: str, rng: np.random.Generator) -> Placed:
    """The sketch as the request of `condition` holds it, drawn with a real pen width."""
    pen_px = rng.uniform(2.0, 5.0)
    if condition not in ("crop_rule", "small_canvas"):
        target = target_frame(condition, rng)
        placed = moved(strokes, face, target, 1.0)
        placed = with_pen(placed, pen_px / REQUEST_PX)
        return Placed(render_sketch(placed, REQUEST_PX, rng=rng), (0, 0), target, REQUEST_PX)
    canvas, centre, half_px = canvas_face(condition, rng)
    on_canvas = moved(strokes, face, Frame(centre[0], centre[1], half_px), 1.0)  # canvas pixels
    x, y, side, factor = as_sent(*crop_rule(on_canvas, canvas))
    target = Frame((centre[0] - x) / side, (centre[1] - y) / side, half_px / side)
    placed = with_pen(moved(strokes, face, target, 1.0), pen_px / side)
    darkness = off_canvas_blank(render_sketch(placed, side, rng=rng), (x, y), canvas)  # Krita reads only the canvas
    return Placed(shrunk(darkness, factor), (x, y), target, side, factor, canvas)


def canvas_face(condition: str, rng: np.random.Generator) -> tuple[tuple[int, int], tuple[float, float], float]:
    """(canvas size, face centre, face half-width) in canvas pixels: anywhere on the large canvas, or a bust
    that fills a small one, its shoulders running off the bottom."""
    if condition == "crop_rule":
        half_px = rng.uniform(60, 300)
        return CANVAS, (rng.uniform(half_px, CANVAS[0] - half_px), rng.uniform(half_px, CANVAS[1] - half_px)), half_px
    half_px = rng.uniform(150, 300)
    canvas = (int(half_px * rng.uniform(3.0, 4.5)), int(half_px * rng.uniform(2.6, 3.4)))
    return canvas, (canvas[0] * rng.uniform(0.4, 0.6), canvas[1] - half_px * rng.uniform(1.0, 1.6)), half_px


def off_canvas_blank(darkness: np.ndarray, origin: tuple[int, int], canvas: tuple[int, int]) -> np.ndarray:
    """The request's pixels with what lies beyond the canvas blank (request pixels are canvas pixels here)."""
    out = np.zeros_like(darkness)
    # clamped at 0: a canvas wholly left of or above the request must not slice from the far end
    x0, y0, x1, y1 = (max(0, int(v)) for v in on_canvas(darkness.shape, origin, 1.0, canvas))
    out[y0:y1, x0:x1] = darkness[y0:y1, x0:x1]
    return out


def crop_rule(strokes: list, canvas: tuple[int, int] = CANVAS) -> tuple[int, int, int]:
    """plugin/anisketch_krita/region.square_around on the ink bounds (canvas pixels) of the strokes on `canvas`."""
    points = np.clip(np.concatenate([s.points for s in strokes]), 0, canvas)
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    extent = max(x1 - x0, y1 - y0)
    side = int(round(extent * (1 + 2 * CROP_MARGIN)))
    side = min(max(side, min(CROP_MIN, max(canvas))), max(*canvas, extent), CROP_MAX)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _place(cx, side, canvas[0]), _place(cy, side, canvas[1]), side


def as_sent(x: int, y: int, side: int) -> tuple[int, int, int, int]:
    """The part of a crop that the plugin sends, and the factor it shrinks it by (plugin/anisketch_krita/shrink.py):
    (x, y, side, factor), the square's corner and side multiples of the factor, inside the crop."""
    factor = 1
    while side > SEND_SIDE * factor and factor < MAX_SHRINK:
        factor *= 2
    x0, y0 = -(-x // factor) * factor, -(-y // factor) * factor
    return x0, y0, min((x + side) // factor * factor - x0, (y + side) // factor * factor - y0), factor


def shrunk(darkness: np.ndarray, factor: int) -> np.ndarray:
    """Each factor x factor block averaged, as Qt's smooth scaling does in the plugin."""
    if factor == 1:
        return darkness
    h, w = darkness.shape
    return cv2.resize(darkness, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def _place(centre: float, side: int, extent: int) -> int:
    if side >= extent:
        return (extent - side) // 2
    return min(max(int(round(centre - side / 2)), 0), extent - side)


def with_pen(strokes: list, width: float) -> list:
    mean = float(np.mean(np.concatenate([s.widths for s in strokes]))) or 1.0
    return [Stroke(s.points, (s.widths * np.float32(width / mean)).astype(np.float32), s.group, s.order, s.closed)
            for s in strokes]


def in_face_frame(strokes: list, frame: Frame) -> list:
    """Strokes in request units moved to the face-frame canvas (the face centred at the engine's scale)."""
    zoom = CANONICAL_HALF_WIDTH / frame.half_width
    return [Stroke(((s.points - np.array([frame.cx, frame.cy], np.float32)) * np.float32(zoom) + 0.5).astype(np.float32),
                   (s.widths * np.float32(zoom)).astype(np.float32), s.group, s.order, s.closed) for s in strokes]


def request_mask(request: Placed) -> np.ndarray:
    """1 inside the request's area (and the canvas's, where it is cut from one) on the face-frame canvas, 0
    outside."""
    zoom = CANONICAL_HALF_WIDTH / request.frame.half_width
    h, w = request.darkness.shape
    near, far = np.array([0.0, 0.0]), np.array([w, h]) * request.scale / request.side  # request units
    if request.canvas is not None:
        near = np.maximum(near, -np.array(request.origin) / request.side)
        far = np.minimum(far, (np.array(request.canvas) - request.origin) / request.side)
    corner = (near - [request.frame.cx, request.frame.cy]) * zoom + 0.5
    far = (far - [request.frame.cx, request.frame.cy]) * zoom + 0.5
    (x0, y0), (x1, y1) = np.clip(np.round(corner * SIZE), 0, SIZE).astype(int), np.clip(np.round(far * SIZE), 0, SIZE).astype(int)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


@dataclass
class Drawing:
    """One portrait as every framing condition draws it: the truth in the face frame (at SIZE), and the
    beginner's strokes (random order, messy) in the portrait's own canvas units."""

    params: P.Params
    portrait: Portrait
    face: Frame  # the portrait's own frame (its pose)
    truth: np.ndarray
    strokes: list


def drawing_of(seed: int) -> Drawing:
    """The portrait of `seed` and the strokes every framing condition draws of it."""
    params = P.sample_params(seed)
    portrait = build_portrait(params)
    face = face_of(params)
    rng = np.random.default_rng([seed, 0xF2A])
    drawn = simulate_sketch(portrait, rng, fraction=1.0, order="random", messiness=EVAL_MESSINESS)
    return Drawing(params, portrait, face, render_lines(in_own_face_frame(portrait.strokes, face), SIZE), drawn)


def in_own_face_frame(strokes: list, face: Frame) -> list:
    """Strokes in the portrait's canvas units (its face at `face`) on the face-frame canvas, as the truth is."""
    return in_face_frame(moved(strokes, face, Frame(0.5, 0.5, 1.0), 1.0 / face.half_width), Frame(0.5, 0.5, 1.0))


def request_at(drawing: Drawing, strokes: list, condition: str, seed: int, level: int) -> Placed:
    """The request of `condition` holding `strokes` (a prefix of the drawing, or a styled drawing for the styled
    crop-rule conditions) at `level`: the same pixels for every caller."""
    placement = "crop_rule" if condition in STYLED_CROPS else condition
    return place_request(strokes, drawing.face, placement, np.random.default_rng([seed, level, len(condition)]))


def score_seed(model, seed: int, conditions=CONDITIONS, faithfulness: float = DEFAULT_FAITHFULNESS,
               views: dict | None = None) -> dict:
    """{condition: {level: F1}} for one portrait; `views`, when given, gathers {condition: {level: picture}}
    (view_of: the request as the artist sees it, the guidance over it)."""
    drawing = drawing_of(seed)
    out: dict = {}
    for condition in conditions:
        out[condition] = {}
        style = STYLED_CROPS.get(condition)
        strokes = drawing.strokes if style is None else styled_strokes(drawing.portrait, seed, STYLES[style])
        for level in LEVELS:
            request = request_at(drawing, strokes[:drawn_count(strokes, level)], condition, seed, level)
            try:
                guide = model.guide(request.darkness, faithfulness=faithfulness, origin=request.origin,
                                    scale=request.scale, canvas=request.canvas)
            except BadRequest:  # an empty request (every stroke outside it): nothing to guide
                out[condition][level] = 0.0
                continue
            predicted = render_lines(in_face_frame(guide.portrait.strokes, request.frame), SIZE)
            seen = request_mask(request)  # lines beyond the request are neither drawn nor shown to the artist
            out[condition][level] = line_f1(predicted * seen, drawing.truth * seen)
            if views is not None:
                true_lines = moved(drawing.portrait.strokes, drawing.face, request.frame,
                                   request.frame.half_width / drawing.face.half_width)
                views.setdefault(condition, {})[level] = view_of(request, guide.portrait.strokes, true_lines,
                                                                 out[condition][level])
    return out


VIEW = 192  # px of a report tile


def view_of(request: Placed, guide_strokes: list, true_strokes: list, f1: float) -> np.ndarray:
    """RGB [VIEW, VIEW]: the request's sketch (grey) with the true lines (green) and the guidance (red) over it,
    all in the request's own frame (a non-square request is shown padded, top-left anchored)."""
    h, w = request.darkness.shape
    square = np.zeros((request.side // request.scale,) * 2, np.uint8)
    square[:h, :w] = request.darkness
    sketch = cv2.resize(square, (VIEW, VIEW), interpolation=cv2.INTER_AREA)
    image = np.full((VIEW, VIEW, 3), 255, np.uint8)
    image[sketch > 40] = (170, 170, 170)
    thin = lambda strokes: [Stroke(s.points, np.full_like(s.widths, 1.2 / VIEW), s.group, s.order, s.closed)  # noqa: E731
                            for s in strokes]
    image[render_lines(thin(true_strokes), VIEW) > 100] = (60, 170, 60)
    image[render_lines(thin(guide_strokes), VIEW) > 100] = (220, 40, 40)
    cv2.putText(image, f"F1 {f1:.2f}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def report_image(condition: str, views: list[dict]) -> np.ndarray:
    """One row per portrait, one column per level: sketch grey, truth green, guidance red."""
    framed = lambda image: cv2.copyMakeBorder(image, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=(180, 180, 180))  # noqa: E731
    body = np.vstack([np.hstack([framed(seed[condition][level]) for level in LEVELS])
                      for seed in views if condition in seed])
    title = np.full((26, body.shape[1], 3), 255, np.uint8)
    cv2.putText(title, f"{condition}: {', '.join(f'{level} %' for level in LEVELS)} of the strokes; grey sketch, "
                       "green truth, red guidance", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([title, body])


def evaluate(model, seeds, conditions=CONDITIONS, views: list | None = None, view_count: int = 6) -> dict:
    """Mean F1 per condition and level over the seeds, plus the spread (standard error); `views` gathers the
    report pictures of the first `view_count` seeds (score_seed)."""
    scores = []
    for i, seed in enumerate(seeds):
        seen: dict | None = {} if views is not None and i < view_count else None
        scores.append(score_seed(model, seed, conditions, views=seen))
        if views is not None and seen is not None:
            views.append(seen)
    result: dict[str, dict] = {}
    for condition in conditions:
        result[condition] = {}
        for level in LEVELS:
            values = np.array([s[condition][level] for s in scores])
            result[condition][str(level)] = {"f1": round(float(values.mean()), 4),
                                             "se": round(float(values.std(ddof=1) / math.sqrt(len(values))), 4)
                                             if len(values) > 1 else 0.0}
    return result
