"""Which part of the canvas a request covers: plain integer geometry, no Krita.

The backend sees a square crop and answers in that crop's pixel coordinates; adding the crop's origin puts
every result back on the canvas exactly (no scaling anywhere, so no rounding either).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

MARGIN = 0.25  # of the sketch's larger side, on every side: room for the parts not drawn yet
MIN_SIDE = 256  # a few first strokes still get a crop the size of a small face
MAX_SIDE = 4096  # the protocol's limit


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, other: "Box") -> bool:
        return (self.x <= other.x and self.y <= other.y and other.right <= self.right
                and other.bottom <= self.bottom)

    def union(self, other: "Box") -> "Box":
        if self.empty:
            return other
        if other.empty:
            return self
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def intersect(self, other: "Box") -> "Box":
        x, y = max(self.x, other.x), max(self.y, other.y)
        w, h = min(self.right, other.right) - x, min(self.bottom, other.bottom) - y
        return Box(x, y, max(w, 0), max(h, 0))


def square_around(sketch: Box, canvas_w: int, canvas_h: int, margin: float = MARGIN,
                  min_side: int = MIN_SIDE) -> Box:
    """A square holding `sketch` plus a margin, inside the canvas where the canvas is large enough.

    Where the canvas is smaller than the square in one direction (a wide or tall canvas), the square is
    centred on the canvas in that direction and reaches past its edges: Krita reads transparent pixels
    there, and results drawn there are simply outside the image.
    """
    extent = max(sketch.w, sketch.h)
    side = int(round(extent * (1 + 2 * margin)))
    side = max(side, min(min_side, max(canvas_w, canvas_h)))
    side = min(side, max(canvas_w, canvas_h, extent))  # no margin beyond the canvas: it would be empty
    side = min(side, MAX_SIDE)
    cx, cy = sketch.x + sketch.w / 2, sketch.y + sketch.h / 2
    return Box(_place(cx, side, canvas_w), _place(cy, side, canvas_h), side, side)


def _place(centre: float, side: int, extent: int) -> int:
    if side >= extent:
        return (extent - side) // 2  # centred, reaching past both edges
    start = int(round(centre - side / 2))
    return min(max(start, 0), extent - side)


def selection_square(selection: Box, canvas_w: int, canvas_h: int) -> Box:
    """The artist's selection, made square around its centre (no margin: they chose it)."""
    return square_around(selection, canvas_w, canvas_h, margin=0.0, min_side=16)


def photo_square(box: Box, canvas_w: int, canvas_h: int) -> Box:
    """A photo's region (the selection or the layer's extent) made square around its centre, without a cap.

    The backend draws a photo's portrait in the square frame of the image it is sent, so a square crop maps
    back 1:1. For a selection up to MAX_SIDE this is exactly `selection_square`, the crop guidance then uses,
    so the photo's state token stays valid for the strokes drawn over it. Larger squares are shrunk for the
    request by the caller and the results scaled back.
    """
    side = max(box.w, box.h)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return Box(_place(cx, side, canvas_w), _place(cy, side, canvas_h), side, side)


def grow_towards(crop: Box, sides: set, canvas_w: int, canvas_h: int, step: float = MARGIN) -> Box:
    """`crop` pushed out by `step` of its side on each of `sides` ("top", "bottom", "left", "right"), then
    made square around that (inside the canvas where it fits): where a stroke left the crop, when only the
    lines around the crop were read, not the sketch's extent."""
    grow = max(1, int(round(crop.w * step)))
    x0 = crop.x - grow if "left" in sides else crop.x
    y0 = crop.y - grow if "top" in sides else crop.y
    x1 = crop.right + grow if "right" in sides else crop.right
    y1 = crop.bottom + grow if "bottom" in sides else crop.bottom
    pushed = Box(x0, y0, x1 - x0, y1 - y0).intersect(Box(0, 0, canvas_w, canvas_h)).union(crop)  # no ink off-canvas
    return square_around(pushed, canvas_w, canvas_h, margin=0.0, min_side=crop.w)


class RegionTracker:
    """Keeps the crop steady while the artist draws: it only grows when the sketch leaves it.

    A crop that followed every stroke would move the face in the model's eyes and make the guidance jump;
    this one changes only when a stroke reaches outside it (or the artist selects another region).
    """

    def __init__(self) -> None:
        self.region: Optional[Box] = None

    def update(self, sketch: Box, canvas_w: int, canvas_h: int) -> Optional[Box]:
        if sketch.empty:
            self.region = None
            return None
        if self.region is None or not self.region.contains(sketch):
            grown = sketch if self.region is None else sketch.union(self.region)
            self.region = square_around(grown, canvas_w, canvas_h,
                                        margin=MARGIN if self.region is None else MARGIN / 2)
        return self.region

    def grow(self, sides: set, canvas_w: int, canvas_h: int) -> Optional[Box]:
        """The crop grown where ink leaves it (see grow_towards); it only ever grows."""
        if self.region is not None and sides:
            self.region = grow_towards(self.region, sides, canvas_w, canvas_h).union(self.region)
            self.region = square_around(self.region, canvas_w, canvas_h, margin=0.0, min_side=self.region.w)
        return self.region

    def reset(self) -> None:
        self.region = None
