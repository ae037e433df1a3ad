"""`anisketch bench against REV [REV...]`: this tree's guide time against the code and weights of git revisions.

"No slower than the code at REV" is a claim about differences of a few percent, and a shared machine's speed
drifts by more than that within minutes: trees timed one after the other disagree by more than they differ.
So every tree guides every stroke in turn, in its own worker process (its own imports, weights and caches, none
shared), while the others wait; who goes first rotates. Each worker imports the `anisketch` of its tree through
PYTHONPATH, so a revision needs nothing of this code but `Service(...).guide(...)`.

The strokes are guidance's as the artist draws: 50 % to 100 % of the eval's drawings at 512 px, each guide with
the previous guide's state. The figure is CPU time of the guide call in the worker (one thread by default: the
Service's on a 2-core machine), and per tree the median and mean of its difference from the first revision,
stroke by stroke.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..weights import default_weights_dir

BACKEND = Path(__file__).resolve().parents[2]  # this tree's backend/ (anisketch lives in it)
REPO = BACKEND.parent

# Runs in each tree's own interpreter environment: only numpy, torch and that tree's Service.
WORKER = r"""
import os, sys, time
import numpy as np, torch
from anisketch.service import Service
weights, layers_path, threads, cpus = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if cpus and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(cpu) for cpu in cpus.split(",")})
torch.set_num_threads(threads)
service = Service(weights_dir=weights, device="cpu", threads=threads)
layers = np.load(layers_path)
state = None
print("ready", flush=True)
for line in sys.stdin:
    verb, key = line.split()
    started = time.process_time()
    result = service.guide(layers[key], state=state if verb == "next" else None)
    elapsed = (time.process_time() - started) * 1e3
    state = result.info["state"] if hasattr(result, "info") else result.state
    print(f"{elapsed:.4f}", flush=True)
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="anisketch bench against", description=__doc__.split("\n\n")[0])
    parser.add_argument("revisions", nargs="+", help="git revisions to time this tree against (e.g. aff8fa1)")
    parser.add_argument("--count", type=int, default=8, help="eval drawings replayed (seeds 2e9 upwards)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker (1: the Service's on 2 cores)")
    parser.add_argument("--weights", default=None, help="this tree's weights folder (default: the shipped weights/)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="anisketch-against-") as tmp:
        trees: dict[str, tuple[Path, Path]] = {}
        for revision in args.revisions:
            try:
                trees[revision] = checkout(revision, Path(tmp) / f"rev{len(trees)}")
            except (OSError, subprocess.CalledProcessError) as error:
                print(f"anisketch bench against: cannot check out {revision!r} from {REPO} ({error}): this "
                      "benchmark needs the git repository", file=sys.stderr)
                return 2
        trees["this tree"] = (BACKEND, Path(args.weights) if args.weights else default_weights_dir())
        layers, drawings = write_layers(Path(tmp) / "layers.npz", args.count)
        times = replay_in_turns(trees, layers, drawings, args.threads)
    report(times, args)
    return 0


def checkout(revision: str, into: Path) -> tuple[Path, Path]:
    """The revision's backend/anisketch and weights/ extracted under `into`: (its backend/, its weights/)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "backend/anisketch", "weights"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "backend", into / "weights"


def write_layers(path: Path, count: int) -> tuple[Path, list[list[str]]]:
    """Every drawing's sketch layers from 50 % to 100 % of its strokes, saved for the workers: the file and, per
    drawing, the layers' keys in drawing order."""
    from ..engine.sketch import render_sketch, sketch_to_rgba
    from ..eval.cli import EVAL_SEED_BASE
    from ..eval.guidance import drawn_sample, strokes_at

    layers, drawings = {}, []
    for seed in range(EVAL_SEED_BASE, EVAL_SEED_BASE + count):
        sample = drawn_sample(seed)
        keys = []
        for k in range(strokes_at(sample, 50), len(sample.strokes) + 1):
            keys.append(f"{seed}_{k}")
            layers[keys[-1]] = sketch_to_rgba(render_sketch(sample.strokes[:k], 512, rng=np.random.default_rng([seed, k])))
        drawings.append(keys)
    np.savez(path, **layers)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool option
    return path, drawings


def replay_in_turns(trees: dict[str, tuple[Path, Path]], layers: Path, drawings: list[list[str]],
                    threads: int) -> dict[str, list[float]]:
    """Each tree's CPU ms per guide, stroke by stroke. A drawing's first layer is guided without a state and not
    timed (it places the face); every later one with the state of the tree's own previous guide."""
    from tqdm import tqdm

    workers = {name: start_worker(backend, weights, layers, threads) for name, (backend, weights) in trees.items()}
    times: dict[str, list[float]] = {name: [] for name in trees}
    try:
        names = list(workers)
        with tqdm(total=sum(len(keys) - 1 for keys in drawings), desc="strokes", unit="stroke") as progress:
            for keys in drawings:
                for name in names:
                    ask(workers[name], "first", keys[0])
                for turn, key in enumerate(keys[1:]):
                    for name in names[turn % len(names):] + names[:turn % len(names)]:  # who goes first rotates
                        times[name].append(ask(workers[name], "next", key))
                    progress.update()
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    return times


def start_worker(backend: Path, weights: Path, layers: Path, threads: int) -> subprocess.Popen:
    """A worker of one tree, on the same CPUs as every other (they take turns: two cores can differ in speed)."""
    env = dict(os.environ, PYTHONPATH=str(backend), OMP_NUM_THREADS=str(threads))
    cpus = ",".join(map(str, sorted(os.sched_getaffinity(0))[:threads])) if hasattr(os, "sched_getaffinity") else ""
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(weights), str(layers), str(threads), cpus],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    if worker.stdout.readline().strip() != "ready":
        worker.kill()
        raise RuntimeError(f"the worker for {backend} did not start (its error is above)")
    return worker


def ask(worker: subprocess.Popen, verb: str, key: str) -> float:
    """One guide in the worker: its CPU ms (lines an older tree prints on its own are passed over)."""
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(f"{verb} {key}\n")
    worker.stdin.flush()
    while line := worker.stdout.readline():
        try:
            return float(line)
        except ValueError:
            continue
    raise RuntimeError(f"a worker stopped at {key} (its error is above)")


def report(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    first = np.array(times[args.revisions[0]])
    print(f"{len(first)} guides each: 50-100 % of {args.count} eval drawings at 512 px, stroke by stroke in turns, "
          f"each with its previous state; CPU time, {args.threads} thread(s)")
    for name, values in times.items():
        t = np.array(values)
        line = f"  {name:12s} p50 {np.median(t):6.2f} ms  p95 {np.percentile(t, 95):6.2f} ms  mean {t.mean():6.2f} ms"
        if name != args.revisions[0]:
            line += (f"   less {args.revisions[0]}, stroke by stroke: median {np.median(t - first):+.2f} ms, "
                     f"mean {np.mean(t - first):+.2f} ms")
        print(line)
