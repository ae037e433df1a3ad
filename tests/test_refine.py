"""The pose refiner (guidance/refine.py): it trains, exports and loads as the other models do, is used only with
the encoder it learned the readings of, and moves a misplaced face back onto the sketch."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render_lines
from anisketch.guidance.predictor import GuidanceModel
from anisketch.guidance.refine import (MAX_STEP, REFINE_INPUT, REFINED, load_pose_refiner, network_config,
                                       refiner_input, to_steps)
from anisketch.guidance.model import SketchEncoder
from anisketch.guidance.state import decode_state, encode_state
from anisketch.guidance.refine_train import PX_PER_UNIT
from anisketch.train.export import half_tensors, write_weights
from anisketch.weights import register

from test_training import REPO, anisketch

CONFIG = REPO / "backend" / "configs" / "refine.toml"


def test_the_refined_floats_are_the_pose_and_moves_stay_within_a_step():
    assert [P.float_names()[i] for i in P.PLACING_SLOTS] == list(REFINED)
    assert float(to_steps(np.float32(0.5))) == 0.0
    assert np.allclose(to_steps(np.array([0.0, 1.0])), [-MAX_STEP, MAX_STEP])


def test_the_refiner_sees_the_window_beside_the_line_art_of_its_reading():
    params = P.sample_params(7)
    floats, choices = P.encode(params)
    lines = render_lines(build_portrait(params).strokes, REFINE_INPUT).astype(np.float32) / 255.0
    shown = refiner_input(np.zeros((1, 128, 128), np.float32), floats[None], choices[None])
    assert shown.shape == (1, 2, REFINE_INPUT, REFINE_INPUT) and shown.dtype == np.float32
    assert not shown[0, 0].any()  # a window read at another size is resized, blank stays blank
    assert np.abs(shown[0, 1] - lines).max() < 1 / 255 + 1e-6  # the reading's own line art


def test_the_refiner_trains_exports_and_guidance_loads_it(tmp_path):
    out = tmp_path / "weights"
    shutil.copytree(REPO / "weights", out)
    (out / "refine.safetensors").unlink(missing_ok=True)
    run = tmp_path / "run"
    done = anisketch("train", "refine", "--config", str(CONFIG), "--out", str(run), "--steps", "1",
                     "--batch-size", "2", "--workers", "0")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val_px_refined" in (run / "validation.csv").read_text()  # the curves say what it measured
    done = anisketch("train", "refine", "--config", str(CONFIG), "--out", str(run), "--no-train", "--export", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert GuidanceModel.load(out).refiner is not None


def test_a_refiner_learned_on_other_guidance_weights_is_not_used(tmp_path, caplog):
    """It would move faces by the errors another encoder makes: guidance then draws the face where it is read."""
    out = tmp_path / "weights"
    shutil.copytree(REPO / "weights", out)
    network = SketchEncoder(network_config())
    path = write_weights(out, "refine", half_tensors(network, prefix="refiner."),
                         {"reads_for": "0" * 64, "encoder_config": json.dumps(network.config.to_dict())})
    register(out, "refine", path)
    with caplog.at_level(logging.WARNING):
        assert load_pose_refiner(out, "cpu") is None
    assert "trained for other guidance weights" in caplog.text


def test_weights_without_a_refiner_guide_as_read(tmp_path):
    out = tmp_path / "weights"
    shutil.copytree(REPO / "weights", out)
    (out / "refine.safetensors").unlink(missing_ok=True)
    assert GuidanceModel.load(out).refiner is None


def test_the_shipped_refiner_moves_a_misplaced_face_back_onto_its_lines():
    """Eight unseen faces, each read 2.5 px off in centre and half-width (a 512 px guide): the shipped refiner,
    shown the line art beside the misplaced reading, brings every one to within half of that, and moves nothing
    but the pose."""
    refiner = load_pose_refiner(REPO / "weights", "cpu")
    assert refiner is not None, "weights/ ships a refiner trained for the shipped encoder"
    slots, px = P.PLACING_SLOTS, np.array(PX_PER_UNIT)
    for k in range(8):
        params = P.sample_params(1_950_000_000 + k)  # neither training's seeds nor the eval's
        floats, choices = P.encode(params)
        image = render_lines(build_portrait(params).strokes, REFINE_INPUT).astype(np.float32)[None] / 255.0
        misread = floats.copy()
        misread[slots] = np.clip(misread[slots] + np.float32(0.03 if k % 2 else -0.03) * np.array([1, -1, 1, 0, 0], np.float32), 0, 1)
        refined = refiner.refine(image, misread[None], choices[None])[0]
        before, after = np.abs(misread[slots] - floats[slots]) @ px, np.abs(refined[slots] - floats[slots]) @ px
        assert after < before / 2, (k, before, after)
        assert np.array_equal(np.delete(refined, slots), np.delete(misread, slots))


def test_guidance_draws_the_refined_reading():
    """The shipped guidance reads, then refines: the guide's reading differs from the encoder's in the pose alone."""
    from anisketch.eval.guidance import drawn_sample, sketch_of, strokes_at

    model = GuidanceModel.load(REPO / "weights")
    sample = drawn_sample(2_000_000_001)
    sketch = sketch_of(sample, strokes_at(sample, 75))
    refined = model.guide(sketch).read_floats
    model.refiner = None
    as_read = model.guide(sketch).read_floats
    slots = P.PLACING_SLOTS
    assert np.array_equal(np.delete(refined, slots), np.delete(as_read, slots))
    assert np.abs(refined[slots] - as_read[slots]).max() > 1e-4


def test_a_reading_that_barely_moves_takes_the_refiners_last_move_unasked():
    """The refiner is asked where the face is placed, and again once the encoder's reading moves from the one it
    was last shown (REASK_SHIFT); nearer, the state's refinement gives the move. A state without one (guidance
    before the refiner) asks."""
    from anisketch.eval.guidance import drawn_sample, sketch_of, strokes_at

    model = GuidanceModel.load(REPO / "weights")
    calls = []
    refiner, refine = model.refiner, model.refiner.refine
    refiner.refine = lambda *args: calls.append(1) or refine(*args)
    sample = drawn_sample(2_000_000_002)
    sketch = sketch_of(sample, strokes_at(sample, 75))
    model.refiner = None
    as_read = model.guide(sketch)
    model.refiner = refiner

    placed = model.guide(sketch)  # placed afresh: refined, and the answer kept in its state
    assert calls == [1]
    shown, move = decode_state(placed.state).refinement
    slots = P.PLACING_SLOTS
    assert np.array_equal(shown, as_read.read_floats[slots]) and np.abs(move).max() > 1e-4
    assert np.allclose(placed.read_floats[slots], as_read.read_floats[slots] + move, atol=1e-6)
    guided = model.guide(sketch, state=placed.state)  # the same reading: the same move, unasked
    assert calls == [1] and np.array_equal(guided.floats, placed.floats)
    assert np.array_equal(guided.read_floats, placed.read_floats)

    state = decode_state(placed.state)
    moved_off = np.stack([shown + np.array([0.05, 0, 0, 0, 0], np.float32), move])  # shown a reading 4 px away
    model.guide(sketch, state=encode_state(*state._replace(refinement=moved_off)))
    assert calls == [1, 1]
    model.guide(sketch, state=as_read.state)  # no refinement in the state
    assert calls == [1, 1, 1]
