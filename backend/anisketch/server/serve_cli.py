"""`anisketch serve`: start the backend the Krita plugin talks to.

    anisketch serve                                   # tcp://127.0.0.1:5557, one process
    anisketch serve --endpoint ipc:///tmp/anisketch   # a Unix socket
    anisketch serve --workers 4                       # a ZeroMQ broker in front of 4 worker processes
    anisketch serve --endpoint tcp://0.0.0.0:5557 --curve-keys KEYS   # beyond loopback: CURVE required
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable

import zmq

from anisketch.server.gpus import GpuError, gpu_environment, parse_gpus, visible_gpu_count, worker_gpus
from anisketch.server.security import SecurityError, ServerCurve, require_curve_beyond_loopback
from anisketch.server.broker import Bus
from anisketch.server.server import Server, UnavailableService, configure_socket, make_signal_handler

log = logging.getLogger("anisketch.serve")

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5557"
DEFAULT_SERVICE = "anisketch.service:Service"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"where to listen (default {DEFAULT_ENDPOINT}; ipc://PATH for a Unix socket)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes, each with its own models, behind a ZeroMQ broker (default 1)")
    parser.add_argument("--curve-keys", metavar="DIR",
                        help="serve with CURVE authentication, keys from `anisketch keys --out DIR` "
                             "(required beyond loopback)")
    parser.add_argument("--weights", metavar="DIR", help="weights folder (default: the shipped weights/)")
    parser.add_argument("--device", default="auto", help="auto (GPU when there is one), cpu or cuda")
    parser.add_argument("--gpus", metavar="LIST",
                        help="GPUs to use, like 0,1 (default: all); worker i runs on the i-th of them, in turn")
    parser.add_argument("--max-queued", type=int, default=32, help="requests one client may have queued")
    parser.add_argument("--max-batch", type=int, default=8,
                        help="guides of different clients run as one model batch, at most this many (1: no batching)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    # For tests and experiments: another service factory, "module:callable" or "path/to/file.py:callable".
    parser.add_argument("--service", default=DEFAULT_SERVICE, help=argparse.SUPPRESS)
    # Set by the broker for its worker processes.
    parser.add_argument("--worker-of", help=argparse.SUPPRESS)
    parser.add_argument("--bus", nargs=2, metavar=("PUBLISH", "SUBSCRIBE"), help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.worker_of:
        return _serve(args, bind=None)
    try:
        require_curve_beyond_loopback(args.endpoint, args.curve_keys)
    except SecurityError as error:
        print(f"anisketch serve: {error}", file=sys.stderr)
        return 2
    if args.workers == 1 and not args.gpus:  # one process: the service picks its device itself
        return _serve(args, bind=args.endpoint)
    try:
        gpus = worker_gpus(args.workers, args.device, parse_gpus(args.gpus),
                           0 if args.device == "cpu" else visible_gpu_count())
    except GpuError as error:
        print(f"anisketch serve: {error}", file=sys.stderr)
        return 2
    if args.workers > 1:
        from anisketch.server.broker import run_broker
        return run_broker(args, gpus)
    os.environ.update(gpu_environment(gpus[0]))  # before the models load (torch reads it at first CUDA use)
    return _serve(args, bind=args.endpoint)


def _serve(args: argparse.Namespace, bind: str | None) -> int:
    context = zmq.Context()
    curve = sock = None
    try:
        if bind:
            curve = ServerCurve.start(context, args.curve_keys) if args.curve_keys else None
            sock = context.socket(zmq.ROUTER)
            if curve:
                curve.apply(sock)
            configure_socket(sock)
            sock.bind(bind)
        else:  # a worker: the broker's ROUTER already put the client's identity in front of each message
            sock = context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 1000)
            sock.connect(args.worker_of)
    except (SecurityError, zmq.ZMQError) as error:
        print(f"anisketch serve: cannot listen on {bind or args.worker_of}: {error}", file=sys.stderr)
        if sock is not None:
            sock.close(linger=0)
        _close(context, curve)
        return 2
    bus = Bus(context, *args.bus) if args.bus else None
    server = Server(load_service(args.service, args.weights, args.device), sock, context=context,
                    max_queued_per_client=args.max_queued, max_batch=max(1, args.max_batch), bus=bus)
    handler = make_signal_handler(server.stop)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    where = bind or f"worker of {args.worker_of}"
    log.info("serving on %s (curve %s, service %s)", where, "on" if curve else "off", args.service)
    server.serve_forever()
    sock.close()
    if bus:
        bus.close()
    _close(context, curve)
    log.info("stopped after %d model replies (info and status replies not counted)", server.served)
    return 0


def _close(context: zmq.Context, curve: ServerCurve | None) -> None:
    if curve:
        curve.stop()
    context.term()


def load_service(spec: str, weights: str | None, device: str) -> Any:
    """Build the model service; a service that fails to load still lets the server answer (with the error)."""
    try:
        factory = resolve(spec)
        return factory(weights_dir=weights, device=device)
    except Exception as error:  # a broken install must show up as an error reply, not a dead server
        log.error("the service %s failed to load: %s", spec, error, exc_info=True)
        return UnavailableService(error)


def resolve(spec: str) -> Callable:
    """"package.module:name" or "path/to/file.py:name" to the named object."""
    target, _, name = spec.rpartition(":")
    if target.endswith(".py"):
        path = Path(target)
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module  # dataclasses and pickling look their module up there
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, name)
