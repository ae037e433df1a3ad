"""Training the pose refiner (`anisketch train refine --config backend/configs/refine.toml`).

Each sample is a sketch the shipped encoder's own curriculum draws (the config extends the encoder's, so the
styles, orders, cuts and messiness are the ones it learned), the shipped encoder's reading of it, and the line
art of that reading. The target is how far each pose float must move to reach the truth. So the refiner learns
the encoder's real errors, where they come from (a face cut by the crop, a side drawn first, a beginner's
misplaced eye), and how large they are. A share of readings is moved further at random (`jitter_share`), so
that a reading worse than the encoder's usual ones is brought back too. The encoder reads on the CPU in the
data workers, as it does when guiding; the loss is the move's error in pixels of a 512 px guide.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..blocks import for_inference
from ..data.sample import stream
from ..engine import params as P
from .model import SketchEncoder, predict
from .predictor import load_encoder
from .refine import (MAX_STEP, REFINED, guidance_checksum, guide_lines, load_refiner_network, network_config,
                     to_steps)
from .train import VALIDATION_SEED, SketchCurriculum, another_pen

# Pixels of a 512 px guide that a move of 1 (a whole range) of each refined float moves the face's lines by
# (median over engine faces): the loss weighs each float's error by what it costs on the canvas.
PX_PER_UNIT = (81.9, 81.9, 91.1, 50.9, 32.8)
VALIDATION_COUNT = 512
JITTER_STREAM = 0x9E71


class Reader:
    """The shipped encoder, read on the CPU. Loaded on first use: each data worker, forked before that, loads its
    own, and the trainer's process one for validation."""

    def __init__(self, weights_dir: Path | None):
        self.weights_dir = weights_dir
        self._encoder: SketchEncoder | None = None

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._encoder is None:
            self._encoder = for_inference(load_encoder(self.weights_dir)[0], "cpu")
        pred = predict(self._encoder, torch.from_numpy(images.astype(np.float32))[:, None])
        return pred.floats.numpy(), pred.choices.numpy()


class RefineTask:
    def __init__(self, refiner_config: dict, curriculum: SketchCurriculum, reader: Reader,
                 jitter_share: float = 0.3, jitter: float = 0.03):
        self.model = SketchEncoder(network_config(**refiner_config))
        self.curriculum, self.reader = curriculum, reader
        self.jitter_share, self.jitter = jitter_share, jitter
        self.slots = P.PLACING_SLOTS
        self.px = torch.tensor(PX_PER_UNIT)
        self.validation: dict[str, np.ndarray] | None = None

    def make_batch(self, first_seed: int, batch_size: int, jitter: bool = True) -> dict[str, np.ndarray]:
        drawn = [self.curriculum.draw(first_seed + i) for i in range(batch_size)]
        sketches = np.stack([d[0] for d in drawn])
        floats, choices = self.reader.read(sketches.astype(np.float32) / 255.0)
        if jitter:
            floats = self.jittered(floats, first_seed)
        truth = np.stack([d[1] for d in drawn])[:, self.slots]
        steps = np.clip(truth - floats[:, self.slots], -MAX_STEP, MAX_STEP)
        lines = np.stack([guide_lines(f, c) for f, c in zip(floats, choices)])
        return {"sketch": sketches[:, None], "lines": (lines * 255).round().astype(np.uint8)[:, None],
                "steps": steps.astype(np.float32)}

    def jittered(self, floats: np.ndarray, first_seed: int) -> np.ndarray:
        """The readings, a `jitter_share` of them with the pose moved further (normal, `jitter` per float)."""
        rng = stream(first_seed, JITTER_STREAM)
        moved = rng.random(len(floats)) < self.jitter_share
        out = floats.copy()
        noise = rng.normal(0.0, self.jitter, (int(moved.sum()), len(self.slots)))
        out[np.ix_(moved, self.slots)] = np.clip(out[np.ix_(moved, self.slots)] + noise, 0.0, 1.0)
        return out

    def augment(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The sketch in another pen (`another_pen`); the reading's line art as it is drawn."""
        return {**batch, "sketch": another_pen(batch["sketch"], thick_share=0.25)}

    def loss(self, model, batch):
        steps = self.predict_steps(model, batch)
        error_px = (steps - batch["steps"].float()) * self.px.to(steps.device)
        loss = F.smooth_l1_loss(error_px, torch.zeros_like(error_px), beta=1.0)
        return loss, {"px_err": error_px.abs().mean().detach()}

    def predict_steps(self, model, batch) -> torch.Tensor:
        sketch = batch["sketch"]
        sketch = sketch.float().div(255.0) if sketch.dtype == torch.uint8 else sketch.float()
        x = torch.cat([sketch, batch["lines"].float().div(255.0)], dim=1)
        unit, _ = model(x)
        return to_steps(unit)

    def on_checkpoint(self, model, out_dir: Path, step: int) -> dict[str, float]:
        """Median pose error (px of a 512 px guide, the mean over the refined floats) of the encoder's readings of
        held-out sketches, as read and as refined."""
        if self.validation is None:
            self.validation = self.make_batch(VALIDATION_SEED, VALIDATION_COUNT, jitter=False)
        device = next(model.parameters()).device
        batch = {k: torch.from_numpy(v).to(device) for k, v in self.validation.items()}
        model.eval()
        with torch.no_grad():
            steps = self.predict_steps(model, batch).float()
        model.train()
        px = self.px.to(device)
        before = (batch["steps"].abs() * px).mean(dim=1)
        after = ((steps - batch["steps"]).abs() * px).mean(dim=1)
        return {"val_px_read": float(before.median()), "val_px_refined": float(after.median()),
                "val_px_refined_p90": float(torch.quantile(after, 0.9))}


def make_task(config: dict, data_dir: Path | None = None) -> RefineTask:
    if data_dir is not None:
        raise SystemExit("anisketch train refine: --data is not supported; the refiner learns from the engine "
                         "and the encoder's readings of its sketches")
    refine = config.get("refine", {})
    reader_dir = refine.get("reader_weights")
    return RefineTask(config.get("refiner", {}), SketchCurriculum(**config.get("data", {})),
                      Reader(Path(reader_dir) if reader_dir else None),
                      float(refine.get("jitter_share", 0.3)), float(refine.get("jitter", 0.03)))


def load_trainable(weights_dir: Path) -> SketchEncoder:
    """The refiner in `weights_dir`, trainable, for `anisketch train refine --init`."""
    return load_refiner_network(weights_dir)


def export(task: RefineTask, run_dir: Path, weights_dir: Path, config_path: Path) -> Path:
    """Write `refine.safetensors` (fp16), stamped with the encoder whose readings it refines, and register it."""
    from ..train.export import half_tensors, load_trained, write_weights
    from ..weights import register

    info = load_trained(task.model, run_dir)
    stamp = {"reads_for": guidance_checksum(task.reader.weights_dir)}
    path = write_weights(weights_dir, "refine", half_tensors(task.model, prefix="refiner."), {
        **stamp, "encoder_config": json.dumps(task.model.config.to_dict()), "trained": json.dumps(info),
        "refined": ",".join(REFINED)})
    register(weights_dir, "refine", path, config=str(config_path), engine_version=P.ENGINE_VERSION,
             metadata={**stamp, "trained": info})
    return path
