"""The attribute classifier: the judge of generation.

A colour portrait in, one prediction per MakeGirlsMoe attribute out (13 hair colours, 5 hair styles, 10 eye
colours, and seven on/off attributes). It is trained on engine renders only (`generate/train.py`) and never
sees the generator's requests: it reads what the pixels show, so it can tell whether a generated portrait really
has the blonde twin tails it was asked for.

A small residual CNN at 128 px. The eyes are about ten pixels wide at that size, so the stem downsamples only
once and the last stage still sees an 8x8 map; a global average pool then lets each head read its attribute
wherever the pose put the face.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..blocks import conv_bn, residual_stages
from ..engine.params import ATTRIBUTES

ATTRIBUTE_NAMES = tuple(ATTRIBUTES)
HEAD_SIZES = tuple(len(ATTRIBUTES[name]) for name in ATTRIBUTE_NAMES)


@dataclass
class ClassifierConfig:
    in_size: int = 128
    widths: tuple[int, ...] = (32, 64, 128, 144)
    blocks_per_stage: int = 2
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ClassifierConfig":
        d = dict(d)
        d["widths"] = tuple(d["widths"])
        return cls(**d)


class AttributeClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(conv_bn(3, w[0], stride=2), nn.ReLU())
        self.stages = residual_stages(w, config.blocks_per_stage)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config.dropout),
                                  nn.Linear(w[-1], sum(HEAD_SIZES)))

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """The pooled last feature map [B, C]: a description of the portrait (diversity is measured on it)."""
        return self.head[:2](self.stages(self.stem(image - 0.5))).float()

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """image: float [B, 3, S, S] in [0, 1]. Returns one logits tensor [B, K_a] per attribute."""
        out = self.head(self.stages(self.stem(image - 0.5))).float()
        return list(torch.split(out, list(HEAD_SIZES), dim=1))


def attribute_loss(logits: list[torch.Tensor], labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean cross-entropy over the attributes; the parts report each attribute's batch accuracy."""
    losses = [F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(logits)]
    parts = {f"acc_{name}": (lg.argmax(1) == labels[:, i]).float().mean().detach()
             for i, (name, lg) in enumerate(zip(ATTRIBUTE_NAMES, logits))}
    return torch.stack(losses).mean(), parts


def labels_of(attributes: dict) -> np.ndarray:
    """Attribute dict -> int64 [A] indices into each attribute's values."""
    return np.array([ATTRIBUTES[name].index(attributes[name]) for name in ATTRIBUTE_NAMES], np.int64)


def attributes_from_labels(labels) -> dict:
    return {name: ATTRIBUTES[name][int(i)] for name, i in zip(ATTRIBUTE_NAMES, labels)}


class AttributeJudge:
    """The trained classifier behind a numpy API: `judge(images uint8 [N, S, S, 3]) -> list of attribute dicts`."""

    def __init__(self, model: AttributeClassifier, device: str | torch.device = "cpu"):
        self.model = model.to(device).eval()
        self.device = torch.device(device)
        self.size = model.config.in_size

    def _batches(self, images: np.ndarray, batch_size: int):
        """Float [B, 3, S, S] tensors in [0, 1] at the model's input size."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected uint8 images [N, S, S, 3], got {images.dtype} {images.shape}")
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size])).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            if x.shape[-1] != self.size:
                x = F.interpolate(x, size=(self.size, self.size), mode="area")
            yield x

    @torch.no_grad()
    def probabilities(self, images: np.ndarray, batch_size: int = 64) -> list[np.ndarray]:
        """Per attribute, float [N, K_a] probabilities. Images are resized to the model's input size."""
        chunks: list[list[np.ndarray]] = [[] for _ in ATTRIBUTE_NAMES]
        for x in self._batches(images, batch_size):
            for i, lg in enumerate(self.model(x)):
                chunks[i].append(lg.softmax(1).cpu().numpy())
        return [np.concatenate(c) for c in chunks]

    @torch.no_grad()
    def features(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        return np.concatenate([self.model.features(x).cpu().numpy() for x in self._batches(images, batch_size)])

    def __call__(self, images: np.ndarray) -> list[dict]:
        probs = self.probabilities(images)
        labels = np.stack([p.argmax(1) for p in probs], axis=1)
        return [attributes_from_labels(row) for row in labels]


WEIGHTS_NAME = "attributes"


def load_judge(weights_dir: Path | None = None, device: str = "cpu") -> AttributeJudge:
    """The shipped classifier (`weights/attributes.safetensors`), checksum verified."""
    import json

    from ..errors import ModelUnavailable
    from ..weights import default_weights_dir, load_tensors

    tensors, metadata, _ = load_tensors(Path(weights_dir or default_weights_dir()), WEIGHTS_NAME, device="cpu")
    model = AttributeClassifier(ClassifierConfig.from_dict(json.loads(metadata["classifier_config"])))
    state = {k[len("classifier."):]: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    result = model.load_state_dict(state, strict=False)  # num_batches_tracked is not shipped
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ModelUnavailable(f"{WEIGHTS_NAME}.safetensors does not match the classifier "
                               f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]}): retrain or restore it")
    return AttributeJudge(model, device)
