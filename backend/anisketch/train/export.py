"""From a training run to a shipped weights file: the steps every model's `export` shares."""

from __future__ import annotations

from pathlib import Path

import torch

from ..engine.params import ENGINE_VERSION
from .checkpoint import load_checkpoint


def load_trained(model: torch.nn.Module, run_dir: Path) -> dict:
    """Load the run's latest checkpoint into `model`; its info (step, samples, seconds)."""
    info = load_checkpoint(run_dir, model, None)
    if info is None:
        raise SystemExit(f"no checkpoint in {run_dir}: train first")
    return info


def half_tensors(model: torch.nn.Module, prefix: str = "") -> dict[str, torch.Tensor]:
    """The model's weights in fp16 (what we ship: half the size, no measurable loss for these nets)."""
    return {
        f"{prefix}{k}": (v.half() if v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }


def write_weights(weights_dir: Path, name: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """`weights_dir/name.safetensors`, stamped with the engine version its training data came from."""
    from safetensors.torch import save_file

    weights_dir = Path(weights_dir)
    weights_dir.mkdir(parents=True, exist_ok=True)
    path = weights_dir / f"{name}.safetensors"
    save_file(tensors, str(path), metadata={"engine_version": ENGINE_VERSION, **metadata})
    return path
