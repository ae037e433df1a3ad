"""Resumable checkpoints without pickle: model and optimizer tensors in safetensors, the rest in JSON.

The optimizer's state dict is a nest of dicts holding tensors and plain numbers; we flatten its tensors to
`optim.<param index>.<name>` keys and keep everything else (step counts, hyper-parameters) in the JSON file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_checkpoint(out_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, info: dict) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for idx, state in opt_state["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value) and value.dim() > 0:
                tensors[f"optim.{idx}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(idx), {})[name] = float(value)
    meta = {"info": info, "param_groups": opt_state["param_groups"], "optim_scalars": scalars}
    _atomic_write(out_dir / "checkpoint.safetensors", lambda p: save_file(tensors, str(p)))
    _atomic_write(out_dir / "checkpoint.json", lambda p: p.write_text(json.dumps(meta, indent=1)))


def load_checkpoint(out_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None) -> dict | None:
    """Restore a checkpoint if `out_dir` holds one; returns its info dict (or None when starting fresh)."""
    out_dir = Path(out_dir)
    if not (out_dir / "checkpoint.safetensors").is_file():
        return None
    tensors = load_file(str(out_dir / "checkpoint.safetensors"))
    meta = json.loads((out_dir / "checkpoint.json").read_text())
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
    if optimizer is not None:
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, scalars in meta["optim_scalars"].items():
            for name, value in scalars.items():
                state.setdefault(int(idx), {})[name] = torch.tensor(value)
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta["info"]
