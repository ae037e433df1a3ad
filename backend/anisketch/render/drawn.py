"""Where the artist drew: the box the figure's colour may fill in a request.

A bust drawn on a canvas ends where its shoulder lines end: the guidance's face goes on below (the engine paints
the body down past its frame) and so would the colouriser's clothes, a blob of colour under lines that were
never drawn. A colourist stops where the drawing stops; both render modes leave what lies beyond this box to the
background (`layered.refined_production`, `snapping.flat_family`).
"""

from __future__ import annotations

import numpy as np

DRAWN_LEVEL = 32  # darkness from which a pixel is the artist's ink (a light pencil line included)
DRAWN_MARGIN = 0.012  # of the side: how far past the last line drawn colour may reach (an outline's outer half)
EDGE_REACH = 0.03  # of the side: ink this close to the request's edge runs on past it (a bust cut by the frame)


def drawn_box(darkness: np.ndarray, side: int) -> tuple[int, int, int, int] | None:
    """Where the figure may be coloured in the side x side square of a request (`darkness`: the request, h x w,
    in the square's top-left): the box around the artist's ink, DRAWN_MARGIN wider, as (y0, y1, x0, x1); a side
    where the ink comes within EDGE_REACH of the request's edge runs on to the square's (the engine's own framing,
    a bust cut by the picture's frame, keeps its figure to the edge). None: no ink."""
    ink = darkness >= DRAWN_LEVEL
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    h, w = darkness.shape
    margin, reach = int(round(DRAWN_MARGIN * side)), EDGE_REACH * side
    y0 = 0 if rows[0] < reach else max(0, rows[0] - margin)
    x0 = 0 if cols[0] < reach else max(0, cols[0] - margin)
    y1 = side if rows[-1] >= h - 1 - reach else min(side, rows[-1] + 1 + margin)
    x1 = side if cols[-1] >= w - 1 - reach else min(side, cols[-1] + 1 + margin)
    return y0, y1, x0, x1


def beyond_drawing(box: tuple[int, int, int, int] | None, side: int) -> np.ndarray | None:
    """bool side x side: outside `drawn_box`'s box (None: nothing is)."""
    if box is None or box == (0, side, 0, side):
        return None
    y0, y1, x0, x1 = box
    beyond = np.ones((side, side), bool)
    beyond[y0:y1, x0:x1] = False
    return beyond
