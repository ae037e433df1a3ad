"""A pytest plugin (tests/conftest.py loads it): a run stopped from outside tears down as Ctrl-C does.

Python's default SIGTERM ends the process at once: no fixture finalizer and no `finally` runs, so a run that CI
cancels, or that someone kills, left its test servers running (a backend listening on port 5557, a Krita under
Xvfb). Turned into KeyboardInterrupt, the signal unwinds the test in progress, pytest runs every finalizer, and
the run ends as interrupted."""

from __future__ import annotations

import signal


def pytest_configure(config):
    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
