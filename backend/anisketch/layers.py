"""What every operation returns to the artist: RGBA layers placed in the request image's pixel coordinates.

Also the one drawing of engine output as layers that guidance, generation and photo share (guidance line art
in rough or detail mode, a colour portrait), so that every op shows a portrait the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Sequence

import cv2
import numpy as np

from .engine import params as P
from .engine.curves import column_max, column_min
from .engine.geometry import Stroke
from .engine.raster import SHIFT, stroke_outlines

INK_RGB = (32, 28, 36)  # detail-mode guidance ink
# Rough mode: each part in a colour that reads at a glance and stays apart from its neighbours, and from
# the inks artists sketch in: graphite grey/black and blue pencil (hues ~190-250 degrees) are left out, so
# the guidance is never mistaken for the sketch. Fixed: a part keeps its colour from update to update.
GROUP_COLORS = {
    "face": (235, 120, 40), "eyes": (215, 30, 190), "brows": (150, 60, 210), "nose": (30, 170, 80),
    "mouth": (225, 40, 90), "hair": (200, 150, 0), "accessories": (0, 150, 110),
}


@dataclass
class Layer:
    name: str
    group: str | None
    rgba: np.ndarray  # uint8 [h, w, 4]
    x: int = 0  # offset of the layer's top-left pixel in the request image (may be negative)
    y: int = 0
    blend: str = "normal"  # Krita composite-op id (protocol.BLEND_MODES): how it mixes with the layers below
    visible: bool = True  # False: placed hidden, for the artist to switch on (refined mode's own line art)
    backdrop: tuple | None = None  # RGB: the layer's colour beyond the request, where it runs on (a hinted background)


@dataclass
class Result:
    """Layers plus whatever the operation reports (confidence, state, noise...), and where the time went.

    A progressive result (a render asked with progressive=True) holds its first part in `layers` and makes the
    others as `more` is iterated, each a list of layers (one candidate); `timing_ms` is complete once it is."""

    layers: list[Layer]
    info: dict = field(default_factory=dict)
    timing_ms: dict[str, float] = field(default_factory=dict)
    more: Iterator[list[Layer]] | None = None

    def whole(self) -> "Result":
        """This result with every part made and in `layers` (a result that is not progressive stays as it is)."""
        if self.more is not None:
            more, self.more = self.more, None
            self.layers = self.layers + [layer for part in more for layer in part]
        return self


def ink_layer(darkness: np.ndarray, rgb: tuple[int, int, int], name: str, group: str | None) -> Layer | None:
    """A layer of solid colour whose alpha is the ink, cropped to where there is ink (None when empty)."""
    box = ink_box(darkness)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    crop = darkness[y0:y1, x0:x1]
    # Each pixel as one little-endian uint32 (R, G, B, A bytes): filling a 4-byte-deep array channel by
    # channel is 15x slower in numpy, and this runs for every guidance layer of every stroke. Written in place
    # (the shift casts as it goes): half the time of three temporary arrays.
    r, g, b = (int(c) for c in rgb)
    pixels = np.empty(crop.shape, "<u4")
    np.left_shift(crop, 24, out=pixels, dtype="<u4")
    np.bitwise_or(pixels, np.uint32(r | g << 8 | b << 16), out=pixels)
    return Layer(name, group, pixels.view(np.uint8).reshape(crop.shape + (4,)), int(x0), int(y0))


def ink_box(darkness: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) bounding the non-zero pixels of a 2-D image, or None. OpenCV's bounding rectangle of
    them: a guide draws up to eight layers per reply and a render cuts each candidate's three or four layers to
    their boxes (listing every inked pixel took 1.5 ms a layer at 512 px, row and column maxima 0.03 ms, this
    0.015 ms)."""
    if darkness.dtype == bool:
        darkness = darkness.view(np.uint8)
    elif darkness.dtype != np.uint8:
        darkness = (darkness != 0).view(np.uint8)
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(darkness))
    return None if w == 0 else (y, y + h, x, x + w)


def guidance_layers(strokes: Sequence[Stroke], side: int, mode: str) -> list[Layer]:
    """Detail: the whole face in ink, one layer. Rough: one layer per part, each in its colour."""
    if mode == "detail":
        layer = lines_layer(strokes, side, INK_RGB, "Guidance", None)
        return [layer] if layer else []
    layers = []
    for group in P.GROUPS:
        part = [s for s in strokes if s.group == group]
        layer = lines_layer(part, side, GROUP_COLORS[group], f"Guidance: {group}", group) if part else None
        if layer:
            layers.append(layer)
    return layers


def lines_layer(strokes: Sequence[Stroke], side: int, rgb: tuple[int, int, int], name: str,
                group: str | None) -> Layer | None:
    """ink_layer(render_lines(strokes, side), ...) with the same bytes, drawn only in the strokes' own box:
    on a 2048 px crop a part covers a few percent of the side x side raster that render_lines allocates,
    fills and scans, once per part and per stroke of the artist's."""
    outlines = stroke_outlines(strokes, side)
    if not outlines:
        return None
    points = np.concatenate([polygon.reshape(-1, 2) for _, polygons in outlines for polygon in polygons])
    x0, y0 = np.maximum((column_min(points) >> SHIFT) - 2, 0)
    x1, y1 = np.minimum((column_max(points) >> SHIFT) + 3, side)
    if x1 <= x0 or y1 <= y0:
        return None
    ink = np.zeros((int(y1 - y0), int(x1 - x0)), np.uint8)
    offset = (-int(x0) << SHIFT, -int(y0) << SHIFT)  # added by OpenCV to every vertex (fixed point, as they are)
    for _, polygons in outlines:
        cv2.fillPoly(ink, polygons, 255, lineType=cv2.LINE_AA, shift=SHIFT, offset=offset)
    layer = ink_layer(ink, rgb, name, group)
    if layer is not None:
        layer.x, layer.y = layer.x + int(x0), layer.y + int(y0)
    return layer


def color_layer(color: np.ndarray, parts: np.ndarray, name: str, transparent: bool) -> Layer:
    """The colour render as an RGBA layer; with `transparent`, the background (part 0) is left out."""
    alpha = np.where(parts == P.LABEL["background"], 0, 255).astype(np.uint8) if transparent else \
        np.full(parts.shape, 255, np.uint8)
    return Layer(name, None, np.dstack([color, alpha]))
