"""Run the real Krita under Xvfb, drive it from inside with a scenario, and always end it.

    result = run_scenario(Path("my_scenario.py"), out_dir, env={"ANISKETCH_ENDPOINT": ...})

Each run gets a private HOME, TMPDIR and XDG_RUNTIME_DIR (copied from a profile prepared once per test
session: Krita builds its resource database on first start, about 10 s), the plugin installed with
`install.py --plugin-only --krita-dir`, and a small test-driver plugin written beside it. The driver:

- replaces sys.excepthook (an unhandled exception would open a modal dialog that blocks quitting) and
  records every exception in the result;
- once the main window exists, sets its geometry (there is no window manager), shows the AniSketch
  docker and steps the scenario: a generator `scenario(t)` that yields seconds to wait or `t.until(...)`
  conditions, so Krita's event loop keeps running between steps;
- writes `result.json` (what the scenario put in `t.result`, its error, the exceptions), marks every
  document unmodified and quits; a watchdog quits anyway after ANISKETCH_DRIVER_TIMEOUT seconds.

The harness kills the whole process group if Krita outlives its timeout. Screenshots are taken with
`import -window root` (ImageMagick) from inside the scenario (`t.screenshot(name)`), layers are saved as
PNG with `t.save_layer(node, name)`.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
XVFB_SCREEN = "-screen 0 1600x1000x24 -nolisten tcp"
DRIVER = "anisketch_test_driver"
_PREPARED: dict[str, Path] = {}


def tools_missing() -> list[str]:
    return [tool for tool in ("krita", "xvfb-run", "import", "xdotool") if shutil.which(tool) is None]


# ------------------------------------------------------------------------------------------------ profile


def _write_driver(data_dir: Path) -> None:
    pykrita = data_dir / "pykrita"
    (pykrita / DRIVER).mkdir(parents=True, exist_ok=True)
    (pykrita / DRIVER / "__init__.py").write_text(DRIVER_SOURCE)
    (pykrita / f"{DRIVER}.desktop").write_text(textwrap.dedent(f"""\
        [Desktop Entry]
        Type=Service
        ServiceTypes=Krita/PythonPlugin
        X-KDE-Library={DRIVER}
        X-Python-2-Compatible=false
        Name=AniSketch test driver
        """))


def _enable(kritarc: Path, name: str) -> None:
    text = kritarc.read_text() if kritarc.exists() else ""
    if f"enable_{name}=true" in text:
        return
    if "[python]" in text:
        text = text.replace("[python]\n", f"[python]\nenable_{name}=true\n", 1)
    else:
        text += f"\n[python]\nenable_{name}=true\n"
    kritarc.write_text(text)


def _install_plugin(home: Path) -> None:
    data_dir, kritarc = home / ".local/share/krita", home / ".config/kritarc"
    command = [sys.executable, str(REPO / "install.py"), "--plugin-only", "--krita-dir", str(data_dir),
               "--kritarc", str(kritarc)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"install.py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _sockets_and_pipes(folder: str, names: list[str]) -> list[str]:
    """What copytree must leave out: a Krita stopped under load can leave its single-instance socket behind in
    the prepared profile, and a socket cannot be copied (it would only confuse the next Krita anyway)."""
    def special(name: str) -> bool:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        return stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode)

    return [name for name in names if special(name)]


def prepared_home(base: Path) -> Path:
    """A HOME with the plugin and the driver installed and Krita's first start done (once per session)."""
    key = str(base)
    if key in _PREPARED and _PREPARED[key].exists():
        return _PREPARED[key]
    home = base / "prepared-home"
    shutil.rmtree(home, ignore_errors=True)
    (home / ".config").mkdir(parents=True)
    (home / ".config/kritarc").write_text("")
    _install_plugin(home)
    _write_driver(home / ".local/share/krita")
    _enable(home / ".config/kritarc", DRIVER)
    kritarc = home / ".config/kritarc"
    warm_settings = "\n[anisketch]\nstart_backend=false\n"  # the warm-up starts no backend (port 5557)
    kritarc.write_text(kritarc.read_text() + warm_settings)
    warm = base / "warm-up.py"
    warm.write_text("def scenario(t):\n    yield 0.1\n")
    _launch(home, warm, base / "warm-up", env={}, timeout=120)
    # Each run brings its own settings: drop the [anisketch] section, whatever Krita wrote back into it.
    kritarc.write_text(re.sub(r"\n\[anisketch\]\n(?:[^\[\n][^\n]*\n|\n)*", "\n", kritarc.read_text() + "\n"))
    _PREPARED[key] = home
    return home


# ------------------------------------------------------------------------------------------------ running


@functools.cache
def _process_folder() -> Path:
    """The prepared profile's folder of this process, removed when the process ends (it holds about 90 MB). One
    folder per process: concurrent runs (two checkouts, CI beside a developer) must not share profiles."""
    folder = Path(tempfile.mkdtemp(prefix="anisketch-krita-harness-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def run_scenario(scenario: Path, out_dir: Path, env: Optional[dict] = None, timeout: float = 180,
                 base: Optional[Path] = None, settings: Optional[dict] = None) -> dict:
    """Start Krita on a copy of the prepared profile, run `scenario`, return result.json (plus 'log').

    `settings` go into kritarc's [anisketch] section, where the plugin's readSetting finds them
    (e.g. {"endpoint": "tcp://127.0.0.1:PORT", "start_backend": "false"}).
    """
    base = base or _process_folder()
    base.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=base))
    shutil.rmtree(home)
    shutil.copytree(prepared_home(base), home, symlinks=True, ignore=_sockets_and_pipes)
    _install_plugin(home)  # the plugin as it is now in the checkout (cheap; keeps the warm profile)
    if settings:
        kritarc = home / ".config/kritarc"
        lines = "".join(f"{key}={value}\n" for key, value in settings.items())
        kritarc.write_text(kritarc.read_text() + f"\n[anisketch]\n{lines}")
    try:
        return _launch(home, scenario, out_dir, env=env or {}, timeout=timeout)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# Variables of the test's own Python that must not reach Krita's embedded one, and no display of ours.
NOT_FOR_KRITA = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV",
                 "LD_LIBRARY_PATH", "PYENV_VERSION")


def desktop_environment() -> dict[str, str]:
    """The environment Krita gets when started from a desktop: ours, less our Python's traces.

    Krita embeds the system Python and locates it through PATH: with pyenv's or a virtualenv's `python3` first
    on PATH (as under `pyenv exec`, which CI's `python3 install.py --test` is), the embedded interpreter took
    that Python's prefix, lost /usr/lib/python3/dist-packages and with it PyQt5, and no plugin could load."""
    def foreign(entry: str) -> bool:
        return ".pyenv" in entry or entry.startswith(sys.prefix) or "/.venv/" in entry + "/"

    env = {k: v for k, v in os.environ.items() if k not in NOT_FOR_KRITA and not k.startswith("PYENV_")}
    env["PATH"] = os.pathsep.join(e for e in os.environ.get("PATH", "").split(os.pathsep) if e and not foreign(e))
    return env


def _launch(home: Path, scenario: Path, out_dir: Path, env: dict, timeout: float) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp, runtime = home / "tmp", home / "runtime"
    tmp.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    result_path = out_dir / "result.json"
    result_path.unlink(missing_ok=True)
    full_env = {
        **desktop_environment(),
        "HOME": str(home), "TMPDIR": str(tmp), "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
        "ANISKETCH_SCENARIO": str(scenario), "ANISKETCH_OUT": str(out_dir),
        "ANISKETCH_DRIVER_TIMEOUT": str(max(10, timeout - 15)), **env,
    }
    log_path = out_dir / "krita.log"
    for attempt in range(2):
        result = _start_once(full_env, home, result_path, log_path, timeout)
        if not _display_not_ready(result, log_path):
            break
        time.sleep(1.0)  # a display number whose last server is still going away: xvfb-run -a picks anew
    result["display_attempts"] = attempt + 1
    return result


# Krita that could not reach the display xvfb-run gave it (the server of the run before still leaving that number:
# a race in xvfb-run -a) ends within seconds, before its first line of Python; it is started once more.
DISPLAY_NOT_READY = "could not connect to display"


def _display_not_ready(result: dict, log_path: Path) -> bool:
    return (not result.get("ok") and result["krita_seconds"] < 10 and log_path.exists()
            and DISPLAY_NOT_READY in log_path.read_text(errors="replace"))


def _start_once(full_env: dict, home: Path, result_path: Path, log_path: Path, timeout: float) -> dict:
    """One run of Krita under a fresh Xvfb: the scenario's result, or why there is none."""
    command = ["xvfb-run", "-a", "-s", XVFB_SCREEN, "krita", "--nosplash"]
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(home))
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
    elapsed = time.monotonic() - started
    left_behind = _group_members(process.pid)  # a backend the plugin started and Krita did not stop, say
    _kill_group(process)  # whatever happened, the run leaves no process (and no port) behind
    result = json.loads(result_path.read_text()) if result_path.exists() else {
        "ok": False, "error": f"Krita ended without a result after {elapsed:.0f} s (exit {process.returncode}); "
                              f"see {log_path}"}
    result["krita_seconds"] = round(elapsed, 1)
    result["left_behind"] = left_behind
    result["log"] = str(log_path)
    return result


def _group_members(pgid: int) -> list[str]:
    """Command lines of the live processes still in process group `pgid` (Linux /proc; [] elsewhere)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200])
        except (OSError, IndexError, ValueError):
            continue
    return members


def _kill_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


# ------------------------------------------------------------------------------------------------ the driver

DRIVER_SOURCE = r'''
"""AniSketch test driver: runs the scenario named by ANISKETCH_SCENARIO inside Krita (see tests/krita_harness.py)."""
import importlib.util, json, os, subprocess, sys, time, traceback

from krita import Extension, Krita

try:
    from PyQt5.QtCore import QTimer
    from PyQt5.QtGui import QImage
    from PyQt5.QtWidgets import QApplication, QDockWidget
except ImportError:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtGui import QImage
    from PyQt6.QtWidgets import QApplication, QDockWidget

OUT = os.environ.get("ANISKETCH_OUT", "")
STARTED = time.monotonic()
EXCEPTIONS = []


def log(*parts):
    if OUT:
        with open(os.path.join(OUT, "driver.log"), "a") as f:
            f.write("%7.2f %s\n" % (time.monotonic() - STARTED, " ".join(str(p) for p in parts)))


def excepthook(kind, value, tb):
    text = "".join(traceback.format_exception(kind, value, tb))
    EXCEPTIONS.append(text)
    log("EXCEPTION", text)


sys.excepthook = excepthook


class Until:
    def __init__(self, predicate, timeout, what):
        self.predicate, self.timeout, self.what = predicate, timeout, what


class Test:
    """What a scenario gets: `yield 0.5` waits, `yield t.until(pred, 10, "what")` waits for a condition."""

    def __init__(self):
        self.out = OUT
        self.krita = Krita.instance()
        self.result = {}
        self.log = log

    def until(self, predicate, timeout, what):
        return Until(predicate, timeout, what)

    def activate(self, document, node):
        """Make `node` the active layer, as a click in the Layers docker does: `yield from t.activate(doc, node)`.
        Krita makes a view's shape for a new layer (or for every layer of a newly viewed document) from a queued
        signal; setActiveNode before that signal ran trips KisNodeManager's SAFE ASSERT "shape" and Krita 5.1.5
        then crashes (exit 139), more often the busier the machine. So the image finishes and the event loop
        runs first."""
        document.waitForDone()
        yield 0.2
        document.setActiveNode(node)
        yield 0.1

    def screenshot(self, name):
        QApplication.processEvents()
        path = os.path.join(OUT, name)
        subprocess.run(["import", "-window", "root", path], timeout=30, check=False)
        return path

    def save_layer(self, document, node, name):
        """A layer, or a group as composed (a group has no pixels of its own: pixelData gives 0 bytes, and a
        QImage over them would read freed memory and crash Krita), as a PNG."""
        w, h = document.width(), document.height()
        group = node.type() == "grouplayer"
        data = bytes(node.projectionPixelData(0, 0, w, h) if group else node.pixelData(0, 0, w, h))
        if len(data) != w * h * 4:
            raise AssertionError("%s: %d bytes, not %dx%d B,G,R,A" % (node.name(), len(data), w, h))
        image = QImage(data, w, h, w * 4, QImage.Format.Format_ARGB32).copy()
        path = os.path.join(OUT, name)
        image.save(path)
        return path

    def load_png(self, path):
        """A PNG as B,G,R,A bytes (QImage's ARGB32 is B,G,R,A in memory on little-endian machines)."""
        image = QImage(path).convertToFormat(QImage.Format.Format_ARGB32)
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        return bytes(bits), image.width(), image.height()


class Runner:
    def __init__(self):
        self.test = Test()
        self.steps = None
        self.finished = False

    def start(self):
        log("window created")
        window = Krita.instance().activeWindow()
        if window is not None:
            window.qwindow().setGeometry(0, 0, 1600, 1000)
        for dock in Krita.instance().dockers():
            if dock.objectName() == "anisketch_docker":
                dock.setVisible(True)
                dock.raise_()
        QTimer.singleShot(int(float(os.environ.get("ANISKETCH_DRIVER_TIMEOUT", "150")) * 1000),
                          lambda: self.finish("watchdog: the scenario took too long"))
        try:
            spec = importlib.util.spec_from_file_location("anisketch_scenario", os.environ["ANISKETCH_SCENARIO"])
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.steps = module.scenario(self.test)
        except Exception:
            self.finish(traceback.format_exc())
            return
        QTimer.singleShot(0, self.step)

    def step(self, sent=None):
        if self.finished:
            return
        try:
            wait = self.steps.send(sent) if sent is not None else next(self.steps)
        except StopIteration:
            self.finish(None)
            return
        except Exception:
            self.finish(traceback.format_exc())
            return
        self.log_where()
        if isinstance(wait, Until):
            self.wait_until(wait, time.monotonic())
        else:
            QTimer.singleShot(int(float(wait or 0) * 1000), self.step)

    def log_where(self):
        """The scenario line each step stopped at (once per new line): if Krita crashes, driver.log ends where."""
        frame, where = self.steps, []
        while frame is not None and getattr(frame, "gi_frame", None) is not None:
            where.append("%s:%d" % (frame.gi_code.co_name, frame.gi_frame.f_lineno))
            frame = frame.gi_yieldfrom
        where = " > ".join(where)
        if where != getattr(self, "_where", None):
            self._where = where
            log("at", where)

    def wait_until(self, until, since):
        if self.finished:
            return
        try:
            done = until.predicate()
        except Exception:
            self.finish(traceback.format_exc())
            return
        if done:
            QTimer.singleShot(0, lambda: self.step(True))
        elif time.monotonic() - since > until.timeout:
            self.finish("timed out after %.0f s waiting for: %s" % (until.timeout, until.what))
        else:
            QTimer.singleShot(50, lambda: self.wait_until(until, since))

    def finish(self, error):
        if self.finished:
            return
        self.finished = True
        log("finish", error or "ok")
        result = {"ok": error is None and not EXCEPTIONS, "error": error, "exceptions": EXCEPTIONS,
                  "result": self.test.result, "seconds": round(time.monotonic() - STARTED, 2)}
        if OUT:
            with open(os.path.join(OUT, "result.json"), "w") as f:
                json.dump(result, f, indent=2, default=str)
        for document in Krita.instance().documents():
            document.setModified(False)
        QTimer.singleShot(200, self.quit)

    def quit(self):
        action = Krita.instance().action("file_quit")
        if action is not None:
            action.trigger()
        QTimer.singleShot(5000, lambda: os._exit(0))  # a dialog we did not foresee must not keep Krita alive


class Driver(Extension):
    def __init__(self, parent):
        super().__init__(parent)
        self.runner = Runner()

    def setup(self):
        Krita.instance().notifier().windowCreated.connect(lambda: QTimer.singleShot(300, self.runner.start))

    def createActions(self, window):
        pass


if os.environ.get("ANISKETCH_SCENARIO"):
    Krita.instance().addExtension(Driver(Krita.instance()))
'''


if __name__ == "__main__":  # python tests/krita_harness.py SCENARIO.py OUT_DIR: run one scenario, print its result
    import argparse

    parser = argparse.ArgumentParser(description="Run one scenario inside the real Krita under Xvfb.")
    parser.add_argument("scenario", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--setting", action="append", default=["start_backend=false"], metavar="KEY=VALUE",
                        help="a plugin setting for kritarc's [anisketch] section (default: start_backend=false)")
    args = parser.parse_args()
    plugin_settings = dict(item.split("=", 1) for item in args.setting)
    print(json.dumps(run_scenario(args.scenario.resolve(), args.out.resolve(), timeout=args.timeout,
                                  settings=plugin_settings), indent=2))
