"""The pose refiner: guidance laid over the sketch, and the face moved to where the sketch says it lies.

The encoder reads the face's pose (centre, half-width, roll, yaw) from the sketch alone, and guidance is judged
within 3 px: a reading one or two pixels off costs more F1 than any other error, and a face seen in part (a crop
cuts it, one side drawn first) is placed worst. The refiner is shown what an artist would look at: the window's
sketch beside the line art of the encoder's reading (render and compare). It answers how far each pose float
should move. It learned on the encoder's own readings of the sketches the encoder learned from (refine_train.py:
the same styles, orders and cuts), so it corrects the errors the encoder makes rather than chasing every stroke:
a sketch's lines lie a little off the finished face's, and the ink alone would pull the face after them.

Weights without a refiner (no `refine.safetensors`) guide as before: the reading is drawn where it was read.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from ..blocks import for_inference
from ..engine import params as P
from ..engine.raster import render_lines
from ..errors import ModelUnavailable
from ..weights import default_weights_dir, load_tensors, read_manifest
from .hold import Drawn
from .model import EncoderConfig, SketchEncoder, from_tensors

REFINE_INPUT = 256  # the refiner reads the window at the encoder's size: a pixel there is 2 px of a 512 px guide
REFINED = P.PLACING  # the pose floats it moves: those that place the face on its canvas
log = logging.getLogger(__name__)

MAX_STEP = 0.15  # the largest move of one float, in its [0, 1] units (12 px of a 512 px guide for the centre)


def network_config(widths=(16, 32, 64, 96), hidden: int = 256) -> EncoderConfig:
    """The encoder's architecture, small, reading two images (sketch, guidance) and answering one unit per
    refined float (`to_steps`)."""
    return EncoderConfig(n_floats=len(REFINED), choice_sizes=(), in_size=REFINE_INPUT, widths=tuple(widths),
                         blocks_per_stage=1, head_channels=32, hidden=hidden, in_channels=2)


def to_steps(unit: np.ndarray | torch.Tensor):
    """The network's outputs in [0, 1] -> moves of the refined floats in [-MAX_STEP, MAX_STEP]."""
    return (unit * 2.0 - 1.0) * MAX_STEP


def guide_lines(floats: np.ndarray, choices: np.ndarray, size: int = REFINE_INPUT) -> np.ndarray:
    """The line art guidance draws for a reading, as the refiner sees it: float32 [S, S] in [0, 1]."""
    return render_lines(Drawn(floats, choices).portrait().strokes, size).astype(np.float32) / 255.0


def refiner_input(images: np.ndarray, floats: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """float32 [B, 2, S, S]: each window's sketch (resized to REFINE_INPUT where read at another size) and the
    line art of its reading."""
    sketches = [img if img.shape[0] == REFINE_INPUT else
                cv2.resize(img, (REFINE_INPUT, REFINE_INPUT), interpolation=cv2.INTER_AREA) for img in images]
    lines = [guide_lines(f, c) for f, c in zip(floats, choices)]
    return np.stack([np.stack(sketches), np.stack(lines)], axis=1).astype(np.float32)


class PoseRefiner:
    """The shipped refiner (weights/refine.safetensors): a reading in, the same reading with its pose moved."""

    def __init__(self, network: SketchEncoder, device: str):
        self.network = network.eval()
        self.device = device
        self.slots = P.PLACING_SLOTS

    def refine(self, images: np.ndarray, floats: np.ndarray, choices: np.ndarray) -> np.ndarray:
        """images float [B, S, S] (the windows read), floats [B, D] and choices [B, C] (their readings) ->
        floats [B, D] with the pose moved onto the sketch."""
        x = torch.from_numpy(refiner_input(images, floats, choices)).to(self.device)
        with torch.no_grad():
            unit, _ = self.network(x)
        out = np.array(floats, np.float32, copy=True)
        out[:, self.slots] = np.clip(out[:, self.slots] + to_steps(unit.float().cpu().numpy()), 0.0, 1.0)
        return out


def load_refiner_network(weights_dir: Path | None = None) -> SketchEncoder:
    """The shipped refiner's network in fp32, BatchNorm unfolded (`anisketch train refine --init`)."""
    tensors, meta, _ = load_tensors(weights_dir or default_weights_dir(), "refine")
    return _network(tensors, meta)


def _network(tensors: dict, meta: dict) -> SketchEncoder:
    try:
        return from_tensors(tensors, meta["encoder_config"], "refiner.")
    except ValueError as error:
        raise ModelUnavailable(f"pose refiner weights do not fit this network ({error}): reinstall or retrain") from None


def guidance_checksum(weights_dir: Path | None) -> str:
    """The sha256 of the guidance weights in `weights_dir`: the encoder whose readings a refiner learned."""
    return read_manifest(weights_dir or default_weights_dir())["guidance"].sha256


def load_pose_refiner(weights_dir: Path | None, device: str) -> PoseRefiner | None:
    """The shipped refiner, folded for inference, or None for a weights folder without one, or with one trained
    on another encoder's readings (it would move a face by errors this encoder does not make): the reading is then
    drawn as read."""
    weights_dir = weights_dir or default_weights_dir()
    try:
        tensors, meta, _ = load_tensors(weights_dir, "refine")
        if meta.get("reads_for") != guidance_checksum(weights_dir):
            log.warning("the pose refiner in %s was trained for other guidance weights: not used (retrain it: "
                        "backend/configs/refine.toml)", weights_dir)
            return None
        return PoseRefiner(for_inference(_network(tensors, meta), device), device)
    except (ModelUnavailable, KeyError):
        return None
