"""Start the real `anisketch serve` process on a free port for a test, and stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from anisketch.server.client import Client, ServerTimeout

REPO = Path(__file__).resolve().parents[1]
FAKE = f"{REPO / 'tests' / 'fake_service.py'}:FakeService"
BATCHING_FAKE = f"{REPO / 'tests' / 'fake_service.py'}:BatchingFakeService"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OPEN: set["ServerProcess"] = set()  # not yet closed: conftest fails the run if any is left at its end


class ServerProcess:
    """`python -m anisketch.cli serve ...` with its log in a file; `client()` connects to it."""

    def __init__(self, *args: str, service: str | None = FAKE, endpoint: str | None = None, port: int | None = None,
                 env: dict | None = None, wait: bool = True):
        self.endpoint = endpoint or f"tcp://127.0.0.1:{port or free_port()}"
        self.args = ["--endpoint", self.endpoint, *(["--service", service] if service else []), *args]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.log_file = tempfile.NamedTemporaryFile("w+", prefix="anisketch-serve-", suffix=".log", delete=False)
        self.process = subprocess.Popen([sys.executable, "-m", "anisketch.cli", "serve", *self.args], cwd=REPO,
                                        env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        OPEN.add(self)
        if wait:
            self.wait_ready()

    def client(self, timeout: float = 10.0, **kwargs) -> Client:
        return Client(self.endpoint, timeout=timeout, **kwargs)

    def wait_ready(self, within: float = 30.0, **client_kwargs) -> dict:
        deadline = time.monotonic() + within
        with self.client(timeout=0.5, **client_kwargs) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
                try:
                    return client.info()
                except ServerTimeout:
                    continue
        raise RuntimeError(f"the server did not answer within {within} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log(self) -> str:
        self.log_file.flush()
        return Path(self.log_file.name).read_text()

    def close(self) -> None:
        """Kill the server if it still runs and delete its log: call it when done, also after stop()."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log_file.close()
        Path(self.log_file.name).unlink(missing_ok=True)
        OPEN.discard(self)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
