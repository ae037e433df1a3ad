"""`anisketch serve --workers N`: ZeroMQ's broker pattern in front of N worker processes.

    clients (DEALER) ──> ROUTER [this process] DEALER ──> N workers (DEALER, each `Server` + its own Service)
                         └────────── zmq.proxy ─────────┘

The ROUTER puts the client's identity in front of each request and the DEALER hands requests to the
workers in turn; a worker's reply starts with that identity, so the ROUTER routes it back. No queue of our
own: ZeroMQ's pipes are the queues. Each worker schedules what it holds (newest guide wins, clients take
turns); a small PUB/SUB bus (XSUB/XPUB proxy) carries two facts between workers, "client C sent a newer
guide" and "client C cancels id X", so that both reach a request whichever worker holds it.

Workers on other machines: run this broker's backend on tcp and start `anisketch serve --worker-of URL`
there (same code, hidden option).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import zmq

from anisketch.server.gpus import gpu_environment
from anisketch.server.security import SecurityError, ServerCurve
from anisketch.server.server import configure_socket, make_signal_handler

log = logging.getLogger("anisketch.serve")


def run_broker(args: argparse.Namespace, gpus: list[int | None]) -> int:
    """Serve until a signal; `gpus[i]` is worker i's GPU (server/gpus.py), None on the CPU."""
    context = zmq.Context()
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="anisketch-") as private:  # ipc files only we can reach
        urls = _internal_urls(private)
        curve = None
        try:
            curve = ServerCurve.start(context, args.curve_keys) if args.curve_keys else None
            frontend = context.socket(zmq.ROUTER)
            if curve:
                curve.apply(frontend)
            configure_socket(frontend)
            frontend.bind(args.endpoint)
        except (SecurityError, zmq.ZMQError) as error:
            print(f"anisketch serve: cannot listen on {args.endpoint}: {error}", file=sys.stderr)
            if curve:
                curve.stop()
            context.destroy(linger=0)
            return 2
        requests = _Proxy(context, frontend, zmq.DEALER, urls["backend"])
        bus = _Proxy(context, _bound(context.socket(zmq.XSUB), urls["bus_in"]), zmq.XPUB, urls["bus_out"])
        proxies = [requests, bus]
        workers = [_Worker(args, requests.back_url, (bus.front_url, bus.back_url), index, gpus[index])
                   for index in range(args.workers)]
        handler = make_signal_handler(stop.set)
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
        log.info("broker on %s: %d workers (curve %s)", args.endpoint, args.workers, "on" if curve else "off")
        while not stop.wait(0.5):
            for worker in workers:
                worker.restart_if_dead()
        for worker in workers:
            worker.terminate()
        for proxy in proxies:
            proxy.stop()
        if curve:
            curve.stop()
        context.term()
    return 0


def _internal_urls(private_dir: str) -> dict[str, str]:
    if zmq.has("ipc") and len(private_dir) < 80:  # ipc paths are limited to ~100 bytes
        return {name: f"ipc://{private_dir}/{name}" for name in ("backend", "bus_in", "bus_out")}
    # No ipc (Windows): loopback ports, picked free at bind time.
    return {name: "tcp://127.0.0.1:*" for name in ("backend", "bus_in", "bus_out")}


class _Proxy:
    """zmq.proxy_steerable between two sockets in a thread, stoppable with TERMINATE on its control socket."""

    def __init__(self, context: zmq.Context, front: zmq.Socket, back_type: int, back_url: str):
        back = _bound(context.socket(back_type), back_url)
        self.front_url = front.getsockopt_string(zmq.LAST_ENDPOINT)
        self.back_url = back.getsockopt_string(zmq.LAST_ENDPOINT)
        self.sockets = [front, back]
        address = f"inproc://proxy-control-{id(self)}"
        self.control = context.socket(zmq.PAIR)
        self.control.bind(address)
        control_peer = context.socket(zmq.PAIR)
        control_peer.connect(address)
        self.sockets.append(control_peer)
        self.thread = threading.Thread(target=zmq.proxy_steerable, args=(front, back, None, control_peer),
                                       daemon=True, name="anisketch-proxy")
        self.thread.start()

    def stop(self) -> None:
        self.control.send(b"TERMINATE")
        self.thread.join(timeout=5)
        self.control.close(linger=0)
        for sock in self.sockets:
            sock.close(linger=500)  # let the last replies (shutting_down) leave


def _bound(sock: zmq.Socket, url: str) -> zmq.Socket:
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(url)
    return sock


class _Worker:
    """One `anisketch serve --worker-of` child process, restarted if it dies (a crash must not shrink the pool)."""

    def __init__(self, args: argparse.Namespace, backend_url: str, bus_urls: tuple[str, str], index: int,
                 gpu: int | None = None):
        self.index = index
        self.env = {**os.environ, **gpu_environment(gpu)}
        if gpu is not None:
            log.info("worker %d runs on GPU %d", index, gpu)
        self.command = [sys.executable, "-m", "anisketch.cli", "serve", "--worker-of", backend_url,
                        "--bus", *bus_urls, "--service", args.service,
                        "--device", args.device, "--max-queued", str(args.max_queued), "--max-batch", str(args.max_batch),
                        "--log-level", args.log_level]
        if args.weights:
            self.command += ["--weights", args.weights]
        self.restarts = 0
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, env=self.env)

    def restart_if_dead(self) -> None:
        code = self.process.poll()
        if code is None:
            return
        self.restarts += 1
        log.error("worker %d (pid %d) exited with %s; restarting it (restart %d)", self.index, self.process.pid,
                  code, self.restarts)
        time.sleep(min(5.0, 0.2 * self.restarts))  # a worker that dies at start must not spin the CPU
        self.process = self._start()

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------------------------------------
# The bus between workers (serve --workers N): cancel and supersession reach jobs held by other workers.
# Each worker's Server holds one; the broker above runs the XSUB/XPUB proxy it talks through.


class Bus:
    def __init__(self, context: zmq.Context, publish_url: str, subscribe_url: str):
        self.me = str(os.getpid()).encode()
        self.pub = context.socket(zmq.PUB)
        self.pub.connect(publish_url)
        self.sub = context.socket(zmq.SUB)
        self.sub.connect(subscribe_url)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        for s in (self.pub, self.sub):
            s.setsockopt(zmq.LINGER, 0)

    def announce_guide(self, client: bytes, seq: int) -> None:
        self.pub.send_multipart([b"guide", self.me, client, str(seq).encode()])

    def announce_cancel(self, client: bytes, target: str) -> None:
        self.pub.send_multipart([b"cancel", self.me, client, target.encode()])

    def receive_all(self) -> list[tuple[str, bytes, str]]:
        messages: list[tuple[str, bytes, str]] = []
        while True:
            try:
                kind, sender, client, value = self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return messages
            except ValueError:  # not ours: ignore
                continue
            if sender != self.me:
                messages.append((kind.decode(), client, value.decode()))

    def close(self) -> None:
        self.pub.close()
        self.sub.close()
