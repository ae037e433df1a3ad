"""`anisketch bench serve`: latency and throughput through the real socket.

    anisketch bench serve                          # spawns a local server (the real service), measures, stops it
    anisketch bench serve --endpoint tcp://gpu-box:5557 --curve-keys KEYS
    anisketch bench serve --sizes 256,512 --clients 1,4 --seconds 3

Latency: p50/p95 round trip of `guide` and `render` at each crop size, one client, one request at a time
(what an artist feels after a stroke). Throughput: C clients, each sending its next guide as soon as the
previous answers, for a few seconds: replies per second and p95 under load.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np

from anisketch.server.client import Client, ServerError, ServerTimeout


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="anisketch bench serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", help="a running server (default: spawn one on a free loopback port)")
    parser.add_argument("--curve-keys", metavar="DIR", help="CURVE keys for a server beyond loopback")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the spawned server")
    parser.add_argument("--device", default="auto", help="device of the spawned server")
    parser.add_argument("--max-batch", type=int, default=8,
                        help="the spawned server's guide batch limit (1: no batching, to measure what batching gives)")
    parser.add_argument("--service", help=argparse.SUPPRESS)  # another service for the spawned server (tests)
    parser.add_argument("--sizes", default="256,512,1024", help="crop sizes in px")
    parser.add_argument("--requests", type=int, default=20, help="guides per size for latency")
    parser.add_argument("--render-requests", type=int, default=5, help="renders per size for latency")
    parser.add_argument("--n", type=int, default=4, help="render candidates")
    parser.add_argument("--clients", default="1,4,16", help="concurrent clients for throughput")
    parser.add_argument("--throughput-size", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    parser.add_argument("--warm-up", type=int, default=None,
                        help="untimed calls before each latency row (default: one per worker, so each loads its models)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]

    server, endpoint = (None, args.endpoint) if args.endpoint else _spawn(args)
    try:
        with Client(endpoint, timeout=300, curve_keys=args.curve_keys) as client:
            info = _wait_for(client)
            print(f"server: {endpoint}  device: {info.get('device', '?')}  ops: {', '.join(info.get('ops', []))}  "
                  f"this machine: {os.cpu_count()} CPUs")
            print(f"\n{'op':8s} {'size':>6s} {'n':>4s} {'p50 ms':>9s} {'p95 ms':>9s} {'server p50':>11s} "
                  f"{'model p50':>10s}")
            warm_up = max(1, args.warm_up if args.warm_up is not None else args.workers)
            for size in sizes:
                sketch = bench_sketch(size)
                _latency_row(client, "guide", size, args.requests, lambda: client.guide(sketch, mode="rough"), warm_up)
                if "render" in info.get("ops", []):
                    hints = np.zeros_like(sketch)
                    _latency_row(client, "render", size, args.render_requests,
                                 lambda: client.render(sketch, hints, n=args.n), warm_up)
                else:
                    print(f"{'render':8s} {size:6d}   (this backend offers no render yet)")
        print(f"\n{'clients':>8s} {'guides/s':>9s} {'p50 ms':>9s} {'p95 ms':>9s} {'server p50':>11s} {'errors':>7s}"
              f"   ({args.throughput_size} px, {args.seconds:g} s each)")
        sketch = bench_sketch(args.throughput_size)
        for count in client_counts:
            rate, latencies, server_ms, errors = throughput(endpoint, args.curve_keys, sketch, count, args.seconds)
            p50, p95 = _percentiles(latencies)
            print(f"{count:8d} {rate:9.1f} {p50:9.1f} {p95:9.1f} {_percentiles(server_ms)[0]:11.1f} {errors:7d}")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    return 0


def _latency_row(client: Client, op: str, size: int, count: int, call, warm_up: int = 1) -> None:
    try:
        # Untimed first calls: lazy model loading, first-call allocations. The broker hands requests to its
        # workers in turn, so `warm_up` = the worker count reaches every worker once.
        for _ in range(warm_up):
            call()
        round_trips, server_ms, model_ms = [], [], []
        for _ in range(count):
            started = time.perf_counter()
            reply = call()
            round_trips.append((time.perf_counter() - started) * 1e3)
            server_ms.append(reply.timing_ms.get("total", float("nan")))
            model_ms.append(reply.timing_ms.get("service", float("nan")))
    except ServerError as error:
        print(f"{op:8s} {size:6d}   {error}")
        return
    p50, p95 = _percentiles(round_trips)
    print(f"{op:8s} {size:6d} {count:4d} {p50:9.1f} {p95:9.1f} {np.median(server_ms):11.1f} {np.median(model_ms):10.1f}")


def throughput(endpoint: str, curve_keys: str | None, sketch: np.ndarray, clients: int,
               seconds: float) -> tuple[float, list[float], list[float], int]:
    """Closed loop: each client sends its next guide when the last one answers. Returns replies per second,
    round trips and the server's own time (arrival to reply) in ms, and the count of failed requests."""
    latencies: list[float] = []
    server_ms: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def loop() -> None:
        mine, theirs, failed = [], [], 0
        with Client(endpoint, timeout=120, curve_keys=curve_keys) as client:
            start.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    reply = client.guide(sketch)
                    mine.append((time.perf_counter() - began) * 1e3)
                    theirs.append(reply.timing_ms.get("total", float("nan")))
                except (ServerError, ServerTimeout):
                    failed += 1
        with lock:
            latencies.extend(mine)
            server_ms.extend(theirs)
            errors[0] += failed

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies, server_ms, errors[0]


def bench_sketch(size: int, seed: int = 3) -> np.ndarray:
    """A partial sketch from the drawing simulator, as RGBA (ink in alpha); plain lines if the engine fails."""
    try:
        from anisketch.engine.geometry import build_portrait
        from anisketch.engine.params import sample_params
        from anisketch.engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
        rng = np.random.default_rng(seed)
        strokes = simulate_sketch(build_portrait(sample_params(seed)), rng, fraction=0.6)
        return sketch_to_rgba(render_sketch(strokes, size, rng))
    except Exception as error:  # noqa: BLE001 - the bench measures the server; any sketch will do
        print(f"(engine sketch unavailable: {error}; using plain lines)", file=sys.stderr)
        rgba = np.zeros((size, size, 4), np.uint8)
        rgba[size // 4: 3 * size // 4: 6, size // 4: 3 * size // 4, 3] = 255
        return rgba


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _spawn(args: argparse.Namespace) -> tuple[subprocess.Popen | None, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    command = [sys.executable, "-m", "anisketch.cli", "serve", "--endpoint", endpoint, "--workers", str(args.workers),
               "--device", args.device, "--max-batch", str(args.max_batch), "--log-level", "warning"]
    if args.service:
        command += ["--service", args.service]
    return subprocess.Popen(command), endpoint


def _wait_for(client: Client, within: float = 120.0) -> dict:
    deadline = time.monotonic() + within
    while True:
        try:
            return client.call("info", timeout=1.0).result
        except ServerTimeout:
            if time.monotonic() > deadline:
                raise
