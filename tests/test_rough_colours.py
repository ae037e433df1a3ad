"""Rough guidance colours stay apart from the inks artists sketch in (graphite and blue pencil)."""

import colorsys

from anisketch.layers import GROUP_COLORS

SKETCH_INKS = {"graphite": (40, 40, 45), "blue pencil": (30, 110, 235), "light blue": (90, 160, 230),
               "non-photo blue": (120, 190, 230)}


def _hue_sat(rgb):
    h, _, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return h * 360, s


def test_rough_part_colours_are_saturated_and_never_blue():
    for part, rgb in GROUP_COLORS.items():
        hue, saturation = _hue_sat(rgb)
        print(f"{part}: rgb {rgb} hue {hue:.0f} saturation {saturation:.2f}")
        assert saturation > 0.5, f"{part} is nearly grey, like graphite"
        assert not 185 <= hue <= 255, f"{part} is blue, like a blue-pencil sketch"
    for ink, rgb in SKETCH_INKS.items():
        hue, _ = _hue_sat(rgb)
        nearest = min(min(abs(hue - _hue_sat(c)[0]), 360 - abs(hue - _hue_sat(c)[0])) for c in GROUP_COLORS.values())
        print(f"{ink}: nearest part hue {nearest:.0f} degrees away")


def test_rough_part_colours_are_told_apart():
    colours = list(GROUP_COLORS.values())
    assert len(set(colours)) == len(colours)
