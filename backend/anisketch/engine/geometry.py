"""Params -> strokes and regions: the anime portrait as vector data, in normalised canvas coordinates.

Every part is built in *face units* (the face's half-width is 1, the cranium circle is centred at the origin,
y down; eyes near y = 0.25, chin near y = 1.45), then placed on the canvas by the pose: a gentle yaw warp (the
face turns: features slide, the far side narrows), roll, scale and translation.

Occlusion is honest and geometric: each stroke and each opaque region has a depth `z`; the parts of a stroke that
lie under a deeper-in-front region (bangs over the brows, side locks over the cheek contour, the chin over the
neck lines) are cut away here, so the strokes are exactly the visible line art. An artist sketching the face draws
those same visible lines. The cut is made on a fixed 512 x 512 depth map (size-free strokes), each cut end moved
halfway to the first hidden point, under the occluder's own outline. Which groups may hide which (all else is
independent): front hair hides face (contour, ears) and brows; face, neck and clothes hide back hair; hats and
ribbons hide hair. The eyes show through the fringe, as anime draws them.

Speed: parts only describe shapes; `_Builder.finish` places, resamples, depth-tests and cuts every stroke of the
portrait in one batch of numpy operations.
Rows of 2-D arrays are picked with np.take / np.compress (numpy 2.4's fancy indexing of [N, 2] arrays is
10-15x slower, for the same values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from anisketch.engine import palette
from anisketch.engine.params import LABEL, Params

# The order an artist draws the parts in (Stroke.order sorts by stage first, then by creation).
STAGES = ("contour", "ears", "neck", "clothes", "eyes", "brows", "nose", "mouth", "blush",
          "hair_back", "hair_front", "accessories")

# Depths (front is larger). Strokes on a region's outline carry that region's depth.
Z_TAIL_BACK, Z_BACK_HAIR, Z_TAILS, Z_NECK, Z_CLOTHES, Z_EARS, Z_FACE, Z_FEATURES = 0.5, 1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 5.0
Z_FRONT_HAIR, Z_HAT, Z_RIBBON, Z_GLASSES = 6.0, 7.0, 8.0, 9.0
# Eyes show through the fringe, as anime draws them: a long lock never hides the lash line.
Z_EYES = 6.5

ANCHOR_Y = 0.3  # the face point that sits at the pose's (cx, cy)
OCCLUSION_RES = 512  # resolution of the depth map used to cut hidden strokes (fixed: strokes are size-free)
STEP = 0.004  # stroke points are resampled to this spacing (canvas units)


@dataclass(slots=True)  # (slots: a portrait makes ~80 strokes and ~55 regions, a sketch ~100 strokes)
class Stroke:
    points: np.ndarray  # float32[N, 2], canvas coordinates
    widths: np.ndarray  # float32[N], fractions of the canvas side
    group: str
    order: int
    closed: bool = False


@dataclass(slots=True)
class Region:
    polygon: np.ndarray  # float32[M, 2]
    label: int  # index into PART_LABELS
    color: tuple  # (r, g, b) uint8
    z: float
    detail: bool = False  # shading or highlight inside a region of the same label: the part map skips it


@dataclass
class Portrait:
    strokes: list
    regions: list
    params: Params = field(repr=False)


# ----------------------------------------------------------------------------------------------------------------
# Curves

def _catmull_basis(n):
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    return 0.5 * np.hstack([-t ** 3 + 2 * t ** 2 - t, 3 * t ** 3 - 5 * t ** 2 + 2, -3 * t ** 3 + 4 * t ** 2 + t,
                            t ** 3 - t ** 2])


_BASIS = {n: _catmull_basis(n) for n in (4, 6, 8, 12)}


_CURVE_MATRICES: dict[tuple, np.ndarray] = {}


def _curve_matrix(k, n, closed, phantoms):
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


def curve(ctrl, n=8, closed=False, start=None, end=None):
    """A Catmull-Rom spline through the control points, n samples per segment. `start`/`end` are phantom points
    that set the end tangents (default: reflections, i.e. natural ends)."""
    c = np.array(ctrl, dtype=np.float64)
    if closed or (start is None and end is None):
        return _curve_matrix(len(c), n, closed, False) @ c
    head = 2 * c[0] - c[1] if start is None else np.asarray(start, np.float64)
    tail = 2 * c[-1] - c[-2] if end is None else np.asarray(end, np.float64)
    return _curve_matrix(len(c), n, False, True) @ np.vstack([c, head, tail])


_TRIG: dict[int, np.ndarray] = {}


def ellipse(cx, cy, rx, ry, n=40, angle=0.0):
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


def quad_curves(a, mid, b, n=10):
    """Many smooth three-point curves at once: a quadratic Bezier from a to b through mid, for [E, 2] inputs.
    Returns [E, n, 2]."""
    if n not in _BEZIER:
        t = np.linspace(0.0, 1.0, n)[None, :, None]
        _BEZIER[n] = ((1 - t) ** 2, 2 * t * (1 - t), t * t)
    wa, wc, wb = _BEZIER[n]
    control = 2.0 * mid - 0.5 * (a + b)
    return wa * a[:, None] + wc * control[:, None] + wb * b[:, None]


_ARCS: dict[tuple, np.ndarray] = {}


def _arc(n, start, stop):
    """(cos t, sin t) for n angles from start to stop, cached."""
    key = (n, start, stop)
    if key not in _ARCS:
        t = np.linspace(start, stop, n)
        _ARCS[key] = np.stack([np.cos(t), np.sin(t)], axis=1)
    return _ARCS[key]


def split_rows(array, counts):
    """Consecutive row blocks of the given lengths, as views (np.split, without its per-piece overhead)."""
    ends = np.cumsum(counts).tolist()
    return [array[a:b] for a, b in zip([0] + ends[:-1], ends)]


def mirror(pts):
    return np.asarray(pts, np.float64) * (-1.0, 1.0)


SOLID = (0.0, 0.0, 1.0)  # a stroke of even weight


def _unit(x):
    """np.clip(x, 0, 1), without np.clip's Python wrappers (a few microseconds a call, called per portrait)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def taper_profile(t, start, end, floor):
    """Pen pressure along a stroke at arc-length fraction t: swells in from `floor` over the first `start` of
    its length and out over the last `end`, like an inked line. Arguments broadcast (one row per point)."""
    rise = np.where(start > 0, _unit(t / np.maximum(start, 1e-9)), 1.0)
    fall = np.where(end > 0, _unit((1.0 - t) / np.maximum(end, 1e-9)), 1.0)
    k = np.minimum(rise, fall)
    return floor + (1.0 - floor) * k * k * (3.0 - 2.0 * k)


# ----------------------------------------------------------------------------------------------------------------
# The builder: collects strokes and regions in face units, then places, resamples and cuts them all at once
# (one batch of numpy operations for the whole portrait, rather than a few dozen per stroke).

@dataclass(slots=True)
class _Line:
    pts: np.ndarray
    width: float
    group: str
    stage: str
    z: float
    taper: tuple
    closed: bool
    depth: float


class _Builder:
    def __init__(self, p: Params):
        self.p = p
        self.scale = p["scale"]
        self.yaw = 0.2 * p["yaw"]
        ca, sa = np.cos(p["roll"]), np.sin(p["roll"])
        self.rot_t = (np.array([[ca, -sa], [sa, ca]]) * self.scale).T
        self.offset = np.array([p["cx"], p["cy"]])
        self.width_unit = self.scale / 0.21  # line weights follow the face size
        self.lines: list[_Line] = []
        self.local_regions: list[tuple] = []  # (points, label, color, z, occludes, depth, detail)
        self.canvas_regions: list[tuple] = []  # already in canvas coordinates (the background)

    def place(self, pts, depth):
        """Face units -> canvas. The yaw warp slides the face centre sideways and narrows the far side; points
        that stand out of the face (depth > 0: the nose) slide further."""
        x = pts[:, 0]
        xc = np.minimum(np.maximum(x, -1.3), 1.3)
        warped = np.empty_like(pts)
        warped[:, 0] = x + self.yaw * (1.0 - xc * xc + depth)
        warped[:, 1] = pts[:, 1] - ANCHOR_Y
        out = warped @ self.rot_t
        out[:, 0] += self.offset[0]  # (column by column: numpy 2.4 broadcasts [N, 2] + [2] slowly)
        out[:, 1] += self.offset[1]
        return out

    def line(self, pts, width, group, stage, z, taper=(0.15, 0.15, 0.2), closed=False, depth=0.0):
        self.lines.append(_Line(pts, width, group, stage, z, taper, closed, depth))

    def region(self, pts, label, color, z, occludes=True, depth=0.0):
        self.local_regions.append((pts, LABEL[label], color, z, occludes, depth, False))

    def detail(self, pts, label, color, z, depth=0.0):
        """Shading or a highlight painted inside a region of the same label (hides nothing, labels nothing)."""
        self.local_regions.append((pts, LABEL[label], color, z, False, depth, True))

    def finish(self):
        regions, occluders = self._place_regions()
        return self._visible_strokes(occluders), regions

    def _place_regions(self):
        """All regions on the canvas (one placement for all), back to front; and the occluders among them."""
        items = [(poly, label, color, z, False, 0.0, False) for poly, label, color, z in self.canvas_regions]
        items += self.local_regions
        counts = [len(item[0]) for item in items]
        n_canvas = sum(counts[:len(self.canvas_regions)])
        local = np.concatenate([item[0] for item in self.local_regions])
        placed = self.place(local, np.repeat([r[5] for r in self.local_regions], counts[len(self.canvas_regions):]))
        every = np.concatenate([np.concatenate([item[0] for item in self.canvas_regions]), placed]) if n_canvas \
            else placed
        polygons = split_rows(every, counts)
        polygons32 = split_rows(every.astype(np.float32), counts)
        regions, occluders = [], []
        for poly, poly32, (_, label, color, z, occludes, _, detail) in zip(polygons, polygons32, items):
            regions.append(Region(poly32, label, color, float(z), detail))
            if occludes:
                occluders.append((poly, z))
        regions.sort(key=lambda r: r.z)
        return regions, occluders

    def _depth_map(self, occluders, lowest_line_z):
        """The depth (z * 10) of the front-most occluder at each cell. An occluder no deeper than the lowest
        stroke hides nothing, and what it would paint is overwritten or hides nothing either: left out."""
        zmap = np.zeros((OCCLUSION_RES, OCCLUSION_RES), np.uint8)
        occluders = sorted([(poly, int(round(z * 10))) for poly, z in occluders if int(round(z * 10)) > lowest_line_z],
                           key=lambda o: o[1])
        if not occluders:
            return zmap
        fixed = (np.concatenate([poly for poly, _ in occluders]) * (OCCLUSION_RES * 16)).astype(np.int32)
        for (_, z), poly in zip(occluders, split_rows(fixed, [len(poly) for poly, _ in occluders])):
            cv2.fillPoly(zmap, [poly], z, lineType=cv2.LINE_8, shift=4)
        return zmap

    def _visible_strokes(self, occluders):
        rank = {name: i for i, name in enumerate(STAGES)}
        lines = [line for _, line in sorted(enumerate(self.lines), key=lambda il: (rank[il[1].stage], il[0]))]
        pts, widths, counts = _resample_all(self, lines)
        line_z = [int(round(line.z * 10)) for line in lines]
        zmap = self._depth_map(occluders, min(line_z))
        ij = np.clip((pts * OCCLUSION_RES).astype(np.int64), 0, OCCLUSION_RES - 1)
        z_line = np.repeat(line_z, counts)
        visible = np.take(zmap, ij[:, 1] * OCCLUSION_RES + ij[:, 0]) <= z_line  # zmap[y, x], as a flat gather
        return _cut_hidden(lines, pts, widths, counts, visible)


def _cut_hidden(lines, pts, widths, counts, visible):
    """Strokes made of the visible runs of each line. A cut end moves halfway to the first hidden point, so
    that it meets the occluder's outline."""
    starts = np.cumsum(counts) - counts
    ends = starts + counts
    v = visible.astype(np.int8)
    prev = np.concatenate([[0], v[:-1]])
    prev[starts] = 0
    nxt = np.concatenate([v[1:], [0]])
    nxt[ends - 1] = 0
    run_starts = np.flatnonzero((v == 1) & (prev == 0))
    run_ends = np.flatnonzero((v == 1) & (nxt == 0)) + 1
    owner = np.searchsorted(starts, run_starts, side="right") - 1
    pts32, widths32 = pts.astype(np.float32), widths.astype(np.float32)
    midpoints = 0.5 * (pts32[:-1] + pts32[1:])
    start_list, end_list = starts.tolist(), ends.tolist()
    strokes, done_closed = [], set()
    add = strokes.append
    for a, b, k in zip(run_starts.tolist(), run_ends.tolist(), owner.tolist()):
        line, s0, s1 = lines[k], start_list[k], end_list[k]
        if a == s0 and b == s1:
            add(Stroke(pts32[a:b], widths32[a:b], line.group, len(strokes), line.closed))
        elif line.closed:  # partly hidden loops are rare: cut them on their own (their runs may wrap around)
            if k not in done_closed:
                done_closed.add(k)
                for run_pts, run_w in _visible_runs(pts[s0:s1], widths[s0:s1], visible[s0:s1], True):
                    add(Stroke(run_pts.astype(np.float32), run_w.astype(np.float32), line.group, len(strokes),
                               False))
        else:
            lo, hi = (a - 1 if a > s0 else a), (b + 1 if b < s1 else b)
            if hi - lo < 2:
                continue
            run_pts = pts32[lo:hi].copy()
            if lo < a:
                run_pts[0] = midpoints[lo]
            if hi > b:
                run_pts[-1] = midpoints[hi - 2]
            add(Stroke(run_pts, widths32[lo:hi].copy(), line.group, len(strokes), False))
    return strokes


def _resample_all(b, lines, step=STEP, gap=1.0):
    """Place every line on the canvas and resample it to even arc-length spacing, all strokes at once.

    The strokes are laid end to end on one arc-length axis, with a `gap` between them so that one np.interp
    call resamples all of them without mixing neighbours. Returns (points, widths, counts)."""
    local = [np.concatenate([line.pts, line.pts[:1]]) if line.closed else line.pts for line in lines]
    counts = np.array([len(p) for p in local])
    starts = np.cumsum(counts) - counts
    pts = b.place(np.concatenate(local), np.repeat([line.depth for line in lines], counts))
    step_xy = np.diff(pts, axis=0)
    seg = np.hypot(step_xy[:, 0], step_xy[:, 1])
    seg[starts[1:] - 1] = 0.0
    length = np.add.reduceat(seg, starts)
    seg[starts[1:] - 1] = gap
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    m = np.maximum(np.ceil(length / step).astype(np.int64), 1) + 1
    first = np.cumsum(m) - m
    t = (np.arange(m.sum()) - np.repeat(first, m)) / np.repeat(m - 1, m)
    target = np.repeat(arc[starts], m) + t * np.repeat(length, m)
    out = np.stack([np.interp(target, arc, pts[:, 0]), np.interp(target, arc, pts[:, 1])], axis=1)
    tapers = np.array([line.taper for line in lines], np.float64)
    base = np.array([line.width for line in lines]) * b.width_unit
    widths = np.repeat(base, m) * taper_profile(t, *(np.repeat(tapers[:, k], m) for k in range(3)))
    closed = np.array([line.closed for line in lines])
    if closed.any():  # a closed loop's last sample repeats its first
        keep = np.ones(len(t), bool)
        keep[(first + m - 1)[closed]] = False
        out, widths, m = np.compress(keep, out, axis=0), widths[keep], m - closed
    return out, widths, m


def _visible_runs(pts, widths, visible, closed):
    """Split a stroke into its visible runs; each cut end moves halfway to the first hidden point."""
    if closed:  # rotate so that the stroke starts on a hidden point, then treat it as open
        k = int(np.argmin(visible))
        pts, widths, visible = (np.concatenate((a[k:], a[:k])) for a in (pts, widths, visible))  # np.roll
    edges = np.flatnonzero(np.diff(np.concatenate(([0], visible.astype(np.int8), [0])))).tolist()
    runs = []
    for start, stop in zip(edges[::2], edges[1::2]):
        a, b = max(start - 1, 0), min(stop + 1, len(pts))
        if b - a < 2:
            continue
        run_pts, run_w = pts[a:b].copy(), widths[a:b].copy()
        if a < start:
            run_pts[0] = 0.5 * (run_pts[0] + run_pts[1])
        if b > stop:
            run_pts[-1] = 0.5 * (run_pts[-1] + run_pts[-2])
        runs.append((run_pts, run_w))
    return runs


# ----------------------------------------------------------------------------------------------------------------
# Face: contour, ears, neck, shoulders, clothes, blush

def face_contour_half(p):
    """The left half of the contour, temple to chin (face units): cheek, a soft jaw, then the chin, pointed or
    rounded."""
    r = p["chin_round"]
    chin = np.array([0.0, p["chin_y"]])
    jaw = np.array([-p["jaw_x"], p["jaw_y"]])
    # the flank sits on the jaw-chin line, pushed out a little: a rounder chin has a fuller flank
    flank = jaw + (chin - jaw) * 0.62 + np.array([-0.04 - 0.05 * r, 0.02 + 0.02 * r])
    ctrl = [(-0.99, -0.3), (-p["cheek_w"], p["cheek_y"]), jaw, flank, chin]
    # Pointed chin: the tangent at the chin continues the flank; rounded: it turns horizontal.
    pointed_end = chin + (chin - flank)
    rounded_end = flank * (-1.0, 1.0)
    return curve(ctrl, n=8, end=(1 - r) * pointed_end + r * rounded_end)


def build_face(b: _Builder, pal):
    p = b.p
    half = face_contour_half(p)
    right = mirror(half)[::-1]
    cranium = curve([(0.99, -0.3), (0.8, -0.85), (0.0, -1.08), (-0.8, -0.85), (-0.99, -0.3)], n=6)
    skin_poly = np.concatenate([half, right[1:], cranium[1:-1]])
    b.region(skin_poly, "skin", pal["skin"], Z_FACE)
    for side in (half, mirror(half)):
        b.line(side, 0.0042, "face", "contour", Z_FACE, (0.25, 0.06, 0.15))

    build_ears(b, pal)
    build_neck_and_clothes(b, pal, half)
    if p["blush"]:
        build_blush(b, pal)
    return half


def build_ears(b, pal):
    p = b.p
    top, size = p["ear_y"], p["ear_size"]
    for s in (-1.0, 1.0):
        outer = curve([(0.96, top), (1.1, top - 0.03), (1.17, top + 0.12 * size / 0.4),
                       (1.1, top + 0.6 * size), (0.94, top + size)], n=6) * (s, 1.0)
        inner = curve([(1.03, top + 0.1), (1.09, top + 0.2), (1.02, top + 0.35 * size / 0.4)], n=6) * (s, 1.0)
        poly = np.concatenate([outer, [(0.85 * s, top + size), (0.85 * s, top)]])
        b.region(poly, "ears", pal["skin"], Z_EARS)
        b.line(outer, 0.0036, "face", "ears", Z_EARS, (0.2, 0.3, 0.2))
        b.line(inner, 0.0022, "face", "ears", Z_EARS, (0.3, 0.4, 0.1))


def build_neck_and_clothes(b, pal, half):
    p = b.p
    nw = p["neck_w"]
    collar_y = 1.1 + p["neck_len"]
    sw, drop = p["shoulder_w"], p["shoulder_drop"]
    bottom = 4.5
    # the skin silhouette: neck sides flowing into the shoulders; the clothes cover the lower part
    shoulder = curve([(nw * 1.12, collar_y - 0.02), (nw + 0.45, collar_y + 0.2 + 0.25 * drop),
                      (sw * 0.8, collar_y + 0.45 + 0.6 * drop), (sw, collar_y + 0.95 + drop)], n=8)
    side = np.concatenate([curve([(nw, 0.9), (nw * 1.02, collar_y - 0.3)], n=4)[:-1],
                      curve([(nw * 1.02, collar_y - 0.3), (nw * 1.12, collar_y - 0.02), shoulder[8]], n=6)[:-1],
                      shoulder[8:]])
    for s in (-1.0, 1.0):
        b.line(side * (s, 1.0), 0.0036, "face", "neck", Z_NECK, (0.0, 0.1, 0.3))
    body = np.concatenate([[(-nw, 0.8), (nw, 0.8)], side, [(sw * 1.3, bottom), (-sw * 1.3, bottom)],
                      mirror(side)[::-1]])
    b.region(body, "neck", pal["skin"], Z_NECK)
    # neck shadow under the chin, clamped to the neck
    chin_part = half[half[:, 0] > -nw * 1.2]
    chin_part = np.concatenate([chin_part, mirror(chin_part)[::-1]])
    shadow = np.concatenate([chin_part, (chin_part + (0.0, 0.16 + 0.1 * (p["chin_y"] - 1.3)))[::-1]])
    shadow[:, 0] = np.clip(shadow[:, 0], -nw * 1.1, nw * 1.1)
    b.detail(shadow, "neck", pal["skin_shadow"], Z_NECK + 0.1)
    build_clothes(b, pal, shoulder, bottom)


def build_clothes(b, pal, shoulder, bottom):
    """Clothes lie a hair above the skin's shoulder line (so it hides that line), with a neckline and collar."""
    p = b.p
    nw = p["neck_w"]
    style = p.option("clothes")
    sw = shoulder[-1, 0]
    x0 = nw * (1.75 if style == "round" else 1.45)

    def on_shoulder(x):
        return np.interp(x, shoulder[:, 0], shoulder[:, 1]) - 0.05

    y0 = float(on_shoulder(x0))
    xs = np.linspace(x0, sw + 0.1, 7)
    cloth = np.concatenate([curve(np.stack([xs, on_shoulder(xs)], axis=1), n=4), [(sw * 1.32, bottom)]])  # + the arm
    if style == "round":
        neckline = curve([(-x0, y0), (0.0, y0 + 0.5), (x0, y0)], n=12)
    else:
        neckline = np.array([(-x0, y0), (0.0, y0 + 0.8), (x0, y0)])
    poly = np.concatenate([neckline, cloth, mirror(cloth)[::-1]])
    b.region(poly, "clothes", pal["clothes"], Z_CLOTHES)
    if style != "sailor":  # a sailor collar's flaps draw the neckline themselves
        b.line(neckline, 0.0034, "face", "clothes", Z_CLOTHES, (0.05, 0.05, 0.5))
    for s in (-1.0, 1.0):
        b.line(cloth * (s, 1.0), 0.0036, "face", "clothes", Z_CLOTHES, (0.1, 0.0, 0.4))
    if style == "sailor":
        for s in (-1.0, 1.0):
            flap = np.array([(x0, y0), (x0 + 0.8, on_shoulder(x0 + 0.8) + 0.05), (0.4, y0 + 1.25),
                             (0.0, y0 + 0.8)]) * (s, 1.0)
            b.region(flap, "clothes", pal["collar"], Z_CLOTHES + 0.1)
            b.line(flap, 0.0034, "face", "clothes", Z_CLOTHES + 0.1, SOLID, closed=True)
            stripe = np.array([(x0 + 0.66, on_shoulder(x0 + 0.66) + 0.13), (0.34, y0 + 1.1)]) * (s, 1.0)
            b.line(stripe, 0.0022, "face", "clothes", Z_CLOTHES + 0.1, SOLID)
        tie = np.array([(0.0, y0 + 0.85), (0.28, y0 + 1.1), (0.12, y0 + 1.55), (0.0, y0 + 1.25),
                        (-0.12, y0 + 1.55), (-0.28, y0 + 1.1)])
        b.region(tie, "clothes", pal["accent"], Z_CLOTHES + 0.2)
        b.line(tie, 0.003, "face", "clothes", Z_CLOTHES + 0.2, SOLID, closed=True)
    elif style == "shirt":
        for s in (-1.0, 1.0):
            flap = np.array([(nw * 1.1, y0 - 0.15), (x0 + 0.2, y0 + 0.15), (0.3, y0 + 0.7),
                             (0.0, y0 + 0.8)]) * (s, 1.0)
            b.region(flap, "clothes", pal["collar"], Z_CLOTHES + 0.1)
            b.line(flap, 0.0032, "face", "clothes", Z_CLOTHES + 0.1, (0.05, 0.05, 0.5))


def build_blush(b, pal):
    p = b.p
    size = 0.9 + 0.3 * p["blush_size"]
    for s in (-1.0, 1.0):
        cx, cy = 0.6 * s, 0.68
        b.detail(ellipse(cx, cy, 0.2 * size, 0.085 * size, n=24), "skin", pal["blush"], Z_FACE + 0.2)
        for k in range(3):
            x0 = cx + (k - 1) * 0.075 * size
            hatch = np.array([(x0 + 0.03, cy - 0.055), (x0 - 0.03, cy + 0.055)])
            b.line(hatch, 0.0022, "face", "blush", Z_FACE + 0.2, (0.0, 1.0, 0.3))


# ----------------------------------------------------------------------------------------------------------------
# Eyes

def eye_shape(p):
    """The right-hand eye (outer corner at +x), eye-centred, before tilt: (upper lid, lower edge, lower lid line,
    wing). The upper lid rises steeply from the inner corner and runs flatter to the outer corner; the wing
    continues it past the outer corner, as anime lash lines do."""
    w, h = p["eye_w"], p["eye_h"]
    peak_x = (p["lid_peak"] - 0.5) * 0.3 * w - 0.05 * w
    flat = p["lid_flat"]
    inner, outer = (-0.5 * w, 0.12 * h), (0.5 * w, (-0.02 + 0.06 * flat) * h)
    upper = curve([inner, (-0.36 * w, -0.3 * h), (peak_x, -0.5 * h), (0.3 * w, (-0.42 + 0.1 * flat) * h), outer],
                  n=8)
    lower_edge = curve([outer, (0.36 * w, 0.34 * h), (0.02 * w, 0.5 * h), (-0.34 * w, 0.4 * h), inner], n=8)
    wing = curve([(0.3 * w, (-0.42 + 0.1 * flat) * h), outer, (0.6 * w, (0.1 + 0.06 * flat) * h)], n=6)[4:]
    n = len(lower_edge)
    a = int(0.12 * n)
    lower_lid = lower_edge[a: max(int((0.12 + 0.5 * p["lower_lid"]) * n), a + 3)]
    return upper, lower_edge, lower_lid, wing


def _clamp_into(poly, top, bottom):
    """Clamp a shape vertically between two lid curves: an exact clip for the iris. Returns (points, clamped)."""
    ot, ob = np.argsort(top[:, 0]), np.argsort(bottom[:, 0])
    x = np.clip(poly[:, 0], top[ot[0], 0], top[ot[-1], 0])
    y_top = np.interp(x, top[ot, 0], top[ot, 1])
    y_bot = np.interp(x, bottom[ob, 0], bottom[ob, 1])
    y = np.minimum(np.maximum(poly[:, 1], y_top), y_bot)
    clamped = (y != poly[:, 1]) | (x != poly[:, 0])
    return np.stack([x, y], axis=1), clamped


def _rotate(pts, angle):
    ca, sa = np.cos(angle), np.sin(angle)
    return pts @ np.array([[ca, sa], [-sa, ca]])


def _iris_layers(p, upper, lower_edge, pal):
    """The iris as cel layers, all clipped to the eye opening: dark rim, base, a lighter lower crescent (the
    vertical gradient), pupil, and the catch-lights. Returns ([(shape, colour)], iris outline, outline hidden)."""
    w, h = p["eye_w"], p["eye_h"]
    ry = 0.5 * h * (0.95 + 0.9 * (p["iris_w"] - 0.52))
    rx = min(ry * 0.78, 0.5 * w * p["iris_w"] * 1.25)
    cx, cy = p["gaze_x"] * w, (0.06 + p["gaze_y"]) * h
    hx = cx + (p["highlight_x"] - 0.65) * rx * 0.8
    hy = cy - (0.28 + 0.3 * p["highlight_y"]) * ry
    hr = rx * (0.28 + 0.16 * p["highlight_size"])
    iris = ellipse(cx, cy, rx, ry, n=44)
    shapes = [(iris, pal["iris_dark"]),
              (ellipse(cx, cy + 0.14 * ry, 0.84 * rx, 0.8 * ry, n=36), pal["iris"]),
              (ellipse(cx, cy + 0.52 * ry, 0.62 * rx, 0.38 * ry, n=28), pal["iris_light"]),
              (ellipse(cx, cy + 0.04 * ry, p["pupil"] * rx, p["pupil"] * ry * 0.9, n=28), pal["pupil"]),
              (ellipse(hx, hy, hr, hr * 1.2, n=20), pal["highlight"])]
    if p.option("highlights") == 2:
        shapes.append((ellipse(cx + 0.35 * rx, cy + 0.45 * ry, 0.4 * hr, 0.4 * hr, n=14), pal["highlight"]))
    counts = [len(shape) for shape, _ in shapes]
    clipped, hidden = _clamp_into(np.concatenate([shape for shape, _ in shapes]), upper, lower_edge)
    pieces = split_rows(clipped, counts)
    layers = [(piece, color) for piece, (_, color) in zip(pieces, shapes)]
    return layers, iris, hidden[:counts[0]]


def build_eyes(b, pal):
    p = b.p
    upper, lower_edge, lower_lid, wing = eye_shape(p)
    w, h = p["eye_w"], p["eye_h"]
    opening = np.concatenate([upper, lower_edge[1:-1]])
    layers, iris, iris_hidden = _iris_layers(p, upper, lower_edge, pal)
    lid_shadow = _clamp_into(np.concatenate([upper, (upper + (0.0, 0.18 * h))[::-1]]), upper, lower_edge)[0]
    lashes = []
    for k in range(p.option("lashes")):  # flicks off the outer end of the lash line
        base = wing[0] * (1 - 0.3 * k) + upper[-12] * (0.3 * k)
        reach = (0.07 + 0.08 * p["lash_len"]) * w / 0.5
        tip = base + np.array([0.8 - 0.25 * k, -0.35 - 0.35 * k]) * reach
        lashes.append(curve([base, 0.5 * (base + tip) + (0.01, 0.01), tip], n=4))
    crease = None
    if p["crease"] > 0.3:  # the double-eyelid fold, above and parallel to the lid
        lift = (0.1 + 0.1 * p["crease"]) * h
        crease = upper[int(0.35 * len(upper)):] * (1.02, 1.0) + (0.0, -lift)

    weight = p["lid_weight"]
    # one eye, drawn once: (builder method, shape, arguments) ...
    parts = [("region", opening, (pal["sclera"], Z_EYES), {"occludes": False}),
             ("detail", lid_shadow, (pal["sclera_shadow"], Z_EYES + 0.01), {})]
    parts += [("detail", shape, (color, Z_EYES + 0.02 + 0.01 * k), {}) for k, (shape, color) in enumerate(layers)]
    ink = [(np.concatenate([upper, wing[1:]]), 0.013 * weight, (0.4, 0.1, 0.12)),
           (lower_lid, 0.0028, (0.3, 0.4, 0.1))]
    ink += [(run, 0.0024, (0.1, 0.1, 0.4)) for run in _runs(iris, ~iris_hidden)]
    ink += [(lash, 0.006 * weight, (0.0, 0.9, 0.05)) for lash in lashes]
    if crease is not None:
        ink.append((crease, 0.0022, (0.4, 0.3, 0.05)))
    shapes = [shape for _, shape, _, _ in parts] + [shape for shape, _, _ in ink]
    counts = [len(shape) for shape in shapes]
    eye = _rotate(np.concatenate(shapes), -p["eye_tilt"])
    # ... then placed twice, mirrored: both outer corners tilt alike
    for s, label in ((-1.0, "eye_l"), (1.0, "eye_r")):
        placed = np.empty_like(eye)
        placed[:, 0] = eye[:, 0] * s + s * p["eye_x"]
        placed[:, 1] = eye[:, 1] + p["eye_y"]
        placed = split_rows(placed, counts)
        for (method, _, args, kw), shape in zip(parts, placed):
            getattr(b, method)(shape, label, *args, depth=0.05, **kw)
        for (_, width, taper), shape in zip(ink, placed[len(parts):]):
            b.line(shape, width, "eyes", "eyes", Z_EYES, taper, depth=0.05)


def _runs(pts, keep):
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    return [pts[a:z] for a, z in zip(edges[::2], edges[1::2]) if z - a >= 3]


# ----------------------------------------------------------------------------------------------------------------
# Brows, nose, mouth

def build_brows(b, pal):
    p = b.p
    length, arch, tilt = p["brow_len"], p["brow_arch"], p["brow_tilt"]
    for s, label in ((-1.0, "brow_l"), (1.0, "brow_r")):
        cx = 0.47 + p["brow_x"]  # brows are placed on their own, not from the eyes' params (group isolation)
        cy = 0.05 - p["brow_gap"]
        inner = (cx - 0.5 * length, cy + tilt * 0.5 * length)
        outer = (cx + 0.5 * length, cy - tilt * 0.5 * length + 0.04)
        top = (cx + 0.05 * length, cy - arch - 0.02)
        pts = curve([inner, top, outer], n=12) * (s, 1.0)
        prof = (0.1, 0.6, 0.25)
        width = 0.0034 * p["brow_weight"]
        b.line(pts, width, "brows", "brows", Z_FEATURES, prof)
        band = np.concatenate([pts + (0, -0.018), (pts + (0, 0.018))[::-1]])
        b.region(band, label, pal["brow"], Z_FEATURES - 0.05, occludes=False)


def build_nose(b, pal):
    p = b.p
    y, size = p["nose_y"], p["nose_size"]
    style = p.option("nose_style")
    tri = np.array([(0.0, y - 2.2 * size), (0.6 * size, y + 0.2 * size), (-0.6 * size, y + 0.2 * size)])
    b.region(tri, "nose", pal["skin_shadow"] if style == "shadow" else pal["skin"], Z_FEATURES - 0.1,
             occludes=False, depth=0.2)
    if style == "tick":
        pts = curve([(0.25 * size, y - 0.4 * size), (0.0, y), (-0.35 * size, y + 0.05 * size)], n=6)
        b.line(pts, 0.0028, "nose", "nose", Z_FEATURES, (0.3, 0.3, 0.2), depth=0.2)
    elif style == "shadow":
        pts = curve([(0.3 * size, y + 0.05 * size), (0.0, y + 0.15 * size), (-0.3 * size, y + 0.05 * size)], n=6)
        b.line(pts, 0.0022, "nose", "nose", Z_FEATURES, (0.4, 0.4, 0.1), depth=0.2)
    else:
        ridge = curve([(0.05 * size, y - 2.0 * size), (0.25 * size, y - 0.8 * size), (0.3 * size, y - 0.1 * size)],
                      n=6)
        b.line(ridge, 0.002, "nose", "nose", Z_FEATURES, (0.6, 0.3, 0.05), depth=0.2)
        tip = curve([(0.3 * size, y), (0.0, y + 0.12 * size), (-0.2 * size, y + 0.05 * size)], n=6)
        b.line(tip, 0.0026, "nose", "nose", Z_FEATURES, (0.3, 0.3, 0.2), depth=0.2)


def build_mouth(b, pal):
    p = b.p
    y, w = p["mouth_y"], 0.5 * p["mouth_w"]
    curve_amount = p["mouth_curve"]
    smile, open_ = p["smile"], p["open_mouth"]
    if not open_:
        lift = (0.03 + 0.06 * curve_amount) * (1.0 if smile else 0.15)
        pts = curve([(-w, y - lift), (0.0, y + 0.2 * lift), (w, y - lift)], n=12)
        band = np.concatenate([pts + (0, -0.03), (pts + (0, 0.03))[::-1]])
        b.region(band, "mouth", pal["lips"], Z_FEATURES - 0.05, occludes=False, depth=0.1)
        b.line(pts, 0.0032, "mouth", "mouth", Z_FEATURES, (0.3, 0.3, 0.15), depth=0.1)
        return
    hgt = p["mouth_open_h"]
    if smile:  # the classic open smile: straight-ish top, round bottom
        top = curve([(-w, y - 0.02), (0.0, y + 0.01), (w, y - 0.02)], n=8)
        bottom = curve([(w, y - 0.02), (0.55 * w, y + 0.7 * hgt), (0.0, y + hgt), (-0.55 * w, y + 0.7 * hgt),
                        (-w, y - 0.02)], n=8)
    else:  # a small surprised/talking mouth
        w = 0.7 * w
        top = curve([(-w, y + 0.2 * hgt), (0.0, y), (w, y + 0.2 * hgt)], n=8)
        bottom = curve([(w, y + 0.2 * hgt), (0.6 * w, y + 0.8 * hgt), (0.0, y + hgt), (-0.6 * w, y + 0.8 * hgt),
                        (-w, y + 0.2 * hgt)], n=8)
    opening = np.concatenate([top, bottom[1:-1]])
    b.region(opening, "mouth", pal["mouth_inside"], Z_FEATURES, occludes=False, depth=0.1)
    tongue = _clamp_into(ellipse(0.0, y + hgt, 0.6 * w, 0.45 * hgt, n=20), top, bottom)[0]
    b.detail(tongue, "mouth", pal["tongue"], Z_FEATURES + 0.01, depth=0.1)
    if p["teeth"]:
        teeth = np.concatenate([top, (top + (0.0, 0.28 * hgt))[::-1]])
        b.region(_clamp_into(teeth, top, bottom)[0], "mouth", pal["teeth"], Z_FEATURES + 0.02, occludes=False,
                 depth=0.1)
        line = top[2:-2] + (0.0, 0.28 * hgt)
        b.line(_clamp_into(line, top, bottom)[0], 0.0016, "mouth", "mouth", Z_FEATURES,
               (0.2, 0.2, 0.2), depth=0.1)
    b.line(top, 0.0034, "mouth", "mouth", Z_FEATURES, (0.15, 0.15, 0.3), depth=0.1)
    b.line(bottom, 0.0026, "mouth", "mouth", Z_FEATURES, (0.15, 0.15, 0.2), depth=0.1)


# ----------------------------------------------------------------------------------------------------------------
# Hair

def crown_arc(p, n=28, spread=0.1):
    """The hair silhouette over the head, from the right side to the left side."""
    radius = 1.0 + p["hair_volume"]
    unit = _arc(n, -spread, np.pi + spread)
    return unit * (radius * 1.04, -radius * (1.0 + p["crown"])) + (0.0, -0.08)


HAIRLINE_Y = -0.8  # where the fringe's locks grow from
TEMPLE = np.array([0.97, -0.12])  # the fringe's outer ends (a side lock starts here)


def bang_tips(p):
    """Tips[7] and notches[8] of the fringe, left to right (the outer notches are the temples)."""
    cut = p.option("bangs")
    sweep = p["bang_sweep"]
    slots = np.linspace(-0.78, 0.78, 7)
    spacing = slots[1] - slots[0]
    xs = slots + (np.array([p[f"bang_x{i}"] for i in range(7)]) - 0.5) * 0.4 * spacing
    var = np.array([p[f"bang_l{i}"] for i in range(7)]) - 0.5
    spread = {"straight": 0.05, "swept": 0.12, "parted": 0.14, "spiky": 0.26}[cut]
    ys = -0.3 + 0.28 * p["bang_len"] + var * spread - 0.1 * xs * xs
    if cut == "swept":  # longer on one side, tips blown towards it
        direction = 1.0 if sweep >= 0 else -1.0
        ys = ys + 0.14 * direction * xs * (0.5 + 0.5 * abs(sweep))
        xs = xs + 0.1 * direction * (0.5 + 0.5 * abs(sweep))
    elif cut == "parted":  # the parting opens the fringe over the forehead
        ys = ys - 0.2 * np.exp(-((xs - p["parting"]) / 0.28) ** 2)
    ys = np.minimum(ys, -0.02)
    # how far up between two tips the notch reaches: a straight (hime) cut is nearly one line
    depth = {"straight": 0.12 + 0.2 * p["bang_depth"], "spiky": 0.45 + 0.35 * p["bang_depth"]}.get(
        cut, 0.3 + 0.35 * p["bang_depth"])
    mids = np.concatenate([[-TEMPLE[0]], 0.5 * (xs[1:] + xs[:-1]), [TEMPLE[0]]])
    between = np.concatenate([[ys[0]], np.maximum(ys[1:], ys[:-1]), [ys[-1]]])
    notch_y = HAIRLINE_Y + (between - HAIRLINE_Y) * (1.0 - depth)
    notch_y[0] = notch_y[-1] = TEMPLE[1]
    if cut == "parted":
        k = 1 + int(np.argmin(np.abs(mids[1:-1] - p["parting"])))
        notch_y[k] = HAIRLINE_Y + 0.04
    return np.stack([xs, ys], axis=1), np.stack([mids, notch_y], axis=1)


def lock_edges(p, tips, notches):
    """The two edges of every fringe lock, each running from a notch down to the lock's tip: [14, n, 2] in the
    order (left edge of lock 0, right edge of lock 0, left edge of lock 1, ...)."""
    cut = p.option("bangs")
    a = np.repeat(notches, 2, axis=0)[1:-1]  # notch i, notch i+1 for lock i
    b = np.repeat(tips, 2, axis=0)
    d = b - a
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / (np.hypot(d[:, 0], d[:, 1])[:, None] + 1e-9)
    side = np.tile([1.0, -1.0], 7)[:, None]  # bow each edge outwards from its lock
    bulge = {"straight": 0.0, "swept": 0.03, "parted": 0.035, "spiky": 0.0}[cut]
    if cut == "swept":
        sweep = p["bang_sweep"]
        lean = np.full(14, 0.13 * np.sign(sweep) * (0.5 + 0.5 * abs(sweep)))
    elif cut == "parted":
        lean = 0.06 * np.sign(b[:, 0] - p["parting"])
    else:
        lean = 0.03 * np.sign(b[:, 0]) * np.abs(b[:, 0])  # locks fan out gently from the centre
    mid = 0.5 * (a + b) - normal * side * bulge + np.stack([lean, np.zeros(14)], axis=1)
    return quad_curves(a, mid, b, n=10)


def fringe_edge(edges):
    """The fringe's lower outline, left temple to right temple, from the lock edges."""
    parts = []
    for i in range(7):
        parts += [edges[2 * i][:-1], edges[2 * i + 1][::-1][:-1]]
    parts.append(edges[13][:1])
    return np.concatenate(parts)


def side_lock(p, s):
    """The lock hanging beside the cheek on side s: (outer edge, inner edge), both from the top to the tip."""
    style = p.option("hair_style")
    if style == "short":
        length = 0.55 + 0.55 * p["lock_len"]
    else:
        length = 0.75 + 0.95 * p["lock_len"]
    width = 0.2 + 0.14 * p["lock_w"]
    bend = 0.1 * p["lock_curve"]
    radius = 1.0 + p["hair_volume"]
    tip = np.array([0.88 + bend + 0.04 * (1 - p["lock_w"]), length])
    # a slim lock falls in front of the cheek and leaves the ear free; a wide one covers it
    x_mid = 0.97 + 0.22 * p["lock_w"] + 0.5 * bend
    outer = curve([(radius * 1.035, 0.0), (x_mid, 0.45 * length), (tip[0] + 0.06, 0.85 * length), tip], n=8)
    inner = curve([TEMPLE, (x_mid - width, 0.3 * length), (tip[0] - 0.05 + bend, 0.8 * length), tip], n=8)
    return outer * (s, 1.0), inner * (s, 1.0)


def _back_outline(p):
    """The back hair's silhouette below the crown: (right side from top to bottom, bottom edge right to left)."""
    style = p.option("hair_style")
    radius = 1.0 + p["hair_volume"]
    length, flare = p["back_len"], p["back_flare"]
    if style == "long":
        bottom, width = 2.4 + 1.2 * length, radius + 0.3 + 0.45 * flare
    elif style == "short":
        bottom, width = 1.0 + 0.35 * length, radius + 0.03 + 0.1 * flare
    elif style in ("twin_tail", "drill"):
        bottom, width = 1.1 + 0.5 * length, radius + 0.06 + 0.12 * flare
    else:  # ponytail: the hair is gathered at the back, little falls down
        bottom, width = 0.6 + 0.3 * length, radius + 0.02
    side = curve([(radius * 1.04, -0.1), (radius * 1.05 + 0.05 * flare, 0.35 * bottom),
                  (width - 0.1 * flare, 0.75 * bottom), (width, bottom)], n=8)
    jitter = np.array([p[f"back_tip{i}"] for i in range(5)]) - 0.5
    tips_x = np.linspace(width, -width, 7)[1:-1] * 0.9 + 0.12 * jitter
    if style == "short":  # a bob curls in: its middle is shorter
        tips_y = bottom - 0.02 + 0.06 * jitter - 0.1 * (1 - np.abs(tips_x) / width)
    else:
        tips_y = bottom + 0.05 - 0.12 * np.abs(tips_x) / width + 0.16 * jitter
    notch_x = np.linspace(width, -width, 6)[1:-1] * 0.92
    notch_y = 0.5 * (tips_y[1:] + tips_y[:-1]) - 0.22
    zig = [(width, bottom)]
    for i in range(5):
        zig.append((tips_x[i], tips_y[i]))
        if i < 4:
            zig.append((notch_x[i], notch_y[i]))
    zig.append((-width, bottom))
    return side, np.array(zig)


def build_hair(b, pal):
    p = b.p
    style = p.option("hair_style")
    arc = crown_arc(p)
    # back hair: the silhouette behind everything
    side, zig = _back_outline(p)
    bottom_line = _zigzag_curve(zig)
    back_poly = np.concatenate([side[::-1], arc[1:-1], mirror(side), bottom_line[::-1][1:-1]])
    b.region(back_poly, "hair", pal["hair_back"], Z_BACK_HAIR)
    for outline in (side, mirror(side)):
        b.line(outline, 0.0038, "hair", "hair_back", Z_BACK_HAIR, (0.05, 0.15, 0.3))
    b.line(bottom_line, 0.0032, "hair", "hair_back", Z_BACK_HAIR, (0.05, 0.05, 0.5))
    for i in range(4):  # strands falling on the back hair, beside the neck
        t = p[f"strand{i}"]
        s = -1.0 if i % 2 == 0 else 1.0
        y_end = zig[:, 1].max() - 0.25 - 0.35 * t
        if y_end > 0.9:
            x_end = s * (0.6 + 0.3 * t) * abs(zig[0, 0])
            strand = curve([(s * (0.7 + 0.2 * t), 0.25), (s * (0.85 + 0.3 * t), 0.5 * (0.25 + y_end)),
                            (x_end, y_end)], n=6)
            b.line(strand, 0.0022, "hair", "hair_back", Z_BACK_HAIR, (0.3, 0.5, 0.05))

    if style in ("twin_tail", "drill"):
        for s in (-1.0, 1.0):
            build_tail(b, pal, s, drill=style == "drill")
    elif style == "ponytail":
        build_ponytail(b, pal)

    # front hair: crown + fringe + side locks, one shape in front of the face
    tips, notches = bang_tips(p)
    edges = lock_edges(p, tips, notches)
    fringe = fringe_edge(edges)
    outer_l, inner_l = side_lock(p, -1.0)
    outer_r, inner_r = side_lock(p, 1.0)
    front = np.concatenate([arc, outer_l, inner_l[::-1], fringe, inner_r, outer_r[::-1]])
    b.region(front, "hair", pal["hair"], Z_FRONT_HAIR)
    _hair_shading(b, pal, edges, inner_l, inner_r)
    b.line(arc, 0.0042, "hair", "hair_front", Z_FRONT_HAIR, (0.08, 0.08, 0.3))
    for edge in edges:
        b.line(edge, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, (0.0, 0.55, 0.06))
    for line in (outer_l, inner_l, outer_r, inner_r):
        b.line(line, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, (0.1, 0.45, 0.06))
    for outer, inner in ((outer_l, inner_l), (outer_r, inner_r)):  # one strand down each side lock
        n = len(outer)
        strand = (0.45 * outer + 0.55 * inner)[n // 5: 4 * n // 5]
        b.line(strand, 0.0022, "hair", "hair_front", Z_FRONT_HAIR, (0.3, 0.5, 0.05))
    # strand lines rising from the fringe's notches towards the crown, fading out
    top = np.array([0.0, -1.1 - p["crown"]])
    starts = notches[1:-1]
    # short strands from the notches, fading upwards: long and short alternate so the locks do not close up
    reach = (np.tile([0.32, 0.14], 3) + 0.12 * np.array([p[f"bang_l{i}"] for i in range(6)]))[:, None]
    ends = starts + (top - starts) * reach
    mids = 0.5 * (starts + ends) + np.stack([0.03 * np.sign(starts[:, 0]), np.zeros(6)], axis=1)
    for strand in quad_curves(starts, mids, ends, n=8):
        b.line(strand, 0.0024, "hair", "hair_front", Z_FRONT_HAIR, (0.0, 0.8, 0.05))
    # flow lines over the crown: from near the whorl, sweeping down towards the temples
    radius = 1.0 + p["hair_volume"]
    sweep = p["bang_sweep"] if p.option("bangs") == "swept" else 0.0
    whorl = np.array([0.08 * sweep, -0.08 - 0.78 * radius * (1 + p["crown"])])
    for s, u in ((-1.0, p["bang_x1"]), (1.0, p["bang_x5"])):
        end = np.array([s * (0.66 + 0.12 * u) * radius, -0.5 - 0.1 * u])
        start = whorl + (s * (0.22 + 0.1 * u), 0.1)
        ctrl = np.array([start, 0.5 * (start + end) + (s * 0.16, -0.06), end])
        flow = quad_curves(ctrl[:1], ctrl[1:2], ctrl[2:], n=10)[0]
        b.line(flow, 0.0022, "hair", "hair_front", Z_FRONT_HAIR, (0.3, 0.45, 0.05))
    if p.option("bangs") == "parted":  # the parting itself, from the fringe's gap up to the crown
        gap = notches[1 + int(np.argmin(np.abs(notches[1:-1, 0] - p["parting"])))]
        parting = quad_curves(gap[None], (0.5 * (gap + whorl) + (0.03, 0.0))[None], whorl[None], n=10)[0]
        b.line(parting, 0.0024, "hair", "hair_front", Z_FRONT_HAIR, (0.1, 0.6, 0.1))
    # the fringe's shadow on the forehead
    shadow = np.concatenate([fringe, (fringe + (0.05, 0.11))[::-1]])
    b.region(shadow, "skin", pal["skin_shadow"], Z_FACE + 0.1, occludes=False)


def _zigzag_curve(zig):
    """Pointed tips joined by curved flanks: each tip stays a corner, each flank a gentle curve."""
    a, c = zig[:-1], zig[1:]
    d = c - a
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) * 0.12
    flanks = quad_curves(a, 0.5 * (a + c) + normal, c, n=6)
    return np.concatenate([flanks[:, :-1].reshape(-1, 2), zig[-1:]])


def _hair_shading(b, pal, edges, inner_l, inner_r):
    """Cel shading of the front hair: a shadow tone inside each lock beside one edge, and a sheen band."""
    p = b.p
    # in every lock, a sliver from the notch down two thirds of the lock, hugging its right edge
    k = int(0.7 * edges.shape[1])
    right = edges[1::2, :k]
    inside = 0.55 * right + 0.45 * edges[0::2, :k]
    for sliver in np.concatenate([right, inside[:, ::-1]], axis=1):
        b.detail(sliver, "hair", pal["hair_shadow"], Z_FRONT_HAIR + 0.02)
    for inner in (inner_l, inner_r):
        k = len(inner)
        band = np.concatenate([inner[k // 6: 5 * k // 6], (inner[k // 6: 5 * k // 6] * (0.9, 1.0) + (0.0, 0.0))[::-1]])
        band[:, 0] = np.where(np.arange(len(band)) < len(band) // 2, band[:, 0],
                              band[:, 0] + 0.09 * np.sign(band[:, 0]))
        b.detail(band, "hair", pal["hair_shadow"], Z_FRONT_HAIR + 0.02)
    b.detail(_sheen_band(p), "hair", pal["hair_sheen"], Z_FRONT_HAIR + 0.05)


def _sheen_band(p):
    radius = 1.0 + p["hair_volume"]
    unit = _arc(15, 0.4, np.pi - 0.4)
    r_in = np.where(np.arange(15) % 2 == 0, 0.72, 0.79)[:, None] * radius  # a zigzag lower edge
    squash = np.array([1.0, -(1 + p["crown"])])
    upper = unit * squash * 0.86 * radius + (0.0, -0.08)
    lower = unit * squash * r_in + (0.0, -0.08)
    return np.concatenate([upper, lower[::-1]])


def _tube(centre_ctrl, half_widths):
    """A lock of hair around a centre line: (one edge, other edge), both from root to tip. `half_widths` are
    the half-widths at 0, 20, 55 and 100 % of the length."""
    centre = curve(centre_ctrl, n=8)
    d = np.gradient(centre, axis=0)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.hypot(d[:, 0], d[:, 1])[:, None]
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(centre, axis=0).T))])
    w = np.interp(arc / arc[-1], (0.0, 0.2, 0.55, 1.0), half_widths)[:, None]
    return centre + normal * w, centre - normal * w, centre


def build_tail(b, pal, s, drill):
    """A twin tail (or a drill ringlet) on side s, tied high on the head and falling past the shoulders."""
    p = b.p
    radius = 1.0 + p["hair_volume"]
    attach = np.array([radius * 0.97, -0.45 - 0.4 * p["tail_height"]])
    length = 2.3 + 1.6 * p["tail_len"]
    width = 0.2 + 0.16 * p["tail_w"]
    spread = p["tail_spread"]
    if not drill:
        ctrl = [attach, attach + (0.22 + 0.2 * spread, 0.22 * length), attach + (0.3 + 0.3 * spread, 0.6 * length),
                attach + (0.2 + 0.25 * spread, length)]
        edge_a, edge_b, centre = _tube(ctrl, (0.07, 0.85 * width, 0.9 * width, 0.0))
        poly = np.concatenate([edge_a, edge_b[::-1]]) * (s, 1.0)
        b.region(poly, "hair", pal["hair"], Z_TAILS)
        for edge in (edge_a, edge_b):
            b.line(edge * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAILS, (0.05, 0.4, 0.06))
        n = len(centre)
        for frac, lo, hi in ((0.35, 0.12, 0.8), (-0.4, 0.2, 0.65)):
            strand = (centre + (edge_a - centre) * frac)[int(lo * n): int(hi * n)]
            b.line(strand * (s, 1.0), 0.0022, "hair", "hair_back", Z_TAILS, (0.3, 0.5, 0.05))
    else:
        curls = 4
        out = 0.2 + 0.3 * spread
        w0 = 0.22 + 0.1 * p["tail_w"]
        centres = [attach + (out * (k / curls) ** 0.7, (length * 0.8) * k / curls) for k in range(curls + 1)]
        for k in range(curls):
            a, c = centres[k], centres[k + 1]
            wk = w0 * (1.0 - 0.1 * k)
            mid = 0.5 * (a + c) + (0.0, 0.05)
            blob = ellipse(mid[0], mid[1], wk, 0.5 * np.hypot(*(c - a)) + 0.09, n=28,
                           angle=np.arctan2(c[1] - a[1], c[0] - a[0]) - np.pi / 2)
            z = Z_TAILS + 0.01 * k
            b.region(blob * (s, 1.0), "hair", pal["hair"], z)
            b.line(blob * (s, 1.0), 0.0036, "hair", "hair_back", z, SOLID, closed=True)
            for off in (-0.04, 0.1):  # the curl's spiral, as two slanted arcs across it
                spiral = curve([mid + (-wk * 0.92, off - 0.1), mid + (0.0, off + 0.02), mid + (wk * 0.92, off + 0.06)],
                               n=6) * (s, 1.0)
                b.line(spiral, 0.0024, "hair", "hair_back", z, (0.2, 0.3, 0.1))
    # the hair tie sits on the head's outline, in front of the hair
    tie = ellipse(attach[0] * s, attach[1], 0.08, 0.11, n=16)
    b.region(tie, "hair", pal["tie"], Z_FRONT_HAIR + 0.1)
    b.line(tie, 0.003, "hair", "hair_front", Z_FRONT_HAIR + 0.1, SOLID, closed=True)


def build_ponytail(b, pal):
    """A ponytail tied at the back of the head; in this front view it swings out from behind the head on one
    side (the back hair hides its root)."""
    p = b.p
    s = 1.0 if p["tail_side"] >= 0 else -1.0
    radius = 1.0 + p["hair_volume"]
    length = 1.7 + 1.3 * p["tail_len"]
    width = 0.22 + 0.16 * p["tail_w"]
    out = 0.25 + 0.3 * p["tail_spread"] + 0.1 * abs(p["tail_side"])
    top = -1.0 - 0.15 * p["tail_height"]
    ctrl = [(0.5, top), (radius + 0.15, top + 0.05), (radius + out + 0.05, -0.3),
            (radius + out + 0.1, 0.5 * length - 0.6), (radius + out - 0.05, length - 0.8)]
    edge_a, edge_b, centre = _tube(ctrl, (0.14, width, 0.9 * width, 0.0))
    poly = np.concatenate([edge_a, edge_b[::-1]]) * (s, 1.0)
    b.region(poly, "hair", pal["hair"], Z_TAIL_BACK)
    for edge in (edge_a, edge_b):
        b.line(edge * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAIL_BACK, (0.05, 0.4, 0.06))
    n = len(centre)
    strand = (centre + (edge_a - centre) * 0.3)[int(0.25 * n): int(0.8 * n)]
    b.line(strand * (s, 1.0), 0.0022, "hair", "hair_back", Z_TAIL_BACK, (0.3, 0.5, 0.05))


# ----------------------------------------------------------------------------------------------------------------
# Accessories: placed on a fixed, typical head (not on the hair's params) so that hair and accessories stay
# independent groups; the accessories hide what they cover.

HAT_HEAD_RADIUS = 1.13
HAT_HEAD_CROWN = 0.07

def build_hat(b, pal):
    p = b.p
    tilt = 0.22 * p["hat_tilt"]
    size = p["hat_size"]
    radius = HAT_HEAD_RADIUS
    top_y = -0.08 - radius * (1.0 + HAT_HEAD_CROWN)
    if p.option("hat") == "beret":
        # a soft wide disc on top, gathered into a band that hugs the head
        rx, ry = radius * (1.1 + 0.2 * size), 0.5 + 0.12 * size
        cy = top_y + 0.42
        shift = 0.12 * p["hat_tilt"]
        top = ellipse(shift, cy, rx, ry, n=40)[20:]  # the upper half, left to right
        top = np.concatenate([top, [(rx + shift, cy)]])
        band_r = [(radius * 0.95, cy + 0.2), (0.0, cy + 0.33), (-radius * 0.95, cy + 0.2)]
        under = curve([(rx + shift, cy), (radius * 1.0 + 0.5 * shift, cy + 0.13), *band_r,
                       (-radius * 1.0 + 0.5 * shift, cy + 0.13), (-rx + shift, cy)], n=6)
        outline = _rotate(np.concatenate([top, under[1:-1]]) - (0, cy), -tilt) + (0, cy)
        band = _rotate(curve(band_r, n=8) - (0, cy + 0.09), -tilt) + (0, cy)
        b.region(outline, "accessory", pal["hat"], Z_HAT)
        b.line(outline, 0.004, "accessories", "accessories", Z_HAT, SOLID, closed=True)
        b.line(band, 0.0028, "accessories", "accessories", Z_HAT, (0.2, 0.2, 0.3))
        nub = _rotate(ellipse(shift + 0.1, cy - ry - 0.03, 0.05, 0.07, n=12) - (0, cy), -tilt) + (0, cy)
        b.region(nub, "accessory", pal["hat"], Z_HAT + 0.01)
        b.line(nub, 0.003, "accessories", "accessories", Z_HAT + 0.01, SOLID, closed=True)
    else:  # sun hat: a wide brim and a rounded crown with a ribbon band
        brim_y = top_y + 0.55
        brim = ellipse(0.0, brim_y, radius * (1.6 + 0.4 * size), 0.38, n=56, angle=tilt)
        crown = curve([(-radius * 0.92, brim_y), (-radius * 0.8, brim_y - 0.55), (0.0, brim_y - 0.72),
                       (radius * 0.8, brim_y - 0.55), (radius * 0.92, brim_y)], n=8)
        crown = _rotate(crown - (0, brim_y), -tilt) + (0, brim_y)
        band_lo = _rotate(np.array([(-radius * 0.93, 0.0), (0.0, 0.06), (radius * 0.93, 0.0)]), -tilt) + (0, brim_y)
        band_hi = band_lo + (0.0, -0.15)
        b.region(brim, "accessory", pal["hat"], Z_HAT)
        b.region(crown, "accessory", pal["hat"], Z_HAT + 0.01)
        band = np.concatenate([curve(band_lo, n=8), curve(band_hi, n=8)[::-1]])
        b.region(band, "accessory", pal["hat_band"], Z_HAT + 0.02)
        b.line(brim, 0.004, "accessories", "accessories", Z_HAT, SOLID, closed=True)
        b.line(crown, 0.004, "accessories", "accessories", Z_HAT + 0.01, (0.05, 0.05, 0.5))
        for edge in (band_lo, band_hi):
            line = curve(edge, n=8)
            b.line(line, 0.0026, "accessories", "accessories", Z_HAT + 0.02, (0.1, 0.1, 0.5))


def build_ribbon(b, pal):
    p = b.p
    radius = HAT_HEAD_RADIUS
    angle = np.pi / 2 + 0.9 * p["ribbon_pos"]  # 0 = on top, +-1 = towards a side
    size = 0.75 + 0.5 * p["ribbon_size"]
    centre = np.array([radius * 0.95 * np.cos(angle), -0.08 - radius * 0.95 * (1 + HAT_HEAD_CROWN) * np.sin(angle)])
    rot = angle - np.pi / 2
    loop = np.array([(0.0, 0.0), (0.18, -0.16), (0.36, -0.12), (0.38, 0.1), (0.2, 0.14)]) * size
    for s in (-1.0, 1.0):
        shape = curve(loop * (s, 1.0), n=6, closed=True)
        shape = _rotate(shape, -rot) + centre
        b.region(shape, "accessory", pal["ribbon"], Z_RIBBON)
        b.line(shape, 0.0034, "accessories", "accessories", Z_RIBBON, SOLID, closed=True)
        fold = _rotate(np.array([(0.05 * s, 0.0), (0.22 * s, -0.02)]) * size, -rot) + centre
        b.line(fold, 0.0022, "accessories", "accessories", Z_RIBBON, (0.0, 1.0, 0.2))
    knot = _rotate(ellipse(0.0, 0.0, 0.07 * size, 0.09 * size, n=14), -rot) + centre
    b.region(knot, "accessory", pal["ribbon"], Z_RIBBON + 0.01)
    b.line(knot, 0.0032, "accessories", "accessories", Z_RIBBON + 0.01, SOLID, closed=True)


def build_glasses(b, pal):
    p = b.p
    size = 0.95 + 0.25 * p["glasses_size"]
    centre_x, centre_y = 0.48, 0.28
    rx, ry = 0.3 * size, 0.25 * size
    for s in (-1.0, 1.0):
        if p.option("glasses") == "round":
            frame = ellipse(s * centre_x, centre_y, rx, ry, n=40)
        else:
            frame = curve([(s * centre_x + dx * rx, centre_y + dy * ry)
                           for dx, dy in ((-1, -0.9), (1, -0.9), (1.02, 0.7), (0.6, 1.0), (-0.6, 1.0), (-1.02, 0.7))],
                          n=8, closed=True)
        ring = np.concatenate([frame, frame[:1], (frame[:1] - (s * centre_x, centre_y)) * 0.93 + (s * centre_x, centre_y),
                          ((frame - (s * centre_x, centre_y)) * 0.93 + (s * centre_x, centre_y))[::-1]])
        b.region(ring, "accessory", pal["glasses"], Z_GLASSES, occludes=False, depth=0.15)
        b.line(frame, 0.0032, "accessories", "accessories", Z_GLASSES, SOLID, closed=True,
               depth=0.15)
        temple = np.array([(s * (centre_x + rx), centre_y - 0.6 * ry), (s * 1.02, centre_y - 0.1)])
        b.line(temple, 0.003, "accessories", "accessories", Z_GLASSES, (0.0, 0.5, 0.3), depth=0.1)
    bridge = curve([(-centre_x + rx * 0.95, centre_y - 0.2 * ry), (0.0, centre_y - 0.35 * ry),
                    (centre_x - rx * 0.95, centre_y - 0.2 * ry)], n=6)
    b.line(bridge, 0.003, "accessories", "accessories", Z_GLASSES, (0.0, 0.0, 1.0), depth=0.15)


# ----------------------------------------------------------------------------------------------------------------

def build_portrait(params: Params) -> Portrait:
    b = _Builder(params)
    pal = palette.make_palette(params)
    b.canvas_regions.extend(palette.background_regions(params))
    build_face(b, pal)
    build_eyes(b, pal)
    build_brows(b, pal)
    build_nose(b, pal)
    build_mouth(b, pal)
    build_hair(b, pal)
    if params["hat"]:
        build_hat(b, pal)
    if params["ribbon"]:
        build_ribbon(b, pal)
    if params["glasses"]:
        build_glasses(b, pal)
    strokes, regions = b.finish()
    return Portrait(strokes, regions, params)
