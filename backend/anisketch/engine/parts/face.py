"""The face: contour, ears, neck, shoulders, clothes, blush."""

from __future__ import annotations

import numpy as np

from anisketch.engine.builder import Z_CLOTHES, Z_EARS, Z_FACE, Z_NECK, Builder
from anisketch.engine.curves import SOLID, curve, ellipse, mirror
from anisketch.engine.params import Params

def face_contour_half(p: Params) -> np.ndarray:
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


def build_face(b: Builder, pal: dict) -> np.ndarray:
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


def build_ears(b: Builder, pal: dict) -> None:
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


def build_neck_and_clothes(b: Builder, pal: dict, half: np.ndarray) -> None:
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


def build_clothes(b: Builder, pal: dict, shoulder: np.ndarray, bottom: float) -> None:
    """Clothes lie a hair above the skin's shoulder line (so it hides that line), with a neckline and collar."""
    p = b.p
    nw = p["neck_w"]
    style = p.option("clothes")
    sw = shoulder[-1, 0]
    x0 = nw * (1.75 if style == "round" else 1.45)

    def on_shoulder(x: float | np.ndarray) -> np.ndarray:
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


def build_blush(b: Builder, pal: dict) -> None:
    p = b.p
    size = 0.9 + 0.3 * p["blush_size"]
    for s in (-1.0, 1.0):
        cx, cy = 0.6 * s, 0.68
        b.detail(ellipse(cx, cy, 0.2 * size, 0.085 * size, n=24), "skin", pal["blush"], Z_FACE + 0.2)
        for k in range(3):
            x0 = cx + (k - 1) * 0.075 * size
            hatch = np.array([(x0 + 0.03, cy - 0.055), (x0 - 0.03, cy + 0.055)])
            b.line(hatch, 0.0022, "face", "blush", Z_FACE + 0.2, (0.0, 1.0, 0.3))
