"""Resumable checkpoints without pickle: model and optimizer tensors in safetensors, the rest in JSON.

The optimizer's state dict is a nest of dicts holding tensors and plain numbers; we flatten its tensors to
`optim.<param index>.<name>` keys and keep everything else (step counts, hyper-parameters) in the JSON file.

Checkpoints travel between machines (a run cut into time-limited legs, a GPU box and a laptop), and
some file transfers cap a file's size: tensors are written in shards (`checkpoint.00.safetensors`, ...) of at most SHARD_BYTES, and the optimizer's moments are
kept in bf16 (resuming from rounded moments is harmless; the model's own weights stay fp32).
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


SHARD_BYTES = 15 << 20


def _shards(tensors: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, value in tensors.items():
        nbytes = value.numel() * value.element_size()
        if shards[-1] and size + nbytes > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][key] = value
        size += nbytes
    return shards


def save_checkpoint(out_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, info: dict) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for idx, state in opt_state["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value) and value.dim() > 0:
                tensors[f"optim.{idx}.{name}"] = value.detach().to(torch.bfloat16).contiguous().cpu()
            else:
                scalars.setdefault(str(idx), {})[name] = float(value)
    shards = _shards(tensors)
    for old in out_dir.glob("checkpoint.*.safetensors"):
        old.unlink()
    for i, shard in enumerate(shards):
        _atomic_write(out_dir / f"checkpoint.{i:02d}.safetensors", lambda p, shard=shard: save_file(shard, str(p)))
    meta = {"info": info, "shards": len(shards), "param_groups": opt_state["param_groups"], "optim_scalars": scalars}
    _atomic_write(out_dir / "checkpoint.json", lambda p: p.write_text(json.dumps(meta, indent=1)))


def load_checkpoint(out_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None) -> dict | None:
    """Restore a checkpoint if `out_dir` holds one; returns its info dict (or None when starting fresh)."""
    out_dir = Path(out_dir)
    if not (out_dir / "checkpoint.json").is_file():
        return None
    meta = json.loads((out_dir / "checkpoint.json").read_text())
    tensors = {}
    for i in range(meta["shards"]):
        tensors.update(load_file(str(out_dir / f"checkpoint.{i:02d}.safetensors")))
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
    if optimizer is not None:
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value.float()
        for idx, scalars in meta["optim_scalars"].items():
            for name, value in scalars.items():
                state.setdefault(int(idx), {})[name] = torch.tensor(value)
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        match_param_layout(optimizer)
    return meta["info"]


def match_param_layout(optimizer: torch.optim.Optimizer) -> None:
    """Lay each restored moment out in memory as its parameter is. A checkpoint's tensors load contiguous, but a
    network trained channels-last on a GPU has channels-last weights, and the fused AdamW refuses moments whose
    strides differ from their parameter's ("params, grads, exp_avgs, and exp_avg_sqs must have same dtype,
    device, and layout"): without this, every resumed GPU leg failed at its first step."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            for name, value in optimizer.state.get(param, {}).items():
                if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                    optimizer.state[param][name] = torch.empty_like(param, dtype=value.dtype).copy_(value)
