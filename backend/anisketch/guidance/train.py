"""Training the sketch encoder on the drawing simulator.

Every batch is rendered on the fly from fresh engine seeds: a portrait, then what a beginner would have on
the sketch layer at some point of drawing it (a random fraction of its strokes, in the artist's or a random
order, with wobble, gaps and doubled strokes), and the portrait's vector as the target. A share of each batch
is the clean, complete line art: on those the network learns to be the *teacher* (image -> vector), and the
same weights, fed partial sketches, are the *student* that lands on the finished portrait's vector.

With `--data DIR` (a `--from-images` folder) the shipped model is fine-tuned on the user's pictures mixed
with engine seeds: see `own_images.py`. With `--shards DIR` (written by `anisketch data --shards`) the
portraits come from disk, reused every epoch, and only the sketches are drawn anew (`use_shards`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.sample import RenderedPortrait, stream
from ..engine import params as P
from ..parallel import parallel_map
from ..engine.geometry import build_portrait
from ..engine.raster import render_lines
from ..engine.sketch import render_sketch, simulate_sketch
from ..engine.sketch_style import draw_styled, params_of, sample_style
from .model import EncoderConfig, SketchEncoder, grown, predict, vector_loss
from .projection import BANK_MODEL
from .state import layout_fingerprint

if TYPE_CHECKING:
    from ..data.shards import EpochReader

POSE_WEIGHT = 4.0  # pose moves every line at once: errors there cost the most F1
# Where a training cut's edge lies by default, in face half-widths from the face's centre outwards: from half a
# half-width past it (more than half of the face hidden) to two half-widths away (the face nearly whole).
CUT_REACH = (-0.5, 2.0)
SKETCH_STREAM = 0x5EED  # a sample's random stream: (seed, SKETCH_STREAM), and the epoch after the first


@dataclass
class SketchCurriculum:
    """How training sketches are drawn: the distribution the artist's sketches are expected to follow."""

    size: int = 256
    teacher_share: float = 0.15  # complete, clean line art
    min_fraction: float = 0.08
    artist_order_share: float = 0.5
    min_messiness: float = 0.15
    max_messiness: float = 1.0
    # Real artists' habits (engine/sketch_style.py): the share of sketches drawn in a sampled style (guides,
    # beginner shapes, multi-pass lines, hatching, artists' orders), and the sampler's weights. 0 draws exactly
    # the sketches of before (the same random numbers).
    style_share: float = 0.0
    style: dict = field(default_factory=dict)
    # The crop cuts the face (eval/framing's large, off-centre and cut conditions): the share of sketches blanked
    # beyond 1-4 straight edges through or around the face, as a request's border blanks what lies beyond it.
    # The target stays the whole face: what the crop hides is guessed, as in a partial sketch. 0: no cut.
    cut_share: float = 0.0
    # Where each cut's edge lies, in face half-widths from the face's centre outwards (negative: past the centre,
    # so that more than half of the face is hidden).
    cut_reach: tuple[float, float] = CUT_REACH
    # Of the cut sketches, the share whose blanked part holds faint lines of a face near the true one: what
    # guidance shows the encoder on a second reading of a face the request's edge cuts (its first reading drawn
    # faintly beyond the edge, completion.py). The encoder learns to take such lines as a hint of
    # where the hidden half lies, not as the artist's ink. 0: none (the draws of before).
    completion_share: float = 0.0

    def draw(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sketch darkness uint8[S, S], floats [D], choices [C]) for one engine seed."""
        rng = stream(seed, SKETCH_STREAM)
        params = P.sample_params(seed)
        floats, choices = P.encode(params)
        return self.sketch_of(build_portrait(params), rng), floats, choices

    def draw_rendered(self, portrait: RenderedPortrait, epoch: int):
        """The same from a shard's portrait: epoch 0 is exactly `draw(portrait.seed)`, each later epoch a new
        sketch of the same face."""
        floats, choices = portrait.vector
        return self.sketch_of(portrait, stream(portrait.seed, SKETCH_STREAM, epoch)), floats, choices

    def sketch_of(self, drawing, rng: np.random.Generator) -> np.ndarray:
        """What the sketch layer holds at some point of drawing `drawing` (a Portrait, or a list of strokes):
        now and then the complete clean line art (the teacher's view), else a beginner's partial, messy sketch;
        with `cut_share`, that sketch as a crop through the face shows it."""
        sketch = self.uncut_sketch_of(drawing, rng)
        params = params_of(drawing)
        if self.cut_share > 0 and params is not None and rng.random() < self.cut_share:
            sketch, hidden = cut_by_crop(sketch, params, rng, self.cut_reach)
            if self.completion_share > 0 and rng.random() < self.completion_share:
                sketch = np.maximum(sketch, (near_miss_lines(params, rng, self.size) * hidden).astype(np.uint8))
        return sketch

    def uncut_sketch_of(self, drawing, rng: np.random.Generator) -> np.ndarray:
        if rng.random() < self.teacher_share:
            strokes = drawing.strokes if hasattr(drawing, "strokes") else drawing
            return render_lines(strokes, self.size)
        if self.style_share > 0 and params_of(drawing) is not None and rng.random() < self.style_share:
            return self.styled_sketch_of(drawing, rng)
        fraction = 1.0 if rng.random() < 0.1 else rng.uniform(self.min_fraction, 1.0)
        order = "artist" if rng.random() < self.artist_order_share else "random"
        messiness = rng.uniform(self.min_messiness, self.max_messiness)
        drawn = simulate_sketch(drawing, rng, fraction=fraction, order=order, messiness=messiness)
        return render_sketch(drawn, self.size, rng=rng)

    def styled_sketch_of(self, portrait, rng: np.random.Generator) -> np.ndarray:
        """A sketch in a style sampled by sketch_style.sample_style (never a held-out one)."""
        style = sample_style(rng, self.style)
        fraction = 1.0 if rng.random() < 0.1 else rng.uniform(self.min_fraction, 1.0)
        messiness = rng.uniform(self.min_messiness, self.max_messiness)
        return render_sketch(draw_styled(portrait, rng, style, fraction, messiness), self.size, rng=rng)


def another_pen(sketch: torch.Tensor, thick_share: float) -> torch.Tensor:
    """A batch of sketches (uint8 darkness [B, 1, S, S]) as float in [0, 1], drawn with a thicker brush for a
    `thick_share` of them and another ink strength (pencil pressure, layer opacity) for all: no line moves."""
    sketch = sketch.float().div(255.0)
    n = sketch.shape[0]
    thick = torch.rand(n, 1, 1, 1, device=sketch.device) < thick_share
    sketch = torch.where(thick, torch.nn.functional.max_pool2d(sketch, 3, 1, 1), sketch)
    gamma = torch.empty(n, 1, 1, 1, device=sketch.device).uniform_(0.7, 1.4)
    return sketch.clamp_min(1e-6).pow(gamma)


def cut_by_crop(sketch: np.ndarray, params, rng: np.random.Generator,
                reach: tuple[float, float] = CUT_REACH) -> tuple[np.ndarray, np.ndarray]:
    """The sketch blanked beyond 1-4 edges (as many sides as a crop around a large face cuts), each `reach` face
    half-widths from the face's centre (CUT_REACH); and the blanked part (bool)."""
    size = sketch.shape[0]
    cx, cy, half = params["cx"] * size, params["cy"] * size, params["scale"] * size
    out = sketch.copy()
    hidden = np.zeros(sketch.shape, bool)
    sides = rng.permutation(4)[: 4 if rng.random() < 0.25 else int(rng.integers(1, 3))]
    for side in sides:
        edge = int(round((cx, cy, cx, cy)[side] + (-1, -1, 1, 1)[side] * rng.uniform(*reach) * half))
        edge = min(max(edge, 0), size)
        if side == 0:
            hidden[:, :edge] = True
        elif side == 1:
            hidden[:edge, :] = True
        elif side == 2:
            hidden[:, edge:] = True
        else:
            hidden[edge:, :] = True
    out[hidden] = 0
    return out, hidden


# How far a near-miss face strays from the true one: the pose by this many of its range's units (about 6 px of the
# face at 512 for the centre), every other float blended up to this far towards another face's, and each choice
# another face's with this chance. Roughly a first reading's error on a face that a crop cuts through the middle.
NEAR_MISS_POSE, NEAR_MISS_BLEND, NEAR_MISS_CHOICE = 0.08, 0.4, 0.25


def near_miss_lines(params, rng: np.random.Generator, size: int) -> np.ndarray:
    """float [S, S]: the line art of a face near `params` (a plausible wrong reading of it), faint (0.4-0.8 of
    full ink)."""
    true_floats, choices = P.encode(params)
    other_floats, other_choices = P.encode(P.sample_params(int(rng.integers(0, NEAR_MISS_SEEDS))))
    floats = true_floats + rng.uniform(0.0, NEAR_MISS_BLEND) * (other_floats - true_floats)
    pose = P.float_groups() == P.ALL_GROUPS.index("pose")
    floats[pose] = true_floats[pose] + rng.normal(0.0, NEAR_MISS_POSE, int(pose.sum()))
    swap = rng.random(len(choices)) < NEAR_MISS_CHOICE
    choices = np.where(swap, other_choices, choices)
    guess = P.canonicalize(P.decode(np.clip(floats, 0.0, 1.0).astype(np.float32), choices))
    return render_lines(build_portrait(guess).strokes, size) * rng.uniform(0.4, 0.8)


NEAR_MISS_SEEDS = 900_000_000  # the other faces come from training's seed range, never evaluation's


def float_weights(pose_weight: float = POSE_WEIGHT) -> np.ndarray:
    """Loss weight per float: 0 for colours (a line sketch cannot show them), more for the pose."""
    weights = P.drawn_mask().astype(np.float32)
    weights[P.float_groups() == P.ALL_GROUPS.index("pose")] *= pose_weight
    return weights


class GuidanceTask:
    def __init__(self, model_config: dict, curriculum: SketchCurriculum, own=None, own_share: float = 0.0,
                 pose_weight: float = POSE_WEIGHT):
        cfg = EncoderConfig(n_floats=P.FLOAT_DIM, choice_sizes=tuple(int(k) for k in P.choice_sizes()), **model_config)
        self.model = SketchEncoder(cfg)
        self.curriculum = curriculum
        self.own, self.own_share = own, own_share  # the user's pictures (own_images.OwnSketches), if any
        self.weights = torch.from_numpy(float_weights(pose_weight))
        self.validation: dict[str, dict[str, np.ndarray]] | None = None
        self.shards: EpochReader | None = None  # portraits from disk instead of the engine

    def start_from(self, trained: SketchEncoder) -> SketchEncoder:
        """The trained encoder (`--init`), grown to the [model] config where that adds a finer map to the head
        (model.grown: it starts computing what the trained one does); otherwise as it is."""
        if self.model.config.skip_channels and not trained.config.skip_channels:
            return grown(trained, self.model.config)
        return trained

    def use_shards(self, folder) -> None:
        """Train on the portraits of a shard folder (data.shards.ShardFolder of the curriculum's size): sample
        n is record n mod len, drawn anew in each epoch n // len. Validation stays on held-out engine seeds."""
        from ..data.shards import EpochReader

        self.shards = EpochReader(folder)

    def draw(self, seed: int):
        """One training sample: with probability `own_share` one of the user's pictures, else an engine seed
        (or, with shards, sample number `seed` of the shard epochs)."""
        if self.own is not None:
            rng = np.random.default_rng([seed, 0x0E1])
            if rng.random() < self.own_share:
                return self.own.draw(rng, self.curriculum)
        if self.shards is not None:
            return self.curriculum.draw_rendered(*self.shards.at(seed, images=()))
        return self.curriculum.draw(seed)

    def make_batch(self, first_seed: int, batch_size: int) -> dict[str, np.ndarray]:
        return stack_samples([self.draw(first_seed + i) for i in range(batch_size)])

    def augment(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Another view of the same sketches, on the GPU (`another_pen`). Targets are unchanged."""
        return {**batch, "sketch": another_pen(batch["sketch"], thick_share=0.25)}

    def loss(self, model, batch):
        sketch = batch["sketch"]
        sketch = sketch.float().div(255.0) if sketch.dtype == torch.uint8 else sketch
        if sketch.is_cuda:
            sketch = sketch.contiguous(memory_format=torch.channels_last)
        floats, logits = model(sketch)
        return vector_loss(floats, logits, batch["floats"], batch["choices"], self.weights.to(floats.device))

    def on_checkpoint(self, model, out_dir: Path, step: int) -> dict[str, float]:
        """Float error and choice accuracy on fixed held-out seeds (the full F1 is `anisketch eval`) and, when
        training on the user's pictures, on fixed sketches of those (seen in training: a fit, not a test)."""
        if self.validation is None:
            seeds = range(VALIDATION_SEED, VALIDATION_SEED + VALIDATION_COUNT)
            self.validation = {"val": stack_samples([self.curriculum.draw(seed) for seed in seeds])}
            if self.own is not None:
                rng = np.random.default_rng(VALIDATION_SEED)
                own = [self.own.draw(rng, self.curriculum) for _ in range(OWN_VALIDATION_COUNT)]
                self.validation["own"] = stack_samples(own)
        model.eval()
        metrics = {}
        for prefix, batch in self.validation.items():
            mae, acc = self.errors(model, batch)
            metrics.update({f"{prefix}_float_mae": mae, f"{prefix}_choice_acc": acc})
        model.train()
        return metrics

    def errors(self, model, batch: dict[str, np.ndarray]) -> tuple[float, float]:
        device = next(model.parameters()).device
        with torch.no_grad():
            pred = predict(model, torch.from_numpy(batch["sketch"]).to(device).float() / 255.0)
        target = torch.from_numpy(batch["floats"]).to(device)
        w = self.weights.to(device) > 0
        mae = (pred.floats - target).abs()[:, w].mean()
        acc = (pred.choices.cpu() == torch.from_numpy(batch["choices"])).float().mean()
        return float(mae), float(acc)


def stack_samples(samples: list) -> dict[str, np.ndarray]:
    return {
        "sketch": np.stack([s[0] for s in samples])[:, None],
        "floats": np.stack([s[1] for s in samples]).astype(np.float32),
        "choices": np.stack([s[2] for s in samples]).astype(np.int64),
    }


VALIDATION_SEED = 1_900_000_000  # held out: training seeds count up from 0 and never get here
VALIDATION_COUNT = 256
OWN_VALIDATION_COUNT = 64  # fixed sketches of the user's pictures (with --data)


BANK_SIZE = 20000  # training vectors kept for the projection (seeds 0 .. BANK_SIZE - 1)


def make_task(config: dict, data_dir: Path | None = None) -> GuidanceTask:
    """The engine curriculum; with `data_dir` (a `--from-images` folder), fine-tuning on the user's pictures
    mixed with engine portraits (`[own] share`), from the shipped weights (`[own] weights`, default shipped)."""
    curriculum = SketchCurriculum(**config.get("data", {}))
    pose_weight = float(config.get("loss", {}).get("pose_weight", POSE_WEIGHT))
    if data_dir is None:
        return GuidanceTask(config.get("model", {}), curriculum, pose_weight=pose_weight)
    from .own_images import load_shipped_encoder, own_sketches

    own_config = config.get("own", {})
    share, weights_dir = float(own_config.get("share", 0.5)), own_config.get("weights")
    own = own_sketches(data_dir, weights_dir)
    task = GuidanceTask(config.get("model", {}), curriculum, own=own, own_share=share, pose_weight=pose_weight)
    task.model = load_shipped_encoder(weights_dir)  # its own architecture, whatever [model] says
    print(f"training on {len(own)} of your images mixed {share:.0%}/{1 - share:.0%} with engine portraits, "
          f"starting from the shipped guidance weights (targets: what they read in each picture's line art)")
    return task


def load_trainable(weights_dir: Path):
    """The encoder in `weights_dir`, trainable, for `anisketch train guidance --init`."""
    from .own_images import load_shipped_encoder

    return load_shipped_encoder(weights_dir)


def _vector_of_seed(seed: int) -> tuple[np.ndarray, np.ndarray]:
    return P.encode(P.sample_params(seed))


def projection_bank(count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    vectors = parallel_map(_vector_of_seed, range(BANK_SIZE if count is None else count))
    return np.stack([v[0] for v in vectors]), np.stack([v[1] for v in vectors])


def export(task: GuidanceTask, run_dir: Path, weights_dir: Path, config_path: Path) -> Path:
    """Write `guidance.safetensors` (fp16 weights) and `guidance_bank.safetensors` (the projection bank), and
    register both in the manifest. The bank has a file of its own: together they passed 16 MiB, and every weights
    file travels whole with each clone and each GPU call."""
    import json

    from ..train.export import half_tensors, load_trained, write_weights
    from ..weights import register

    info = load_trained(task.model, run_dir)
    stamp = {"layout": layout_fingerprint()}
    path = write_weights(weights_dir, "guidance", half_tensors(task.model, prefix="encoder."), {
        **stamp,
        "encoder_config": json.dumps(task.model.config.to_dict()),
        "trained": json.dumps(info),
        "input_size": str(task.curriculum.size),
    })
    register(weights_dir, "guidance", path, config=str(config_path), engine_version=P.ENGINE_VERSION,
             metadata={**stamp, "trained": info})
    bank_floats, bank_choices = projection_bank()
    bank = write_weights(weights_dir, BANK_MODEL, {"bank.floats": torch.from_numpy(bank_floats).half(),
                                                   "bank.choices": torch.from_numpy(bank_choices.astype(np.int16))},
                         stamp)
    register(weights_dir, BANK_MODEL, bank, engine_version=P.ENGINE_VERSION,
             metadata={**stamp, "bank_seeds": f"0..{BANK_SIZE - 1}"})
    return path
