"""Where the artist drew: the box the figure's colour may fill in a request, and the body it may cover.

A bust drawn on a canvas ends where its shoulder lines end: the guidance's face goes on below (the engine paints
the body down past its frame) and so would the colouriser's clothes, a blob of colour under lines that were
never drawn. A colourist stops where the drawing stops; both render modes leave what lies beyond this box to the
background (`layered.refined_production`, `snapping.flat_family`), and a hinted background fills the request
(`on_backdrop`).

The box is not enough for a head drawn alone: one stray mark below it stretches the box, and the guidance's neck
and clothes filled it down to that mark. So the body's parts are coloured only where the artist drew them
(`undrawn_body`): a neck or clothes whose outline against the paper runs nowhere near the artist's lines is
left to the background, as the paper round the head.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..engine import params as P
from ..engine.builder import Portrait, Region
from ..engine.raster import paint_regions

DRAWN_LEVEL = 32  # darkness from which a pixel is the artist's ink (a light pencil line included)
DRAWN_MARGIN = 0.012  # of the side: how far past the last line drawn colour may reach (an outline's outer half)
EDGE_REACH = 0.03  # of the side: ink this close to the request's edge runs on past it (a bust cut by the frame)


Box = tuple[int, int, int, int]  # (y0, y1, x0, x1) in a request's square

BODY = (P.LABEL["neck"], P.LABEL["clothes"])  # the parts a head drawn alone leaves out
# A body part is drawn when at least this share of its outline against the paper lies within BODY_REACH (of the
# side) of the artist's ink: the guidance's outline lies a few pixels off the drawn one, a rough line a few more.
# On 40 unseen portraits drawn as busts on a page every such outline scored 0.88 or more; drawn as a head alone
# with a stray stroke below, 0.19 or less.
BODY_DRAWN = 0.5
BODY_REACH = 0.025
# An outline shorter than this (of the part map's side) says nothing (long hair hides the shoulders, or the frame
# cuts them): the part is coloured as before. Shorter outlines gave both kinds of sketch high and low scores.
BODY_MIN_OUTLINE = 0.15
# part-map pixels: the blur that takes the stairs out of a part's edge before it is upsampled (`at_side`); a
# stripe one pixel wide still keeps its middle
SMOOTHING = 0.6


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


def undrawn_body(parts: np.ndarray, darkness: np.ndarray) -> tuple[int, ...]:
    """The labels of BODY whose outline against the paper the artist has not drawn, in the guidance's part map
    (`parts`, any square size; `darkness`: the request in its square's top-left, any size). The outline against
    the paper, away from the head, is what the artist would draw of them: a neck's sides and the shoulders, not
    where they meet the jaw or the hair (whose lines lie within reach). A part with too little such outline to tell
    (hidden by long hair, cut by the frame or by the drawn box) counts as drawn."""
    size = parts.shape[0]
    reach = max(1, int(round(BODY_REACH * size)))
    near_ink = dilated(ink_at(darkness, size) > 0, reach)
    # the outline beside the head says nothing: the jaw and the hair drawn there lie within reach of it
    beside_head = dilated(~np.isin(parts, BODY + (P.LABEL["background"],)), 2 * reach)
    within = box_at(darkness, size)  # beyond the drawn box the colour is cut anyway
    undrawn: tuple[int, ...] = ()
    for label in BODY[::-1]:  # the clothes first: a neck without them ends where they would have begun
        paper = dilated(np.isin(parts, undrawn + (P.LABEL["background"],)), 1, square=True)
        outline = (parts == label) & paper & within & ~beside_head
        if outline.sum() >= BODY_MIN_OUTLINE * size and (outline & near_ink).sum() < BODY_DRAWN * outline.sum():
            undrawn += (label,)
    return undrawn


def ink_at(darkness: np.ndarray, size: int) -> np.ndarray:
    """The artist's ink (DRAWN_LEVEL and darker) in the request's square shrunk to size x size: uint8, any ink in
    a pixel shows."""
    square = max(darkness.shape)
    h, w = (max(1, int(round(n * size / square))) for n in darkness.shape)
    ink = np.zeros((size, size), np.uint8)
    ink[:h, :w] = cv2.resize((darkness >= DRAWN_LEVEL).astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_AREA)
    return ink


def box_at(darkness: np.ndarray, size: int) -> np.ndarray:
    """bool size x size: the drawn box (`drawn_box`) in the request's square shrunk to size x size."""
    square = max(darkness.shape)
    y0, y1, x0, x1 = (int(round(v * size / square)) for v in (drawn_box(darkness, square) or (0, square, 0, square)))
    within = np.zeros((size, size), bool)
    within[y0:y1, x0:x1] = True
    return within


def dilated(mask: np.ndarray, radius: int, square: bool = False) -> np.ndarray:
    """bool: `mask` grown by `radius` pixels (a disc; `square`: a square)."""
    side = 2 * radius + 1
    kernel = np.ones((side, side), np.uint8) if square else cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def as_paper(parts: np.ndarray, labels: tuple[int, ...]) -> np.ndarray:
    """The part map with `labels` taken for the background (a copy when there are any)."""
    if not labels:
        return parts
    return np.where(np.isin(parts, labels), np.uint8(P.LABEL["background"]), parts).astype(parts.dtype)


def where_labelled(parts: np.ndarray, labels: tuple[int, ...], side: int) -> np.ndarray | None:
    """bool side x side: the pixels of `parts` (any square size) with one of `labels`; None without labels."""
    if not labels:
        return None
    return at_side(np.isin(parts, labels), side)


def at_side(mask: np.ndarray, side: int) -> np.ndarray:
    """bool side x side: a square mask of the part map's size (the colouriser's) at the request's size, its edges
    smooth curves. The part map is drawn without anti-aliasing, so its curves are stairs of whole pixels, and
    upsampled as they were (nearest) an iris's or the paper's edge stepped by 6 px on a 1536 px request, as an
    artist zooming in saw. Softened by a blur of SMOOTHING pixels first, the half level runs through the stairs."""
    if len(mask) == side:
        return mask.astype(bool, copy=False)
    if side < len(mask):
        return cv2.resize(mask.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA) > 0.5
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), SMOOTHING)
    return cv2.resize(soft, (side, side), interpolation=cv2.INTER_LINEAR) > 0.5


def portrait_as_paper(portrait: Portrait, labels: tuple[int, ...]) -> Portrait:
    """The portrait with the regions of `labels` painted as its background (they still hide what lies behind
    them: the back hair behind a neck stays hidden) and their shading left out."""
    if not labels:
        return portrait
    backdrop = next((r.color for r in portrait.regions if r.label == P.LABEL["background"]), (255, 255, 255))
    paper = P.LABEL["background"]
    regions = [r if r.label not in labels else Region(r.polygon, paper, backdrop, r.z)
               for r in portrait.regions if not (r.detail and r.label in labels)]
    return Portrait(portrait.strokes, regions, portrait.params)
