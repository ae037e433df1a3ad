"""Faithful mode's flats snapped to the artist's own lines: each region between the lines (small gaps closed) takes
the one colour most of it has, the lines themselves take the colour of the nearest region (the change of colour
lies under the line's middle), the eyes are painted, not snapped, and small holes of background inside the figure
are filled (docs/renders.md, "Faithful", steps 4-7)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..layers import ink_box
from .drawn import Box, drawn_box, fill_outside, where_labelled
from .layered import EYES

OPEN_LEVEL = 96  # darkness from which a pixel is a line
GAP_CLOSING = 0.008  # of the side: lines are thickened by this much so that small gaps in a sketch close
CLEAR_SHARE = 0.75  # a region this much of one colour "clearly has" that colour
SPECK, SPILL = 0.0005, 0.02  # of the area: patches this small always / thin ones where the region is clear
THICK = 0.006  # of the side: a patch wider than twice this is a shape of its own, not colour spilt over a line
ENCLOSED = 0.003  # of the area: background enclosed by the figure and smaller than this is a hole, not a gap
EYE_WHITE_REACH = 0.004  # of the side: how far beside the guidance's eye whites the network's skin still is white
MIN_IRIS = 0.1  # of the eyes' area: with less iris painted, all the skin inside the eyes is white (as before)
NEAREST_MARGIN = 2  # pixels: the reach of OpenCV's largest distance-transform mask (5 x 5; fill_nearest asks 3 x 3)


@dataclass
class LineRegions:
    """What snapping needs of the artist's lines alone (so it can be found while the network paints): the lines
    thickened so that small gaps close (`band`, bool), the regions between them (`regions`, int32, 1..count-1;
    0 on the band), where the artist drew (`drawn`: drawn.drawn_box, None: all of it) and the guidance's body
    they did not draw (`undrawn`: bool, drawn.undrawn_body's parts; None: none)."""

    band: np.ndarray
    regions: np.ndarray
    count: int
    drawn: Box | None = None
    undrawn: np.ndarray | None = None


def line_regions(darkness: np.ndarray, request: tuple[int, int] | None = None) -> LineRegions:
    """`darkness`: the square the request lies in (its top-left `request` = (h, w); None: all of it)."""
    band = line_band(darkness)
    count, regions = cv2.connectedComponents((~band).astype(np.uint8), connectivity=4)
    h, w = request or darkness.shape
    return LineRegions(band, regions, count, drawn_box(darkness[:h, :w], darkness.shape[0]))


def flat_family(family: np.ndarray, k: int, lines: LineRegions, outside: np.ndarray | None,
                parts: np.ndarray | None, skin: int, background: int = -1,
                eye_whites: np.ndarray | None = None) -> np.ndarray:
    """Each pixel's flat, snapped to the artist's lines (`line_regions`): a base cluster (0..k-1), k outside the
    portrait, k + 1 the whites of the eyes, k + 2 the irises (where the guidance's whites are known). `skin`, `background`: the
    base clusters of the skin and of the background (-1: unknown); `eye_whites` (bool side x side, None:
    unknown): where the guidance's eyes show their whites.

    Outside is where the guidance's face says so and the network painted the background's colour: where the
    guidance drew shorter hair than the artist, the network, which sees the artist's lines, paints hair."""
    side = family.shape[0]
    outside_id = k
    if outside is not None:
        family = np.where(outside & ((family == background) | (background < 0)), outside_id, family)
    if lines.undrawn is not None and (outside is not None or background >= 0):
        # a neck or clothes the artist did not draw is paper, whatever the network painted there (a dabbed
        # background is opaque: there the paper is the background's flat)
        family = np.where(lines.undrawn, outside_id if outside is not None else background, family)
    eyes = None if parts is None else where_labelled(parts, EYES, side)
    family = snap_to_lines(family, lines, outside_id + 1, eyes)
    if eyes is not None:
        family = painted_eyes(family, eyes, skin, outside_id + 1, eye_whites)
    if lines.drawn is not None and (outside is not None or background >= 0):
        # the figure ends where the drawing does: the outside there, or the hinted background's flat
        fill_outside(family, lines.drawn, outside_id if outside is not None else background)
    return fill_enclosed_background(family, [b for b in (background, outside_id) if b >= 0])


def painted_eyes(family: np.ndarray, eyes: np.ndarray, skin: int, white: int,
                 eye_whites: np.ndarray | None) -> np.ndarray:
    """family with the guidance's eyes painted as a colourist fills them: the whites (`white`) and the irises,
    one flat for the pair (`white` + 1, whose colour faithful_layers.iris_cluster and iris_color choose), on
    which the guidance's pupils and catch-lights lie. The network paints irises but almost never a sclera: the
    skin it leaves inside the eyes is white only where the guidance's eyes show their whites (beside the iris,
    EYE_WHITE_REACH off for the few pixels its face lies off the artist's); the rest of it is the iris the
    network drew smaller. Whitening all of it ringed every iris in white, a startled stare that showed most on
    dark skin. Where the network painted next to no iris (or the whites are unknown) the skin there is all
    white and the eyes keep the network's colours."""
    plain = eyes & (family == skin)
    # (count_nonzero: a sixth of a boolean sum's time, which adds the mask up as integers)
    if eye_whites is None or np.count_nonzero(eyes & ~plain) < MIN_IRIS * np.count_nonzero(eyes):
        family[plain] = white
        return family
    radius = max(1, int(round(EYE_WHITE_REACH * family.shape[0])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    family[plain & (cv2.dilate(eye_whites.astype(np.uint8), kernel) > 0)] = white
    family[eyes & (family != white)] = white + 1
    return family


def fill_enclosed_background(family: np.ndarray, backgrounds: list[int]) -> np.ndarray:
    """family with each small patch of the background that the figure encloses (it touches no edge of the
    picture, and is under ENCLOSED of it) filled from the flats around it. The network paints the background's
    colour into a fringe gap or a sliver between a lock and the cheek, and the lines make it a region of its
    own; a colourist never leaves such a hole. Real gaps, where the background shows between a lock and the
    neck, are larger: of the engine's own portraits' enclosed background (60 of them), none lies between 0.1 %
    and 0.3 % of the picture, and those under 0.1 % are a few dozen pixels."""
    background = np.zeros(family.shape, bool)
    for value in backgrounds:  # a comparison each: np.isin of a few values took twenty times as long
        background |= family == value
    enclosed = enclosed_pixels(background)
    box = ink_box(enclosed)
    if box is None:
        return family
    # the enclosed patches, labelled in their box alone (a few percent of the picture, when there are any)
    y0, y1, x0, x1 = box
    _, patch, area = labelled(enclosed[y0:y1, x0:x1])
    hole = area < ENCLOSED * family.size
    hole[0] = False  # label 0: not enclosed background
    if not hole.any():
        return family
    holes = np.zeros(family.shape, bool)
    holes[y0:y1, x0:x1] = hole[patch]
    return fill_nearest(family, holes)


def enclosed_pixels(mask: np.ndarray) -> np.ndarray:
    """uint8, 1 on the pixels of mask (bool) whose 4-connected patch touches no edge of the picture. A flood fill
    from a frame of mask round the picture empties every patch that touches an edge: a third of the time of
    labelling all the patches of the picture's background to find them."""
    framed = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    cv2.floodFill(framed, None, (0, 0), 0, flags=4)
    return framed[1:-1, 1:-1]


def line_band(darkness: np.ndarray) -> np.ndarray:
    """bool: the artist's lines, thickened so that small gaps close (a region leaking through a gap of a few
    pixels would otherwise take its neighbour's colour)."""
    side = darkness.shape[0]
    radius = max(1, int(round(GAP_CLOSING * side)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate((darkness >= OPEN_LEVEL).astype(np.uint8), kernel) > 0


def snap_to_lines(family: np.ndarray, lines: LineRegions, count: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Patches of another colour inside a region between the lines take the region's colour: any speck, and a
    thin patch up to a few percent of the picture where the region clearly has one colour (the prediction's
    colour spilling over a line; a thick patch, an eye's white in a face whose eye line has a gap, stays). A
    larger patch stays: there the region leaks through a gap the band did not close (the face joined to the
    background), and the prediction's own edge is the better guess. The band then takes the colour of the
    nearest region pixel, so colours change under the middle of the lines.
    `keep` (bool, None: nothing): pixels that keep their colour, even under the band: the eyes, whose sclera,
    iris and pupil are shapes the artist's eye lines rarely close; cut by the lines (lashes, the iris's own
    ring) they look like thin spills, and filled from beyond the lashes the iris turns into a bow tie.

    All patches of all colours are labelled in one pass: the band and the one-pixel seams between two colours
    cut the picture into patches of one colour each (the seams then follow their nearest patch)."""
    side = family.shape[0]
    band, regions, regions_count = lines.band, lines.regions, lines.count
    seam = np.zeros_like(band)
    seam[:, 1:] |= family[:, 1:] != family[:, :-1]
    seam[1:] |= family[1:] != family[:-1]
    inside = (~(band | seam)).astype(np.uint8)
    patches, patch, area = labelled(inside)
    depth = max(1, int(round(THICK * side)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * depth + 1, 2 * depth + 1))
    # a patch that survives erosion is a shape (an eye's white), not a spill
    thick = np.bincount(patch.ravel()[cv2.erode(inside, kernel).ravel() > 0], minlength=patches) > 0
    code = (regions * count + family).ravel()  # each pixel's (region, colour) pair
    pair = np.zeros(patches, code.dtype)
    pair[patch.ravel()] = code  # one colour, one region per patch
    colour, region = pair % count, pair // count
    votes = region_votes(pair, area, code[(seam & ~band).ravel()], regions_count * count).reshape(regions_count, count)
    votes[0] = 0  # label 0: the band
    winner = votes.argmax(axis=1)
    clear = votes.max(axis=1) >= CLEAR_SHARE * np.maximum(votes.sum(axis=1), 1)
    speck = area < SPECK * side * side
    move = (speck | ((area < SPILL * side * side) & ~thick)) & (clear[region] | speck)
    move[0] = False  # label 0: band and seams
    snapped = np.take(np.where(move, winner[region], colour).astype(family.dtype), patch)
    if keep is not None:
        snapped = np.where(keep, family, snapped)
    holes = (inside == 0) & (True if keep is None else ~keep)
    return fill_nearest(snapped, holes)


def region_votes(pair: np.ndarray, area: np.ndarray, seams: np.ndarray, length: int) -> np.ndarray:
    """How many pixels of each colour each region has (int64, indexed region x count + colour, `length` of them;
    the band's, region 0, left out), counted from the patches (`pair` and `area` of each, label 0 the band and
    the seams, not a patch) and the (region, colour) pair of each seam pixel off the band (`seams`): every other
    pixel lies in one patch. A count over a few hundred patches and the seams instead of over every pixel."""
    by_patch = np.bincount(pair[1:], weights=area[1:], minlength=length)  # whole numbers, exact in float64
    return by_patch.astype(np.int64) + np.bincount(seams, minlength=length)


def labelled(mask: np.ndarray, connectivity: int = 4) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, labels, area of each label) of the connected components of mask (uint8), labels as intp (the
    index type: each use as an index would convert them). OpenCV's labels without its statistics and the areas
    counted after, as connectedComponentsWithStats gives them: its statistics took four times the labelling."""
    count, labels = cv2.connectedComponents(mask, connectivity=connectivity)
    labels = labels.astype(np.intp)
    return count, labels, np.bincount(labels.ravel(), minlength=count)


def fill_nearest(values: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """values with every hole pixel replaced by the value of the nearest non-hole pixel.

    Only the box round the holes (NEAREST_MARGIN wider) is searched: the distance transform reaches a hole pixel
    from its nearest pixel in steps of its mask through other holes, all inside that box, so the box gives the
    same pixels as the whole picture (the enclosed background's few holes lie in a few percent of it)."""
    box = ink_box(holes)
    if box is None or holes.all():
        return values
    y0, y1, x0, x1 = box
    y0, x0 = max(0, y0 - NEAREST_MARGIN), max(0, x0 - NEAREST_MARGIN)
    y1, x1 = min(holes.shape[0], y1 + NEAREST_MARGIN), min(holes.shape[1], x1 + NEAREST_MARGIN)
    filled = values.copy()
    filled[y0:y1, x0:x1] = nearest_filled(values[y0:y1, x0:x1], holes[y0:y1, x0:x1])
    return filled


def nearest_filled(values: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """`fill_nearest` of the whole of values (some pixel not a hole)."""
    _, nearest = cv2.distanceTransformWithLabels(holes.astype(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    # DIST_LABEL_PIXEL numbers the non-hole pixels 1.. in row-major order (0 is never a label: a spare first entry)
    sources = np.concatenate([values[:1, 0], values[~holes]])
    return np.take(sources, np.asarray(nearest, np.int32))
