"""The training loop every AniSketch model shares.

A model-specific *task* supplies the network, a batch maker and the loss; this loop supplies the rest:
data made in worker processes (rendered on the fly, or drawn from shards on disk: the task decides), AdamW with warm-up and cosine decay, bf16 autocast on GPUs,
DDP under `torchrun --nproc_per_node N`, resumable checkpoints, a time limit that stops cleanly (a run can
be cut into sessions and resumed), a progress bar, and curves as CSV + PNG.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .curves import CurveLog


@dataclass
class LoopConfig:
    steps: int = 20000
    batch_size: int = 128  # per process
    lr: float = 2e-3
    min_lr_ratio: float = 0.05
    warmup: int = 500
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    log_every: int = 50
    checkpoint_every: int = 1000
    workers: int = 8
    time_limit_s: float = 0.0  # 0: no limit; else checkpoint and stop after this many seconds
    # Optimizer steps per rendered batch: the GPU outruns the CPU renderers, so each batch is used this many
    # times, through the task's random `augment` (when it has one), which makes each pass a different view.
    repeat: int = 1
    channels_last: bool = True


class Task(Protocol):
    model: torch.nn.Module

    def make_batch(self, first_seed: int, batch_size: int) -> dict[str, np.ndarray]: ...

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...

    def on_checkpoint(self, model: torch.nn.Module, out_dir: Path, step: int) -> dict[str, float]: ...


class RenderedBatches(IterableDataset):
    """Endless batches rendered by `make_batch(first_seed, batch_size)`, in DataLoader workers.

    Stream s (one per rank and worker) makes batches s, s + S, s + 2S... of a global sequence, and batch j holds
    seeds [seed_base + j * B, seed_base + (j + 1) * B): every seed is used once, whatever the process count.
    """

    def __init__(self, make_batch: Callable, batch_size: int, first_batch: int, rank: int, world: int, seed_base: int = 0):
        self.make_batch, self.batch_size = make_batch, batch_size
        self.first_batch, self.rank, self.world, self.seed_base = first_batch, rank, world, seed_base

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        streams = self.world * workers
        j = self.first_batch + self.rank * workers + worker
        while True:
            yield self.make_batch(self.seed_base + j * self.batch_size, self.batch_size)
            j += streams


def repeated(loader, times: int, device: torch.device) -> Iterator[dict[str, torch.Tensor]]:
    """Each batch moved to the device once and yielded `times` times."""
    for batch in loader:
        on_device = {k: torch.as_tensor(v).to(device, non_blocking=True) for k, v in batch.items()}
        for _ in range(max(1, times)):
            yield on_device


def learning_rate(step: int, cfg: LoopConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def setup_distributed() -> tuple[int, int, torch.device]:
    """(rank, world size, device); initialises NCCL when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def train(task: Task, cfg: LoopConfig, out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rank, world, device = setup_distributed()
    model = task.model.to(device)
    if cfg.channels_last and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.99), fused=device.type == "cuda",
    )
    info = load_checkpoint(out_dir, model, optimizer) or {"step": 0, "samples": 0, "seconds": 0.0}
    start = int(info["step"])
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    loader = DataLoader(
        RenderedBatches(task.make_batch, cfg.batch_size, start // max(1, cfg.repeat) * world, rank, world),
        batch_size=None, num_workers=cfg.workers, pin_memory=device.type == "cuda",
        persistent_workers=cfg.workers > 0, prefetch_factor=6 if cfg.workers > 0 else None,
    )
    curves = CurveLog(out_dir / "curves.csv") if rank == 0 else None
    validation = CurveLog(out_dir / "validation.csv")
    started = t0 = time.time()  # started: for the time limit; t0: since the last checkpoint
    step = start
    bar = tqdm(total=cfg.steps, initial=start, disable=rank != 0, desc="train", dynamic_ncols=True)
    window = MetricWindow()
    for step, batch in zip(range(start, cfg.steps), repeated(loader, cfg.repeat, device)):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, cfg)
        if hasattr(task, "augment"):
            batch = task.augment(batch)
        net.train()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss, parts = task.loss(net, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        window.add({"loss": loss.detach(), **parts})  # tensors: no GPU sync until the next log line
        bar.update(1)
        done = step + 1
        elapsed = info["seconds"] + time.time() - t0
        out_of_time = cfg.time_limit_s > 0 and time.time() - started > cfg.time_limit_s
        if done % cfg.log_every == 0 or done == cfg.steps or out_of_time:  # a short run still gets its curves
            row, steps, seconds = window.take()  # every rank empties its window; rank 0 writes the curves
            rate = steps * cfg.batch_size * world / max(1, cfg.repeat) / max(seconds, 1e-6)
            if curves is not None:
                curves.append({"step": done, "time": elapsed, "lr": learning_rate(step, cfg), **row, "samples_per_s": rate})
                bar.set_postfix(loss=f"{row['loss']:.4f}", sps=f"{rate:.0f}")
        if done % cfg.checkpoint_every == 0 or done == cfg.steps or out_of_time:
            info = {"step": done, "samples": done * cfg.batch_size * world // max(1, cfg.repeat), "seconds": elapsed}
            if curves is not None:  # rank 0
                save_checkpoint(out_dir, model, optimizer, info)
                metrics = task.on_checkpoint(model, out_dir, done)
                if metrics:
                    validation.append({"step": done, **metrics})
                curves.plot(out_dir / "curves.png", extra=validation)
            t0, info["seconds"] = time.time(), elapsed
        if out_of_time:
            break
    bar.close()
    if world > 1:
        dist.barrier()
    return {"step": step + 1, "finished": step + 1 >= cfg.steps}


class MetricWindow:
    """The loss parts of the steps since the last curves row, kept as tensors (no GPU sync per step)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, torch.Tensor]] = []
        self.since = time.time()

    def add(self, parts: dict[str, torch.Tensor]) -> None:
        self.steps.append(parts)

    def take(self) -> tuple[dict[str, float], int, float]:
        """(mean of each part, steps, seconds) since the last take, and start a new window."""
        row = {k: float(torch.stack([w[k] for w in self.steps]).float().mean()) for k in self.steps[0]} if self.steps else {}
        taken = (row, len(self.steps), time.time() - self.since)
        self.steps, self.since = [], time.time()
        return taken
