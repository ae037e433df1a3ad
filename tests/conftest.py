"""Fixtures every test may use, and the rule that CI never skips what users rely on.

Locally, a test that needs a tool this machine lacks (Krita, Xvfb) is skipped with a reason.
With CI=true the same test fails instead: CI installs those tools, so a missing one is a broken CI,
not a reason to pass. More generally, with CI=true every skip (a test, or a whole module skipped by
pytest.importorskip) makes the run fail, unless the test is marked `ci_may_skip`: CI is where we learn
that what users rely on works, so nothing may quietly not run there.
"""

from __future__ import annotations

import os
import sys
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
# stop_cleanly: a run stopped by SIGTERM still closes what its tests opened; private_temp: its temporary files go
# when it ends
pytest_plugins = ["stop_cleanly", "private_temp"]


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when something a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


def require_executable(name: str, hint: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"`{name}` not found on PATH ({hint})")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def install_py() -> Path:
    return REPO_ROOT / "install.py"


@pytest.fixture(scope="session")
def krita_executable() -> str:
    """The real Krita; e2e tests start it under Xvfb (see tests/krita_harness.py)."""
    return require_executable("krita", "apt-get install krita")


@pytest.fixture(scope="session")
def xvfb_run_executable() -> str:
    return require_executable("xvfb-run", "apt-get install xvfb xauth")


# --------------------------------------------------------------------------- no silent skips in CI

_ci_skips: list[str] = []


def _note_ci_skip(report) -> None:
    allowed = "ci_may_skip" in getattr(report, "keywords", {})  # collect reports carry no keywords
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and not allowed:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _ci_skips.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report):
    _note_ci_skip(report)


def pytest_collectreport(report):  # a whole module skipped, e.g. by pytest.importorskip at its top
    _note_ci_skip(report)


def pytest_terminal_summary(terminalreporter):
    if _ci_skips:
        terminalreporter.section("skipped in CI: each counts as a failure", sep="=", red=True, bold=True)
        for line in _ci_skips:
            terminalreporter.line(line)
        terminalreporter.line("Install what they need in .ci/run or the test extra; mark a test that truly "
                              "cannot run in CI with @pytest.mark.ci_may_skip.")


def _servers_left_open() -> list[str]:
    """Test servers (server_harness.ServerProcess) never closed: a process or a log file left behind."""
    harness = sys.modules.get("server_harness")
    return sorted(f"{server.endpoint} (log {server.log_file.name})" for server in getattr(harness, "OPEN", ()))


def pytest_sessionfinish(session):
    left = _servers_left_open()
    if left:
        print("\ntest servers left open (call ServerProcess.close() when done, also after stop()):\n  "
              + "\n  ".join(left))
    if (_ci_skips or left) and session.exitstatus == 0:
        session.exitstatus = 1
