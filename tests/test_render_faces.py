"""A colour render reads as a finished anime portrait (issue 19): an independent anime-face detector, trained on
real illustrations (eval/anime_faces.py), finds the face in what the artist sees (the layers composed, the sketch
on top) as often as in the engine's own finished portraits; and the same picture washed out, as the faithful
render of before looked, is one it does not find."""

import cv2
import numpy as np
import pytest

from anisketch.engine.sketch import sketch_to_rgba
from anisketch.eval.anime_faces import faces_found
from anisketch.guidance.predictor import GuidanceModel
from anisketch.render.api import load_colorizer, render
from anisketch.render.evaluate import truth_and_inputs
from anisketch.render.layered import candidate_stacks, composite

SEEDS = range(2_000_000_000, 2_000_000_006)  # unseen portraits


@pytest.fixture(scope="module")
def pictures():
    """name -> one uint8 RGB picture per seed: the engine's finished portrait ("engine") and each mode's render
    as the artist sees it."""
    guidance, colorizer = GuidanceModel.load(device="cpu"), load_colorizer(None, "cpu")
    out: dict[str, list[np.ndarray]] = {}
    for seed in SEEDS:
        case = truth_and_inputs(seed)
        sketch = sketch_to_rgba(case["sketch"])
        out.setdefault("engine", []).append(case["truth"]["color"])
        for mode in ("faithful", "refined"):
            result = render(guidance, sketch, case["hints"][10], n=1, mode=mode, colorizer=colorizer)
            stack = candidate_stacks(result.layers, *sketch.shape[:2])[0] + [(sketch, "normal")]
            out.setdefault(mode, []).append(np.rint(composite(stack)).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def found(pictures):
    names = list(pictures)
    flags = iter(faces_found([image for name in names for image in pictures[name]]))
    return {name: [next(flags) for _ in pictures[name]] for name in names}


@pytest.mark.parametrize("mode", ["faithful", "refined"])
def test_the_detector_finds_the_face_in_a_render_as_often_as_in_the_engines_portrait(found, mode):
    assert sum(found["engine"]) >= 5, found["engine"]  # the judge knows our portraits for faces
    assert sum(found[mode]) >= sum(found["engine"]), found


def test_a_washed_out_render_is_not_found(pictures, found):
    """The measure can fail: the same faithful composites blurred by 2 px, a wash over the lines."""
    washed = [cv2.GaussianBlur(image, (0, 0), 2) for image in pictures["faithful"]]
    assert sum(faces_found(washed)) <= 1 < sum(found["faithful"])


def test_without_the_detector_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    from anisketch.eval import anime_faces

    monkeypatch.setattr(anime_faces, "DETECTOR_DIR", tmp_path / "none")
    with pytest.raises(anime_faces.DetectorMissing, match="install.py --test"):
        anime_faces.faces_found([np.zeros((64, 64, 3), np.uint8)])


GLASSES = (2_000_000_220, 2_000_000_266, 2_000_000_295)  # unseen portraits with glasses, found in the engine's own


def test_refined_glasses_drawn_once_keep_the_face():
    """Refined mode once painted the engine's glasses frames and brows in its flats, a few pixels off the artist's
    pencilled ones: beneath the sketch every frame showed twice, and the detector found none of these three faces
    (all of them in the engine's finished portraits). Line work stays the artist's."""
    guidance = GuidanceModel.load(device="cpu")
    shown = []
    for seed in GLASSES:
        case = truth_and_inputs(seed)
        sketch = sketch_to_rgba(case["sketch"])
        result = render(guidance, sketch, case["hints"][10], n=1, mode="refined")
        stack = candidate_stacks(result.layers, *sketch.shape[:2])[0] + [(sketch, "normal")]
        shown.append(np.rint(composite(stack)).astype(np.uint8))
    assert sum(faces_found(shown)) >= 2
