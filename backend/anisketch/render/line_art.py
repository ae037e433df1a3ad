"""Refined mode's own line art: the engine's strokes in colour-traced ink, and the shapes an artist draws as lines.

Brows and the frames of glasses are line work in an illustration: the line artist inks them, the colourist never
fills them. Painted in the flats, the engine's brows and frames, a few pixels off the artist's own, drew them a
second time under the sketch (dark frames beside the pencilled ones; the face detector lost such faces). They go
with the engine's strokes instead, on the Line art layer that comes hidden, and the flats beneath them are the
skin, eyes and hair they cross, shaded as those are.
"""

from __future__ import annotations

import numpy as np

from ..engine import params as P
from ..engine.raster import region_coverage, render_regions
from ..layers import ink_box

BROWS = frozenset({P.LABEL["brow_l"], P.LABEL["brow_r"]})
ACCESSORY = P.LABEL["accessory"]


def drawn_as_line(region, pal: dict) -> bool:
    """Whether an illustrator draws this region as line work rather than colouring it: a brow, or an accessory
    in the glasses' tone (their frames; a hat or a ribbon is coloured)."""
    return region.label in BROWS or (region.label == ACCESSORY and region.color == pal["glasses"])


def with_line_shapes(lines: np.ndarray, shapes: list, side: int) -> np.ndarray:
    """The line art (RGBA side x side, straight alpha) with the line-like `shapes` (regions) filled beneath its
    strokes, anti-aliased as the engine paints them. Mixed in the shapes' box alone (the whole square cost
    ten times as much, for pixels the shapes do not touch)."""
    if not shapes:
        return lines
    # painted over black, an anti-aliased edge is its colour times its coverage: premultiplied already
    color = render_regions(shapes, side)[0]
    cover = region_coverage(shapes, side)
    box = ink_box(cover)
    if box is None:
        return lines
    y0, y1, x0, x1 = box
    strokes = lines[y0:y1, x0:x1].astype(np.float32)
    ink = strokes[..., 3:] / 255.0
    alpha = ink + cover[y0:y1, x0:x1, None] / 255.0 * (1 - ink)
    rgb = (strokes[..., :3] * ink + color[y0:y1, x0:x1] * (1 - ink)) / np.maximum(alpha, 1e-6)
    out = lines.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(np.concatenate([rgb, alpha * 255], axis=-1)), 0, 255)
    return out
