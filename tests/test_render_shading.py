"""Shading as an illustrator draws it (issue 19): shadows where light would not reach (under the fringe, under the
chin, on the neck), as cel shapes, not blur, and a sheen on the hair. Both render modes of the shipped models on unseen portraits, judged by
render/layers_eval's measures, and the measures shown to fail on shadows misplaced or blurred."""

import cv2
import numpy as np
import pytest

from anisketch.engine import params as P
from anisketch.engine.sketch import sketch_to_rgba
from anisketch.guidance.predictor import GuidanceModel
from anisketch.render.api import load_colorizer, render
from anisketch.render.evaluate import truth_and_inputs
from anisketch.render.layered import HIGHLIGHTS, SHADOWS, candidate_stacks
from anisketch.render.layers_eval import LAYER_NAMES, cel_shading, engine_layers, shade_placement, sheen_placement

SEEDS = (2_000_000_000, 2_000_000_001)


@pytest.fixture(scope="module")
def rendered():
    """seed -> (the truth's part map, the engine's own layers, {mode: the render's layers by name})."""
    guidance, colorizer = GuidanceModel.load(device="cpu"), load_colorizer(None, "cpu")
    out = {}
    for seed in SEEDS:
        case = truth_and_inputs(seed)
        sketch = sketch_to_rgba(case["sketch"])
        layers = {}
        for mode in ("faithful", "refined"):
            result = render(guidance, sketch, case["hints"][10], n=1, mode=mode, colorizer=colorizer)
            stack = candidate_stacks(result.layers, *sketch.shape[:2])[0]
            layers[mode] = dict(zip(LAYER_NAMES, (rgba for rgba, _ in stack)))
        out[seed] = (case["truth"]["parts"], engine_layers(seed, sketch.shape[0]), layers)
    return out


@pytest.mark.parametrize("mode", ["faithful", "refined"])
def test_shadows_fall_where_the_engine_shades_and_are_cel_shapes(rendered, mode):
    for parts, truth, layers in rendered.values():
        shadows = layers[mode][SHADOWS]
        placed = shade_placement(shadows, truth[SHADOWS], parts)
        assert placed["shade_precision"] >= 0.9, placed
        assert placed["shade_precision"] >= placed["shade_chance"] + 0.4, placed  # far better than anywhere
        assert placed["shade_recall"] >= 0.7, placed  # under the fringe and the chin in every portrait
        cel = cel_shading(shadows)
        assert cel["shadow_opaque"] == 1.0 and cel["shadow_interior"] >= 0.5 and cel["shadow_tones"] <= 12, cel


@pytest.mark.parametrize("mode", ["faithful", "refined"])
def test_the_hair_has_its_sheen_where_the_engine_puts_it(rendered, mode):
    for parts, truth, layers in rendered.values():
        placed = sheen_placement(layers[mode][HIGHLIGHTS], truth[HIGHLIGHTS], parts)
        assert placed["sheen_precision"] >= 0.8 and placed["sheen_recall"] >= 0.6, placed


def test_the_measures_fail_on_shadows_moved_off_the_shade_or_blurred(rendered):
    parts, truth, layers = next(iter(rendered.values()))
    shadows = {mode: stack[SHADOWS] for mode, stack in layers.items()}
    skin_shade = shadows["refined"].copy()
    skin_shade[np.isin(parts, [P.LABEL["eye_l"], P.LABEL["eye_r"]]), 3] = 0  # the irises' shading is no skin shade
    moved = np.ascontiguousarray(skin_shade[::-1])  # upside down: on the forehead and cheeks
    placed = shade_placement(moved, truth[SHADOWS], parts)
    assert placed["shade_precision"] < 0.6 and placed["shade_recall"] < 0.3, placed
    feathered = cv2.GaussianBlur(shadows["refined"], (0, 0), 6)  # soft edges fading out
    assert cel_shading(feathered)["shadow_opaque"] < 0.5
    yy, xx = np.mgrid[:512, :512]
    for step, failed in ((1, "shadow_interior"), (8, "shadow_tones")):  # a fine gradient, a posterised one
        graded = shadows["refined"].copy()  # opaque, but graded tones instead of a few flat ones
        graded[..., 0] = graded[..., 1] = 120 + (yy + xx) // (4 * step)
        cel = cel_shading(graded)
        assert cel["shadow_interior"] < 0.3 if failed == "shadow_interior" else cel["shadow_tones"] > 12, cel
