"""The sketch encoder: a partial, messy line sketch in, the portrait engine's parameter vector out.

A small residual CNN. Two choices matter more than depth:
- CoordConv channels (x, y ramps) on the input, and a head that *flattens* the last feature map instead of
  pooling it, so the network keeps track of where things are: guidance is judged within 3 px at 512 px.
- Two kinds of output, matching the engine's vector: floats in [0, 1] (shapes, positions, sizes) through a
  sigmoid, and one set of logits per categorical choice (hair style, bang cut, mouth shape...).

The same network serves as the teacher (fed clean, complete line art) and the student (fed simulated
beginner sketches at any stage); training mixes both, see `guidance/train.py`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..blocks import SparseInputLinear, conv_bn, residual_stages


@dataclass
class EncoderConfig:
    n_floats: int
    choice_sizes: tuple[int, ...]
    in_size: int = 256
    widths: tuple[int, ...] = (32, 64, 128, 192)
    blocks_per_stage: int = 2
    head_channels: int = 48
    hidden: int = 768
    # Channels of a finer map (the stage before the last, 16 x 16 at 256 px) flattened into the head beside the
    # last one (0: none). Guidance is judged within 3 px at 512 px, and the 8 x 8 map alone places lines only as
    # finely as its channels can say.
    skip_channels: int = 0
    # Images stacked as the input's channels: 1 for a sketch; the pose refiner reads the sketch beside the
    # guidance drawn from its reading (refine.py).
    in_channels: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EncoderConfig":
        d = dict(d)
        d["choice_sizes"] = tuple(d["choice_sizes"])
        d["widths"] = tuple(d["widths"])
        return cls(**d)


class FoldedCoords(nn.Module):
    """The stem's first convolution with its coordinate channels folded (for inference): they are the same for
    every input, so their share of the output is one map, computed once. A convolution is linear and pads each
    channel with zeros alike, so the sum is what the convolution over all channels gives; it reads a third or
    half of the channels, and the input is not concatenated first (one thread: the guidance encoder 8.4 -> 8.1 ms,
    the pose refiner 1.78 -> 1.64 ms; the outputs agree to 4e-7)."""

    share: torch.Tensor  # a buffer: the coordinate channels' share of the output, bias included [1, C, S', S']

    def __init__(self, conv: nn.Conv2d, coords: torch.Tensor):
        super().__init__()
        n = conv.in_channels - coords.shape[1]  # the image's channels, before the coordinates
        self.weight = nn.Parameter(conv.weight[:, :n].detach().clone(), requires_grad=False)
        self.stride, self.padding = conv.stride, conv.padding
        with torch.no_grad():
            share = F.conv2d(coords, conv.weight[:, n:], conv.bias, conv.stride, conv.padding)
        self.register_buffer("share", share, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, None, self.stride, self.padding) + self.share


class SketchEncoder(nn.Module):
    coords: torch.Tensor  # a buffer: the pixel coordinates fed beside the sketch

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(conv_bn(config.in_channels + 2, w[0] // 2 + 8, stride=2), nn.ReLU(), conv_bn(w[0] // 2 + 8, w[0], 2), nn.ReLU())
        self.stages = residual_stages(w, config.blocks_per_stage)
        self.reduce = nn.Sequential(conv_bn(w[-1], config.head_channels, kernel=1), nn.ReLU())
        side = config.in_size // 4 // 2 ** (len(w) - 1)
        features = config.head_channels * side * side
        # the block whose input is the finer map (the last stage's first block); -1: the head reads no finer map
        self.finer_at = config.blocks_per_stage * (len(w) - 1) if config.skip_channels else -1
        if config.skip_channels:
            self.skip = nn.Sequential(conv_bn(w[-2], config.skip_channels, kernel=1), nn.ReLU())
            features += config.skip_channels * (2 * side) ** 2
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(features, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.n_floats + sum(config.choice_sizes)),
        )
        ramp = torch.linspace(-1.0, 1.0, config.in_size)
        self.register_buffer("coords", torch.stack(torch.meshgrid(ramp, ramp, indexing="xy"))[None], persistent=False)

    def forward(self, sketch: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """sketch: float [B, in_channels, S, S], ink darkness in [0, 1]. Returns (floats [B, D], [logits [B, K_c]])."""
        if not isinstance(self.stem[0], FoldedCoords):
            sketch = torch.cat([sketch, self.coords.expand(sketch.shape[0], -1, -1, -1).to(sketch.dtype)], dim=1)
        x = self.stem(sketch)
        finer = None
        for i, block in enumerate(self.stages):
            if i == self.finer_at:
                finer = x
            x = block(x)
        head = self.reduce(x)
        if finer is not None:
            head = torch.cat([head.flatten(1), self.skip(finer).flatten(1)], 1)
        out = self.fc(head).float()
        floats = torch.sigmoid(out[:, : self.config.n_floats])
        logits = list(torch.split(out[:, self.config.n_floats :], list(self.config.choice_sizes), dim=1))
        return floats, logits

    def prepare_for_inference(self, device: str) -> None:
        """For inference, after BatchNorm is folded (blocks.for_inference): the coordinate channels' share of the
        first convolution computed once (FoldedCoords), and on the CPU the head's first layer reading only its
        non-zero features (SparseInputLinear: they come out of ReLUs). The weights' names change: save the network
        unprepared."""
        first = self.stem[0]  # conv_bn's (Conv2d, folded norm), or already folded here
        if isinstance(first, nn.Sequential) and isinstance(first[0], nn.Conv2d):
            self.stem[0] = FoldedCoords(first[0], self.coords)
        if device == "cpu" and isinstance(self.fc[1], nn.Linear):
            self.fc[1] = SparseInputLinear(self.fc[1])


def grown(trained: SketchEncoder, config: EncoderConfig) -> SketchEncoder:
    """A network of `config` that computes what `trained` does: every weight they share copied, the finer map's
    head weights (`skip_channels`, which `trained` lacks) at zero, so fine-tuning starts from the trained reading."""
    if asdict(trained.config) | {"skip_channels": config.skip_channels} != asdict(config) or trained.config.skip_channels:
        raise ValueError("only a network without a finer map can grow one (the rest of the config must match)")
    network = SketchEncoder(config)
    state = trained.state_dict()
    old = state["fc.1.weight"]
    state["fc.1.weight"] = torch.cat([old, old.new_zeros(old.shape[0], network.fc[1].in_features - old.shape[1])], 1)
    state.update({k: v for k, v in network.state_dict().items() if k.startswith("skip.")})
    network.load_state_dict(state)
    return network


def from_tensors(tensors: dict, config_json: str, prefix: str) -> SketchEncoder:
    """The network a weights file holds: its config (JSON) and its tensors named `prefix` + parameter name, in
    fp32, BatchNorm unfolded (trainable). ValueError naming what does not fit this code's network."""
    network = SketchEncoder(EncoderConfig.from_dict(json.loads(config_json)))
    state = {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}
    found = network.load_state_dict(state, strict=False)  # num_batches_tracked is not shipped
    missing = [k for k in found.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or found.unexpected_keys:
        raise ValueError(f"missing {missing[:3]}, unexpected {found.unexpected_keys[:3]}")
    return network


def vector_loss(
    floats: torch.Tensor,
    logits: list[torch.Tensor],
    target_floats: torch.Tensor,
    target_choices: torch.Tensor,
    float_weights: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted smooth-L1 on the floats (colours carry weight 0: a line sketch cannot show them) plus
    cross-entropy on each choice. Returns the total and its parts for the curves."""
    per_float = F.smooth_l1_loss(floats, target_floats, reduction="none", beta=0.05)
    float_term = (per_float * float_weights).sum(dim=1).mean() / float_weights.sum().clamp(min=1e-6)
    choice_term = sum((F.cross_entropy(lg, target_choices[:, i]) for i, lg in enumerate(logits)),
                      torch.zeros((), device=floats.device)) / max(len(logits), 1)
    total = float_term * 20.0 + choice_term
    return total, {"float_loss": float_term.detach(), "choice_loss": choice_term.detach()}


@dataclass
class Prediction:
    floats: torch.Tensor  # [B, D]
    choices: torch.Tensor  # [B, C] argmax
    choice_probs: list[torch.Tensor] = field(default_factory=list)


@torch.no_grad()
def predict(model: SketchEncoder, sketch: torch.Tensor) -> Prediction:
    floats, logits = model(sketch)
    probs = [lg.softmax(dim=1) for lg in logits]
    choices = torch.stack([p.argmax(dim=1) for p in probs], dim=1) if probs else floats.new_zeros((floats.shape[0], 0), dtype=torch.long)
    return Prediction(floats=floats, choices=choices, choice_probs=probs)
