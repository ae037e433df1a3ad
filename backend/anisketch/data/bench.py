"""`anisketch bench data`: how many training samples per second one core makes, at 256 and 512 px.

A sample is the whole pipeline a training step consumes: sample the parameters, build the portrait,
render colour + line art + parts, simulate one partial messy sketch and rasterise it, simulate hints.
Two ways are measured side by side: **on the fly** (everything from the seed) and **shard reuse** (the
rendered portrait read from a tar shard written by `anisketch data --shards`, the sketch and hints drawn
anew for the epoch: `draw_sample(portrait, epoch)`, the same sample dict). Each in one process and with N
worker processes, as the median of several repeats, both by CPU time (samples per CPU-second: what one
core makes, little disturbed by other work on a shared machine) and by wall clock. The machine's load
average is printed with the figures: other work slows the wall-clock ones down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from anisketch.parallel import process_context


def _init() -> None:
    import cv2

    cv2.setNumThreads(1)


def _timed(make, items) -> tuple[float, float]:
    """(samples per wall-clock second, samples per CPU second of this process) of make(item) over items."""
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        make(item)
    return len(items) / (time.perf_counter() - wall), len(items) / (time.process_time() - cpu)


def _on_the_fly(job) -> tuple[float, float]:
    """job: (size, seeds)."""
    from anisketch.data.sample import make_sample

    size, seeds = job
    return _timed(lambda seed: make_sample(seed, size, fractions=None), seeds)


def _shard_reuse(job) -> tuple[float, float]:
    """job: (shard folder, sample numbers); number n is record n % len drawn for epoch n // len."""
    from anisketch.data.sample import draw_sample
    from anisketch.data.shards import EpochReader, ShardFolder

    root, numbers = job
    reader = EpochReader(ShardFolder(root))
    reader.folder.load(0)  # read the tar's member table outside the timing (once per worker and shard)
    return _timed(lambda n: draw_sample(*reader.at(n), fractions=None), numbers)


def _write_shards(root: Path, size: int, seed0: int, count: int) -> float:
    """Shards of `count` portraits; returns portraits written per CPU second (render + PNG encode)."""
    from anisketch.data.shards import ShardWriter, render_members

    cpu = time.process_time()
    writer = ShardWriter(root, seed0, count, size, per_shard=max(1, count // 2))
    for seed in range(seed0, seed0 + count):
        writer.add(render_members((seed, size)))
    writer.close()
    return count / (time.process_time() - cpu)


def _reuse_stage_times(root: str, numbers: list[int]) -> dict:
    """Median CPU milliseconds of a shard-reuse sample's two steps, single process."""
    from anisketch.data.sample import draw_sample
    from anisketch.data.shards import EpochReader, ShardFolder

    reader = EpochReader(ShardFolder(root))
    reader.folder.load(0)
    read, draw = [], []
    for n in numbers:
        t0 = time.process_time()
        portrait, epoch = reader.at(n)
        t1 = time.process_time()
        draw_sample(portrait, epoch, fractions=None)
        t2 = time.process_time()
        read.append((t1 - t0) * 1e3)
        draw.append((t2 - t1) * 1e3)
    return {"read + decode": statistics.median(read), "sketch + raster + hints": statistics.median(draw)}


def _paired(ways: dict, args) -> dict[str, str]:
    """One figure line per way: 'single-process CPU (best) / wall | N processes: CPU / wall per core, total'.

    ways: name -> (rate, jobs) where rate(job) -> (wall rate, CPU rate) and jobs(repeat, workers) -> one job
    per process. Repeats alternate between the ways (a, b, a, b...), so a minute of load on the shared
    machine slows both alike; the ratio of each repeat's pair is printed by the caller."""
    single: dict[str, list] = {name: [] for name in ways}
    parallel: dict[str, list] = {name: [] for name in ways}
    for r in range(args.repeats):
        for name, (rate, jobs) in ways.items():
            single[name].append(rate(jobs(r, 1)[0]))
    if args.workers > 1:
        with process_context().Pool(args.workers, initializer=_init) as pool:
            for r in range(args.repeats):
                for name, (rate, jobs) in ways.items():
                    start = time.perf_counter()
                    rates = pool.map(rate, jobs(r, args.workers))
                    total = args.workers * args.samples / (time.perf_counter() - start)
                    parallel[name].append((total, float(np.median([cpu for _, cpu in rates]))))
    lines = {}
    for name in ways:
        walls, cpus = zip(*single[name])
        line = f"1 process: {statistics.median(cpus):6.1f} (best {max(cpus):6.1f}) / {statistics.median(walls):6.1f}"
        if parallel[name]:
            totals, per_worker_cpu = zip(*parallel[name])
            total = statistics.median(totals)
            line += (f" | {args.workers} processes: {statistics.median(per_worker_cpu):6.1f} / "
                     f"{total / args.workers:6.1f} per core, {total:6.1f} samples/s in total")
        lines[name] = line
    first, second = ways
    ratios = [b[1] / a[1] for a, b in zip(single[first], single[second])]
    lines["ratio"] = f"{statistics.median(ratios):.2f} [{min(ratios):.2f}..{max(ratios):.2f}]"
    return lines


def _task_lines(size: int, root: str, records: int, args) -> list[str]:
    """What the training tasks' batch makers deliver per CPU second, from the engine and from the shards
    (the same portraits; repeats alternate). The guidance task needs no colour render, the colouriser makes
    `samples_per_portrait` samples of each portrait: neither is the bench's generic sample."""
    from anisketch.data.shards import EpochReader, ShardFolder
    from anisketch.guidance.train import GuidanceTask, SketchCurriculum
    from anisketch.render.train import ColorCurriculum, ColorizerTask

    reader = EpochReader(ShardFolder(root, size=size))
    lines = []
    for name, task in (("guidance", GuidanceTask({}, SketchCurriculum(size=size))),
                       ("colorizer", ColorizerTask({}, ColorCurriculum(size=size)))):
        per_record = getattr(task.curriculum, "samples_per_portrait", 1)  # samples the task makes of a portrait
        batch = records * per_record  # one pass over the records
        rates: dict[str, list[float]] = {"engine": [], "shards": []}
        for r in range(args.repeats):
            for way in rates:
                task.shards = reader if way == "shards" else None
                first = (r + 1) * batch if way == "shards" else 1_000_000 * size  # shards: epoch r + 1
                cpu = time.process_time()
                task.make_batch(first, batch)
                rates[way].append(batch / (time.process_time() - cpu))
        engine, shards = (statistics.median(v) for v in rates.values())
        lines.append(f"        {name} task batches, samples/s per core (CPU): on the fly {engine:6.1f}, "
                     f"shard reuse {shards:6.1f} ({shards / engine:.2f}x)")
    return lines


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
    parser.add_argument("--tasks", action="store_true",
                        help="also time the guidance and colouriser tasks' own batch makers, both ways (imports torch)")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.repeats < 1 or args.workers < 1:
        parser.error("--samples, --repeats and --workers must be at least 1")
    _init()
    print(f"cores: {os.cpu_count()}, load average before: {_load()}")
    from anisketch.engine.params import ENGINE_VERSION

    print(f"engine {ENGINE_VERSION}; a sample = params + build + render (colour, line art, parts) "
          f"+ one simulated sketch + raster + hints")
    print("  on the fly:  all of it from the seed")
    print("  shard reuse: the rendered portrait read from a tar shard (PNG decode), sketch + hints drawn anew")
    _on_the_fly((256, list(range(3))))  # warm-up: imports, caches
    print(f"samples/s per core, median of {args.repeats} repeats, the two ways alternating: by CPU time (what one "
          f"core makes, even on a busy machine) / by wall clock")
    for size in args.sizes:
        seed0, n = 1_000_000 * size, args.samples
        with tempfile.TemporaryDirectory(prefix="anisketch-bench-shards-") as root:
            written = _write_shards(Path(root), size, seed0, n * args.workers)

            def seeds(r: int, workers: int) -> list:  # every repeat: the portraits the shards hold
                return [(size, list(range(seed0 + w * n, seed0 + (w + 1) * n))) for w in range(workers)]

            def numbers(r: int, workers: int) -> list:  # repeat r: epoch r + 1 of them (epoch 0 = the engine's)
                epoch = (r + 1) * n * args.workers
                return [(root, list(range(epoch + w * n, epoch + (w + 1) * n))) for w in range(workers)]

            lines = _paired({"on the fly": (_on_the_fly, seeds), "shard reuse": (_shard_reuse, numbers)}, args)
            for name in ("on the fly", "shard reuse"):
                print(f"{size:5d} px  {name:11s} {lines[name]}")
            print(f"        shard reuse / on the fly, 1 process, paired repeats: {lines['ratio']}")
            stages = _reuse_stage_times(root, numbers(0, 1)[0][1])
            print("        shard reuse, median CPU ms: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
                  + f"; writing the shards: {written:.1f} portraits/s per core (render + PNG encode)")
            if args.tasks:
                print("\n".join(_task_lines(size, root, n * args.workers, args)))
        stages = _stage_times(size, list(range(seed0, seed0 + min(args.samples, 30))))
        print("        on the fly, median CPU ms per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
              + f" (sum {sum(stages.values()):.1f})")
    print(f"load average after: {_load()}")
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
