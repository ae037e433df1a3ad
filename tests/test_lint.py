"""ruff and mypy over the backend and the plugin, as configured in pyproject.toml (repo root): clean.

The plugin's own type check, against the stand-in krita module's stubs, is in test_plugin_live.py (it needs
the installed plugin's copy of protocol.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name) or name


def test_ruff_is_clean():
    done = subprocess.run([_tool("ruff"), "check", "--no-cache", "backend", "plugin"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_the_backend():
    done = subprocess.run([_tool("mypy"), "--no-incremental", "backend/anisketch"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
