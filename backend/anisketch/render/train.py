"""Training the faithful-mode colouriser on the portrait engine.

Each training sample is one engine portrait seen as an artist would hand it over: its lines (the clean line
art, or a messy, complete simulated sketch: what the sketch layer holds when the artist asks for colour),
a hint layer of `simulate_hints` dabs (a geometric count with p = 1/8, so no hints at all is common, as in
Zhang et al. 2017), and the target: the portrait's flat colours *without* lines (the lines are the artist's
and are composited on top at inference).

Speed: building a portrait costs most of a sample (~20 ms of ~35 ms on one core), so every portrait gives
`samples_per_portrait` samples, each with its own lines (clean, or the portrait's one messy sketch), its own
hints and a random mirror image: about 11 ms per sample on one core. Uint8 arrays cross the worker boundary; the float input is made on the GPU.

With `--data DIR` (a `--from-images` folder) the shipped colouriser is fine-tuned on the user's pictures
mixed with engine portraits: see `own_images.py`. With `--shards DIR` (written by `anisketch data --shards`)
the portraits' fills, parts, line art and strokes come from disk, reused every epoch, and only the sketches,
hints and mirroring are drawn anew (`use_shards`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.sample import RenderedPortrait, stream
from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.hints import sample_hint_count, simulate_hints
from ..engine.raster import render_lines, render_regions
from ..engine.sketch import render_sketch, simulate_sketch
from .model import Colorizer, ColorizerConfig, make_input

if TYPE_CHECKING:
    from ..data.shards import EpochReader

VALIDATION_SEED = 1_900_000_000  # held out: training seeds count up from 0 and never get here
VALIDATION_COUNT = 128
OWN_VALIDATION_COUNT = 32  # fixed samples of the user's pictures (with --data)
PORTRAIT_STREAM = 0xC010  # a portrait's random stream: (seed, PORTRAIT_STREAM), and the epoch after the first
SHARD_IMAGES = ("fill", "lineart", "parts")  # what a sample needs of a shard's portrait


@dataclass
class ColorCurriculum:
    """How training inputs are drawn: which lines, how many hints."""

    size: int = 256
    clean_share: float = 0.5  # the engine's clean line art; the rest are messy complete sketches
    min_messiness: float = 0.1
    max_messiness: float = 1.0
    hint_p: float = 1 / 8  # geometric law of the hint count (mean 7; 0 hints one time in eight)
    samples_per_portrait: int = 4

    def portrait(self, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """`samples_per_portrait` x (lines uint8[S, S], hints uint8[S, S, 4], target uint8[S, S, 3])."""
        portrait = build_portrait(P.sample_params(seed))
        fill, parts = render_regions(portrait.regions, self.size)
        clean = render_lines(portrait.strokes, self.size)
        return self.samples_of(portrait.strokes, fill, parts, clean, stream(seed, PORTRAIT_STREAM))

    def rendered(self, portrait: RenderedPortrait, epoch: int) -> list:
        """The same from a shard's portrait (its fill, parts and line art are render_regions' and
        render_lines' bytes): epoch 0 is exactly `portrait(portrait.seed)`, each later epoch new samples."""
        return self.samples_of(portrait.strokes, portrait.fill, portrait.parts, portrait.lineart,
                               stream(portrait.seed, PORTRAIT_STREAM, epoch))

    def samples_of(self, strokes: list, fill, parts, clean, rng: np.random.Generator) -> list:
        samples, messy = [], None
        for _ in range(self.samples_per_portrait):
            if rng.random() < self.clean_share:
                lines = clean
            else:  # one messy sketch per portrait (10 ms); its samples still differ in hints and mirroring
                messy = self.messy_sketch(strokes, rng) if messy is None else messy
                lines = messy
            hints = simulate_hints(None, fill, parts, rng, sample_hint_count(rng, self.hint_p))
            if rng.random() < 0.5:  # mirror image: a different face for the network, for free
                samples.append((lines[:, ::-1], hints[:, ::-1], fill[:, ::-1]))
            else:
                samples.append((lines, hints, fill))
        return samples

    def messy_sketch(self, strokes: list, rng) -> np.ndarray:
        messiness = rng.uniform(self.min_messiness, self.max_messiness)
        drawn = simulate_sketch(strokes, rng, fraction=1.0, order="random", messiness=messiness)
        return render_sketch(drawn, self.size, rng=rng, texture="pencil" if rng.random() < 0.5 else "pen")


class ColorizerTask:
    def __init__(self, model_config: dict, curriculum: ColorCurriculum, edge_weight: float = 0.0,
                 own=None, own_share: float = 0.0):
        self.model = Colorizer(ColorizerConfig.from_dict(model_config) if model_config else ColorizerConfig())
        self.curriculum = curriculum
        self.edge_weight = edge_weight
        self.own, self.own_share = own, own_share  # the user's pictures (own_images.OwnPictures), if any
        self.validation: dict[str, np.ndarray] | None = None
        self.shards: EpochReader | None = None  # portraits from disk instead of the engine

    def use_shards(self, folder) -> None:
        """Train on the portraits of a shard folder (data.shards.ShardFolder of the curriculum's size).
        Validation stays on held-out engine seeds."""
        from ..data.shards import EpochReader

        self.shards = EpochReader(folder)

    def make_batch(self, first_seed: int, batch_size: int) -> dict[str, np.ndarray]:
        """`batch_size` samples: each one of the user's pictures with probability `own_share`, else engine."""
        own = []
        if self.own is not None:
            rng = np.random.default_rng([first_seed, 0x0E1])
            own = [self.own.draw(rng) for _ in range(rng.binomial(batch_size, self.own_share))]
        count = batch_size - len(own)
        make = self.engine_samples if self.shards is None else self.shard_samples
        return stack_samples(own + make(first_seed, count))

    def engine_samples(self, first_seed: int, count: int) -> list:
        k = self.curriculum.samples_per_portrait
        return [s for i in range(-(-count // k)) for s in self.curriculum.portrait(first_seed + i)][:count]

    def shard_samples(self, first_seed: int, count: int) -> list:
        """Like engine_samples, from the shards' portraits. Batch j starts at sample j * B and needs B / k
        portraits, so portrait numbers start at first_seed // k: every record is used, one after the other."""
        k = self.curriculum.samples_per_portrait
        first = first_seed // k
        shards = self.shards
        assert shards is not None, "use_shards first"
        return [s for i in range(-(-count // k))
                for s in self.curriculum.rendered(*shards.at(first + i, images=SHARD_IMAGES))][:count]

    def loss(self, model, batch):
        x = make_input(batch["lines"], batch["hints"])
        target = batch["target"].float() / 255.0
        if x.is_cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        pred = model(x).float()
        l1 = (pred - target).abs().mean()
        parts = {"l1": l1.detach()}
        if self.edge_weight > 0:  # colour boundaries in the right place: L1 on horizontal/vertical differences
            edge = sum((d(pred) - d(target)).abs().mean() for d in (_dx, _dy))
            parts["edge"] = edge.detach()
            return l1 + self.edge_weight * edge, parts
        return l1, parts

    def on_checkpoint(self, model, out_dir: Path, step: int) -> dict[str, float]:
        """PSNR of the fills on fixed held-out portraits (the full evaluation is `anisketch eval`)."""
        if self.validation is None:
            self.validation = stack_samples(self.engine_samples(VALIDATION_SEED, VALIDATION_COUNT))
            if self.own is not None:  # the user's pictures, seen in training: a fit, not a test
                rng = np.random.default_rng(VALIDATION_SEED)
                self.own_validation = stack_samples([self.own.draw(rng) for _ in range(OWN_VALIDATION_COUNT)])
        model.eval()
        psnr, psnr_none = _psnr(model, self.validation)
        metrics = {"val_psnr": psnr, "val_psnr_no_hints": psnr_none}
        if self.own is not None:
            metrics["own_psnr"] = _psnr(model, self.own_validation)[0]
        model.train()
        return metrics


def stack_samples(samples: list) -> dict[str, np.ndarray]:
    return {
        "lines": np.stack([s[0] for s in samples])[:, None],
        "hints": np.stack([s[1] for s in samples]).transpose(0, 3, 1, 2).copy(),
        "target": np.stack([s[2] for s in samples]).transpose(0, 3, 1, 2).copy(),
    }


def _psnr(model, samples: dict[str, np.ndarray]) -> tuple[float, float]:
    """Mean PSNR of the fills (dB), over all samples and over those without hints."""
    device = next(model.parameters()).device
    with torch.no_grad():
        batch = {k: torch.from_numpy(v).to(device) for k, v in samples.items()}
        pred = model(make_input(batch["lines"], batch["hints"])).float().clamp(0, 1)
        mse = ((pred - batch["target"].float() / 255.0) ** 2).mean(dim=(1, 2, 3))
        psnr = (-10 * torch.log10(mse.clamp_min(1e-10))).mean()
        hinted = batch["hints"][:, 3].flatten(1).amax(1) >= 128
        psnr_none = (-10 * torch.log10(mse[~hinted].clamp_min(1e-10))).mean() if (~hinted).any() else psnr
    return float(psnr), float(psnr_none)


def _dx(img: torch.Tensor) -> torch.Tensor:
    return img[..., :, 1:] - img[..., :, :-1]


def _dy(img: torch.Tensor) -> torch.Tensor:
    return img[..., 1:, :] - img[..., :-1, :]


def make_task(config: dict, data_dir: Path | None = None) -> ColorizerTask:
    """The engine curriculum; with `data_dir` (a `--from-images` folder), fine-tuning on the user's pictures
    mixed with engine portraits (`[own] share`), from the shipped weights (`[own] weights`, default shipped)."""
    curriculum = ColorCurriculum(**config.get("data", {}))
    edge_weight = float(config.get("loss", {}).get("edge_weight", 0.0))
    if data_dir is None:
        return ColorizerTask(config.get("model", {}), curriculum, edge_weight=edge_weight)
    from .own_images import load_shipped_colorizer, own_pictures

    own_config = config.get("own", {})
    share = float(own_config.get("share", 0.5))
    own = own_pictures(data_dir, curriculum)
    task = ColorizerTask(config.get("model", {}), curriculum, edge_weight=edge_weight, own=own, own_share=share)
    task.model = load_shipped_colorizer(own_config.get("weights"))  # its own architecture, whatever [model] says
    print(f"training on {len(own)} of your images mixed {share:.0%}/{1 - share:.0%} with engine portraits, "
          f"starting from the shipped colouriser weights")
    return task


def load_trainable(weights_dir: Path):
    """The colouriser in `weights_dir`, trainable, for `anisketch train colorizer --init`."""
    from .own_images import load_shipped_colorizer

    return load_shipped_colorizer(weights_dir)


def export(task: ColorizerTask, run_dir: Path, weights_dir: Path, config_path: Path) -> Path:
    """Write `colorizer.safetensors` (fp16 weights, BatchNorm statistics included) and register it."""
    import json

    from ..train.export import half_tensors, load_trained, write_weights
    from ..weights import register

    info = load_trained(task.model, run_dir)
    path = write_weights(weights_dir, "colorizer", half_tensors(task.model), {
        "colorizer_config": task.model.config.to_json(),
        "trained": json.dumps(info),
        "input_size": str(task.curriculum.size),
    })
    register(weights_dir, "colorizer", path, config=str(config_path), engine_version=P.ENGINE_VERSION,
             metadata={"trained": info, "input_size": task.curriculum.size})
    return path

