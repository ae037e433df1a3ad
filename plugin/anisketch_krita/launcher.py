"""Start the local backend (`anisketch serve`) when none answers: install.py wrote where it lives.

`backend.json`, beside this file: {"anisketch": "/abs/.venv/bin/anisketch", "endpoint": "tcp://127.0.0.1:5557"}.
Plain Python (subprocess), so it is tested without Krita. Krita's `sys.executable` is not a Python, which is
why we run the installed console script and never `sys.executable -m ...`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Optional

CONFIG_PATH = Path(__file__).resolve().parent / "backend.json"
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5557"
RESTART_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 16.0)  # before each restart of a backend that died; then we give up
STARTED: set["Launcher"] = set()  # backends running that we started: stopped when Krita quits (stop_started)


def stop_started() -> None:
    """Stop every backend this Krita started (Krita's applicationClosing, and atexit as a backstop). A
    backend the artist started by hand was never ours and is left alone."""
    for launcher in list(STARTED):
        launcher.stop()


def read_config(path: Path = CONFIG_PATH) -> dict:
    """backend.json as a dict; {} when missing or unreadable (the plugin then only connects, never starts)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


class Launcher:
    """One `anisketch serve` child process, its log in a file, ended with Krita."""

    def __init__(self, executable: Optional[str], log_path: Optional[Path] = None):
        self.executable = executable
        self.log_path = log_path or Path(tempfile.gettempdir()) / "anisketch-serve.log"
        self.process: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None
        self.restarts = 0  # restarts since the backend last answered (reset by `answered`)

    @classmethod
    def from_config(cls, config: dict) -> "Launcher":
        return cls(config.get("anisketch") if isinstance(config.get("anisketch"), str) else None)

    def problem(self) -> str:
        """Why we cannot start the backend, or "" when we can."""
        if not self.executable:
            return "no backend.json beside the plugin: run install.py, or start `anisketch serve` yourself"
        if not os.path.isfile(self.executable):
            return f"{self.executable} does not exist: run install.py again"
        return ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, endpoint: str) -> None:
        if self.running:
            return
        self.stop()
        self._log = open(self.log_path, "wb")
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
        self.process = subprocess.Popen(
            [str(self.executable), "serve", "--endpoint", endpoint],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, creationflags=flags,
        )
        STARTED.add(self)

    def answered(self) -> None:
        """The backend answered: a later death starts the restart count afresh."""
        self.restarts = 0

    def restart_delay(self) -> Optional[float]:
        """Seconds to wait before restarting a backend that died, or None when it died too often."""
        return RESTART_DELAYS_S[self.restarts] if self.restarts < len(RESTART_DELAYS_S) else None

    def restart(self, endpoint: str) -> None:
        self.restarts += 1
        self.stop()
        self.start(endpoint)

    def exit_reason(self) -> str:
        """For a process that ended: its exit code and the last line it logged."""
        if self.process is None or self.process.poll() is None:
            return ""
        code = self.process.returncode
        if code < 0:  # ended by a signal: the log's last line says nothing about why
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the backend was stopped ({name})"
        last = self.last_log_line()
        return f"the backend exited with code {code}" + (f": {last}" if last else "")

    def last_log_line(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1][-300:] if lines else ""

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None
        STARTED.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None
