"""The framing evaluation's crop rule (eval/framing.crop_rule) is the plugin's (plugin/anisketch_krita/region.py):
the same square for the same ink bounds on the evaluation's canvas."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from anisketch.engine.geometry import Stroke
from anisketch.eval import framing

REGION_PY = Path(__file__).resolve().parents[1] / "plugin" / "anisketch_krita" / "region.py"


def plugin_region():
    """region.py alone (pure geometry), without the plugin package's Krita start-up."""
    spec = importlib.util.spec_from_file_location("anisketch_region_under_test", REGION_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def test_the_evaluations_crop_rule_is_the_plugins():
    region = plugin_region()
    assert (framing.CROP_MARGIN, framing.CROP_MIN, framing.CROP_MAX) == (region.MARGIN, region.MIN_SIDE,
                                                                          region.MAX_SIDE)
    rng = np.random.default_rng(14)
    for _ in range(300):  # small and large sketches anywhere, some past the canvas edges
        w, h = framing.CANVAS
        size = rng.uniform(5, 2500)
        corner = rng.uniform([-200, -200], [w, h])
        points = (corner + rng.random((20, 2)) * size).astype(np.float32)
        strokes = [Stroke(points, np.ones(20, np.float32), "face", 0)]
        x, y, side = framing.crop_rule(strokes)
        # the plugin reads the ink's bounds on the canvas (canvas.sketch_bounds: the layer's bounds within it)
        x0, y0 = np.floor(np.clip(points, 0, (w, h)).min(axis=0)).astype(int)
        x1, y1 = np.ceil(np.clip(points, 0, (w, h)).max(axis=0)).astype(int)
        box = region.square_around(region.Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0)), w, h)
        assert (box.x, box.y, box.w, box.h) == (x, y, side, side), (x0, y0, x1, y1)
