"""Curves in face units: Catmull-Rom splines through control points, ellipses, arcs, mirrors and stroke
taper profiles (the shapes every part is drawn with). Pure numpy."""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

# Control points: an [n, 2] array, or a list of (x, y) pairs and rows of arrays.
Points = Union[np.ndarray, Sequence[Any]]


def _catmull_basis(n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    return 0.5 * np.hstack([-t ** 3 + 2 * t ** 2 - t, 3 * t ** 3 - 5 * t ** 2 + 2, -3 * t ** 3 + 4 * t ** 2 + t,
                            t ** 3 - t ** 2])


_BASIS = {n: _catmull_basis(n) for n in (4, 6, 8, 12)}


_CURVE_MATRICES: dict[tuple, np.ndarray] = {}


def _curve_matrix(k: int, n: int, closed: bool, phantoms: bool) -> np.ndarray:
    """The linear map from control points to spline samples, cached: a curve is then one matrix product.

    Open curves take k control points, plus the two phantom end points when `phantoms` (else the natural
    reflections 2 c0 - c1 and 2 c[-1] - c[-2] are folded into the matrix)."""
    key = (k, n, closed, phantoms)
    if key not in _CURVE_MATRICES:
        width = k + 2 if phantoms else k
        ext = np.zeros((k + 3 if closed else k + 2, width))  # extended points as combinations of the inputs
        if closed:
            for row, index in enumerate(np.arange(-1, k + 2) % k):
                ext[row, index] = 1.0
        elif phantoms:
            ext[:, :] = np.eye(k + 2)[[k] + list(range(k)) + [k + 1]]
        else:
            ext[1:-1] = np.eye(k)
            ext[0, 0], ext[0, 1] = 2.0, -1.0
            ext[-1, -1], ext[-1, -2] = 2.0, -1.0
        segments = len(ext) - 3
        rows = [_BASIS[n] @ ext[s:s + 4] for s in range(segments)]
        if not closed:
            rows.append(ext[-2:-1])  # the last control point itself
        _CURVE_MATRICES[key] = np.vstack(rows)
    return _CURVE_MATRICES[key]


def curve(ctrl: Points, n: int = 8, closed: bool = False, start: ArrayLike | None = None,
          end: ArrayLike | None = None) -> np.ndarray:
    """A Catmull-Rom spline through the control points, n samples per segment. `start`/`end` are phantom points
    that set the end tangents (default: reflections, i.e. natural ends)."""
    c = np.array(ctrl, dtype=np.float64)
    if closed or (start is None and end is None):
        return _curve_matrix(len(c), n, closed, False) @ c
    head = 2 * c[0] - c[1] if start is None else np.asarray(start, np.float64)
    tail = 2 * c[-1] - c[-2] if end is None else np.asarray(end, np.float64)
    return _curve_matrix(len(c), n, False, True) @ np.vstack([c, head, tail])


_TRIG: dict[int, np.ndarray] = {}


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40, angle: float = 0.0) -> np.ndarray:
    """A closed ellipse polygon (n points, no repeat), rotated by `angle`."""
    if n not in _TRIG:
        t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        _TRIG[n] = np.stack([np.cos(t), np.sin(t)], axis=1)
    pts = _TRIG[n] * (rx, ry)
    if angle:
        ca, sa = np.cos(angle), np.sin(angle)
        pts = pts @ np.array([[ca, sa], [-sa, ca]])
    return pts + (cx, cy)


_BEZIER: dict[int, tuple] = {}


def quad_curves(a: np.ndarray, mid: np.ndarray, b: np.ndarray, n: int = 10) -> np.ndarray:
    """Many smooth three-point curves at once: a quadratic Bezier from a to b through mid, for [E, 2] inputs.
    Returns [E, n, 2]."""
    if n not in _BEZIER:
        t = np.linspace(0.0, 1.0, n)[None, :, None]
        _BEZIER[n] = ((1 - t) ** 2, 2 * t * (1 - t), t * t)
    wa, wc, wb = _BEZIER[n]
    control = 2.0 * mid - 0.5 * (a + b)
    return wa * a[:, None] + wc * control[:, None] + wb * b[:, None]


_ARCS: dict[tuple, np.ndarray] = {}


def unit_arc(n: int, start: float, stop: float) -> np.ndarray:
    """(cos t, sin t) for n angles from start to stop, cached."""
    key = (n, start, stop)
    if key not in _ARCS:
        t = np.linspace(start, stop, n)
        _ARCS[key] = np.stack([np.cos(t), np.sin(t)], axis=1)
    return _ARCS[key]


def rotate(pts: np.ndarray, angle: float) -> np.ndarray:
    """Points turned by `angle` radians about the origin."""
    ca, sa = np.cos(angle), np.sin(angle)
    return pts @ np.array([[ca, sa], [-sa, ca]])


# numpy 2.4 reduces across the rows of a narrow [N, 2] array 10-15x slower than it reduces each column on its own
# (99 against 6 us at 3,000 points): the hot paths use these instead, for the same values.
def column_min(points: np.ndarray) -> np.ndarray:
    """points.min(axis=0) of an [N, k] array, column by column."""
    return np.array([points[:, j].min() for j in range(points.shape[1])], points.dtype)


def column_max(points: np.ndarray) -> np.ndarray:
    """points.max(axis=0) of an [N, k] array, column by column."""
    return np.array([points[:, j].max() for j in range(points.shape[1])], points.dtype)


def row_lengths(vectors: np.ndarray) -> np.ndarray:
    """np.sqrt((vectors ** 2).sum(axis=1)) of an [N, 2] array: the same sum, x * x + y * y, column by column."""
    x, y = vectors[:, 0], vectors[:, 1]
    return np.sqrt(x * x + y * y)


def split_rows(array: np.ndarray, counts: Sequence[int] | np.ndarray) -> list[np.ndarray]:
    """Consecutive row blocks of the given lengths, as views (np.split, without its per-piece overhead)."""
    ends = np.cumsum(counts).tolist()
    return [array[a:b] for a, b in zip([0] + ends[:-1], ends)]


def mirror(pts: ArrayLike) -> np.ndarray:
    return np.asarray(pts, np.float64) * (-1.0, 1.0)


SOLID = (0.0, 0.0, 1.0)  # a stroke of even weight


def _unit(x: np.ndarray) -> np.ndarray:
    """np.clip(x, 0, 1), without np.clip's Python wrappers (a few microseconds a call, called per portrait)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def taper_profile(t: np.ndarray, start: np.ndarray, end: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Pen pressure along a stroke at arc-length fraction t: swells in from `floor` over the first `start` of
    its length and out over the last `end`, like an inked line. Arguments broadcast (one row per point)."""
    rise = np.where(start > 0, _unit(t / np.maximum(start, 1e-9)), 1.0)
    fall = np.where(end > 0, _unit((1.0 - t) / np.maximum(end, 1e-9)), 1.0)
    k = np.minimum(rise, fall)
    return floor + (1.0 - floor) * k * k * (3.0 - 2.0 * k)
