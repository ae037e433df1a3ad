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
                                       refined_slots, refiner_input, to_steps)
from anisketch.guidance.model import SketchEncoder
from anisketch.train.export import half_tensors, write_weights
from anisketch.weights import register

from test_training import REPO, anisketch

CONFIG = REPO / "backend" / "configs" / "refine.toml"


def test_the_refined_floats_are_the_pose_and_moves_stay_within_a_step():
    assert [P.float_names()[i] for i in refined_slots()] == list(REFINED)
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
