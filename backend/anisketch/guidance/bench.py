"""`anisketch bench models`: how long the artist waits, per operation, on this machine (medians and p95).

Each operation runs through the Service exactly as the server calls it, on beginner sketches from the drawing
simulator at the crop sizes the plugin sends, with the state of the previous guidance (as while drawing).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render
from ..engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from ..engine.hints import simulate_hints


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="anisketch bench models", description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu: what most artists have)")
    parser.add_argument("--sizes", default="256,512,1024", help="crop sizes in px")
    parser.add_argument("--repeats", type=int, default=15, help="calls per figure")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: the Service's default, half the cores)")
    return parser.parse_args(argv)


def beginner(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A sketch two thirds drawn, and a few colour dabs, as the plugin's layers hold them."""
    rng = np.random.default_rng(seed)
    portrait = build_portrait(P.sample_params(seed))
    sketch = render_sketch(simulate_sketch(portrait, rng, fraction=0.66, order="random", messiness=0.6), size, rng=rng)
    images = render(portrait, size)
    return sketch_to_rgba(sketch), simulate_hints(portrait, images["color"], images["parts"], rng, 6)


def timed(call, repeats: int) -> tuple[float, float]:
    call()  # warm-up: lazy loading and first-call allocations are not what the artist waits for per stroke
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times)), float(np.percentile(times, 95))


def main(argv: list[str]) -> int:
    import torch

    from ..service import Service

    args = parse(argv)
    service = Service(device=args.device, threads=args.threads or None)
    print(f"device {service.device}, torch threads {torch.get_num_threads()}, repeats {args.repeats}\n")
    print(f"{'operation':28s} {'size':>5s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for size in (int(s) for s in args.sizes.split(",")):
        sketch, hints = beginner(2_000_000_777 + size, size)
        state = service.guide(sketch).info["state"]
        rows = [
            ("guide rough (while drawing)", lambda: service.guide(sketch, mode="rough", state=state)),
            ("guide detail", lambda: service.guide(sketch, mode="detail", state=state)),
            ("render refined, 4 candidates", lambda: service.render(sketch, hints, n=4, mode="refined", state=state)),
        ]
        if service.colorizer is not None:
            rows.append(("render faithful, 4 candidates",
                         lambda: service.render(sketch, hints, n=4, mode="faithful", state=state)))
        rows.append(("generate", lambda: service.generate({"hair_color": "blonde"}, noise=7, size=size)))
        for name, call in rows:
            p50, p95 = timed(call, args.repeats if "guide" in name else max(3, args.repeats // 3))
            print(f"{name:28s} {size:5d} {p50:8.1f} {p95:8.1f}")
    return 0


def parse_replay(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="anisketch bench replay", description=replay_main.__doc__)
    parser.add_argument("--count", type=int, default=3, help="portraits replayed (eval seeds 2e9 upwards)")
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped weights/)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: the Service's on 2 cores)")
    parser.add_argument("--profile", type=int, default=0,
                        help="instead of timing: cProfile the guides with a state, print this many functions")
    return parser.parse_args(argv)


def replay_main(argv: list[str]) -> int:
    """A guide with the previous state against one without, stroke by stroke from 50 % to 100 % of the eval's
    drawings (as the plugin asks while the artist draws): what holding parts still costs per stroke. Both are
    timed on the same sketch, one right after the other, so that a busy machine slows both alike; the process's
    CPU time is printed beside the wall time (on a shared machine, waiting for a core inflates the wall time)."""
    import cProfile
    import pstats
    from pathlib import Path

    import torch

    from ..eval.cli import EVAL_SEED_BASE
    from ..eval.guidance import drawn_sample, sketch_of, strokes_at
    from .predictor import GuidanceModel

    args = parse_replay(argv)
    torch.set_num_threads(args.threads)
    model = GuidanceModel.load(Path(args.weights) if args.weights else None, device="cpu")
    profiler = cProfile.Profile() if args.profile else None
    times: dict[str, list[tuple[float, float]]] = {"with state": [], "without state": []}
    for seed in range(EVAL_SEED_BASE, EVAL_SEED_BASE + args.count):
        sample = drawn_sample(seed)
        state = model.guide(sketch_of(sample, strokes_at(sample, 50))).state
        for k in range(strokes_at(sample, 50) + 1, len(sample.strokes) + 1):
            sketch = sketch_of(sample, k)
            state = _timed(lambda: model.guide(sketch, state=state).state, times["with state"], profiler)
            if not profiler:
                _timed(lambda: model.guide(sketch), times["without state"])
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return 0
    print(f"{len(times['with state'])} strokes of {args.count} portraits, torch threads {torch.get_num_threads()}")
    wall, cpu = ({name: np.array([t[i] for t in found]) for name, found in times.items()} for i in (0, 1))
    extra = {"extra with state": (wall["with state"] - wall["without state"]),
             "(cpu)": (cpu["with state"] - cpu["without state"])}
    for name in times:
        print(f"guide {name:16s} p50 {np.median(wall[name]):6.1f} ms  p95 {np.percentile(wall[name], 95):6.1f} ms"
              f"   cpu p50 {np.median(cpu[name]):6.1f} ms  p95 {np.percentile(cpu[name], 95):6.1f} ms")
    print(f"{'extra with state':22s} p50 {np.median(extra['extra with state']):6.1f} ms"
          f"{'':18s}cpu p50 {np.median(extra['(cpu)']):6.1f} ms")
    return 0


def _timed(call, times: list[tuple[float, float]], profiler=None):
    """call(), its wall and CPU milliseconds appended to `times` (profiled instead when a profiler is given)."""
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = call()
    if profiler:
        profiler.disable()
    times.append(((time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3))
    return result


def parse_strokes(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="anisketch bench strokes", description=strokes_main.__doc__)
    parser.add_argument("--crop", type=int, default=1446,
                        help="the crop's side on the canvas (over 1024 px it is sent halved, as the plugin sends it)")
    parser.add_argument("--layer", choices=("transparent", "opaque"), default="opaque",
                        help="the sketch layer: strokes on transparency, or blue ink on a white paint layer")
    parser.add_argument("--count", type=int, default=2, help="portraits drawn (eval seeds 2e9 upwards)")
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads (1: the Service's on 2 cores)")
    return parser.parse_args(argv)


def strokes_main(argv: list[str]) -> int:
    """Guides as the plugin asks for them while the artist draws: stroke by stroke from 50 % to 100 % of the eval's
    drawings, each with the previous guide's state, the crop sent as the plugin sends it (halved over 1024 px, with
    its `extent`), through the Service. Prints the medians of the whole call and of the Service's own stages."""
    import torch

    from ..eval.cli import EVAL_SEED_BASE
    from ..eval.framing import as_sent, shrunk
    from ..eval.guidance import drawn_sample, strokes_at
    from ..service import Service

    args = parse_strokes(argv)
    service = Service(device="cpu", threads=args.threads)
    factor = as_sent(0, 0, args.crop)[3]
    extent = (args.crop, args.crop) if factor > 1 else None
    wall: list[float] = []
    stages: dict[str, list[float]] = {}
    for seed in range(EVAL_SEED_BASE, EVAL_SEED_BASE + args.count):
        sample = drawn_sample(seed)
        sent = lambda k: sketch_layer(shrunk(render_sketch(sample.strokes[:k], args.crop,  # noqa: E731
                                                           rng=np.random.default_rng([seed, k])), factor), args.layer)
        state = service.guide(sent(strokes_at(sample, 50)), extent=extent).info["state"]
        for k in range(strokes_at(sample, 50) + 1, len(sample.strokes) + 1):
            layer = sent(k)
            started = time.perf_counter()
            result = service.guide(layer, state=state, extent=extent)
            wall.append((time.perf_counter() - started) * 1e3)
            state = result.info["state"]
            for name, ms in result.timing_ms.items():
                stages.setdefault(name, []).append(ms)
    side = args.crop // factor
    print(f"{len(wall)} guides of {args.count} portraits, {args.layer} layer, crop {args.crop} px sent as {side} px, "
          f"torch threads {torch.get_num_threads()}")
    print(f"guide p50 {np.median(wall):6.1f} ms  p95 {np.percentile(wall, 95):6.1f} ms   "
          + "  ".join(f"{name} {np.median(ms):.1f}" for name, ms in stages.items()))
    return 0


def sketch_layer(darkness: np.ndarray, layer: str) -> np.ndarray:
    """The sketch layer's RGBA: grey strokes on transparency, or blue ink painted on white."""
    if layer == "transparent":
        return sketch_to_rgba(darkness)
    ink = darkness.astype(np.float32)[..., None] / 255.0
    rgb = np.round(255.0 * (1.0 - ink) + np.array([30.0, 60.0, 200.0]) * ink).astype(np.uint8)
    return np.dstack([rgb, np.full(darkness.shape, 255, np.uint8)])
