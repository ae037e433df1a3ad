"""The production layers of a colour render (render/layered.py): each property the artist relies on, tested on
inputs where it can fail."""

import numpy as np
import pytest

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render as render_portrait
from anisketch.render.dabs import Dab
from anisketch.render.layered import (FLATS, HIGHLIGHTS, LINE_ART, SHADOWS, composite, faithful_production,
                                      multiply_color, refined_production, screen_color)

SKIN, HAIR, RED = (250, 225, 205), (90, 60, 40), (220, 30, 40)


def ring(side=128, radius=30, width=3):
    """A closed circle of ink."""
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(yy - side / 2, xx - side / 2)
    return np.where(np.abs(r - radius) <= width / 2, 255, 0).astype(np.uint8), r


def test_multiply_and_screen_colours_give_back_the_tone():
    base, shadow, light = np.array([200, 150, 100]), np.array([150, 100, 80]), np.array([230, 200, 170])
    under = np.broadcast_to(np.append(base, 255).astype(np.uint8), (1, 1, 4))
    for tone, color, blend in ((shadow, multiply_color(shadow, base), "multiply"),
                               (light, screen_color(light, base), "screen")):
        layer = np.append(np.rint(color), 255).astype(np.uint8).reshape(1, 1, 4)
        assert np.abs(composite([(under, "normal"), (layer, blend)])[0, 0] - tone).max() <= 2


def test_no_colour_crosses_a_closed_line_and_the_flats_reach_under_it():
    """The prediction's colour spills 5 px over the ring at 512 px (as a 256 px network upsampled does): the flats
    keep each colour on its side of the line, and every line pixel is covered (no white seam)."""
    darkness, r = ring(side=512, radius=120, width=5)
    fill = np.where((r < 127.5)[..., None], RED, SKIN).astype(np.uint8)  # red leaks past the ring's outer edge
    layers = faithful_production(fill, darkness, None, [])
    flats = layers[FLATS]
    assert (flats[..., 3] == 255).all()
    red = np.all(flats[..., :3] == flats[256, 256, :3], axis=2)
    assert tuple(flats[256, 256, :3]) != tuple(flats[5, 5, :3])
    assert not red[r > 123].any(), "the inside colour crossed the line"
    assert red[r < 117].all(), "the inside is not one flat colour"


def test_a_leaking_gap_the_band_cannot_close_keeps_the_prediction_edge():
    """A face region joined to the background by a wide gap must not be painted the background's colour."""
    darkness, r = ring(width=3)
    darkness[:, 60:68] = 0  # a gap 8 px wide at the top and the bottom
    fill = np.where((r < 30)[..., None], SKIN, (200, 230, 240)).astype(np.uint8)
    flats = faithful_production(fill, darkness, None, [])[FLATS]
    assert np.abs(flats[64, 64, :3].astype(int) - SKIN).max() <= 3


def test_a_dab_sets_its_flat_exactly_and_shading_follows_it():
    """A hair dab recolours the whole hair flat (both locks) exactly, and the hair's shadow multiplies that colour.
    (The network has seen the dab: it paints near its colour, not exactly it.)"""
    side = 128
    darkness = np.zeros((side, side), np.uint8)
    darkness[:, 63:65] = 255  # two locks side by side
    fill = np.zeros((side, side, 3), np.uint8)
    fill[:] = HAIR
    shadow_tone = (60, 38, 25)
    fill[40:60, 10:30] = shadow_tone  # a cel shadow inside the left lock
    mask = np.zeros((side, side), bool)
    mask[90:100, 90:100] = True  # a dab on the right lock
    wanted = (110, 70, 45)
    layers = faithful_production(fill, darkness, None, [Dab(wanted, "", mask)])
    flats = layers[FLATS]
    assert np.abs(flats[95, 95, :3].astype(int) - wanted).max() <= 1
    assert np.abs(flats[50, 20, :3].astype(int) - wanted).max() <= 1  # the other lock too, under its shadow
    assert layers[SHADOWS][50, 20, 3] == 255 and layers[SHADOWS][95, 95, 3] == 0
    shown = composite([(flats, "normal"), (layers[SHADOWS], "multiply")])
    expected = np.array(wanted) * np.array(shadow_tone) / np.array(HAIR)
    assert np.abs(shown[50, 20] - expected).max() <= 4


@pytest.mark.parametrize("seed", [3, 11])
def test_refined_layers_recompose_the_engine_portrait(seed):
    """Flats, multiply shadows, screen highlights and the line art, composed, give back the engine's own colour
    picture; the flats hold no shading tone; shadows and highlights exist (fringe, neck, sheen, catch-lights)."""
    portrait = build_portrait(P.sample_params(seed))
    side = 256
    truth = render_portrait(portrait, side)
    layers = refined_production(portrait, side, background_hinted=True)
    assert list(layers) == [FLATS, SHADOWS, HIGHLIGHTS, LINE_ART]
    shown = composite([(layers[FLATS], "normal"), (layers[SHADOWS], "multiply"),
                       (layers[HIGHLIGHTS], "screen"), (layers[LINE_ART], "normal")])
    error = np.abs(shown - truth["color"]).max(axis=2)
    assert np.mean(error <= 4) > 0.97, np.mean(error <= 4)
    assert (layers[SHADOWS][..., 3] > 0).mean() > 0.005 and (layers[HIGHLIGHTS][..., 3] > 0).mean() > 0.001
    assert (layers[FLATS][..., 3] == 255).mean() > 0.99  # a hinted background: opaque where the engine paints
