"""Training the attribute classifier (the judge of generation) on engine colour renders.

    anisketch train attributes --config backend/configs/attributes.toml --export weights/

Every batch is rendered on the fly at the model's input size from fresh engine seeds. Most samples ask the
engine for attributes drawn uniformly (every hair colour, every style, hat on or off as often as not), so rare
values are learnt as well as common ones; the rest keep the engine's own priors, which is what the judge is
validated on. Labels are `attributes_of(params)`: what the portrait shows, whatever was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render
from .model import (ATTRIBUTE_NAMES, WEIGHTS_NAME, AttributeClassifier, AttributeJudge, ClassifierConfig,
                    attribute_loss, labels_of)

VALIDATION_SEED = 1_950_000_000  # held out: training seeds count up from 0 and never get here
VALIDATION_COUNT = 512


@dataclass
class AttributeSampling:
    size: int = 128
    balanced_share: float = 0.8  # share of samples whose attributes are drawn uniformly rather than by the prior

    def draw(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour image uint8 [S, S, 3], labels int64 [A]) for one engine seed."""
        rng = np.random.default_rng([seed, 0xA77])
        wanted = None
        if rng.random() < self.balanced_share:
            wanted = {name: values[rng.integers(len(values))] for name, values in P.ATTRIBUTES.items()}
        params = P.sample_params(seed, wanted)
        image = render(build_portrait(params), self.size)["color"]
        return image, labels_of(P.attributes_of(params))


def engine_samples(first_seed: int, count: int, size: int, balanced_share: float = 0.0):
    """(images, labels) for seeds first_seed..: what the judge is validated on (engine priors by default)."""
    sampling = AttributeSampling(size=size, balanced_share=balanced_share)
    samples = [sampling.draw(first_seed + i) for i in range(count)]
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])


class AttributeTask:
    def __init__(self, model_config: dict, sampling: AttributeSampling):
        self.model = AttributeClassifier(ClassifierConfig(in_size=sampling.size, **model_config))
        self.sampling = sampling
        self.validation: tuple[np.ndarray, np.ndarray] | None = None

    def make_batch(self, first_seed: int, batch_size: int) -> dict[str, np.ndarray]:
        samples = [self.sampling.draw(first_seed + i) for i in range(batch_size)]
        return {
            "image": np.stack([s[0] for s in samples]).transpose(0, 3, 1, 2).copy(),  # uint8 [B, 3, S, S]
            "labels": np.stack([s[1] for s in samples]),
        }

    def loss(self, model, batch):
        image = batch["image"].float().div_(255.0)
        if image.is_cuda:
            image = image.contiguous(memory_format=torch.channels_last)
        return attribute_loss(model(image), batch["labels"])

    def on_checkpoint(self, model, out_dir: Path, step: int) -> dict[str, float]:
        """Accuracy per attribute on held-out engine images with the engine's own priors."""
        if self.validation is None:
            self.validation = engine_samples(VALIDATION_SEED, VALIDATION_COUNT, self.sampling.size)
        images, labels = self.validation
        judge = AttributeJudge(model, next(model.parameters()).device)
        predicted = np.stack([p.argmax(1) for p in judge.probabilities(images, batch_size=128)], axis=1)
        model.train()
        per_attribute = (predicted == labels).mean(axis=0)
        metrics = {f"val_acc_{name}": float(a) for name, a in zip(ATTRIBUTE_NAMES, per_attribute)}
        metrics["val_acc"] = float(per_attribute.mean())
        metrics["val_acc_min"] = float(per_attribute.min())
        return metrics


def make_task(config: dict, data_dir: Path | None = None) -> AttributeTask:
    if data_dir is not None:
        raise SystemExit("anisketch train attributes --data: your own images carry no attribute labels; "
                         "the classifier trains on engine renders only")
    return AttributeTask(config.get("model", {}), AttributeSampling(**config.get("data", {})))


def export(task: AttributeTask, run_dir: Path, weights_dir: Path, config_path: Path) -> Path:
    """Write `attributes.safetensors` (fp16) and register it, with its held-out accuracy, in the manifest."""
    import json

    from ..train.export import half_tensors, load_trained, write_weights
    from ..weights import register

    info = load_trained(task.model, run_dir)
    tensors = half_tensors(task.model, prefix="classifier.")
    path = write_weights(weights_dir, WEIGHTS_NAME, tensors, {
        "classifier_config": json.dumps(task.model.config.to_dict()),
        "attributes": json.dumps(P.ATTRIBUTES),
        "trained": json.dumps(info),
    })
    # Accuracy of the exported weights themselves (fp16-rounded, like users get them), on held-out engine images.
    task.model.load_state_dict({k[len("classifier."):]: v.float() for k, v in tensors.items()}, strict=False)
    accuracy = task.on_checkpoint(task.model, Path(run_dir), int(info["step"]))
    register(weights_dir, WEIGHTS_NAME, path, config=str(config_path), engine_version=P.ENGINE_VERSION,
             metadata={"trained": info, "validation_seeds": f"{VALIDATION_SEED}+{VALIDATION_COUNT}"},
             metrics={"judge_accuracy": round(accuracy["val_acc"], 4),
                      "judge_accuracy_min": round(accuracy["val_acc_min"], 4)})
    return path
