"""A second look at the frame: a window cut afresh round the frame finder's estimate is cut again, halfway to where
the encoder reads the face, when the encoder places it away from the window's framing (guidance/framing.between;
shipped weights).

The frame finder reads the whole request at 128 px and places worst a face drawn from one side; the encoder reads
the face at 256 px. A window kept from a previous guide is never cut again (the same strokes keep the same pixels),
nor is a request read as it is.

While the artist draws on, the previous window is read without asking the frame finder: the encoder's reading
through it confirms the window (GuidanceModel.confirmed), and only a reading that leaves it asks the finder.
"""

import numpy as np
import pytest

from anisketch.eval.styles import score_seed
from anisketch.guidance import framing
from anisketch.guidance.framing import CANONICAL_HALF_WIDTH, POSE_SLOTS, Frame, Window
from anisketch.guidance.predictor import GuidanceModel


@pytest.fixture(scope="module")
def model():
    return GuidanceModel.load(device="cpu")


def reading_at(frame: Frame, window: Window) -> np.ndarray:
    """Encoder floats whose pose puts the face at `frame` (canvas px) in `window` (the other floats 0.5)."""
    floats = np.full(max(i for i, _ in POSE_SLOTS.values()) + 1, 0.5, np.float32)
    for name, value in (("cx", (frame.cx - window.x) / window.side), ("cy", (frame.cy - window.y) / window.side),
                        ("scale", frame.half_width / window.side)):
        i, spec = POSE_SLOTS[name]
        floats[i] = (value - spec.lo) / (spec.hi - spec.lo)
    return floats


def test_a_reading_where_the_window_frames_it_keeps_the_window_and_one_beside_it_moves_it_halfway():
    window = Window(100.0, 200.0, 400.0)  # frames a face at (300, 400), half-width 84
    own = Frame(300.0, 400.0, CANONICAL_HALF_WIDTH * 400)
    read = framing.read_frame(reading_at(own, window), window)
    assert np.allclose((read.cx, read.cy, read.half_width), (own.cx, own.cy, own.half_width), atol=0.01)
    assert framing.between(window, read) is None
    beside = Frame(300.0 + 0.1 * 400, 400.0, own.half_width)  # the encoder reads the face 40 px to the right
    moved = framing.between(window, framing.read_frame(reading_at(beside, window), window))
    assert moved is not None
    assert np.isclose(moved.x + moved.side / 2, 320.0, atol=0.01) and np.isclose(moved.side, 400.0, atol=0.01)


def test_a_kept_window_is_never_cut_again(model, monkeypatch):
    monkeypatch.setattr(framing, "REFRAME_CENTRE", 0.0)  # any reading disagrees with any window
    darkness = np.zeros((256, 256), np.uint8)
    darkness[40:120, 30:32] = 255
    passes = []
    read = model.read
    monkeypatch.setattr(model, "read", lambda images: passes.append(len(images)) or read(images))
    first = model.guide(darkness)
    assert passes == [1, 1]  # framed afresh: looked at again
    passes.clear()
    again = model.guide(darkness, state=first.state)
    assert passes == [1] and again.window == first.window


def test_faces_drawn_from_one_side_are_read_better_a_quarter_in():
    """The held-out left-first order (one side of the face, then the other) at 25 % of its strokes, 12 unseen
    portraits: with the second look (0.560 when written) against the finder's window alone (0.518)."""
    model = GuidanceModel.load(device="cpu")
    seeds = range(2_000_000_000, 2_000_000_012)

    def quarter() -> float:
        return float(np.mean([score_seed(model, s, ("held_out_left_first",), 1.0)["held_out_left_first"]["f1"][25]
                              for s in seeds]))

    twice = quarter()
    model.reframed = lambda look, floats: None
    once = quarter()
    assert twice > once + 0.02, (once, twice)


def test_a_request_read_as_it_is_is_not_cut_again(model, monkeypatch):
    """The frame finder found it framed as the encoder reads best: it stays the window (and costs what it did)."""
    from anisketch.guidance.bench import beginner
    from anisketch.service import rgba_to_darkness

    monkeypatch.setattr(framing, "REFRAME_CENTRE", 0.0)
    darkness = rgba_to_darkness(beginner(2_000_001_289, 512)[0])  # the guide bench's sketch
    passes = []
    read = model.read
    monkeypatch.setattr(model, "read", lambda images: passes.append(len(images)) or read(images))
    guide = model.guide(darkness)
    assert passes == [1] and guide.window.to_list() == [0.0, 0.0, 512.0]


def counted(model, monkeypatch) -> dict:
    """How often the frame finder and the encoder are asked from now on."""
    calls = {"finder": 0, "read": 0}
    find, read = model.finder.find, model.read
    monkeypatch.setattr(model.finder, "find", lambda x: calls.__setitem__("finder", calls["finder"] + 1) or find(x))
    monkeypatch.setattr(model, "read", lambda x: calls.__setitem__("read", calls["read"] + 1) or read(x))
    return calls


def test_while_drawing_on_the_kept_window_is_confirmed_by_the_reading_not_the_finder(model, monkeypatch):
    from anisketch.eval.guidance import drawn_sample, sketch_of, strokes_at

    drawing = drawn_sample(2_000_000_000)
    first = model.guide(sketch_of(drawing, strokes_at(drawing, 60)))
    more = sketch_of(drawing, strokes_at(drawing, 60) + 1)  # one more stroke
    calls = counted(model, monkeypatch)
    again = model.guide(more, state=first.state)
    assert calls == {"finder": 0, "read": 1} and again.window == first.window
    # Where the reading puts the face away from the kept window, the finder is asked after all; here it keeps the
    # window (the face has not moved), so the reading stands.
    monkeypatch.setattr(framing, "read_frame", lambda floats, window: Frame(window.x, window.y, window.side / 4))
    calls.update(finder=0, read=0)
    kept = model.guide(more, state=first.state)
    assert calls == {"finder": 1, "read": 1} and kept.window == first.window


def test_a_kept_window_the_drawing_has_left_is_not_confirmed(model, monkeypatch):
    """The same strokes sent from far across the canvas: the old window shows none of them. The encoder would read
    a face in the blank window all the same; the frame finder is asked, and a new window cut round the face."""
    from anisketch.eval.guidance import drawn_sample, sketch_of, strokes_at

    drawing = drawn_sample(2_000_000_000)
    sketch = sketch_of(drawing, strokes_at(drawing, 60))
    first = model.guide(sketch)
    calls = counted(model, monkeypatch)
    elsewhere = model.guide(sketch, state=first.state, origin=(3000, 0))
    assert calls["finder"] == 1 and calls["read"] >= 2
    assert elsewhere.window.x >= 3000 - 1e-6  # the new window lies where the strokes are now


def test_a_batch_confirms_its_kept_windows_as_one_by_one(model):
    from anisketch.eval.guidance import drawn_sample, sketch_of, strokes_at

    requests = []
    for seed in (2_000_000_000, 2_000_000_001):
        drawing = drawn_sample(seed)
        first = model.guide(sketch_of(drawing, strokes_at(drawing, 60)))
        requests.append({"darkness": sketch_of(drawing, strokes_at(drawing, 60) + 1), "state": first.state})
    requests.append({**requests[0], "origin": (3000, 0)})  # the same strokes from across the canvas: not confirmed
    batch = model.guide_batch(requests)
    for guide, request in zip(batch, requests):
        alone = model.guide(request["darkness"], state=request["state"], origin=request.get("origin", (0, 0)))
        assert guide.window == alone.window
        np.testing.assert_allclose(guide.floats, alone.floats, atol=1e-5)
