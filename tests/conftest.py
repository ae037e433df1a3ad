"""Fixtures every test may use, and the rule that CI never skips what users rely on.

Locally, a test that needs a tool this machine lacks (Krita, Xvfb) is skipped with a reason.
With CI=true the same test fails instead: CI installs those tools, so a missing one is a broken CI,
not a reason to pass. End-to-end tests (marker `e2e`) may not be skipped in CI at all.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI an e2e test that skipped (by any route: a fixture, importorskip, a mark) is reported as failed."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and item.get_closest_marker("e2e") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"e2e test skipped in CI, which counts as a failure: {reason}"
