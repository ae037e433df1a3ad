"""Guidance layers are drawn in each part's own box: the same bytes as drawing the whole crop, for less."""

import time

import numpy as np
import pytest

from anisketch import layers as L
from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.params import sample_params
from anisketch.engine.raster import render_lines


def _full_crop(strokes, side, mode):
    """What guidance_layers drew before: each part on a side x side raster, then cropped to its ink."""
    if mode == "detail":
        layer = L.ink_layer(render_lines(strokes, side), L.INK_RGB, "Guidance", None)
        return [layer] if layer else []
    out = []
    for group in P.GROUPS:
        part = [s for s in strokes if s.group == group]
        layer = L.ink_layer(render_lines(part, side), L.GROUP_COLORS[group], f"Guidance: {group}", group) if part else None
        if layer:
            out.append(layer)
    return out


@pytest.mark.parametrize("side", [256, 512, 2048])
@pytest.mark.parametrize("mode", ["rough", "detail"])
def test_part_boxes_draw_the_same_bytes_as_the_whole_crop(side, mode):
    for seed in (1, 7):
        strokes = build_portrait(sample_params(seed)).strokes
        old, new = _full_crop(strokes, side, mode), L.guidance_layers(strokes, side, mode)
        assert [(a.name, a.x, a.y, a.rgba.shape) for a in old] == [(b.name, b.x, b.y, b.rgba.shape) for b in new]
        assert all(np.array_equal(a.rgba, b.rgba) for a, b in zip(old, new))


def test_drawing_time_at_a_2048_px_crop_is_printed():
    strokes = build_portrait(sample_params(3)).strokes
    for name, draw in (("whole crop", _full_crop), ("part boxes", L.guidance_layers)):
        draw(strokes, 2048, "rough")
        started = time.perf_counter()
        for _ in range(3):
            draw(strokes, 2048, "rough")
        print(f"rough guidance layers at 2048 px, {name}: {(time.perf_counter() - started) / 3 * 1e3:.1f} ms")
