"""Strokes and regions -> pixels at any size: colour image, line art (darkness) and part map, pixel-aligned.

Strokes are inked as filled outline polygons (the centre line offset by half the width on each side, so the line
weight varies along the stroke and the ends taper), anti-aliased by OpenCV with 4 bits of sub-pixel precision.

Rows of vertex arrays are picked with np.take / np.compress: numpy 2.4's fancy indexing of [N, 2] arrays is
10-15x slower, for the same values.
"""

from __future__ import annotations

import cv2
import numpy as np

from anisketch.engine.geometry import split_rows
from anisketch.engine.palette import INK, line_colors

SHIFT = 4  # sub-pixel bits for cv2.fillPoly
MIN_WIDTH_PX = 0.6  # soft floor on line width: hair-thin tapers stay visible at small sizes
MIN_SPACING_PX = 1.9  # outline vertices closer than this are thinned out (small sizes)


def _thin(pts, w_px, counts):
    """Drop outline vertices closer than MIN_SPACING_PX along each stroke (small images): a point is kept when
    it starts a new MIN_SPACING_PX stretch of arc length, and every stroke keeps its first and last points.
    A chord of 2 px on a curve of radius 10 px strays 0.05 px from it: invisible, and far fewer vertices."""
    step = np.diff(pts, axis=0)
    seg = np.hypot(step[:, 0], step[:, 1])
    starts = np.cumsum(counts) - counts
    if _median(seg) * 1.5 >= MIN_SPACING_PX:
        return pts, w_px, counts
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    arc -= np.repeat(arc[starts], counts)  # arc length within each stroke
    bucket = np.floor(arc / MIN_SPACING_PX)
    keep = np.empty(len(pts), bool)
    keep[1:] = bucket[1:] != bucket[:-1]
    keep[starts] = True
    keep[starts + counts - 1] = True
    return np.compress(keep, pts, axis=0), w_px[keep], np.add.reduceat(keep.astype(np.int64), starts)


def _median(values):
    """np.median of a 1-D float array, bit for bit (the mean of the two middle values for an even count),
    from a partial sort: about 3x faster than np.median on the few thousand outline segments."""
    n = len(values)
    half = n // 2
    if n % 2:
        return np.partition(values, half)[half]
    middle = np.partition(values, (half - 1, half))
    return (middle[half - 1] + middle[half]) / 2


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
    pts, w_px, counts = _thin(pts, w_px, counts)
    starts = np.cumsum(counts) - counts
    ends = starts + counts - 1
    half = 0.5 * np.sqrt(w_px * w_px + MIN_WIDTH_PX * MIN_WIDTH_PX)
    tangent = np.empty_like(pts)
    tangent[1:-1] = pts[2:] - pts[:-2]
    tangent[starts] = pts[starts + 1] - pts[starts]
    tangent[ends] = pts[ends] - pts[ends - 1]
    closed = np.array([s.closed for s in strokes])
    tangent[starts[closed]] = pts[starts[closed] + 1] - pts[ends[closed]]
    tangent[ends[closed]] = pts[starts[closed]] - pts[ends[closed] - 1]
    length = np.hypot(tangent[:, 0], tangent[:, 1])
    offset = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) * (half / np.maximum(length, 1e-9))[:, None]
    scale = 1 << SHIFT
    left = ((pts + offset - 0.5) * scale + 0.5).astype(np.int32)
    right = ((pts - offset - 0.5) * scale + 0.5).astype(np.int32)
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
    polygons = np.take(sides, np.where(on_right, len(pts) + a + right_row, a + k), axis=0)
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
    alpha = premultiplied[..., 3:4].astype(np.float32)
    rgb = premultiplied[..., :3].astype(np.float32) * 255.0 / np.maximum(alpha, 1.0)
    return np.concatenate([np.clip(rgb + 0.5, 0, 255).astype(np.uint8), premultiplied[..., 3:4]], axis=2)


def ink_over(color, strokes, size, colors):
    """Ink the strokes straight onto a colour image (in place), each group in its colour: OpenCV's anti-aliased
    fill blends each stroke over what lies beneath, so this is the colour image's line art, composited.
    Returns the darkness image of the same strokes, drawn from the same outlines."""
    darkness = np.zeros((size, size), np.uint8)
    for stroke, polygons in stroke_outlines(strokes, size):
        cv2.fillPoly(darkness, polygons, 255, lineType=cv2.LINE_AA, shift=SHIFT)
        cv2.fillPoly(color, polygons, colors.get(stroke.group, INK), lineType=cv2.LINE_AA, shift=SHIFT)
    return darkness


def render_regions(regions, size: int):
    """Flat cel colours (anti-aliased) and the part map (hard edges), painted back to front.

    Consecutive regions of one colour that do not overlap (the two irises, the shading slivers of a fringe)
    go to OpenCV in one call; detail regions (shading, highlights) leave the part map alone."""
    color = np.zeros((size, size, 3), np.uint8)
    parts = np.zeros((size, size), np.uint8)
    if not regions:
        return color, parts
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
            cv2.fillPoly(color, batch, batch_color, lineType=cv2.LINE_AA, shift=SHIFT)
            batch, batch_boxes = [], []
        batch.append(poly)
        batch_boxes.append(box)
        batch_color = region.color
        if not region.detail:
            cv2.fillPoly(parts, [poly], int(region.label), lineType=cv2.LINE_8, shift=SHIFT)
    cv2.fillPoly(color, batch, batch_color, lineType=cv2.LINE_AA, shift=SHIFT)
    return color, parts


def _overlap(a, b):
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def render(portrait, size: int) -> dict:
    """{"color": uint8[S,S,3], "lineart": uint8[S,S] darkness, "parts": uint8[S,S] part labels}.

    The colour image carries its line art in colour-trace inks (palette.line_colors); "lineart" is the same
    strokes as plain darkness, identical to render_lines(portrait.strokes, size)."""
    size = int(size)
    color, parts = render_regions(portrait.regions, size)
    colors = line_colors(portrait.params) if portrait.params is not None else {}  # no params: plain ink
    lineart = ink_over(color, portrait.strokes, size, colors)
    return {"color": color, "lineart": lineart, "parts": parts}
