"""Which GPU each worker of `serve --workers N` uses: worker i on GPU i mod n, or on an explicit list.

Each worker process is given one GPU through CUDA_VISIBLE_DEVICES, so inside it that GPU is simply "cuda"
(the models need no device index). Pure functions of the environment and the arguments, so every rule is
testable on a machine without a GPU.
"""

from __future__ import annotations

import os
import shutil
from typing import Callable, Mapping


class GpuError(ValueError):
    """A --gpus list that cannot be used as given."""


def parse_gpus(text: str | None) -> list[int] | None:
    """"0,2,3" -> [0, 2, 3]; None or "" -> None (all visible GPUs)."""
    if not text:
        return None
    try:
        gpus = [int(part) for part in text.split(",")]
    except ValueError:
        raise GpuError(f"--gpus must be GPU numbers separated by commas, like 0,1,3; not {text!r}") from None
    if any(gpu < 0 for gpu in gpus):
        raise GpuError(f"--gpus must not contain negative numbers: {text!r}")
    return gpus


def visible_gpu_count(env: Mapping[str, str] = os.environ, count_devices: Callable[[], int] | None = None) -> int:
    """How many GPUs this process may use: CUDA_VISIBLE_DEVICES when it is set, else torch's count."""
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return len([part for part in listed.split(",") if part.strip() and not part.strip().startswith("-")])
    if count_devices is None:
        if shutil.which("nvidia-smi") is None:  # no NVIDIA driver: spare the broker importing torch
            return 0
        import torch  # only here: `--device cpu` never needs it

        # device_count (NVML) leaves CUDA uninitialised, so CUDA_VISIBLE_DEVICES set afterwards still applies
        # in this process; torch.cuda.is_available() would fix the set of GPUs here and now.
        count_devices = torch.cuda.device_count
    return count_devices()


def worker_gpus(workers: int, device: str, gpus: list[int] | None, visible: int) -> list[int | None]:
    """The GPU (an index among the visible ones) of each worker, or None for each when they run on the CPU."""
    if device == "cpu" or (device == "auto" and not gpus and visible == 0):
        return [None] * workers
    if visible == 0:
        raise GpuError(f"--device {device} asks for a GPU, and this machine shows none")
    pool = gpus if gpus else list(range(visible))
    beyond = [gpu for gpu in pool if gpu >= visible]
    if beyond:
        raise GpuError(f"--gpus names GPU {beyond[0]}, and this machine shows {visible} (0 to {visible - 1})")
    return [pool[i % len(pool)] for i in range(workers)]


def gpu_environment(gpu: int | None, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The variables that make `gpu` (an index among this process's visible GPUs) the only one a child sees."""
    if gpu is None:
        return {}
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:  # the user already narrowed the GPUs: index into their list
        return {"CUDA_VISIBLE_DEVICES": [part.strip() for part in listed.split(",")][gpu]}
    return {"CUDA_VISIBLE_DEVICES": str(gpu)}
