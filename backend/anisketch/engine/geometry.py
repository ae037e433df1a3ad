"""Params -> strokes and regions: the anime portrait as vector data, in normalised canvas coordinates.

Every part is built in *face units* (the face's half-width is 1, the cranium circle is centred at the origin,
y down; eyes near y = 0.25, chin near y = 1.45), then placed on the canvas by the pose: a gentle yaw warp (the
face turns: features slide, the far side narrows), roll, scale and translation.

Occlusion is honest and geometric: each stroke and each opaque region has a depth `z`; the parts of a stroke that
lie under a deeper-in-front region (bangs over the brows, side locks over the cheek contour, the chin over the
neck lines) are cut away here, so the strokes are exactly the visible line art. An artist sketching the face draws
those same visible lines.
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

ANCHOR_Y = 0.3  # the face point that sits at the pose's (cx, cy)
OCCLUSION_RES = 512  # resolution of the depth map used to cut hidden strokes (fixed: strokes are size-free)
STEP = 0.004  # stroke points are resampled to this spacing (canvas units)


@dataclass
class Stroke:
    points: np.ndarray  # float32[N, 2], canvas coordinates
    widths: np.ndarray  # float32[N], fractions of the canvas side
    group: str
    order: int
    closed: bool = False


@dataclass
class Region:
    polygon: np.ndarray  # float32[M, 2]
    label: int  # index into PART_LABELS
    color: tuple  # (r, g, b) uint8
    z: float


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


def curve(ctrl, n=8, closed=False, start=None, end=None):
    """A Catmull-Rom spline through the control points. `start`/`end` are phantom points that set the end
    tangents (default: reflections, i.e. natural ends)."""
    c = np.asarray(ctrl, np.float64)
    if closed:
        ext = np.vstack([c[-1:], c, c[:2]])
    else:
        head = 2 * c[0] - c[1] if start is None else np.asarray(start, np.float64)
        tail = 2 * c[-1] - c[-2] if end is None else np.asarray(end, np.float64)
        ext = np.vstack([head, c, tail])
    segments = len(ext) - 3
    windows = np.stack([ext[i:i + segments] for i in range(4)], axis=1)  # [S, 4, 2]
    pts = np.einsum("tk,skd->std", _BASIS[n], windows).reshape(-1, 2)
    return pts if closed else np.vstack([pts, c[-1:]])


def ellipse(cx, cy, rx, ry, n=40, angle=0.0, start=0.0, stop=2 * np.pi):
    t = np.linspace(start, stop, n, endpoint=(stop - start) < 2 * np.pi - 1e-9)
    x, y = rx * np.cos(t), ry * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    return np.stack([cx + ca * x - sa * y, cy + sa * x + ca * y], axis=1)


def mirror(pts):
    return np.asarray(pts, np.float64) * (-1.0, 1.0)


def resample(points, widths, step, closed=False):
    """Points at regular arc length (so that occlusion cuts are precise and rendering is even)."""
    if closed:
        points = np.vstack([points, points[:1]])
        widths = np.concatenate([widths, widths[:1]])
    seg = np.sqrt(np.sum(np.diff(points, axis=0) ** 2, axis=1))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    count = max(int(np.ceil(arc[-1] / step)), 1) + 1
    s = np.linspace(0.0, arc[-1], count, endpoint=not closed) if not closed else \
        np.linspace(0.0, arc[-1], max(count - 1, 3), endpoint=False)
    out = np.stack([np.interp(s, arc, points[:, 0]), np.interp(s, arc, points[:, 1])], axis=1)
    return out, np.interp(s, arc, widths)


def taper(n, start=0.15, end=0.15, floor=0.2):
    """Pen pressure along a stroke: swells in from `floor` over the first `start` of its length and out over the
    last `end`, like an inked line."""
    t = np.linspace(0.0, 1.0, n)
    rise = np.clip(t / max(start, 1e-6), 0, 1) if start > 0 else np.ones(n)
    fall = np.clip((1 - t) / max(end, 1e-6), 0, 1) if end > 0 else np.ones(n)
    k = np.minimum(rise, fall)
    k = k * k * (3 - 2 * k)  # smoothstep
    return floor + (1 - floor) * k


# ----------------------------------------------------------------------------------------------------------------
# The builder: collects strokes and regions in face units and places them on the canvas

class _Builder:
    def __init__(self, p: Params):
        self.p = p
        self.scale = p["scale"]
        self.yaw = 0.16 * p["yaw"]
        ca, sa = np.cos(p["roll"]), np.sin(p["roll"])
        self.rot = np.array([[ca, -sa], [sa, ca]]) * self.scale
        self.offset = np.array([p["cx"], p["cy"]])
        self.width_unit = self.scale / 0.21  # line weights follow the face size
        self.strokes = []  # (points, widths, group, stage, z, closed)
        self.regions = []  # (polygon, label, color, z)
        self.occluders = []  # (polygon, z)

    def place(self, pts, depth=0.0):
        """Face units -> canvas. The yaw warp slides the face centre sideways and narrows the far side; points
        that stand out of the face (depth > 0: the nose) slide further."""
        pts = np.asarray(pts, np.float64)
        x = pts[:, 0]
        xc = np.clip(x, -1.3, 1.3)
        warped = np.stack([x + self.yaw * (1.0 - xc * xc + depth), pts[:, 1] - ANCHOR_Y], axis=1)
        return warped @ self.rot.T + self.offset

    def line(self, pts, width, group, stage, z, profile=None, closed=False, depth=0.0):
        canvas = self.place(pts, depth)
        if profile is None:
            profile = taper(len(canvas))
        widths = width * self.width_unit * np.asarray(profile, np.float64)
        self.strokes.append((canvas, widths, group, stage, z, closed))

    def region(self, pts, label, color, z, occludes=True, depth=0.0):
        poly = self.place(pts, depth)
        self.regions.append((poly, LABEL[label], color, z))
        if occludes:
            self.occluders.append((poly, z))

    def finish(self):
        strokes = self._visible_strokes()
        regions = [Region(poly.astype(np.float32), label, tuple(int(c) for c in color), float(z))
                   for poly, label, color, z in sorted(self.regions, key=lambda r: r[3])]
        return strokes, regions

    def _depth_map(self):
        zmap = np.zeros((OCCLUSION_RES, OCCLUSION_RES), np.uint8)
        for poly, z in sorted(self.occluders, key=lambda o: o[1]):
            pts = np.round(poly * OCCLUSION_RES * 16).astype(np.int32)
            cv2.fillPoly(zmap, [pts], int(round(z * 10)), lineType=cv2.LINE_8, shift=4)
        return zmap

    def _visible_strokes(self):
        zmap = self._depth_map()
        stage_rank = {name: i for i, name in enumerate(STAGES)}
        pieces = []
        for index, (pts, widths, group, stage, z, closed) in enumerate(self.strokes):
            pts, widths = resample(pts, widths, STEP, closed)
            ij = np.clip((pts * OCCLUSION_RES).astype(np.int64), 0, OCCLUSION_RES - 1)
            visible = zmap[ij[:, 1], ij[:, 0]] <= int(round(z * 10))
            for run_pts, run_w, run_closed in _visible_runs(pts, widths, visible, closed):
                pieces.append(((stage_rank[stage], index), run_pts, run_w, group, run_closed))
        pieces.sort(key=lambda piece: piece[0])
        return [Stroke(p.astype(np.float32), w.astype(np.float32), group, order, closed)
                for order, (_, p, w, group, closed) in enumerate(pieces)]


def _visible_runs(pts, widths, visible, closed):
    """Split a stroke into its visible runs; each cut end moves halfway to the first hidden point."""
    if visible.all():
        return [(pts, widths, closed)]
    if not visible.any():
        return []
    if closed:  # rotate so that the stroke starts on a hidden point, then treat it as open
        first_hidden = int(np.argmin(visible))
        pts, widths, visible = (np.roll(a, -first_hidden, axis=0) for a in (pts, widths, visible))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], visible.astype(np.int8), [0]])))
    runs = []
    for start, stop in zip(edges[::2], edges[1::2]):
        a, b = max(start - 1, 0), min(stop + 1, len(pts))
        run_pts, run_w = pts[a:b].copy(), widths[a:b].copy()
        if a < start:
            run_pts[0] = 0.5 * (run_pts[0] + run_pts[1])
        if b > stop:
            run_pts[-1] = 0.5 * (run_pts[-1] + run_pts[-2])
        if len(run_pts) >= 2 and (b - a) >= 2:
            runs.append((run_pts, run_w, False))
    return runs


# ----------------------------------------------------------------------------------------------------------------
# Face: contour, ears, neck, shoulders, clothes, blush

def face_contour_half(p):
    """The left half of the contour, temple to chin (face units)."""
    r = p["chin_round"]
    chin = np.array([0.0, p["chin_y"]])
    flank = np.array([-(0.16 + 0.14 * r), p["chin_y"] - (0.16 - 0.08 * r)])
    ctrl = [(-0.99, -0.3), (-p["cheek_w"], p["cheek_y"]), (-p["jaw_x"], p["jaw_y"]), flank, chin]
    # Pointed chin: the tangent at the chin continues the flank; rounded: it turns horizontal.
    pointed_end = chin + (chin - flank)
    rounded_end = flank * (-1.0, 1.0)
    return curve(ctrl, n=8, end=(1 - r) * pointed_end + r * rounded_end)


def _contour_width_at(half, y):
    """Half-width of the face at height y (for clamping colour regions inside the face)."""
    order = np.argsort(half[:, 1])
    return np.interp(y, half[order, 1], -half[order, 0])


def build_face(b: _Builder, pal):
    p = b.p
    half = face_contour_half(p)
    right = mirror(half)[::-1]
    cranium = curve([(0.99, -0.3), (0.8, -0.85), (0.0, -1.08), (-0.8, -0.85), (-0.99, -0.3)], n=6)
    skin_poly = np.vstack([half, right[1:], cranium[1:-1]])
    b.region(skin_poly, "skin", pal["skin"], Z_FACE)
    for side in (half, mirror(half)):
        b.line(side, 0.0042, "face", "contour", Z_FACE, taper(len(side), 0.25, 0.06, 0.15))

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
        poly = np.vstack([outer, [(0.85 * s, top + size), (0.85 * s, top)]])
        b.region(poly, "ears", pal["skin"], Z_EARS)
        b.line(outer, 0.0036, "face", "ears", Z_EARS, taper(len(outer), 0.2, 0.3, 0.2))
        b.line(inner, 0.0022, "face", "ears", Z_EARS, taper(len(inner), 0.3, 0.4, 0.1))


def build_neck_and_clothes(b, pal, half):
    p = b.p
    nw = p["neck_w"]
    collar_y = 1.25 + p["neck_len"]
    sw, drop = p["shoulder_w"], p["shoulder_drop"]
    bottom = 4.5
    # neck + shoulders as one skin shape; the clothes cover its lower part
    for s in (-1.0, 1.0):
        neck_line = curve([(nw * s, 0.9), (nw * 1.02 * s, collar_y - 0.2), (nw * 1.15 * s, collar_y)], n=8)
        b.line(neck_line, 0.0036, "face", "neck", Z_NECK, taper(len(neck_line), 0.0, 0.25, 0.3))
    shoulder_r = curve([(nw * 1.15, collar_y), (nw + 0.5, collar_y + 0.18 + 0.3 * drop),
                        (sw * 0.75, collar_y + 0.35 + drop * 0.8), (sw, collar_y + 0.7 + drop)], n=8)
    body = np.vstack([[(-nw, 0.8), (nw, 0.8)], shoulder_r, [(sw * 1.05, bottom), (-sw * 1.05, bottom)],
                      mirror(shoulder_r)[::-1]])
    b.region(body, "neck", pal["skin"], Z_NECK)
    # neck shadow under the chin, clamped to the neck
    chin_part = half[half[:, 0] > -nw * 1.2]
    chin_part = np.vstack([chin_part, mirror(chin_part)[::-1]])
    shadow = np.vstack([chin_part, (chin_part + (0.0, 0.16 + 0.1 * (p["chin_y"] - 1.3)))[::-1]])
    shadow[:, 0] = np.clip(shadow[:, 0], -nw * 1.1, nw * 1.1)
    b.region(shadow, "neck", pal["skin_shadow"], Z_NECK + 0.1, occludes=False)
    build_clothes(b, pal, shoulder_r, collar_y, bottom, sw)


def build_clothes(b, pal, shoulder_r, collar_y, bottom, sw):
    p = b.p
    nw = p["neck_w"]
    style = p.option("clothes")
    start = collar_y + 0.05
    if style == "round":
        neckline = curve([(-nw * 1.6, start), (0.0, start + 0.45), (nw * 1.6, start)], n=12)
    else:
        neckline = np.array([(-nw * 1.3, start), (0.0, start + 0.7), (nw * 1.3, start)])
    cloth_shoulder = shoulder_r[np.argmax(shoulder_r[:, 0] > nw * 1.6):]
    right_side = np.vstack([cloth_shoulder, [(sw * 1.05, bottom)]])
    poly = np.vstack([neckline, right_side, mirror(right_side)[::-1]])
    b.region(poly, "clothes", pal["clothes"], Z_CLOTHES)
    b.line(neckline, 0.0034, "face", "clothes", Z_CLOTHES, taper(len(neckline), 0.05, 0.05, 0.5))
    b.line(right_side[:-1], 0.0036, "face", "clothes", Z_CLOTHES, taper(len(right_side) - 1, 0.1, 0.0, 0.4))
    b.line(mirror(right_side[:-1]), 0.0036, "face", "clothes", Z_CLOTHES,
           taper(len(right_side) - 1, 0.1, 0.0, 0.4))
    if style == "sailor":
        for s in (-1.0, 1.0):
            flap = np.array([(nw * 1.3, start), (nw * 1.3 + 0.75, start + 0.25), (0.35, start + 1.2),
                             (0.0, start + 0.7)]) * (s, 1.0)
            b.region(flap, "clothes", pal["collar"], Z_CLOTHES + 0.1)
            b.line(flap[1:], 0.0034, "face", "clothes", Z_CLOTHES + 0.1, taper(3, 0.05, 0.05, 0.5))
            stripe = np.array([(nw * 1.3 + 0.62, start + 0.3), (0.3, start + 1.05)]) * (s, 1.0)
            b.line(stripe, 0.0022, "face", "clothes", Z_CLOTHES + 0.1, taper(2, 0.0, 0.0, 1.0))
        tie = np.array([(0.0, start + 0.8), (0.28, start + 1.05), (0.12, start + 1.5), (0.0, start + 1.2),
                        (-0.12, start + 1.5), (-0.28, start + 1.05)])
        b.region(tie, "clothes", pal["accent"], Z_CLOTHES + 0.2)
        b.line(tie, 0.003, "face", "clothes", Z_CLOTHES + 0.2, np.ones(len(tie)), closed=True)
    elif style == "shirt":
        for s in (-1.0, 1.0):
            flap = np.array([(nw * 1.15, start - 0.12), (nw * 1.35 + 0.15, start + 0.2), (0.28, start + 0.62),
                             (0.0, start + 0.7)]) * (s, 1.0)
            b.region(flap, "clothes", pal["collar"], Z_CLOTHES + 0.1)
            b.line(flap, 0.0032, "face", "clothes", Z_CLOTHES + 0.1, taper(4, 0.05, 0.05, 0.5))


def build_blush(b, pal):
    p = b.p
    size = 0.9 + 0.3 * p["blush_size"]
    for s in (-1.0, 1.0):
        cx, cy = 0.6 * s, 0.68
        b.region(ellipse(cx, cy, 0.2 * size, 0.085 * size, n=24), "skin", pal["blush"], Z_FACE + 0.2,
                 occludes=False)
        for k in range(3):
            x0 = cx + (k - 1) * 0.075 * size
            hatch = np.array([(x0 + 0.03, cy - 0.055), (x0 - 0.03, cy + 0.055)])
            b.line(hatch, 0.0022, "face", "blush", Z_FACE + 0.2, taper(2, 0.0, 1.0, 0.3))


# ----------------------------------------------------------------------------------------------------------------
# Eyes

def eye_shape(p):
    """Upper lid, full lower edge and lower lid line of the right-hand eye (outer corner at +x), eye-centred,
    before tilt: (upper, lower_edge, lower_lid)."""
    w, h = p["eye_w"], p["eye_h"]
    peak_x = (p["lid_peak"] - 0.5) * 0.35 * w
    flat = p["lid_flat"]
    upper = curve([(-0.5 * w, 0.08 * h), (-0.32 * w, -0.36 * h), (peak_x, -0.5 * h),
                   (0.3 * w, (-0.42 + 0.12 * flat) * h), (0.52 * w, 0.02 * h)], n=8)
    lower_edge = curve([(0.52 * w, 0.02 * h), (0.35 * w, 0.36 * h), (0.0, 0.5 * h), (-0.32 * w, 0.38 * h),
                        (-0.5 * w, 0.08 * h)], n=8)
    n = len(lower_edge)
    length = p["lower_lid"]
    lower_lid = lower_edge[int(0.08 * n): max(int((0.08 + 0.62 * length) * n), int(0.08 * n) + 3)]
    return upper, lower_edge, lower_lid


def _clamp_into(poly, top, bottom):
    """Clamp a shape vertically between two lid curves (x sorted ascending): an exact clip for the iris."""
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


def build_eyes(b, pal):
    p = b.p
    upper, lower_edge, lower_lid = eye_shape(p)
    w, h = p["eye_w"], p["eye_h"]
    opening = np.vstack([upper, lower_edge[1:-1]])
    iris_rx = 0.5 * p["iris_w"] * w
    iris_ry = iris_rx * 1.22
    icx, icy = p["gaze_x"] * w, (0.08 + p["gaze_y"]) * h
    iris = ellipse(icx, icy, iris_rx, iris_ry, n=40)
    iris_clip, iris_hidden = _clamp_into(iris, upper, lower_edge)

    def bands():
        yield iris_clip, pal["iris_dark"]
        mid = _clamp_into(ellipse(icx, icy + 0.2 * iris_ry, iris_rx * 0.86, iris_ry * 0.78, n=32), upper,
                          lower_edge)[0]
        yield mid, pal["iris"]
        light = _clamp_into(ellipse(icx, icy + 0.55 * iris_ry, iris_rx * 0.62, iris_ry * 0.4, n=24), upper,
                            lower_edge)[0]
        yield light, pal["iris_light"]
        pupil = _clamp_into(ellipse(icx, icy + 0.05 * iris_ry, iris_rx * p["pupil"], iris_ry * p["pupil"] * 1.1,
                                    n=24), upper, lower_edge)[0]
        yield pupil, pal["pupil"]

    lid_shadow = np.vstack([upper, (upper + (0.0, 0.16 * h))[::-1]])
    lid_shadow = _clamp_into(lid_shadow, upper, lower_edge)[0]
    hx = icx + (p["highlight_x"] - 0.5) * iris_rx * 0.9
    hy = icy - (0.25 + 0.35 * p["highlight_y"]) * iris_ry
    hr = iris_rx * (0.26 + 0.16 * p["highlight_size"])
    highlights = [ellipse(hx, hy, hr, hr * 1.15, n=20)]
    if p.option("highlights") == 2:
        highlights.append(ellipse(icx - (p["highlight_x"] - 0.5) * iris_rx * 0.8, icy + 0.5 * iris_ry,
                                  hr * 0.45, hr * 0.45, n=12))

    lash_pts = []
    for k in range(p.option("lashes")):
        t = 0.72 + 0.1 * k
        base = upper[min(int(t * len(upper)), len(upper) - 1)]
        tip = base + np.array([0.1 + 0.05 * k, -0.06 + 0.07 * k]) * (0.6 + 0.8 * p["lash_len"]) * w / 0.42
        mid = 0.5 * (base + tip) + np.array([0.0, -0.02])
        lash_pts.append(curve([base, mid, tip], n=4))
    crease = None
    if p["crease"] > 0.3:
        lift = (0.1 + 0.12 * p["crease"]) * h
        crease = upper[int(0.3 * len(upper)): int(0.92 * len(upper))] + (0.0, -lift)

    tilt = p["eye_tilt"]
    for s, label in ((-1.0, "eye_l"), (1.0, "eye_r")):
        centre = np.array([s * p["eye_x"], p["eye_y"]])

        def put(pts):
            return _rotate(np.asarray(pts), -tilt) * (s, 1.0) + centre

        b.region(put(opening), label, pal["sclera"], Z_FEATURES, occludes=False, depth=0.05)
        b.region(put(lid_shadow), label, pal["sclera_shadow"], Z_FEATURES + 0.01, occludes=False, depth=0.05)
        for k, (shape, color) in enumerate(bands()):
            b.region(put(shape), label, color, Z_FEATURES + 0.02 + 0.01 * k, occludes=False, depth=0.05)
        for k, shape in enumerate(highlights):
            b.region(put(shape), label, pal["highlight"], Z_FEATURES + 0.1 + 0.01 * k, occludes=False,
                     depth=0.05)
        weight = p["lid_weight"]
        prof = taper(len(upper), 0.35, 0.12, 0.15)
        b.line(put(upper), 0.0085 * weight, "eyes", "eyes", Z_FEATURES, prof, depth=0.05)
        b.line(put(lower_lid), 0.0026, "eyes", "eyes", Z_FEATURES, taper(len(lower_lid), 0.3, 0.3, 0.1),
               depth=0.05)
        for run in _runs(iris, ~iris_hidden):
            b.line(put(run), 0.0022, "eyes", "eyes", Z_FEATURES, taper(len(run), 0.15, 0.15, 0.3), depth=0.05)
        for lash in lash_pts:
            b.line(put(lash), 0.0045 * weight, "eyes", "eyes", Z_FEATURES, taper(len(lash), 0.0, 0.9, 0.1),
                   depth=0.05)
        if crease is not None:
            b.line(put(crease), 0.0022, "eyes", "eyes", Z_FEATURES, taper(len(crease), 0.4, 0.4, 0.05),
                   depth=0.05)


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
        prof = taper(len(pts), 0.1, 0.6, 0.25)
        width = 0.0034 * p["brow_weight"]
        b.line(pts, width, "brows", "brows", Z_FEATURES, prof)
        band = np.vstack([pts + (0, -0.035), (pts + (0, 0.035))[::-1]])
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
        b.line(pts, 0.0028, "nose", "nose", Z_FEATURES, taper(len(pts), 0.3, 0.3, 0.2), depth=0.2)
    elif style == "shadow":
        pts = curve([(0.3 * size, y + 0.05 * size), (0.0, y + 0.15 * size), (-0.3 * size, y + 0.05 * size)], n=6)
        b.line(pts, 0.0022, "nose", "nose", Z_FEATURES, taper(len(pts), 0.4, 0.4, 0.1), depth=0.2)
    else:
        ridge = curve([(0.05 * size, y - 2.0 * size), (0.25 * size, y - 0.8 * size), (0.3 * size, y - 0.1 * size)],
                      n=6)
        b.line(ridge, 0.002, "nose", "nose", Z_FEATURES, taper(len(ridge), 0.6, 0.3, 0.05), depth=0.2)
        tip = curve([(0.3 * size, y), (0.0, y + 0.12 * size), (-0.2 * size, y + 0.05 * size)], n=6)
        b.line(tip, 0.0026, "nose", "nose", Z_FEATURES, taper(len(tip), 0.3, 0.3, 0.2), depth=0.2)


def build_mouth(b, pal):
    p = b.p
    y, w = p["mouth_y"], 0.5 * p["mouth_w"]
    curve_amount = p["mouth_curve"]
    smile, open_ = p["smile"], p["open_mouth"]
    if not open_:
        lift = (0.03 + 0.06 * curve_amount) * (1.0 if smile else 0.15)
        pts = curve([(-w, y - lift), (0.0, y + 0.2 * lift), (w, y - lift)], n=12)
        band = np.vstack([pts + (0, -0.03), (pts + (0, 0.03))[::-1]])
        b.region(band, "mouth", pal["lips"], Z_FEATURES - 0.05, occludes=False, depth=0.1)
        b.line(pts, 0.0032, "mouth", "mouth", Z_FEATURES, taper(len(pts), 0.3, 0.3, 0.15), depth=0.1)
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
    opening = np.vstack([top, bottom[1:-1]])
    b.region(opening, "mouth", pal["mouth_inside"], Z_FEATURES, occludes=False, depth=0.1)
    tongue = _clamp_into(ellipse(0.0, y + hgt, 0.6 * w, 0.45 * hgt, n=20), top, bottom)[0]
    b.region(tongue, "mouth", pal["tongue"], Z_FEATURES + 0.01, occludes=False, depth=0.1)
    if p["teeth"]:
        teeth = np.vstack([top, (top + (0.0, 0.28 * hgt))[::-1]])
        b.region(_clamp_into(teeth, top, bottom)[0], "mouth", pal["teeth"], Z_FEATURES + 0.02, occludes=False,
                 depth=0.1)
        line = top[2:-2] + (0.0, 0.28 * hgt)
        b.line(_clamp_into(line, top, bottom)[0], 0.0016, "mouth", "mouth", Z_FEATURES,
               taper(len(line), 0.2, 0.2, 0.2), depth=0.1)
    b.line(top, 0.0034, "mouth", "mouth", Z_FEATURES, taper(len(top), 0.15, 0.15, 0.3), depth=0.1)
    b.line(bottom, 0.0026, "mouth", "mouth", Z_FEATURES, taper(len(bottom), 0.15, 0.15, 0.2), depth=0.1)


# ----------------------------------------------------------------------------------------------------------------
# Hair

def crown_arc(p, n=24, spread=0.12):
    """The hair silhouette over the head, from the right side to the left side."""
    radius = 1.0 + p["hair_volume"]
    t = np.linspace(-spread, np.pi + spread, n)
    return np.stack([radius * 1.04 * np.cos(t), -0.08 - radius * (1.0 + p["crown"]) * np.sin(t)], axis=1)


def bang_tips(p):
    """Tip and notch points of the fringe, left to right: tips[7], notches[8] (outer ones at the temples)."""
    cut = p.option("bangs")
    sweep = p["bang_sweep"]
    base_len = -0.42 + 0.34 * p["bang_len"]  # tip height (forehead -> just above the eyes)
    slots = np.linspace(-0.8, 0.8, 7)
    spacing = slots[1] - slots[0]
    xs = slots + (np.array([p[f"bang_x{i}"] for i in range(7)]) - 0.5) * 0.45 * spacing
    var = np.array([p[f"bang_l{i}"] for i in range(7)]) - 0.5
    spread = {"straight": 0.06, "swept": 0.14, "parted": 0.16, "spiky": 0.3}[cut]
    ys = base_len + var * spread - 0.12 * np.abs(xs) ** 2
    if cut == "swept":
        ys = ys + 0.14 * np.sign(sweep) * xs * (0.5 + 0.5 * abs(sweep))
        xs = xs + 0.08 * sweep
    if cut == "parted":
        part = p["parting"]
        ys = ys - 0.22 * np.exp(-((xs - part) / 0.3) ** 2)
    ys = np.minimum(ys, -0.04)
    depth = 0.25 + 0.45 * p["bang_depth"] + (0.2 if cut == "spiky" else 0.0)
    hairline = -0.78
    mids = np.concatenate([[-0.98], 0.5 * (xs[1:] + xs[:-1]), [0.98]])
    tip_between = np.concatenate([[ys[0]], 0.5 * (ys[1:] + ys[:-1]), [ys[-1]]])
    notch_y = hairline + (tip_between - hairline) * (1.0 - depth)
    notch_y[0] = notch_y[-1] = -0.15
    if cut == "parted":
        k = int(np.argmin(np.abs(mids - p["parting"])))
        notch_y[k] = hairline + 0.05
    return np.stack([xs, ys], axis=1), np.stack([mids, notch_y], axis=1)


def _lock_edge(a, tip, bulge, sweep):
    """A curved lock edge from a notch down to a tip, bowing by `bulge` and leaning with the sweep."""
    a, tip = np.asarray(a), np.asarray(tip)
    d = tip - a
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    mid = 0.5 * (a + tip) + normal * bulge + (sweep, 0.0)
    return curve([a, mid, tip], n=8)


def bangs_edge(p):
    """The fringe's lower edge, left temple to right temple, as (points, list of lock edges)."""
    tips, notches = bang_tips(p)
    cut = p.option("bangs")
    bulge = {"straight": 0.03, "swept": 0.05, "parted": 0.05, "spiky": 0.015}[cut]
    sweep = 0.06 * p["bang_sweep"] if cut in ("swept",) else 0.0
    edges, outline = [], [notches[:1]]
    for i in range(7):
        lean = sweep if cut != "parted" else 0.05 * np.sign(tips[i, 0] - p["parting"])
        left = _lock_edge(notches[i], tips[i], bulge, lean)
        right = _lock_edge(notches[i + 1], tips[i], -bulge, lean)
        edges += [left, right]
        outline += [left[1:], right[::-1][1:]]
    return np.vstack(outline), edges


def side_lock(p, s):
    """The lock hanging beside the cheek on side s: (outline polygon, outer edge, inner edge)."""
    style = p.option("hair_style")
    length = 0.5 + 1.0 * p["lock_len"] if style != "short" else 0.45 + 0.5 * p["lock_len"]
    width = 0.22 + 0.16 * p["lock_w"]
    bend = 0.08 * p["lock_curve"]
    radius = 1.0 + p["hair_volume"]
    tip = np.array([0.93 + bend, length])
    outer = curve([(radius * 1.02, -0.15), (radius * 1.02 + 0.02, 0.25), (tip[0] + 0.1, 0.6 * length + 0.1), tip],
                  n=8)
    inner = curve([(0.8, -0.45), (radius - width, 0.1), (tip[0] - 0.08 + bend, 0.7 * length), tip], n=8)
    outer, inner = outer * (s, 1.0), inner * (s, 1.0)
    return np.vstack([outer, inner[::-1]]), outer, inner


def _back_outline(p):
    """The back hair's silhouette below the crown: (right side down, bottom edge right->left)."""
    style = p.option("hair_style")
    radius = 1.0 + p["hair_volume"]
    L, flare = p["back_len"], p["back_flare"]
    if style == "long":
        bottom, width = 2.3 + 1.3 * L, radius + 0.25 + 0.45 * flare
    elif style == "short":
        bottom, width = 0.95 + 0.35 * L, radius + 0.02 + 0.08 * flare
    elif style in ("twin_tail", "drill"):
        bottom, width = 1.0 + 0.5 * L, radius + 0.05 + 0.12 * flare
    else:  # ponytail: hair gathered at the back, little falls down
        bottom, width = 0.55 + 0.3 * L, radius + 0.02
    side = curve([(radius * 1.04, -0.1), (radius * 1.06 + 0.03, 0.5 * bottom), (width, bottom)], n=8)
    tips_x = np.linspace(width, -width, 7)[1:-1]
    jitter = np.array([p[f"back_tip{i}"] for i in range(5)]) - 0.5
    tips_y = bottom - 0.12 - 0.18 * np.abs(tips_x) / width + 0.15 * jitter
    if style == "short":  # a bob turns inwards
        tips_y = bottom - 0.05 + 0.06 * jitter - 0.12 * (1 - np.abs(tips_x) / width)
    notches_x = np.linspace(width, -width, 6)
    notches_y = tips_y.mean() - 0.25 + 0.0 * notches_x
    zig = [(width, bottom)]
    for i in range(5):
        zig += [(0.5 * (notches_x[i] + tips_x[i]) * 1.0, notches_y[i] + 0.12), (tips_x[i], tips_y[i] + 0.12)]
    zig += [(-width, bottom)]
    return side, np.array(zig)


def build_hair(b, pal):
    p = b.p
    style = p.option("hair_style")
    arc = crown_arc(p)
    # back hair: silhouette behind everything
    side, zig = _back_outline(p)
    back_poly = np.vstack([side[::-1], arc[1:-1], mirror(side), zig[::-1][1:-1]])
    b.region(back_poly, "hair", pal["hair_back"], Z_BACK_HAIR)
    for outline in (side, mirror(side)):
        b.line(outline, 0.0038, "hair", "hair_back", Z_BACK_HAIR, taper(len(outline), 0.05, 0.2, 0.3))
    bottom_line = curve(zig, n=4)
    b.line(bottom_line, 0.0032, "hair", "hair_back", Z_BACK_HAIR, taper(len(bottom_line), 0.1, 0.1, 0.4))
    for i in range(4):  # strands falling on the back hair, beside the neck
        t = p[f"strand{i}"]
        s = -1.0 if i % 2 == 0 else 1.0
        x0 = s * (0.75 + 0.25 * t)
        y_end = zig[:, 1].max() - 0.2 - 0.3 * t
        if y_end > 0.6:
            strand = curve([(x0, 0.2), (s * (0.95 + 0.3 * t), 0.5 * (0.2 + y_end)), (s * (1.0 + 0.35 * t), y_end)],
                           n=6)
            b.line(strand, 0.0022, "hair", "hair_back", Z_BACK_HAIR, taper(len(strand), 0.3, 0.5, 0.05))

    if style in ("twin_tail", "drill"):
        for s in (-1.0, 1.0):
            build_tail(b, pal, s, drill=style == "drill")
    elif style == "ponytail":
        build_ponytail(b, pal)

    # front hair: crown + fringe + side locks, one shape in front of the face
    edge, lock_edges = bangs_edge(p)
    lock_l, outer_l, inner_l = side_lock(p, -1.0)
    lock_r, outer_r, inner_r = side_lock(p, 1.0)
    front = np.vstack([arc, outer_l, inner_l[::-1], edge, inner_r, outer_r[::-1]])
    b.region(front, "hair", pal["hair"], Z_FRONT_HAIR)
    b.line(arc, 0.0042, "hair", "hair_front", Z_FRONT_HAIR, taper(len(arc), 0.1, 0.1, 0.3))
    for lock_edge in lock_edges:
        b.line(lock_edge, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, taper(len(lock_edge), 0.1, 0.45, 0.1))
    for line in (outer_l, inner_l, outer_r, inner_r):
        b.line(line, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, taper(len(line), 0.15, 0.4, 0.1))
    # strand lines rising from the fringe's notches towards the crown
    tips, notches = bang_tips(p)
    top = np.array([0.0, -1.05 - p["crown"]])
    for i in range(1, 7):
        start = notches[i]
        reach = 0.35 + 0.3 * p[f"bang_l{i}"]
        end = start + (top - start) * reach
        strand = curve([start, 0.5 * (start + end) + (0.04 * np.sign(start[0]), 0.0), end], n=6)
        b.line(strand, 0.0022, "hair", "hair_front", Z_FRONT_HAIR, taper(len(strand), 0.0, 0.7, 0.05))
    # colour: sheen band on the crown, shadow of the fringe on the forehead
    sheen = _sheen_band(p)
    b.region(sheen, "hair", pal["hair_sheen"], Z_FRONT_HAIR + 0.05, occludes=False)
    shadow = np.vstack([edge, (edge + (0.04, 0.1))[::-1]])
    b.region(shadow, "skin", pal["skin_shadow"], Z_FACE + 0.1, occludes=False)


def _sheen_band(p):
    radius = 1.0 + p["hair_volume"]
    t = np.linspace(0.35, np.pi - 0.35, 14)
    upper = np.stack([0.82 * radius * np.cos(t), -0.08 - 0.82 * radius * (1 + p["crown"]) * np.sin(t)], axis=1)
    zig = np.where(np.arange(14) % 2 == 0, 0.7, 0.77)
    lower = np.stack([zig * radius * np.cos(t), -0.08 - zig * radius * (1 + p["crown"]) * np.sin(t)], axis=1)
    return np.vstack([upper, lower[::-1]])


def build_tail(b, pal, s, drill):
    p = b.p
    radius = 1.0 + p["hair_volume"]
    ay = -0.55 - 0.35 * p["tail_height"]
    attach = np.array([radius * 0.82, ay])
    length = 1.8 + 1.4 * p["tail_len"]
    width = 0.32 + 0.25 * p["tail_w"]
    out = 0.5 + 0.6 * p["tail_spread"]
    tip = attach + (out, length)
    if not drill:
        outer = curve([attach + (0.05, -0.05), attach + (out * 0.8 + width, 0.3 * length),
                       attach + (out + 0.6 * width, 0.7 * length), tip], n=8)
        inner = curve([attach + (-0.05, 0.1), attach + (out * 0.5, 0.35 * length),
                       attach + (out * 0.85 - 0.2 * width, 0.75 * length), tip], n=8)
        poly = np.vstack([outer, inner[::-1]]) * (s, 1.0)
        b.region(poly, "hair", pal["hair"], Z_TAILS)
        b.line(outer * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAILS, taper(len(outer), 0.05, 0.3, 0.1))
        b.line(inner * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAILS, taper(len(inner), 0.05, 0.3, 0.1))
        strand = curve([attach + (0.05, 0.15), attach + (out * 0.7 + 0.2 * width, 0.4 * length),
                        attach + (out * 0.95, 0.85 * length)], n=8) * (s, 1.0)
        b.line(strand, 0.0022, "hair", "hair_back", Z_TAILS, taper(len(strand), 0.2, 0.4, 0.05))
    else:
        curls = 4
        centre = [attach + (out * (k / curls) ** 0.8, length * 0.85 * k / curls) for k in range(curls + 1)]
        for k in range(curls):
            a, c = centre[k], centre[k + 1]
            wk = width * (1.0 - 0.15 * k) * (0.8 if k == 0 else 1.0)
            blob = ellipse(*(0.5 * (a + c)), wk, 0.5 * np.hypot(*(c - a)) + 0.06, n=28,
                           angle=np.arctan2(c[1] - a[1], c[0] - a[0]) - np.pi / 2)
            b.region(blob * (s, 1.0), "hair", pal["hair"], Z_TAILS + 0.01 * k)
            b.line(blob * (s, 1.0), 0.0036, "hair", "hair_back", Z_TAILS + 0.01 * k, np.ones(len(blob)),
                   closed=True)
            spiral = curve([0.5 * (a + c) + (-wk * 0.9, -0.05), 0.5 * (a + c) + (0.0, 0.06),
                            0.5 * (a + c) + (wk * 0.9, 0.12)], n=6) * (s, 1.0)
            b.line(spiral, 0.0024, "hair", "hair_back", Z_TAILS + 0.01 * k, taper(len(spiral), 0.2, 0.3, 0.1))
    tie = ellipse(attach[0] * s, attach[1], 0.09, 0.12, n=16)
    b.region(tie, "hair", pal["tie"], Z_TAILS + 0.1)
    b.line(tie, 0.003, "hair", "hair_back", Z_TAILS + 0.1, np.ones(len(tie)), closed=True)


def build_ponytail(b, pal):
    p = b.p
    s = 1.0 if p["tail_side"] >= 0 else -1.0
    radius = 1.0 + p["hair_volume"]
    length = 1.6 + 1.3 * p["tail_len"]
    width = 0.3 + 0.25 * p["tail_w"]
    out = 0.35 + 0.5 * p["tail_spread"] + 0.2 * abs(p["tail_side"])
    attach = np.array([0.5, -0.95 - 0.2 * p["tail_height"]])
    outer = curve([attach, (radius + out, -0.5), (radius + out + 0.1, 0.4 * length), (radius + 0.5 * out, length)],
                  n=8)
    inner = curve([(radius * 0.9, -0.2), (radius + 0.1, 0.3 * length), (radius + 0.5 * out, length)], n=8)
    poly = np.vstack([outer, inner[::-1]]) * (s, 1.0)
    b.region(poly, "hair", pal["hair_back"], Z_TAIL_BACK)
    b.line(outer * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAIL_BACK, taper(len(outer), 0.05, 0.3, 0.1))
    b.line(inner * (s, 1.0), 0.0036, "hair", "hair_back", Z_TAIL_BACK, taper(len(inner), 0.05, 0.3, 0.1))
    strand = curve([(radius + 0.5 * out, -0.2), (radius + 0.55 * out + 0.05, 0.4 * length),
                    (radius + 0.5 * out, 0.85 * length)], n=6) * (s, 1.0)
    b.line(strand, 0.0022, "hair", "hair_back", Z_TAIL_BACK, taper(len(strand), 0.2, 0.4, 0.05))


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
        rx, ry = radius * (1.08 + 0.2 * size), 0.42 + 0.1 * size
        cy = top_y + 0.3
        dome = ellipse(0.15 * p["hat_tilt"], cy, rx, ry, n=48, angle=tilt)
        band = curve([(-radius * 0.95, cy + 0.25), (0.0, cy + 0.38), (radius * 0.95, cy + 0.25)], n=8)
        poly = np.vstack([dome])
        b.region(poly, "accessory", pal["hat"], Z_HAT)
        b.line(dome, 0.004, "accessories", "accessories", Z_HAT, np.ones(len(dome)), closed=True)
        b.line(band, 0.0028, "accessories", "accessories", Z_HAT, taper(len(band), 0.2, 0.2, 0.3))
        nub = ellipse(0.15 * p["hat_tilt"] + 0.1, cy - ry - 0.02, 0.05, 0.07, n=12, angle=tilt)
        b.region(nub, "accessory", pal["hat"], Z_HAT + 0.01)
        b.line(nub, 0.003, "accessories", "accessories", Z_HAT + 0.01, np.ones(len(nub)), closed=True)
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
        band = np.vstack([curve(band_lo, n=8), curve(band_hi, n=8)[::-1]])
        b.region(band, "accessory", pal["hat_band"], Z_HAT + 0.02)
        b.line(brim, 0.004, "accessories", "accessories", Z_HAT, np.ones(len(brim)), closed=True)
        b.line(crown, 0.004, "accessories", "accessories", Z_HAT + 0.01, taper(len(crown), 0.05, 0.05, 0.5))
        for edge in (band_lo, band_hi):
            line = curve(edge, n=8)
            b.line(line, 0.0026, "accessories", "accessories", Z_HAT + 0.02, taper(len(line), 0.1, 0.1, 0.5))


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
        b.line(shape, 0.0034, "accessories", "accessories", Z_RIBBON, np.ones(len(shape)), closed=True)
        fold = _rotate(np.array([(0.05 * s, 0.0), (0.22 * s, -0.02)]) * size, -rot) + centre
        b.line(fold, 0.0022, "accessories", "accessories", Z_RIBBON, taper(2, 0.0, 1.0, 0.2))
    knot = _rotate(ellipse(0.0, 0.0, 0.07 * size, 0.09 * size, n=14), -rot) + centre
    b.region(knot, "accessory", pal["ribbon"], Z_RIBBON + 0.01)
    b.line(knot, 0.0032, "accessories", "accessories", Z_RIBBON + 0.01, np.ones(len(knot)), closed=True)


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
        ring = np.vstack([frame, frame[:1], (frame[:1] - (s * centre_x, centre_y)) * 0.93 + (s * centre_x, centre_y),
                          ((frame - (s * centre_x, centre_y)) * 0.93 + (s * centre_x, centre_y))[::-1]])
        b.region(ring, "accessory", pal["glasses"], Z_GLASSES, occludes=False, depth=0.15)
        b.line(frame, 0.0032, "accessories", "accessories", Z_GLASSES, np.ones(len(frame)), closed=True,
               depth=0.15)
        temple = np.array([(s * (centre_x + rx), centre_y - 0.6 * ry), (s * 1.02, centre_y - 0.1)])
        b.line(temple, 0.003, "accessories", "accessories", Z_GLASSES, taper(2, 0.0, 0.5, 0.3), depth=0.1)
    bridge = curve([(-centre_x + rx * 0.95, centre_y - 0.2 * ry), (0.0, centre_y - 0.35 * ry),
                    (centre_x - rx * 0.95, centre_y - 0.2 * ry)], n=6)
    b.line(bridge, 0.003, "accessories", "accessories", Z_GLASSES, taper(len(bridge), 0.0, 0.0, 1.0), depth=0.15)


# ----------------------------------------------------------------------------------------------------------------

def build_portrait(params: Params) -> Portrait:
    b = _Builder(params)
    pal = palette.make_palette(params)
    b.regions.extend(palette.background_regions(params))
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
