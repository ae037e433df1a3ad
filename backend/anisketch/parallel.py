"""Map a function over many engine seeds on every core (banks of training vectors, baselines, datasets), or over
the few candidates of one request on a few threads (`thread_map`)."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def cpu_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def parallel_map(fn: Callable[[int], T], items: Iterable[int], workers: int | None = None) -> list[T]:
    """`[fn(x) for x in items]`, spread over processes when there is more than one core. `fn` must be picklable
    (a module-level function)."""
    items = list(items)
    workers = min(workers or cpu_workers(), max(1, len(items) // 64))
    if workers <= 1:
        return [fn(x) for x in items]
    with process_context().Pool(workers) as pool:
        return pool.map(fn, items, chunksize=64)


def process_context() -> mp.context.BaseContext:
    """How worker processes start: never a fork of this process. The caller has usually imported torch or run
    OpenCV, whose thread pools do not survive a fork (a child can hang on a lock held by a thread that did not
    come along; a shard writer's pool hung so after the render tests). forkserver starts workers from a clean
    process."""
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


def thread_map(fn: Callable[[T], U], items: Iterable[T], workers: int = 1) -> list[U]:
    """`[fn(x) for x in items]` on up to `workers` threads: for work that spends its time in OpenCV and numpy,
    which let other threads run meanwhile (a request's candidates, each painted and cut into layers)."""
    return list(ordered_map(fn, items, workers))


def ordered_map(fn: Callable[[T], U], items: Iterable[T], workers: int = 1) -> Iterator[U]:
    """thread_map's results one at a time, in order, each as soon as it is ready: a request's first candidate
    can be sent while the others are still being made. On one worker each is made when it is asked for; closing
    the iterator early drops the ones not started."""
    items = list(items)
    workers = min(workers, len(items))
    if workers <= 1:
        yield from (fn(x) for x in items)
        return
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fn, x) for x in items]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def once(make: Callable[[], T]) -> Callable[[], T]:
    """A getter of `make()`, made by the first thread that asks (the others wait for it, then all share it): work
    that a request's candidates share and need late, done by whichever gets there first while the others are
    still busy with their own."""
    lock = threading.Lock()
    made: list[T] = []

    def get() -> T:
        with lock:
            if not made:
                made.append(make())
        return made[0]

    return get
