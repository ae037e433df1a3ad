"""Training the frame finder (`anisketch train frame --config backend/configs/frame.toml`).

Each sample is an engine portrait's partial, messy sketch placed in a request the way artists' canvases place
it: at any size (face half-width 5-50 % of the request) and anywhere (partly outside too), or framed by the
plugin's own crop rule around the strokes drawn so far (ink bounds + 25 % margin, a 256 px minimum) at a face
size in canvas pixels a real canvas has. Pen widths are real pen widths in canvas pixels, whatever the zoom.
With `style_share`, part of the sketches are drawn in an artist's style (construction guides, beginner shapes,
features-, contour- or hair-first orders: engine/sketch_style.py), as the guidance encoder's are.
The target is the face's frame in the request (`framing.Frame`); the loss measures centre errors in face
half-widths and size errors as log ratios, so a small face is found as precisely as a large one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..engine import params as P
from ..engine.geometry import Stroke, build_portrait
from ..engine.sketch import render_sketch, simulate_sketch
from ..engine.sketch_style import draw_styled, sample_style
from .framing import (CENTRE_RANGE, FRAME_INPUT, HALF_WIDTH_RANGE, Frame, load_finder_network, network_config,
                      restore_ink)
from .model import SketchEncoder
from .train import another_pen

VALIDATION_SEED = 1_800_000_000  # held out: training seeds count up from 0
VALIDATION_COUNT = 512
CROP_MARGIN, CROP_MIN_PX = 0.25, 256  # the plugin's rule (plugin/anisketch_krita/region.py)


@dataclass
class FramingCurriculum:
    size: int = FRAME_INPUT
    crop_rule_share: float = 0.45  # framed as the plugin frames a partial sketch; else anywhere, any size
    min_half_width: float = 0.05
    max_half_width: float = 0.5
    min_fraction: float = 0.04
    artist_order_share: float = 0.5
    pen_px: tuple[float, float] = (1.5, 7.0)  # pen width on the canvas
    # The share of sketches drawn in a sampled artist's style (engine/sketch_style.py: construction guides,
    # beginner shapes, multi-pass lines, hatching, features-, contour- and hair-first orders; never a held-out
    # variant), and the sampler's weights, as the guidance encoder's [data.style]. A cranium circle is not the
    # face's outline, and a quarter into a features-first drawing the ink is the eyes alone: the finder must
    # place the face from both. 0 draws exactly the sketches of before.
    style_share: float = 0.0
    style: dict = field(default_factory=dict)

    def draw(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(sketch uint8[S, S], frame target float32[3] in [0, 1]) for one engine seed."""
        rng = np.random.default_rng([seed, 0xF4A3E])
        params = P.sample_params(seed)
        strokes = self.drawn_strokes(build_portrait(params), rng)
        face = Frame(params["cx"], params["cy"], params["scale"])
        if rng.random() < self.crop_rule_share:
            frame, side_px = self.crop_rule_frame(strokes, face, rng)
        else:
            frame, side_px = self.free_frame(rng), rng.uniform(256, 3000)
        placed = place(strokes, face, frame, rng.uniform(*self.pen_px) / side_px)
        darkness = render_sketch(placed, self.size, rng=rng, texture="pencil" if rng.random() < 0.6 else "pen")
        image = restore_ink(darkness.astype(np.float32) / 255.0)
        return (image * 255).round().astype(np.uint8), np.clip(frame.to_unit(), 0.0, 1.0)

    def drawn_strokes(self, portrait, rng) -> list:
        fraction = 1.0 if rng.random() < 0.15 else rng.uniform(self.min_fraction, 1.0)
        if self.style_share > 0 and rng.random() < self.style_share:
            strokes = draw_styled(portrait, rng, sample_style(rng, self.style), fraction, rng.uniform(0.1, 1.0))
        else:
            order = "artist" if rng.random() < self.artist_order_share else "random"
            strokes = simulate_sketch(portrait, rng, fraction=fraction, order=order, messiness=rng.uniform(0.1, 1.0))
        return strokes or simulate_sketch(portrait, rng, fraction=0.3, order="artist", messiness=0.3)

    def free_frame(self, rng) -> Frame:
        half = math.exp(rng.uniform(math.log(self.min_half_width), math.log(self.max_half_width)))
        return Frame(rng.uniform(-0.05, 1.05), rng.uniform(-0.05, 1.05), half)

    def crop_rule_frame(self, strokes, face: Frame, rng) -> tuple[Frame, float]:
        """The face's frame in the square the plugin would crop around these strokes on a real canvas."""
        face_px = rng.uniform(40, 700)  # face half-width on the canvas, px
        k = face_px / face.half_width  # canvas px per engine unit
        points = np.concatenate([s.points for s in strokes])
        lo, hi = points.min(axis=0) * k, points.max(axis=0) * k
        extent = float((hi - lo).max())
        side = max(extent * (1 + 2 * CROP_MARGIN), CROP_MIN_PX)
        centre = (lo + hi) / 2 + rng.normal(0, 0.03, 2) * side  # canvas edges push the crop now and then
        x0, y0 = centre - side / 2
        return Frame((face.cx * k - x0) / side, (face.cy * k - y0) / side, face_px / side), side


def place(strokes: list, face: Frame, target: Frame, pen_width: float) -> list:
    """The strokes moved and scaled so that `face` lands on `target`; widths are `pen_width` on average."""
    zoom = target.half_width / face.half_width
    shift = np.array([target.cx, target.cy], np.float32) - zoom * np.array([face.cx, face.cy], np.float32)
    mean_width = float(np.mean(np.concatenate([s.widths for s in strokes]))) or 1.0
    width_scale = pen_width / mean_width
    return [Stroke((s.points * zoom + shift).astype(np.float32), (s.widths * width_scale).astype(np.float32),
                   s.group, s.order, s.closed) for s in strokes]


def frame_loss(unit: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Centre error in face half-widths plus log size ratio, both smooth-L1."""
    lo, hi = CENTRE_RANGE
    a, b = (math.log(v) for v in HALF_WIDTH_RANGE)
    pred_c, true_c = lo + unit[:, :2] * (hi - lo), lo + target[:, :2] * (hi - lo)
    pred_log, true_log = a + unit[:, 2] * (b - a), a + target[:, 2] * (b - a)
    centre = F.smooth_l1_loss((pred_c - true_c) / true_log.exp()[:, None], torch.zeros_like(pred_c), beta=0.05)
    size = F.smooth_l1_loss(pred_log, true_log, beta=0.05)
    return centre + size, {"centre": centre.detach(), "size": size.detach()}


class FrameTask:
    def __init__(self, model_config: dict, curriculum: FramingCurriculum):
        self.model = SketchEncoder(network_config(**model_config))
        self.curriculum = curriculum
        self.validation: dict[str, np.ndarray] | None = None

    def make_batch(self, first_seed: int, batch_size: int) -> dict[str, np.ndarray]:
        samples = [self.curriculum.draw(first_seed + i) for i in range(batch_size)]
        return {"sketch": np.stack([s[0] for s in samples])[:, None],
                "frame": np.stack([s[1] for s in samples]).astype(np.float32)}

    def augment(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Another view on the GPU: a thicker pen now and then, and ink strength varied (`another_pen`)."""
        return {**batch, "sketch": another_pen(batch["sketch"], thick_share=0.2)}

    def loss(self, model, batch):
        sketch = batch["sketch"]
        sketch = sketch.float().div(255.0) if sketch.dtype == torch.uint8 else sketch
        unit, _ = model(sketch)
        return frame_loss(unit, batch["frame"].float())

    def on_checkpoint(self, model, out_dir: Path, step: int) -> dict[str, float]:
        """Median centre error (in face half-widths) and median size error (ratio) on held-out seeds."""
        if self.validation is None:
            self.validation = self.make_batch(VALIDATION_SEED, VALIDATION_COUNT)
        device = next(model.parameters()).device
        model.eval()
        with torch.no_grad():
            unit, _ = model(torch.from_numpy(self.validation["sketch"]).to(device).float() / 255.0)
        model.train()
        errors = frame_errors(unit.float().cpu().numpy(), self.validation["frame"])
        return {"val_centre_err": float(np.median(errors[:, 0])), "val_size_err": float(np.median(errors[:, 1])),
                "val_centre_p90": float(np.percentile(errors[:, 0], 90))}


def frame_errors(pred_unit: np.ndarray, true_unit: np.ndarray) -> np.ndarray:
    """Per sample: centre distance in true half-widths, and |size ratio - 1|."""
    out = []
    for p, t in zip(pred_unit, true_unit):
        pf, tf = Frame.from_unit(p), Frame.from_unit(t)
        out.append((math.hypot(pf.cx - tf.cx, pf.cy - tf.cy) / tf.half_width,
                    abs(pf.half_width / tf.half_width - 1.0)))
    return np.array(out)


def load_trainable(weights_dir: Path) -> SketchEncoder:
    """The frame finder in `weights_dir`, trainable, for `anisketch train frame --init`."""
    return load_finder_network(weights_dir)


def make_task(config: dict, data_dir: Path | None = None) -> FrameTask:
    if data_dir is not None:
        raise SystemExit("anisketch train frame: --data is not supported; the frame finder learns from the engine")
    return FrameTask(config.get("model", {}), FramingCurriculum(**config.get("data", {})))


def export(task: FrameTask, run_dir: Path, weights_dir: Path, config_path: Path) -> Path:
    """Write `frame.safetensors` (fp16) and register it in the manifest."""
    from ..train.export import half_tensors, load_trained, write_weights
    from ..weights import register

    info = load_trained(task.model, run_dir)
    path = write_weights(weights_dir, "frame", half_tensors(task.model, prefix="finder."), {
        "encoder_config": json.dumps(task.model.config.to_dict()), "trained": json.dumps(info)})
    register(weights_dir, "frame", path, config=str(config_path), engine_version=P.ENGINE_VERSION,
             metadata={"trained": info})
    return path
