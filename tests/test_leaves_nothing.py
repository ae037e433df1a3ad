"""A test run leaves nothing in the system's temp folder: what its tests and their processes write there goes
when it ends (tests/private_temp.py), and the real-Krita harness takes its profile with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

TESTS_THAT_LITTER = '''
import subprocess, sys, tempfile
from pathlib import Path

def test_a_folder_left_in_the_temp_folder():
    Path("{record}").write_text(tempfile.mkdtemp(prefix="litter-"))

def test_a_pool_of_worker_processes():  # multiprocessing keeps a folder of its own in the temp folder
    import multiprocessing
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        assert pool.map(abs, [-1]) == [1]

def test_a_child_process_that_leaves_a_file(tmp_path):
    made = subprocess.run([sys.executable, "-c", "import tempfile; print(tempfile.mkstemp()[1])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path("{child_record}").write_text(made)
    assert False, "a failing run cleans up too"
'''


def run_inner(tmp_path: Path, source: str, *plugins: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_litter.py").write_text(source)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    options = [option for plugin in plugins for option in ("-p", plugin)]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *options, "-p", "no:cacheprovider", "-o", "addopts=",
                           "-o", "timeout=0", str(tmp_path / "test_litter.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_what_a_run_writes_to_the_temp_folder_goes_when_it_ends(tmp_path):
    records = {"record": tmp_path / "folder.txt", "child_record": tmp_path / "child.txt"}
    run = run_inner(tmp_path, TESTS_THAT_LITTER.format(**records), "private_temp")
    assert run.returncode == 1, run.stdout  # the second inner test fails on purpose
    left = [Path(path.read_text()) for path in records.values()]
    assert all(path.name for path in left), run.stdout
    assert not any(path.exists() for path in left), left
    assert "Traceback" not in run.stderr, run.stderr  # nothing removed before its owner was done with it


def test_without_the_plugin_the_same_tests_would_litter(tmp_path):
    """The check above can fail: the same inner tests without the plugin leave their folder behind."""
    records = {"record": tmp_path / "folder.txt", "child_record": tmp_path / "child.txt"}
    run_inner(tmp_path, TESTS_THAT_LITTER.format(**records))
    left = [Path(path.read_text()) for path in records.values()]
    try:
        assert all(path.exists() for path in left), left
    finally:
        for path in left:
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)


def test_the_krita_harness_takes_its_profile_folder_with_it(tmp_path):
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import krita_harness; "
             "print(krita_harness._process_folder())")
    made = subprocess.run([sys.executable, "-c", probe, str(TESTS)], capture_output=True, text=True, check=True,
                          env=dict(os.environ, TMPDIR=str(tmp_path)), timeout=60).stdout.strip()
    assert Path(made).parent == tmp_path
    assert not Path(made).exists()
