"""The faithful-mode colouriser: a compact U-Net that fills an artist's own line art with colour.

In the manner of PaintsChainer and Zhang et al. 2017 ("Real-Time User-Guided Image Colorization"), the
network sees the lines and the artist's colour hints, and predicts the colours:

    input  [B, 5, S, S]: line darkness (1, 0 = paper .. 1 = ink), hint RGB premultiplied by the hint mask (3),
                         hint mask (1)
    output [B, 3, S, S]: the flat cel colours *under* the lines, RGB in [0, 1]

It predicts the fills only, not the lines: the artist's own full-resolution lines are composited on top
afterwards (`colorize`), so lines stay crisp at any size and the network never has to redraw them.

Layout: an encoder that halves the resolution four times (256 -> 16 px), a bottleneck of residual blocks
with a global context vector (the mean of the bottleneck features, broadcast back: a hint on one lock of hair
has to reach the whole hair), and a decoder with (additive) skip connections. BatchNorm + ReLU everywhere (fast, fuses at
inference, bf16-friendly). Channels stay narrow at full resolution, where most of the pixels are.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

IN_CHANNELS = 5


@dataclass
class ColorizerConfig:
    widths: tuple[int, ...] = (16, 32, 64, 128, 192)  # per level: 256, 128, 64, 32, 16 px at a 256 px input
    encoder_blocks: tuple[int, ...] = (0, 0, 0, 1, 2)  # residual blocks after each level's downsampling
    decoder_blocks: tuple[int, ...] = (0, 0, 0, 0)  # residual blocks after each decoder level's merge (fine..coarse)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ColorizerConfig":
        return cls(**{k: tuple(v) for k, v in d.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    """The colouriser's residual block: not blocks.ResidualBlock, whose norms sit inside Sequentials (other
    weight names) and which has no zero-initialised last norm; the shipped colouriser weights name these."""

    FOLDS = (("conv1", "bn1"), ("conv2", "bn2"))  # for blocks.fold_batchnorm

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1: nn.Module = nn.BatchNorm2d(c)  # nn.Identity once folded (blocks.fold_batchnorm)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        bn2 = nn.BatchNorm2d(c)
        nn.init.zeros_(bn2.weight)  # each block starts as the identity: deep stacks train from step one
        self.bn2: nn.Module = bn2

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(x + self.bn2(self.conv2(h)), inplace=True)


class GlobalContext(nn.Module):
    """Adds a projection of the image-wide mean feature to every position (one colour decision per region)."""

    def __init__(self, c: int):
        super().__init__()
        first, last = nn.Linear(c, c), nn.Linear(c, c)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.mlp = nn.Sequential(first, nn.ReLU(inplace=True), last)

    def forward(self, x):
        return x + self.mlp(x.mean(dim=(2, 3)))[:, :, None, None]


class Colorizer(nn.Module):
    def __init__(self, config: ColorizerConfig | None = None):
        super().__init__()
        self.config = cfg = config or ColorizerConfig()
        w = cfg.widths
        self.stem = conv_bn_relu(IN_CHANNELS, w[0])
        self.down = nn.ModuleList()
        for i in range(1, len(w)):
            blocks = [conv_bn_relu(w[i - 1], w[i], stride=2)] + [ResBlock(w[i]) for _ in range(cfg.encoder_blocks[i])]
            self.down.append(nn.Sequential(*blocks))
        self.context = GlobalContext(w[-1])
        # Decoder level i (from coarse to fine) adds the upsampled level i+1 to the skip of level i (adding
        # rather than concatenating halves the cost of the merge conv). The coarse features are narrowed by a
        # 1x1 conv at low resolution first (cheap), then upsampled.
        self.narrow = nn.ModuleList([nn.Conv2d(w[i + 1], w[i], 1, bias=False) for i in range(len(w) - 1)])
        self.merge = nn.ModuleList()
        for i in range(len(w) - 1):
            extra = cfg.decoder_blocks[i] if i < len(cfg.decoder_blocks) else 0
            self.merge.append(nn.Sequential(conv_bn_relu(w[i], w[i]), *[ResBlock(w[i]) for _ in range(extra)]))
        self.head = nn.Conv2d(w[0], 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, 5, S, S] (S divisible by 16) -> RGB [B, 3, S, S], about [0, 1] (not clamped: L1 trains better)."""
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        h = self.context(skips[-1])
        for i in reversed(range(len(self.merge))):
            h = F.interpolate(self.narrow[i](h), scale_factor=2.0, mode="nearest")
            h = self.merge[i](h + skips[i])
        return self.head(h) + 0.5


def make_input(lines: torch.Tensor, hints_rgba: torch.Tensor, threshold: int = 128) -> torch.Tensor:
    """The network input from uint8 tensors: lines [B, 1, S, S] darkness, hints [B, 4, S, S] straight RGBA.

    A hint pixel counts when its alpha is at least `threshold` (as `engine.hints.hints_to_mask`)."""
    mask = (hints_rgba[:, 3:4] >= threshold).to(torch.float32)
    rgb = hints_rgba[:, :3].to(torch.float32) * (mask / 255.0)
    return torch.cat([lines.to(torch.float32) / 255.0, rgb, mask], dim=1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
