"""Strokes and regions -> pixels at any size: colour image, line art (darkness) and part map, pixel-aligned.

Strokes are inked as filled outline polygons (the centre line offset by half the width on each side, so the line
weight varies along the stroke and the ends taper), anti-aliased by OpenCV with 4 bits of sub-pixel precision.

Rows of vertex arrays are picked with np.take / np.compress: numpy 2.4's fancy indexing of [N, 2] arrays is
10-15x slower, for the same values.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from anisketch.engine.geometry import split_rows
from anisketch.engine.palette import INK, line_colors

SHIFT = 4  # sub-pixel bits for cv2.fillPoly
MIN_WIDTH_PX = 0.6  # soft floor on line width: hair-thin tapers stay visible at small sizes
# Outline vertices: a stroke's centre line comes resampled every STEP (geometry), 1-4 px at the usual sizes,
# and the fill's cost is mostly per vertex. Far fewer vertices draw the same line: every other vertex is
# dropped where the chord of its neighbours passes within TOLERANCE_PX / 2 of it (in position and in
# half-width, the taper), then again on what is left, THIN_LEVELS times. Dropping a vertex moves the line by
# at most its distance from that chord; on a curve each level's chords are twice as long, so the moves of the
# levels before the last add up to a third of it: the outline stays within about TOLERANCE_PX of the
# resampled line. Corners and tight curls keep their vertices, straight stretches one in 2**THIN_LEVELS.
TOLERANCE_PX = 0.1
THIN_LEVELS = 3  # a 4th level would drop ~10 % more vertices for more than it saves


def _thin(pts, half, counts):
    """(x, y, half-widths, counts) with the vertices that do not matter dropped; strokes keep their ends.

    Each level looks at every other vertex of the whole batch (odd positions: never two neighbours at once;
    a stroke's ends are pinned, so a dropped vertex's neighbours belong to its stroke). A vertex is tested
    against the point of its neighbours' chord nearest to it, in position and in half-width. Everything is
    done on 1-D columns: numpy 2.4 is many times slower on strided [N, k] arrays."""
    tolerance = TOLERANCE_PX / 2
    last = np.cumsum(counts) - 1
    x, y = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
    pinned = np.zeros(len(pts), bool)
    pinned[last] = True
    pinned[last - counts + 1] = True
    stroke = np.repeat(np.arange(len(counts)), counts)
    for _ in range(THIN_LEVELS):
        x0, y0, h0 = x[0:-2:2], y[0:-2:2], half[0:-2:2]      # the previous vertex,
        ax, ay, ah = x[1:-1:2] - x0, y[1:-1:2] - y0, half[1:-1:2] - h0  # the candidate,
        cx, cy, ch = x[2::2] - x0, y[2::2] - y0, half[2::2] - h0        # the next (the chord)
        chord2 = np.maximum(cx * cx + cy * cy, 1e-12)
        cross = ax * cy - ay * cx
        t = (ax * cx + ay * cy) / chord2  # where the chord passes nearest to the candidate
        drop = (cross * cross <= tolerance * tolerance * chord2) & (np.abs(ah - t * ch) <= tolerance)
        drop &= ~pinned[1:-1:2]
        if not drop.any():
            break
        keep = np.ones(len(x), bool)
        keep[1:-1:2] = ~drop
        x, y, half, pinned, stroke = (a[keep] for a in (x, y, half, pinned, stroke))
    return x, y, half, np.bincount(stroke, minlength=len(counts))


def _to_fixed(points, size):
    """Canvas [0, 1] -> OpenCV fixed-point pixels (the canvas edge is the pixels' outer edge)."""
    return ((points * size - 0.5) * (1 << SHIFT) + 0.5).astype(np.int32)


def stroke_outlines(strokes, size):
    """The outline polygons of all strokes, in fixed-point pixels, computed in one batch: for an open stroke one
    polygon (the centre line offset by half the width on each side, so weight varies and ends taper), for a
    closed stroke an outer and an inner ring (filled even-odd, that is a band)."""
    strokes = [s for s in strokes if len(s.points) >= 2]
    if not strokes:
        return []
    pts = np.concatenate([s.points for s in strokes]).astype(np.float64) * size
    w_px = np.concatenate([s.widths for s in strokes]).astype(np.float64) * size
    counts = np.array([len(s.points) for s in strokes])
    half = 0.5 * np.sqrt(w_px * w_px + MIN_WIDTH_PX * MIN_WIDTH_PX)
    x, y, half, counts = _thin(pts, half, counts)
    starts = np.cumsum(counts) - counts
    ends = starts + counts - 1
    closed = np.array([s.closed for s in strokes])
    # Tangents by central differences, one-sided at the ends of an open stroke, across the seam of a closed one.
    before, after = np.arange(-1, len(x) - 1), np.arange(1, len(x) + 1)
    before[starts], after[ends] = starts, ends
    before[starts[closed]], after[ends[closed]] = ends[closed], starts[closed]
    tx, ty = np.take(x, after) - np.take(x, before), np.take(y, after) - np.take(y, before)
    k = half / np.maximum(np.sqrt(tx * tx + ty * ty), 1e-9)
    ox, oy = -ty * k, tx * k  # half the width along the normal
    scale = 1 << SHIFT
    left = np.empty((len(x), 2), np.int32)
    right = np.empty((len(x), 2), np.int32)
    left[:, 0], left[:, 1] = (x + ox - 0.5) * scale + 0.5, (y + oy - 0.5) * scale + 0.5
    right[:, 0], right[:, 1] = (x - ox - 0.5) * scale + 0.5, (y - oy - 0.5) * scale + 0.5
    # Every polygon gathered in one go (a per-stroke concatenate costs more than the arithmetic above):
    # stroke i takes 2 * counts[i] rows, its left side then its right side, reversed for an open stroke
    # (one polygon around the line) and in order for a closed one (the inner ring of the band).
    sides = np.concatenate((left, right))
    rows = 2 * counts
    block = np.cumsum(rows) - rows
    k = np.arange(rows.sum()) - np.repeat(block, rows)  # row within the stroke's block
    c, a = np.repeat(counts, rows), np.repeat(starts, rows)
    on_right = k >= c
    right_row = np.where(np.repeat(closed, rows), k - c, 2 * c - 1 - k)
    polygons = np.take(sides, np.where(on_right, len(x) + a + right_row, a + k), axis=0)
    return [(stroke, [polygons[b:b + n], polygons[b + n:b + 2 * n]] if is_closed else [polygons[b:b + 2 * n]])
            for stroke, b, n, is_closed in zip(strokes, block.tolist(), counts.tolist(), closed.tolist())]


def render_lines(strokes, size: int, colors: dict | None = None) -> np.ndarray:
    """Ink the strokes alone. Darkness uint8[S, S] (255 = full ink); with `colors` (group -> (r, g, b)), an RGBA
    uint8[S, S, 4] image where each group has its own colour and alpha is the ink (rough mode)."""
    size = int(size)
    if colors is None:
        ink = np.zeros((size, size), np.uint8)
        for _, polygons in stroke_outlines(strokes, size):
            cv2.fillPoly(ink, polygons, 255, lineType=cv2.LINE_AA, shift=SHIFT)
        return ink
    premultiplied = np.zeros((size, size, 4), np.uint8)
    for stroke, polygons in stroke_outlines(strokes, size):
        r, g, b = colors.get(stroke.group, (0, 0, 0))
        cv2.fillPoly(premultiplied, polygons, (int(r), int(g), int(b), 255), lineType=cv2.LINE_AA, shift=SHIFT)
    # Straight alpha, computed on the inked pixels only (a tenth of a portrait; the others stay all zero)
    flat = premultiplied.reshape(-1, 4)
    inked = np.flatnonzero(flat[:, 3])
    ink = np.take(flat, inked, axis=0).astype(np.float32)
    flat[inked, :3] = np.clip(ink[:, :3] * 255.0 / ink[:, 3:] + 0.5, 0, 255).astype(np.uint8)
    return premultiplied


class GroupInk(NamedTuple):
    """The strokes' ink with each inked pixel's share of each stroke group's colour (`ink_by_group`): line art in
    any colours of the groups is then one small product (`colored`). A request's colour candidates share their
    strokes and differ in the groups' colours (`line_colors` follows the hair and the skin), so their line art is
    inked once. `inked`: flat indices of the pixels with ink; `alpha` (float32) the ink there; `weights` float32
    [pixels, groups], each group's share of the premultiplied colour, in the order of `groups`."""

    size: int
    groups: tuple
    inked: np.ndarray
    alpha: np.ndarray
    weights: np.ndarray

    def colored(self, colors: dict) -> np.ndarray:
        """RGBA uint8 [S, S, 4] as `render_lines(strokes, size, colors)` gives it, up to a level of rounding
        where strokes of two groups cross."""
        palette = np.array([colors.get(group, (0, 0, 0)) for group in self.groups], np.float32).reshape(-1, 3)
        rgba = np.zeros((self.size * self.size, 4), np.uint8)
        straight = (self.weights @ palette) / self.alpha[:, None]
        rgba[self.inked, :3] = np.clip(straight + 0.5, 0, 255).astype(np.uint8)
        rgba[self.inked, 3] = np.clip(self.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return rgba.reshape(self.size, self.size, 4)


def ink_by_group(strokes, size: int) -> GroupInk:
    """`GroupInk` of the strokes: each group's strokes inked on a plane of their own, the planes then laid over
    each other in the order the groups first come (a stroke over an earlier group's keeps its share where they
    cross; strokes of one group blend as `render_lines` blends them)."""
    size = int(size)
    outlines = stroke_outlines(strokes, size)
    groups = tuple(dict.fromkeys(stroke.group for stroke, _ in outlines))
    planes = np.zeros((len(groups), size, size), np.uint8)
    for stroke, polygons in outlines:
        cv2.fillPoly(planes[groups.index(stroke.group)], polygons, 255, lineType=cv2.LINE_AA, shift=SHIFT)
    flat = planes.reshape(len(groups), -1)
    inked = np.flatnonzero(flat.max(axis=0)) if len(groups) else np.zeros(0, np.intp)
    coverage = np.take(flat, inked, axis=1).T.astype(np.float32) * (1.0 / 255.0)  # [pixels, groups]
    weights = np.empty_like(coverage)
    seen_through = np.ones(len(inked), np.float32)  # how much of what lies under shows through the groups above
    for g in range(len(groups) - 1, -1, -1):
        weights[:, g] = coverage[:, g] * seen_through
        seen_through *= 1.0 - coverage[:, g]
    return GroupInk(size, groups, inked, 1.0 - seen_through, weights)


def ink_over(color, strokes, size, colors):
    """Ink the strokes straight onto a colour image (in place), each group in its colour: OpenCV's anti-aliased
    fill blends each stroke over what lies beneath, so this is the colour image's line art, composited.
    Returns the darkness image of the same strokes, drawn from the same outlines.

    (One fill of an RGBA canvas, ink in the colour channels and darkness in alpha, gives the same bytes but is
    no faster: OpenCV's anti-aliased edges have fast paths for 1 and 3 channels only.)"""
    darkness = np.zeros((size, size), np.uint8)
    for stroke, polygons in stroke_outlines(strokes, size):
        cv2.fillPoly(darkness, polygons, 255, lineType=cv2.LINE_AA, shift=SHIFT)
        cv2.fillPoly(color, polygons, colors.get(stroke.group, INK), lineType=cv2.LINE_AA, shift=SHIFT)
    return darkness


def render_regions(regions, size: int):
    """Flat cel colours (anti-aliased) and the part map (hard edges), painted back to front."""
    color = np.zeros((size, size, 3), np.uint8)
    parts = np.zeros((size, size), np.uint8)
    paint_regions(color, parts, regions, size)
    return color, parts


def region_coverage(regions, size: int) -> np.ndarray:
    """How much of each pixel the regions cover, uint8 [size, size] (255: all of it; anti-aliased as they are
    painted): the regions painted white over black."""
    canvas = np.zeros((size, size, 3), np.uint8)
    paint_regions(canvas, None, [region.recolored((255, 255, 255)) for region in regions], size)
    return canvas[..., 0]


def paint_regions(canvas, parts, regions, size: int):
    """Paint regions onto an RGB canvas and the part map (None: the canvas alone).

    A gradient background's full-width bands are painted on a strip a few pixels wide, then stretched across
    (every row of a band is uniform: the same bytes as painting the full width, for a fraction of the cost).
    Consecutive regions of one colour that do not overlap (the two irises, the shading slivers of a fringe)
    go to OpenCV in one call; detail regions (shading, highlights) leave the part map alone."""
    regions = list(regions)
    bands = 0
    while bands < len(regions) and _is_band(regions[bands]):
        bands += 1
    if bands > 1:  # a gradient (one band, a flat background, is a single fast fill)
        _paint_bands(canvas, regions[:bands], size)
        regions = regions[bands:]
    if not regions:
        return
    counts = [len(r.polygon) for r in regions]
    fixed = split_rows(_to_fixed(np.concatenate([r.polygon for r in regions]), size), counts)
    all_fixed = np.concatenate(fixed)
    first = (np.cumsum(counts) - counts).astype(np.intp)
    lo, hi = np.minimum.reduceat(all_fixed, first).tolist(), np.maximum.reduceat(all_fixed, first).tolist()
    boxes = [(a[0], a[1], b[0], b[1]) for a, b in zip(lo, hi)]
    batch: list[np.ndarray] = []
    batch_boxes: list[tuple] = []
    batch_color: tuple = regions[0].color
    for region, poly, box in zip(regions, fixed, boxes):
        if batch and (region.color != batch_color or any(_overlap(box, other) for other in batch_boxes)):
            cv2.fillPoly(canvas, batch, batch_color, lineType=cv2.LINE_AA, shift=SHIFT)
            batch, batch_boxes = [], []
        batch.append(poly)
        batch_boxes.append(box)
        batch_color = region.color
        if parts is not None and not region.detail:
            cv2.fillPoly(parts, [poly], int(region.label), lineType=cv2.LINE_8, shift=SHIFT)
    cv2.fillPoly(canvas, batch, batch_color, lineType=cv2.LINE_AA, shift=SHIFT)


def _is_band(region):
    """A background band (palette.background_regions): behind everything, a rectangle across the canvas."""
    return region.z < 0 and region.label == 0 and len(region.polygon) == 4


BAND_STRIP = 4  # width of the strip the background bands are painted on


def _paint_bands(canvas, bands, size):
    """The bands' own polygons on the strip: their right edges fall outside it, their left edges and the
    anti-aliased rows where bands meet land on it exactly as on the canvas."""
    strip = np.zeros((size, BAND_STRIP, 3), np.uint8)
    fixed = _to_fixed(np.concatenate([band.polygon for band in bands]).astype(np.float64), size)
    for k, band in enumerate(bands):
        cv2.fillPoly(strip, [fixed[4 * k:4 * k + 4]], band.color, lineType=cv2.LINE_AA, shift=SHIFT)
    cv2.resize(np.ascontiguousarray(strip[:, 1:2]), (size, size), dst=canvas, interpolation=cv2.INTER_NEAREST)


def _overlap(a, b):
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def render(portrait, size: int, keep_fill: bool = False) -> dict:
    """{"color": uint8[S,S,3], "lineart": uint8[S,S] darkness, "parts": uint8[S,S] part labels}.

    The colour image carries its line art in colour-trace inks (palette.line_colors); "lineart" is the same
    strokes as plain darkness, identical to render_lines(portrait.strokes, size). keep_fill adds "fill": the
    flat colours before the lines were inked (render_regions' colour image; a copy, so only when asked)."""
    size = int(size)
    color, parts = render_regions(portrait.regions, size)
    fill = color.copy() if keep_fill else None
    colors = line_colors(portrait.params) if portrait.params is not None else {}  # no params: plain ink
    lineart = ink_over(color, portrait.strokes, size, colors)
    out = {"color": color, "lineart": lineart, "parts": parts}
    if keep_fill:
        out["fill"] = fill
    return out
