"""The features: eyes (lids, iris layers, lashes), brows, nose, mouth."""

from __future__ import annotations

import numpy as np

from anisketch.engine.builder import Z_EYES, Z_FEATURES, Builder
from anisketch.engine.curves import curve, ellipse, rotate, split_rows
from anisketch.engine.params import Params

def eye_shape(p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def _clamp_into(poly: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clamp a shape vertically between two lid curves: an exact clip for the iris. Returns (points, clamped)."""
    ot, ob = np.argsort(top[:, 0]), np.argsort(bottom[:, 0])
    x = np.clip(poly[:, 0], top[ot[0], 0], top[ot[-1], 0])
    y_top = np.interp(x, top[ot, 0], top[ot, 1])
    y_bot = np.interp(x, bottom[ob, 0], bottom[ob, 1])
    y = np.minimum(np.maximum(poly[:, 1], y_top), y_bot)
    clamped = (y != poly[:, 1]) | (x != poly[:, 0])
    return np.stack([x, y], axis=1), clamped


def _iris_layers(p: Params, upper: np.ndarray, lower_edge: np.ndarray,
                 pal: dict) -> tuple[list, np.ndarray, np.ndarray]:
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


def build_eyes(b: Builder, pal: dict) -> None:
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
    eye = rotate(np.concatenate(shapes), -p["eye_tilt"])
    # ... then placed twice, mirrored: both outer corners tilt alike
    for s, label in ((-1.0, "eye_l"), (1.0, "eye_r")):
        placed = np.empty_like(eye)
        placed[:, 0] = eye[:, 0] * s + s * p["eye_x"]
        placed[:, 1] = eye[:, 1] + p["eye_y"]
        pieces = split_rows(placed, counts)
        for (method, _, args, kw), shape in zip(parts, pieces):
            getattr(b, method)(shape, label, *args, depth=0.05, **kw)
        for (_, width, taper), shape in zip(ink, pieces[len(parts):]):
            b.line(shape, width, "eyes", "eyes", Z_EYES, taper, depth=0.05)


def _runs(pts: np.ndarray, keep: np.ndarray) -> list[np.ndarray]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    return [pts[a:z] for a, z in zip(edges[::2], edges[1::2]) if z - a >= 3]


# ----------------------------------------------------------------------------------------------------------------
# Brows, nose, mouth

def build_brows(b: Builder, pal: dict) -> None:
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


def build_nose(b: Builder, pal: dict) -> None:
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


def build_mouth(b: Builder, pal: dict) -> None:
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
