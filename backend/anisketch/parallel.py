"""Map a function over many engine seeds on every core (banks of training vectors, baselines, datasets)."""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")


def cpu_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def parallel_map(fn: Callable[[int], T], items: Iterable[int], workers: int | None = None) -> list[T]:
    """`[fn(x) for x in items]`, spread over processes when there is more than one core. `fn` must be picklable
    (a module-level function)."""
    items = list(items)
    workers = min(workers or cpu_workers(), max(1, len(items) // 64))
    if workers <= 1:
        return [fn(x) for x in items]
    with mp.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(workers) as pool:
        return pool.map(fn, items, chunksize=64)
