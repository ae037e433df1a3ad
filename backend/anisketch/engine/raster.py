"""Strokes and regions -> pixels at any size: colour image, line art (darkness) and part map, pixel-aligned.

Strokes are inked as filled outline polygons (the centre line offset by half the width on each side, so the line
weight varies along the stroke and the ends taper), anti-aliased by OpenCV with 4 bits of sub-pixel precision.
"""

from __future__ import annotations

import cv2
import numpy as np

from anisketch.engine.palette import INK

SHIFT = 4  # sub-pixel bits for cv2.fillPoly
MIN_WIDTH_PX = 0.6  # soft floor on line width: hair-thin tapers stay visible at small sizes


def _to_fixed(points, size):
    """Canvas [0, 1] -> OpenCV fixed-point pixel coordinates (pixel centres at k + 0.5 of the canvas grid)."""
    return np.round((points * size - 0.5) * (1 << SHIFT)).astype(np.int32)


def stroke_outline(points, widths, size, closed=False):
    """Outline polygon(s) of a variable-width stroke, in fixed-point pixels: one polygon for an open stroke,
    an outer and an inner ring for a closed one (filled even-odd, that is a band)."""
    pts = points.astype(np.float64) * size
    w_px = widths.astype(np.float64) * size
    half = 0.5 * np.sqrt(w_px * w_px + MIN_WIDTH_PX * MIN_WIDTH_PX)
    if closed:
        tangent = np.roll(pts, -1, axis=0) - np.roll(pts, 1, axis=0)
    else:
        tangent = np.empty_like(pts)
        tangent[1:-1] = pts[2:] - pts[:-2]
        tangent[0] = pts[1] - pts[0]
        tangent[-1] = pts[-1] - pts[-2]
    length = np.sqrt(np.sum(tangent * tangent, axis=1, keepdims=True))
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) / np.maximum(length, 1e-9)
    left = pts + normal * half[:, None]
    right = pts - normal * half[:, None]
    scale = 1 << SHIFT
    if closed:
        return [np.round((left - 0.5) * scale).astype(np.int32), np.round((right - 0.5) * scale).astype(np.int32)]
    outline = np.vstack([left, right[::-1]])
    return [np.round((outline - 0.5) * scale).astype(np.int32)]


def render_lines(strokes, size: int, colors: dict | None = None) -> np.ndarray:
    """Ink the strokes alone. Darkness uint8[S, S] (255 = full ink); with `colors` (group -> (r, g, b)), an RGBA
    uint8[S, S, 4] image where each group has its own colour and alpha is the ink (rough mode)."""
    size = int(size)
    if colors is None:
        ink = np.zeros((size, size), np.uint8)
        for stroke in strokes:
            cv2.fillPoly(ink, stroke_outline(stroke.points, stroke.widths, size, stroke.closed), 255,
                         lineType=cv2.LINE_AA, shift=SHIFT)
        return ink
    premultiplied = np.zeros((size, size, 4), np.uint8)
    for stroke in strokes:
        r, g, b = colors.get(stroke.group, (0, 0, 0))
        cv2.fillPoly(premultiplied, stroke_outline(stroke.points, stroke.widths, size, stroke.closed),
                     (int(r), int(g), int(b), 255), lineType=cv2.LINE_AA, shift=SHIFT)
    alpha = premultiplied[..., 3:4].astype(np.float32)
    rgb = premultiplied[..., :3].astype(np.float32) * 255.0 / np.maximum(alpha, 1.0)
    return np.concatenate([np.clip(rgb + 0.5, 0, 255).astype(np.uint8), premultiplied[..., 3:4]], axis=2)


def render_regions(regions, size: int):
    """Flat cel colours (anti-aliased) and the part map (hard edges), painted back to front."""
    color = np.zeros((size, size, 3), np.uint8)
    parts = np.zeros((size, size), np.uint8)
    for region in regions:
        poly = [_to_fixed(region.polygon, size)]
        cv2.fillPoly(color, poly, tuple(int(c) for c in region.color), lineType=cv2.LINE_AA, shift=SHIFT)
        cv2.fillPoly(parts, poly, int(region.label), lineType=cv2.LINE_8, shift=SHIFT)
    return color, parts


def composite_ink(color, lineart, ink=INK):
    alpha = lineart.astype(np.float32)[..., None] * (1.0 / 255.0)
    out = color.astype(np.float32) * (1.0 - alpha) + np.asarray(ink, np.float32) * alpha
    return (out + 0.5).astype(np.uint8)


def render(portrait, size: int) -> dict:
    """{"color": uint8[S,S,3], "lineart": uint8[S,S] darkness, "parts": uint8[S,S] part labels}."""
    size = int(size)
    color, parts = render_regions(portrait.regions, size)
    lineart = render_lines(portrait.strokes, size)
    return {"color": composite_ink(color, lineart), "lineart": lineart, "parts": parts}
