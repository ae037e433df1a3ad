"""A pytest plugin (tests/conftest.py loads it): the run's temporary files live in a folder of its own, removed
when the run ends.

Tests, and the processes they start, write to the system's temp folder: the real-Krita suite's prepared profile
(about 90 MB a run), torchrun's logs, multiprocessing's sockets, pytest's own tmp_path. Every run used to leave
some of them behind. TMPDIR now names a folder of this run, which every child process inherits, and the folder
goes when the run ends: passed, failed or stopped (with stop_cleanly, SIGTERM ends a run as Ctrl-C does). To keep
a failed test's files for a look, give pytest `--basetemp DIR`."""

from __future__ import annotations

import multiprocessing.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_RUN_FOLDER = pytest.StashKey[tuple[Path, "str | None"]]()


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="anisketch-tests-"))
    config.stash[_RUN_FOLDER] = (folder, os.environ.get("TMPDIR"))
    _use_temp_folder(str(folder))


def pytest_unconfigure(config):
    folder, before = config.stash[_RUN_FOLDER]
    _use_temp_folder(before)
    # Removed as this process exits, after multiprocessing's own exit handlers: they remove the pymp- folders it
    # made in here (a worker pool's, the forkserver's socket) and would fail loudly on one already gone.
    multiprocessing.util.Finalize(None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True},
                                  exitpriority=-1000)


def _use_temp_folder(path: str | None) -> None:
    if path is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = path
    tempfile.tempdir = None  # tempfile caches its folder: have it read TMPDIR again
