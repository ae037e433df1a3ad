"""A face the request's edge cuts is read twice, its first reading drawn faintly beyond the cut (shipped weights).

Only where the ink runs off a side of the request (the plugin's crop meets the canvas's edge there), and only once
the artist has drawn most of what the first reading shows: a request whose ink stays clear of its sides, and an
early sketch, are read once, exactly as before.
"""

import numpy as np
import pytest

from anisketch.eval.framing import score_seed
from anisketch.guidance import completion
from anisketch.guidance.framing import Window
from anisketch.guidance.predictor import GuidanceModel


@pytest.fixture(scope="module")
def model():
    return GuidanceModel.load(device="cpu")


@pytest.fixture(autouse=True)
def one_window(model, monkeypatch):
    """The window as the frame finder chose it (no second look at the frame: tests/test_reframe.py), so the
    passes counted here are the completion's."""
    monkeypatch.setattr(model, "reframed", lambda look, floats: None)


def counting_reads(model, monkeypatch) -> list:
    """A list that grows by one entry (the batch size) at each encoder pass."""
    passes = []
    read = model.read

    def counted(images):
        passes.append(len(images))
        return read(images)

    monkeypatch.setattr(model, "read", counted)
    return passes


def cut_portrait(level: int = 100):
    """A request the way a canvas's right edge cuts a portrait: the right part of the face beyond it."""
    from anisketch.engine import params as P
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.sketch import render_sketch, simulate_sketch
    from anisketch.eval.framing import Frame, face_of, moved, with_pen

    seed = 2_000_000_003
    params = P.sample_params(seed)
    strokes = simulate_sketch(build_portrait(params), np.random.default_rng(seed), fraction=level / 100,
                              order="random", messiness=0.5)
    placed = with_pen(moved(strokes, face_of(params), Frame(0.92, 0.5, 0.22), 1.0), 3.0 / 768)
    return render_sketch(placed, 768, rng=np.random.default_rng(seed))


def test_ink_that_runs_off_a_side_marks_that_side_only():
    darkness = np.zeros((100, 80), np.uint8)
    darkness[40:60, 70:80] = 200  # a line off the right side
    darkness[0:2, 10:12] = 30  # paper grain on top: not ink
    box = completion.on_canvas(darkness.shape, (0, 0), 1.0, None)
    assert box == (0, 0, 80, 100)
    assert completion.edges_with_ink(darkness, box) == (False, False, True, False)
    # a window twice the request's width, centred on its right side: its right half lies beyond the cut
    beyond = completion.beyond_sides(box, Window(40.0, 0.0, 80.0), 8, (False, False, True, False))
    assert beyond[:, 4:].all() and not beyond[:, :4].any()


def test_a_request_whose_ink_stays_clear_of_its_sides_is_read_once(model, monkeypatch):
    darkness = np.zeros((256, 256), np.uint8)
    darkness[60:200, 60:62] = 255
    darkness[60:62, 60:200] = 255
    passes = counting_reads(model, monkeypatch)
    model.guide(darkness)
    assert passes == [1]


def test_a_cut_face_drawn_far_enough_is_read_again_and_an_early_one_once(model, monkeypatch):
    passes = counting_reads(model, monkeypatch)
    model.guide(cut_portrait(100))
    assert passes == [1, 1]
    passes.clear()
    model.guide(cut_portrait(25))  # a quarter drawn: the first reading is too unsure to lean on
    assert passes == [1]


def test_a_batch_reads_its_cut_faces_again_together_and_guides_as_one_by_one(model, monkeypatch):
    cut, clear = cut_portrait(100), np.zeros((256, 256), np.uint8)
    clear[60:200, 60:62] = 255
    alone = [model.guide(cut), model.guide(clear)]
    passes = counting_reads(model, monkeypatch)
    batch = model.guide_batch([{"darkness": cut}, {"darkness": clear}, {"darkness": cut}])
    assert passes == [3, 2]
    for guide, single in zip(batch, [alone[0], alone[1], alone[0]]):
        assert np.allclose(guide.floats, single.floats, atol=1e-4)
        assert np.array_equal(guide.choices, single.choices)


def test_the_second_reading_fits_cut_faces_better_than_one(model, monkeypatch):
    """Faces past the request's edge (eval.framing's cut condition), complete: F1 in the part the artist sees."""
    seeds = range(2_000_000_000, 2_000_000_006)
    twice = np.mean([score_seed(model, seed, ("cut",))["cut"][100] for seed in seeds])
    monkeypatch.setattr(completion, "SUPPORT_MIN", 2.0)  # never far enough along: one reading
    once = np.mean([score_seed(model, seed, ("cut",))["cut"][100] for seed in seeds])
    assert twice > once + 0.01, (once, twice)


def test_a_crop_past_a_small_canvas_is_cut_where_the_canvas_ends(model, monkeypatch):
    """The plugin's crop reaches past a canvas smaller than it (Krita reads blank paper there): with the canvas's
    size, a face whose ink runs off the canvas's bottom is read as cut there; without it, as blank paper."""
    from anisketch.engine import params as P
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.sketch import render_sketch, simulate_sketch
    from anisketch.eval.framing import Frame, face_of, moved, with_pen

    seed = 2_000_000_003
    params = P.sample_params(seed)
    strokes = simulate_sketch(build_portrait(params), np.random.default_rng(seed), fraction=1.0, order="random",
                              messiness=0.5)
    placed = with_pen(moved(strokes, face_of(params), Frame(0.5, 0.5, 0.22), 1.0), 3.0 / 768)
    darkness = render_sketch(placed, 768, rng=np.random.default_rng(seed))
    canvas_h = 420  # a 768 x 420 canvas: the square crop reaches 174 px past its top and bottom
    top = (768 - canvas_h) // 2
    darkness[:top], darkness[top + canvas_h:] = 0, 0
    assert not any(completion.edges_with_ink(darkness, completion.on_canvas(darkness.shape, (0, 0), 1.0, None)))
    passes = counting_reads(model, monkeypatch)
    model.guide(darkness, origin=(0, -top))
    assert passes == [1]
    passes.clear()
    model.guide(darkness, origin=(0, -top), canvas=(768, canvas_h))
    assert passes == [1, 1]
