"""Accessories: hat, ribbon, glasses.

Accessories: placed on a fixed, typical head (not on the hair's params) so that hair and accessories stay independent groups; the accessories hide what they cover."""

from __future__ import annotations

import numpy as np

from anisketch.engine.builder import Z_GLASSES, Z_HAT, Z_RIBBON, Builder
from anisketch.engine.curves import SOLID, curve, ellipse, rotate

HAT_HEAD_RADIUS = 1.13
HAT_HEAD_CROWN = 0.07

def build_hat(b: Builder, pal: dict) -> None:
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
        outline = rotate(np.concatenate([top, under[1:-1]]) - (0, cy), -tilt) + (0, cy)
        band = rotate(curve(band_r, n=8) - (0, cy + 0.09), -tilt) + (0, cy)
        b.region(outline, "accessory", pal["hat"], Z_HAT)
        b.line(outline, 0.004, "accessories", "accessories", Z_HAT, SOLID, closed=True)
        b.line(band, 0.0028, "accessories", "accessories", Z_HAT, (0.2, 0.2, 0.3))
        nub = rotate(ellipse(shift + 0.1, cy - ry - 0.03, 0.05, 0.07, n=12) - (0, cy), -tilt) + (0, cy)
        b.region(nub, "accessory", pal["hat"], Z_HAT + 0.01)
        b.line(nub, 0.003, "accessories", "accessories", Z_HAT + 0.01, SOLID, closed=True)
    else:  # sun hat: a wide brim and a rounded crown with a ribbon band
        brim_y = top_y + 0.55
        brim = ellipse(0.0, brim_y, radius * (1.6 + 0.4 * size), 0.38, n=56, angle=tilt)
        crown = curve([(-radius * 0.92, brim_y), (-radius * 0.8, brim_y - 0.55), (0.0, brim_y - 0.72),
                       (radius * 0.8, brim_y - 0.55), (radius * 0.92, brim_y)], n=8)
        crown = rotate(crown - (0, brim_y), -tilt) + (0, brim_y)
        band_lo = rotate(np.array([(-radius * 0.93, 0.0), (0.0, 0.06), (radius * 0.93, 0.0)]), -tilt) + (0, brim_y)
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


def build_ribbon(b: Builder, pal: dict) -> None:
    p = b.p
    radius = HAT_HEAD_RADIUS
    angle = np.pi / 2 + 0.9 * p["ribbon_pos"]  # 0 = on top, +-1 = towards a side
    size = 0.75 + 0.5 * p["ribbon_size"]
    centre = np.array([radius * 0.95 * np.cos(angle), -0.08 - radius * 0.95 * (1 + HAT_HEAD_CROWN) * np.sin(angle)])
    rot = angle - np.pi / 2
    loop = np.array([(0.0, 0.0), (0.18, -0.16), (0.36, -0.12), (0.38, 0.1), (0.2, 0.14)]) * size
    for s in (-1.0, 1.0):
        shape = curve(loop * (s, 1.0), n=6, closed=True)
        shape = rotate(shape, -rot) + centre
        b.region(shape, "accessory", pal["ribbon"], Z_RIBBON)
        b.line(shape, 0.0034, "accessories", "accessories", Z_RIBBON, SOLID, closed=True)
        fold = rotate(np.array([(0.05 * s, 0.0), (0.22 * s, -0.02)]) * size, -rot) + centre
        b.line(fold, 0.0022, "accessories", "accessories", Z_RIBBON, (0.0, 1.0, 0.2))
    knot = rotate(ellipse(0.0, 0.0, 0.07 * size, 0.09 * size, n=14), -rot) + centre
    b.region(knot, "accessory", pal["ribbon"], Z_RIBBON + 0.01)
    b.line(knot, 0.0032, "accessories", "accessories", Z_RIBBON + 0.01, SOLID, closed=True)


def build_glasses(b: Builder, pal: dict) -> None:
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
