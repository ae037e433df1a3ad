"""The information ceiling of the robustness conditions (eval/ceiling.py): what a reader of the drawn strokes
could at best draw."""

import numpy as np

from anisketch.engine import params as P
from anisketch.engine.sketch_style import KINDS, SketchStyle
from anisketch.eval import ceiling, framing

SEED = 2_000_000_000


def test_every_drawn_parameter_belongs_to_one_kind_of_stroke():
    owned = [name for names in ceiling.KIND_PARAMS.values() for name in names]
    assert len(owned) == len(set(owned))
    assert set(ceiling.KIND_PARAMS) <= set(KINDS)
    drawn_shape = {s.name for s in P.PARAM_SPECS if s.kind != "color" and s.drawn and s.group != "pose"}
    assert drawn_shape <= set(owned), drawn_shape - set(owned)


def test_undrawn_parts_and_simplified_shapes_are_hidden():
    everything = set(ceiling.KIND_PARAMS) | {"guide"}
    assert ceiling.hidden_params(everything, None) == set()
    only_eyes = ceiling.hidden_params({"eyes"}, None)
    assert "hair_style" in only_eyes and "eye_w" not in only_eyes and "cx" not in only_eyes
    assert "cx" in ceiling.hidden_params({"guide"} - {"guide"}, None)  # nothing drawn: not even the pose
    circles = ceiling.hidden_params(everything, SketchStyle(beginner=True))
    assert {"lid_peak", "chin_y", "bang_len", "ear_size"} <= circles and "eye_w" not in circles
    assert "eye_w" in ceiling.hidden_params(everything, SketchStyle(beginner=True, eyes="dot"))
    assert "neck_w" not in ceiling.hidden_params(everything, SketchStyle(beginner=True, guides=True))


def test_a_complete_sketch_has_no_ceiling_but_a_beginners_has_one():
    found = ceiling.ceiling_seed(SEED, ("in_distribution", "beginner", "features_first"))
    assert found["in_distribution"][100] == 1.0  # everything drawn: the reader draws the truth
    assert found["beginner"][100] < 0.95  # circle eyes, a zigzag fringe: shapes the sketch never showed
    assert found["features_first"][25] < found["features_first"][100]  # the hair not drawn yet


def test_the_guess_is_the_priors_middle():
    guess = ceiling.prior_guess()
    spec = P.SPEC["eye_h"]
    assert spec.lo < guess["eye_h"] < spec.hi
    assert guess["hair_style"] in range(len(P.SPEC["hair_style"].options))


def test_a_framed_face_is_read_from_what_its_request_shows():
    drawing = framing.drawing_of(SEED)
    request = framing.request_at(drawing, drawing.strokes, "cut", SEED, 100)
    seen = framing.request_mask(request)
    shown = [ceiling.shows(stroke, drawing, seen) for stroke in drawing.strokes]
    assert 0 < sum(shown) < len(shown)  # the cut hides part of the face: its strokes there show nothing
    assert not any(ceiling.shows(stroke, drawing, np.zeros_like(seen)) for stroke in drawing.strokes)
    found = ceiling.framing_ceiling_seed(SEED, ("engine", "cut"))
    assert found["engine"][100] == 1.0  # the whole face drawn and shown: the reader draws the truth
    # The engine's faces are symmetric: the half a cut shows tells the reader nearly all of them.
    assert found["cut"][100] > 0.99


def test_a_request_without_ink_is_guessed_from_the_prior_alone():
    from anisketch.guidance.predictor import GuidanceModel

    blank = framing.Placed(np.zeros((64, 64), np.uint8), (0, 0), framing.Frame(0.5, 0.5, 0.2), 64)
    assert ceiling.model_guess(GuidanceModel.load(), blank) == []  # the model refuses it; the reader does not
