"""Where the face is in a request: the frame finder, and the window that shows it to the encoder as it learned.

The sketch encoder learned faces framed the way the engine frames a portrait (centre 0.42-0.58 of the canvas,
half-width 0.15-0.27 of its side). An artist's canvas is anything but: a small face in a corner of a large
crop, a first eye stroke whose crop cuts the face, a face larger than the crop. So guidance runs in two
stages:

1. The frame finder, a small CNN reading the whole request at low resolution, estimates the face's frame: its
   centre and half-width in the request (`Frame`, in request units: the padded square's side is 1).
2. A square *window* is cut around that frame so the face sits where the engine puts it (centre 0.5,
   half-width `CANONICAL_HALF_WIDTH` of the window), resampled to the encoder's input size from the full
   resolution pixels, read by the encoder, and the predicted strokes are mapped back into the request.

Windows live in canvas pixels (`Window`), so a guidance state can carry its window from one crop to the next:
while the face stays comfortably inside the previous window, the same window is used again, so the encoder sees
the very same pixels and untouched parts cannot move when the crop grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from ..blocks import for_inference
from ..engine import params as P
from ..engine.geometry import Portrait, Stroke
from ..errors import ModelUnavailable
from ..weights import default_weights_dir, load_tensors
from .model import EncoderConfig, SketchEncoder, from_tensors

FRAME_INPUT = 128  # the frame finder reads the request at this size
CANONICAL_HALF_WIDTH = 0.21  # face half-width in the window: the middle of the engine's 0.15-0.27
# A window frames a face well while the face stays within these bounds (window units): well inside the range
# the encoder learned. A previous window is kept while it frames the face well (exact stability, at no cost in
# accuracy), and a request that frames it well is read as it is. A request framed anywhere else in the engine's
# range (centre 0.42-0.58, half-width 0.15-0.27) is re-framed: the encoder reads it better at the window's
# canonical framing, most of all early in a drawing (300 unseen portraits, F1 at 25 / 50 / 75 / 100 % of the
# strokes +0.007 / +0.004 / +0.002 / +0.001 against reading every engine-framed request as it is).
KEEP_CENTRE = 0.05  # the face centre may lie this far from the window's centre
KEEP_SCALE = (0.17, 0.25)  # and its half-width within this range
# A window cut afresh round the finder's estimate is cut again when the encoder, reading it, places the face's
# centre farther than this from the window's centre (window units), or its half-width outside KEEP_SCALE: then
# between the two framings, halfway. The frame finder reads the whole request at 128 px and places a face drawn
# from one side worst; the encoder reads the face at 256 px (32 unseen portraits on each of two seed sets, F1 at
# 25 % of the strokes: the held-out left-first order +0.023 / +0.021; session 23).
REFRAME_CENTRE = 0.03
REFRAME_BLEND = 0.5
# Output ranges of the finder: the centre may lie outside the request (a crop that cuts the face), the
# half-width spans a face far smaller than the crop to one larger than it.
CENTRE_RANGE = (-0.5, 1.5)
HALF_WIDTH_RANGE = (0.03, 0.8)


@dataclass(frozen=True)
class Frame:
    """A face's centre and half-width, in units of the request's padded square (top-left anchored)."""

    cx: float
    cy: float
    half_width: float

    def to_unit(self) -> np.ndarray:
        """The finder's three outputs in [0, 1]: centre linear, half-width logarithmic."""
        lo, hi = CENTRE_RANGE
        a, b = (math.log(v) for v in HALF_WIDTH_RANGE)
        return np.array([(self.cx - lo) / (hi - lo), (self.cy - lo) / (hi - lo),
                         (math.log(self.half_width) - a) / (b - a)], np.float32)

    @classmethod
    def from_unit(cls, unit) -> "Frame":
        lo, hi = CENTRE_RANGE
        a, b = (math.log(v) for v in HALF_WIDTH_RANGE)
        u = [float(v) for v in unit]
        return cls(lo + u[0] * (hi - lo), lo + u[1] * (hi - lo), math.exp(a + u[2] * (b - a)))


@dataclass(frozen=True)
class Window:
    """A square of the canvas, in canvas pixels, that the encoder sees as its whole input."""

    x: float
    y: float
    side: float

    @classmethod
    def around(cls, frame: Frame, request_side: float, origin: tuple[int, int]) -> "Window":
        side = frame.half_width * request_side / CANONICAL_HALF_WIDTH
        cx, cy = origin[0] + frame.cx * request_side, origin[1] + frame.cy * request_side
        return cls(cx - side / 2, cy - side / 2, side)

    def frames_well(self, frame: Frame, request_side: float, origin: tuple[int, int], centre: float = KEEP_CENTRE,
                    scale: tuple[float, float] = KEEP_SCALE) -> bool:
        """Whether `frame` (a face in the request) sits inside this window the way the encoder likes best."""
        cx = (origin[0] + frame.cx * request_side - self.x) / self.side
        cy = (origin[1] + frame.cy * request_side - self.y) / self.side
        half = frame.half_width * request_side / self.side
        return abs(cx - 0.5) <= centre and abs(cy - 0.5) <= centre and scale[0] <= half <= scale[1]

    def in_pixels(self, origin: tuple[int, int], scale: float = 1.0) -> "Window":
        """This canvas square in the pixels of a request whose top-left lies at `origin` on the canvas and
        whose pixels each span `scale` canvas px."""
        return Window((self.x - origin[0]) / scale, (self.y - origin[1]) / scale, self.side / scale)

    def to_list(self) -> list[float]:
        return [round(self.x, 3), round(self.y, 3), round(self.side, 3)]

    @classmethod
    def from_list(cls, values) -> "Window":
        x, y, side = (float(v) for v in values)
        if not all(math.isfinite(v) for v in (x, y, side)) or side <= 1.0:
            raise ValueError("not a window")
        return cls(x, y, side)


def cut_window(darkness: np.ndarray, window: Window, origin: tuple[int, int], size: int) -> np.ndarray:
    """The window's pixels from the request's darkness, resampled to size x size (float32 in [0, 1]).

    Area-averaged from full resolution where the window is larger than `size` (lines stay continuous), linear
    where it is smaller; outside the request is blank paper."""
    scale = size / window.side  # output px per canvas px
    x0, y0 = window.x - origin[0], window.y - origin[1]  # the window in request pixels
    if scale < 1.0:
        # Cut the request's overlap with the window, shrink it with INTER_AREA, then place it.
        h, w = darkness.shape
        ix0, iy0 = max(0, int(math.floor(x0))), max(0, int(math.floor(y0)))
        ix1, iy1 = min(w, int(math.ceil(x0 + window.side))), min(h, int(math.ceil(y0 + window.side)))
        out = np.zeros((size, size), np.float32)
        if ix1 <= ix0 or iy1 <= iy0:
            return out
        part = darkness[iy0:iy1, ix0:ix1]
        ow, oh = max(1, int(round((ix1 - ix0) * scale))), max(1, int(round((iy1 - iy0) * scale)))
        small = cv2.resize(part, (ow, oh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        ox, oy = int(round((ix0 - x0) * scale)), int(round((iy0 - y0) * scale))
        _paste(out, small, ox, oy)
        return out
    matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
    warped = cv2.warpAffine(darkness, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return warped.astype(np.float32) / 255.0


def _paste(out: np.ndarray, image: np.ndarray, ox: int, oy: int) -> None:
    h, w = image.shape
    sx0, sy0 = max(0, -ox), max(0, -oy)
    dx0, dy0 = max(0, ox), max(0, oy)
    dx1, dy1 = min(out.shape[1], ox + w), min(out.shape[0], oy + h)
    if dx1 > dx0 and dy1 > dy0:
        out[dy0:dy1, dx0:dx1] = image[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]


def frame_input(darkness: np.ndarray, size: int = FRAME_INPUT) -> np.ndarray:
    """The whole request, padded to a square (top-left anchored), shrunk to size x size, ink strength kept."""
    h, w = darkness.shape
    side = max(h, w)
    square = np.zeros((side, side), np.uint8)
    square[:h, :w] = darkness
    small = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return restore_ink(small)


def restore_ink(image: np.ndarray) -> np.ndarray:
    """Thin lines on a large canvas fade when averaged down: bring them back to pen strength."""
    inked = image[image > 0.05]
    if inked.size >= 12:
        strong = float(np.percentile(inked, 90))
        if strong < 0.8:
            image = np.clip(image * (0.9 / max(strong, 0.1)), 0.0, 1.0)
    return image


class FrameFinder:
    """The shipped frame finder (weights/frame.safetensors): request pixels in, the face's Frame out."""

    def __init__(self, network: SketchEncoder, device: str):
        self.network = network.eval()
        self.device = device

    @classmethod
    def load(cls, weights_dir: Path | None = None, device: str = "cpu") -> "FrameFinder":
        return cls(for_inference(load_finder_network(weights_dir), device), device)

    def find(self, images: np.ndarray) -> list[Frame]:
        """images float [B, S, S] in [0, 1] (frame_input) -> one Frame each."""
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None].to(self.device)
        with torch.no_grad():
            unit, _ = self.network(x)
        return [Frame.from_unit(u) for u in unit.cpu().numpy()]


def load_finder_network(weights_dir: Path | None = None) -> SketchEncoder:
    """The shipped frame finder's network in fp32 with its BatchNorm unfolded: FrameFinder folds it for
    inference, `anisketch train frame --init` fine-tunes it."""
    tensors, meta, _ = load_tensors(weights_dir or default_weights_dir(), "frame")
    try:
        return from_tensors(tensors, meta["encoder_config"], "finder.")
    except ValueError as error:
        raise ModelUnavailable(f"frame finder weights do not fit this network ({error}): reinstall or retrain") from None


def network_config(widths=(24, 48, 96, 128), hidden: int = 256) -> EncoderConfig:
    """The frame finder is the encoder's architecture, small, with three float outputs and no choices."""
    return EncoderConfig(n_floats=3, choice_sizes=(), in_size=FRAME_INPUT, widths=tuple(widths),
                         blocks_per_stage=1, head_channels=32, hidden=hidden)


@dataclass(frozen=True)
class Placement:
    """Window units to request units (the request's padded square has side 1): p -> offset + scale * p."""

    dx: float
    dy: float
    scale: float

    @classmethod
    def of(cls, window: Window, origin: tuple[float, float], request_side: float) -> "Placement":
        return cls((window.x - origin[0]) / request_side, (window.y - origin[1]) / request_side,
                   window.side / request_side)

    def strokes(self, strokes: list) -> list:
        shift = np.array([self.dx, self.dy], np.float32)
        return [Stroke((s.points * np.float32(self.scale) + shift).astype(np.float32),
                       (s.widths * np.float32(self.scale)).astype(np.float32), s.group, s.order, s.closed)
                for s in strokes]

    def portrait(self, portrait: Portrait) -> Portrait:
        """The portrait drawn in the request: strokes and regions moved and scaled (line widths too)."""
        if self == IDENTITY:
            return portrait
        shift = np.array([self.dx, self.dy], np.float32)
        regions = [replace(r, polygon=(r.polygon * np.float32(self.scale) + shift).astype(np.float32))
                   for r in portrait.regions]
        return Portrait(self.strokes(portrait.strokes), regions, portrait.params)


IDENTITY = Placement(0.0, 0.0, 1.0)


def reexpress_pose(floats: np.ndarray, old: Window, new: Window) -> np.ndarray:
    """A vector read in window `old`, its pose (centre, half-width) re-expressed in window `new`; values the
    engine's range cannot hold are clipped (the part then simply counts as moved)."""
    out = floats.copy()
    for name, to_canvas in (("cx", lambda v: old.x + v * old.side), ("cy", lambda v: old.y + v * old.side)):
        i, spec = POSE_SLOTS[name]
        value = spec.lo + floats[i] * (spec.hi - spec.lo)
        origin = new.x if name == "cx" else new.y
        out[i] = ((to_canvas(value) - origin) / new.side - spec.lo) / (spec.hi - spec.lo)
    i, spec = POSE_SLOTS["scale"]
    half = (spec.lo + floats[i] * (spec.hi - spec.lo)) * old.side / new.side
    out[i] = (half - spec.lo) / (spec.hi - spec.lo)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def read_frame(floats: np.ndarray, window: Window) -> Frame:
    """Where the encoder's reading `floats` puts the face: a Frame in canvas pixels (centre and half-width)."""
    value = {name: spec.lo + float(floats[i]) * (spec.hi - spec.lo) for name, (i, spec) in POSE_SLOTS.items()}
    return Frame(window.x + value["cx"] * window.side, window.y + value["cy"] * window.side,
                 value["scale"] * window.side)


def between(window: Window, read: Frame) -> Window | None:
    """The window between `window`'s own framing and `read` (canvas pixels) when the read face lies away from
    where `window` frames a face (REFRAME_CENTRE, KEEP_SCALE); None when `window` already frames it well."""
    if window.frames_well(read, 1, (0, 0), centre=REFRAME_CENTRE):
        return None
    own = Frame(window.x + window.side / 2, window.y + window.side / 2, CANONICAL_HALF_WIDTH * window.side)
    mix = lambda a, b: a + REFRAME_BLEND * (b - a)  # noqa: E731
    return Window.around(Frame(mix(own.cx, read.cx), mix(own.cy, read.cy), mix(own.half_width, read.half_width)), 1, (0, 0))


def _pose_slots() -> dict:
    names = P.float_names()
    specs = {s.name: s for s in P.PARAM_SPECS}
    return {name: (names.index(name), specs[name]) for name in ("cx", "cy", "scale")}


POSE_SLOTS = _pose_slots()
