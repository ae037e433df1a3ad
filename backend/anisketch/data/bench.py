"""`anisketch bench data`: how many training samples per second one core makes, at 256 and 512 px.

A sample is the whole pipeline a training step consumes: sample the parameters, build the portrait,
render colour + line art + parts, simulate one partial messy sketch and rasterise it, simulate hints.
Measured in one process and with N worker processes, as the median of several repeats, both by CPU
time (samples per CPU-second: what one core makes, little disturbed by other work on a shared machine)
and by wall clock. The machine's load average is printed with the figures: other work slows the
wall-clock ones down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from multiprocessing import get_context

import numpy as np


def _init() -> None:
    import cv2

    cv2.setNumThreads(1)


def _samples_per_second(size: int, seeds: list[int]) -> tuple[float, float]:
    """(samples per wall-clock second, samples per CPU second of this process)."""
    from anisketch.data.sample import make_sample

    wall, cpu = time.perf_counter(), time.process_time()
    for seed in seeds:
        make_sample(seed, size, fractions=None)
    return len(seeds) / (time.perf_counter() - wall), len(seeds) / (time.process_time() - cpu)


def _worker_rate(job) -> tuple[float, float]:
    size, seeds = job
    return _samples_per_second(size, seeds)


def _stage_times(size: int, seeds: list[int]) -> dict:
    """Median CPU milliseconds per stage, single process."""
    from anisketch.data.sample import DrawingStyle, STREAM_HINTS, STREAM_SKETCH, stream
    from anisketch.engine import hints, sketch
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.params import sample_params
    from anisketch.engine.raster import render

    stages: dict[str, list[float]] = {name: [] for name in ("params", "build", "render", "sketch sim", "sketch raster", "hints")}
    for seed in seeds:
        t = [time.process_time()]
        params = sample_params(seed)
        t.append(time.process_time())
        portrait = build_portrait(params)
        t.append(time.process_time())
        image = render(portrait, size)
        t.append(time.process_time())
        style = DrawingStyle.from_seed(seed)
        rng = stream(seed, STREAM_SKETCH)
        drawn = sketch.simulate_sketch(portrait, rng, style.fraction, style.order, style.messiness)
        t.append(time.process_time())
        sketch.render_sketch(drawn, size, rng, style.texture)
        t.append(time.process_time())
        hints.simulate_hints(portrait, image["color"], image["parts"], stream(seed, STREAM_HINTS), style.hint_count)
        t.append(time.process_time())
        for name, a, b in zip(stages, t, t[1:]):
            stages[name].append((b - a) * 1e3)
    return {name: statistics.median(values) for name, values in stages.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="anisketch bench data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--samples", type=int, default=40, help="samples per repeat and process (default 40)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default 5)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes for the parallel figure (default: all cores)")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.repeats < 1 or args.workers < 1:
        parser.error("--samples, --repeats and --workers must be at least 1")
    _init()
    print(f"cores: {os.cpu_count()}, load average before: {_load()}")
    from anisketch.engine.params import ENGINE_VERSION

    print(f"engine {ENGINE_VERSION}; a sample = params + build + render (colour, line art, parts) "
          f"+ one simulated sketch + raster + hints")
    _samples_per_second(256, list(range(3)))  # warm-up: imports, caches
    print("samples/s per core, median of repeats: by CPU time (what one core makes, even on a busy machine) "
          "/ by wall clock")
    for size in args.sizes:
        seed0 = 1_000_000 * size
        single = [_samples_per_second(size, list(range(seed0 + r * args.samples, seed0 + (r + 1) * args.samples)))
                  for r in range(args.repeats)]
        walls, cpus = zip(*single)
        line = (f"{size:5d} px  1 process: {statistics.median(cpus):6.1f} (best {max(cpus):.1f}) / "
                f"{statistics.median(walls):6.1f}")
        if args.workers > 1:
            totals, per_worker_cpu = [], []
            with get_context("fork").Pool(args.workers, initializer=_init) as pool:
                for r in range(args.repeats):
                    base = seed0 + 10_000 * (r + 1)
                    jobs = [(size, list(range(base + w * args.samples, base + (w + 1) * args.samples)))
                            for w in range(args.workers)]
                    start = time.perf_counter()
                    rates = pool.map(_worker_rate, jobs)
                    totals.append(args.workers * args.samples / (time.perf_counter() - start))
                    per_worker_cpu.append(float(np.median([cpu_rate for _, cpu_rate in rates])))
            total = statistics.median(totals)
            line += (f" | {args.workers} processes: {statistics.median(per_worker_cpu):6.1f} / "
                     f"{total / args.workers:6.1f} per core, {total:6.1f} samples/s in total")
        print(line)
        stages = _stage_times(size, list(range(seed0, seed0 + min(args.samples, 30))))
        print("        median CPU ms per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
              + f" (sum {sum(stages.values()):.1f})")
    print(f"load average after: {_load()}")
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
