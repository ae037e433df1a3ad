"""A test run stopped from outside (SIGTERM: CI's cancel, a kill) still runs its tests' teardown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent

A_TEST_THAT_HOLDS_A_PROCESS = '''
import subprocess, sys
from pathlib import Path
import pytest

@pytest.fixture
def child(tmp_path_factory):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path("{pid_file}").write_text(str(process.pid))
    yield process
    process.kill()
    process.wait()
    Path("{done_file}").write_text("torn down")

def test_waits(child):
    Path("{ready_file}").write_text("running")
    import time
    time.sleep(600)
'''


def test_a_run_stopped_by_sigterm_closes_what_its_tests_opened(tmp_path):
    files = {name: tmp_path / f"{name}.txt" for name in ("pid_file", "done_file", "ready_file")}
    (tmp_path / "test_holding.py").write_text(A_TEST_THAT_HOLDS_A_PROCESS.format(**files))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "stop_cleanly", "-p", "no:cacheprovider",
                            "-o", "addopts=", "-o", "timeout=0", str(tmp_path / "test_holding.py")],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not files["ready_file"].exists():
            assert run.poll() is None, run.communicate()[0].decode()
            assert time.monotonic() < deadline, "the inner test never started"
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        output = run.communicate(timeout=60)[0].decode()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        child = int(files["pid_file"].read_text()) if files["pid_file"].exists() else None
        left = child is not None and _alive(child)
        if left:  # this test, too, leaves nothing behind when it fails
            os.kill(child, signal.SIGKILL)
    assert files["done_file"].exists(), output
    assert not left, output


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
