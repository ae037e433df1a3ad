"""Cel colours derived from the colour parameters: base tones, one shadow tone each, sheen and highlights.

Everything here is a function of the params' colours only, so colours never change strokes.
"""

from __future__ import annotations

import colorsys

import numpy as np

from anisketch.engine.params import LABEL

INK = (48, 32, 40)  # line colour: a warm near-black, as anime line art is rarely pure black


def _u8(rgb):
    r, g, b = rgb
    return (int(round(255 * min(1.0, max(0.0, float(r))))), int(round(255 * min(1.0, max(0.0, float(g))))),
            int(round(255 * min(1.0, max(0.0, float(b))))))


def shade(rgb, value=0.78, sat=1.15, hue_shift=0.015):
    """A cel shadow tone: darker, a little more saturated, hue nudged towards purple/red as artists do."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    h = (h - hue_shift) % 1.0 if h > 0.5 or h < 0.1 else (h + hue_shift) % 1.0
    return colorsys.hsv_to_rgb(h, min(1.0, s * sat + 0.04), v * value)


def lighten(rgb, amount):
    return tuple(c + (1.0 - c) * amount for c in rgb)


def mix(a, b, t):
    return tuple((1 - t) * x + t * y for x, y in zip(a, b))


def skin_shadow(skin):
    """The skin's shadow tone (RGB floats in [0, 1]): a light, warm shade."""
    return shade(skin, 0.9, 1.35)


def hair_sheen(hair):
    """The hair's sheen band (RGB floats in [0, 1]): the hair lightened towards white."""
    return lighten(hair, 0.35)


def make_palette(p) -> dict:
    skin, hair, iris, clothes = p["skin_color"], p["hair_color"], p["iris_color"], p["clothes_color"]
    hair_shadow = shade(hair, 0.8)
    return {
        "skin": _u8(skin),
        "skin_shadow": _u8(skin_shadow(skin)),
        "blush": _u8(mix(skin, (0.98, 0.45, 0.5), 0.35)),
        "lips": _u8(skin),
        "hair": _u8(hair),
        "hair_back": _u8(mix(hair, hair_shadow, 0.6)),
        "hair_shadow": _u8(hair_shadow),
        "hair_sheen": _u8(hair_sheen(hair)),
        "tie": _u8(shade(p["ribbon_color"] if p["ribbon"] else (0.85, 0.25, 0.3), 0.9)),
        "brow": _u8(shade(hair, 0.7)),
        "sclera": (255, 255, 255),
        "sclera_shadow": _u8(mix((1.0, 1.0, 1.0), shade(skin, 0.85), 0.45)),
        "iris_dark": _u8(shade(iris, 0.55)),
        "iris": _u8(iris),
        "iris_light": _u8(lighten(iris, 0.45)),
        "pupil": _u8(shade(iris, 0.25)),
        "highlight": (255, 255, 255),
        "mouth_inside": _u8((0.55, 0.18, 0.2)),
        "tongue": _u8((0.93, 0.5, 0.52)),
        "teeth": (255, 255, 255),
        "clothes": _u8(clothes),
        "collar": _u8((0.22, 0.25, 0.45)) if p.option("clothes") == "sailor" else _u8((0.97, 0.97, 0.97)),
        "accent": _u8((0.85, 0.2, 0.25)),
        "hat": _u8(p["hat_color"]),
        "hat_band": _u8(shade(p["hat_color"], 0.6)),
        "ribbon": _u8(p["ribbon_color"]),
        "glasses": INK,
    }


def _trace(rgb, value=0.36, sat=1.3, ceiling=0.42):
    """A line colour traced from a fill: the fill's hue, dark enough to read as ink on any colour."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    return _u8(colorsys.hsv_to_rgb(h, min(1.0, s * sat + 0.1), min(v * value, ceiling)))


def line_colors(p) -> dict:
    """Ink colour of each stroke group in the colour image ("colour trace", as cel animation does): hair lines
    in a dark hair tone, skin lines in a dark warm brown, the eyes' lash lines nearly black."""
    skin, hair = p["skin_color"], p["hair_color"]
    return {
        "face": _trace(skin, 0.4),
        "eyes": INK,
        "brows": _trace(hair, 0.45),
        "nose": _trace(skin, 0.5),
        "mouth": _trace(mix(skin, (0.8, 0.3, 0.3), 0.5), 0.45),
        "hair": _trace(hair),
        "accessories": INK,
    }


_SQUARE = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], np.float64)
_SQUARE.flags.writeable = False
_BANDS: dict[int, list] = {}  # bands -> their rectangles (the same for every portrait; never written to)


def _band_rectangles(bands):
    if bands not in _BANDS:
        rectangles = []
        for k in range(bands):
            y0, y1 = k / bands, min(1.0, (k + 1.5) / bands)  # overlap: no anti-aliased seams
            rectangles.append(np.array([(0, y0), (1, y0), (1, y1), (0, y1)], np.float64))
            rectangles[-1].flags.writeable = False
        _BANDS[bands] = rectangles
    return _BANDS[bands]


def background_regions(p, bands=16):
    """The background as canvas-space regions: flat, or a gentle vertical gradient in horizontal bands (each
    band one step of a few levels, too small to see)."""
    base = p["bg_color"]
    if p.option("background") == "flat":
        return [(_SQUARE, LABEL["background"], _u8(base), -1.0)]
    top, bottom = lighten(base, 0.3), shade(base, 0.95, 1.05, 0.0)
    return [(band, LABEL["background"], _u8(mix(top, bottom, (k + 0.5) / bands)), -1.0 + 0.001 * k)
            for k, band in enumerate(_band_rectangles(bands))]
