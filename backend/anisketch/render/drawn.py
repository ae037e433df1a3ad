"""Where the artist drew: the box the figure's colour may fill in a request.

A bust drawn on a canvas ends where its shoulder lines end: the guidance's face goes on below (the engine paints
the body down past its frame) and so would the colouriser's clothes, a blob of colour under lines that were
never drawn. A colourist stops where the drawing stops; both render modes leave what lies beyond this box to the
background (`layered.refined_production`, `snapping.flat_family`), and a hinted background fills the request
(`on_backdrop`).
"""

from __future__ import annotations

import numpy as np

from ..engine.builder import Region
from ..engine.raster import paint_regions

DRAWN_LEVEL = 32  # darkness from which a pixel is the artist's ink (a light pencil line included)
DRAWN_MARGIN = 0.012  # of the side: how far past the last line drawn colour may reach (an outline's outer half)
EDGE_REACH = 0.03  # of the side: ink this close to the request's edge runs on past it (a bust cut by the frame)


Box = tuple[int, int, int, int]  # (y0, y1, x0, x1) in a request's square


def drawn_box(darkness: np.ndarray, side: int) -> Box | None:
    """Where the figure may be coloured in the side x side square of a request (`darkness`: the request, h x w,
    in the square's top-left): the box around the artist's ink, DRAWN_MARGIN wider; a side where the ink comes
    within EDGE_REACH of the request's edge runs on to the square's (the engine's own framing, a bust cut by the
    picture's frame, keeps its figure to the edge). None: nothing to cut (no ink, or the box is the square)."""
    ink = darkness >= DRAWN_LEVEL
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    h, w = darkness.shape
    margin, reach = int(round(DRAWN_MARGIN * side)), EDGE_REACH * side
    y0 = 0 if rows[0] < reach else max(0, int(rows[0]) - margin)
    x0 = 0 if cols[0] < reach else max(0, int(cols[0]) - margin)
    y1 = side if rows[-1] >= h - 1 - reach else min(side, int(rows[-1]) + 1 + margin)
    x1 = side if cols[-1] >= w - 1 - reach else min(side, int(cols[-1]) + 1 + margin)
    return None if (y0, y1, x0, x1) == (0, side, 0, side) else (y0, y1, x0, x1)


def fill_outside(image: np.ndarray, box: Box, value) -> None:
    """Every pixel of `image` (the request's square, any channels) outside `box` set to `value`, in place: four
    slices (a boolean mask's assignment cost 2.7 ms a layer at 512 px, three layers a candidate)."""
    y0, y1, x0, x1 = box
    image[:y0] = value
    image[y1:] = value
    image[y0:y1, :x0] = value
    image[y0:y1, x1:] = value


def on_backdrop(color: np.ndarray, coverage: np.ndarray, regions: list[Region], backdrop: tuple,
                drawn: Box | None) -> np.ndarray:
    """The flats (RGB uint8) with the background's colour wherever the figure is not: beyond the guidance's
    window (`coverage` under 255 there: the regions painted again over that colour) and beyond the drawing."""
    if coverage.min() < 255:
        color = np.empty_like(color)
        color[:] = backdrop
        paint_regions(color, None, regions, color.shape[0])
    if drawn is not None:
        fill_outside(color, drawn, backdrop)
    return color
