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

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class EncoderConfig:
    n_floats: int
    choice_sizes: tuple[int, ...]
    in_size: int = 256
    widths: tuple[int, ...] = (32, 64, 128, 192)
    blocks_per_stage: int = 2
    head_channels: int = 48
    hidden: int = 768

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EncoderConfig":
        d = dict(d)
        d["choice_sizes"] = tuple(d["choice_sizes"])
        d["widths"] = tuple(d["widths"])
        return cls(**d)


def conv_bn(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = conv_bn(c_in, c_out, stride)
        self.conv2 = conv_bn(c_out, c_out)
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else conv_bn(c_in, c_out, stride, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(F.relu(self.conv1(x))) + self.skip(x))


class SketchEncoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(conv_bn(3, w[0] // 2 + 8, stride=2), nn.ReLU(), conv_bn(w[0] // 2 + 8, w[0], 2), nn.ReLU())
        stages, c_in = [], w[0]
        for i, c_out in enumerate(w):
            for b in range(config.blocks_per_stage):
                stages.append(ResidualBlock(c_in, c_out, stride=2 if (b == 0 and i > 0) else 1))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.reduce = nn.Sequential(conv_bn(c_in, config.head_channels, kernel=1), nn.ReLU())
        side = config.in_size // 4 // 2 ** (len(w) - 1)
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(config.head_channels * side * side, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.n_floats + sum(config.choice_sizes)),
        )
        ramp = torch.linspace(-1.0, 1.0, config.in_size)
        self.register_buffer("coords", torch.stack(torch.meshgrid(ramp, ramp, indexing="xy"))[None], persistent=False)

    def forward(self, sketch: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """sketch: float [B, 1, S, S], ink darkness in [0, 1]. Returns (floats [B, D], [logits [B, K_c]])."""
        x = torch.cat([sketch, self.coords.expand(sketch.shape[0], -1, -1, -1).to(sketch.dtype)], dim=1)
        out = self.fc(self.reduce(self.stages(self.stem(x)))).float()
        floats = torch.sigmoid(out[:, : self.config.n_floats])
        logits = list(torch.split(out[:, self.config.n_floats :], list(self.config.choice_sizes), dim=1))
        return floats, logits


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
    choice_term = sum(F.cross_entropy(lg, target_choices[:, i]) for i, lg in enumerate(logits)) / max(len(logits), 1)
    total = float_term * 20.0 + choice_term
    return total, {"float_loss": float_term.detach(), "choice_loss": choice_term.detach()}


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """For inference: fold every BatchNorm into the convolution before it (one op instead of two per layer)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in model.modules():
        if isinstance(module, nn.Sequential) and len(module) >= 2:
            conv, bn = module[0], module[1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module[0] = fuse_conv_bn_eval(conv.eval(), bn.eval())
                module[1] = nn.Identity()
    return model.eval()


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
