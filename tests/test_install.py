"""install.py in a sandbox: the real plugin install, kritarc edit and uninstall, on a fake HOME.

The plugin installed here is a small fake tree (hidden --plugin-src / --protocol-src options), so these
tests check install.py itself whatever state the real plugin is in. The real plugin, installed the same way,
is exercised by the end-to-end tests in real Krita.

Why one file of this size: its tests share one sandbox (a fake HOME, Krita profile and kritarc) and its
fixtures.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_PY = REPO_ROOT / "install.py"
PLUGIN = "anisketch_krita"
OUR_LINE = f"enable_{PLUGIN}=true"
PIP_TRACES = (".cache", ".rustup", ".cargo")

KRITARC_VARIANTS = {
    "python_section": b"[General]\nfoo=1\ncaf\xe9=latin-1 bytes stay as they are\n\n"
    b"[python]\nenable_other_plugin=true\n\n[Zed]\nx=2\n",
    "no_python_section": b"[General]\nfoo=1\nwith spaces=a b;c\n\n[MainWindow]\nState=@ByteArray(\\0\\0\\xff)\n",
    "crlf": b"[General]\r\nfoo=1\r\n\r\n[python]\r\nenable_other_plugin=true\r\n\r\n[Zed]\r\nx=2\r\n",
    "python_last_no_final_newline": b"[General]\nfoo=1\n\n[python]\nenable_other_plugin=true",
    "disabled_by_user": b"[python]\nenable_anisketch_krita=false\nenable_other_plugin=true\n",
    "empty": b"",
    "absent": None,
}


# --------------------------------------------------------------------------- the sandbox


class Sandbox:
    """A fake HOME holding a Krita profile that already has some of the user's things in it."""

    def __init__(self, root: Path, kritarc: bytes | None, krita_dir_exists: bool = True):
        self.root = root
        self.home = root / "home"
        self.krita_dir = self.home / ".local" / "share" / "krita"
        self.kritarc = self.home / ".config" / "kritarc"
        self.src = root / "src"
        self.protocol = root / "protocol.py"
        self.home.mkdir(parents=True)
        if krita_dir_exists:
            other = self.krita_dir / "pykrita" / "other_plugin"
            other.mkdir(parents=True)
            (other / "__init__.py").write_text("# someone else's plugin\n")
            (self.krita_dir / "pykrita" / "other_plugin.desktop").write_text("[Desktop Entry]\n")
            (self.krita_dir / "actions").mkdir()
            (self.krita_dir / "actions" / "other.action").write_text("<ActionCollection/>\n")
        if kritarc is not None:
            self.kritarc.parent.mkdir(parents=True)
            self.kritarc.write_bytes(kritarc)
        self.write_fake_plugin()

    def write_fake_plugin(self) -> None:
        package = self.src / PLUGIN
        (package / "widgets" / "__pycache__").mkdir(parents=True)
        (package / "__init__.py").write_text("from .docker import *  # noqa\n")
        (package / "docker.py").write_text("DOCKER = 'AniSketch'\n")
        (package / "widgets" / "pins.py").write_text("PINS = ()\n")
        (package / "widgets" / "__pycache__" / "pins.cpython-311.pyc").write_bytes(b"\0stale")
        (self.src / f"{PLUGIN}.desktop").write_text(
            f"[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library={PLUGIN}\n"
        )
        (self.src / f"{PLUGIN}.action").write_text("<ActionCollection version='2' name='Scripts'/>\n")
        self.protocol.write_text("PROTOCOL_VERSION = 1\n")

    def install_py(self, *args: str, krita_python: str = sys.executable, check: bool = True):
        """Run install.py on this sandbox's profile; krita_python defaults to one that has pyzmq."""
        command = [
            sys.executable, str(INSTALL_PY), *args,
            "--krita-dir", str(self.krita_dir), "--kritarc", str(self.kritarc),
            "--krita-python", krita_python,
            "--plugin-src", str(self.src), "--protocol-src", str(self.protocol),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        env["HOME"] = str(self.home)
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def install(self, **kwargs):
        return self.install_py("--plugin-only", **kwargs)

    def uninstall(self):
        return self.install_py("--uninstall")

    def snapshot(self, ignore: tuple[str, ...] = ()) -> dict[str, str]:
        """Every file (sha256) and folder of the fake HOME, but for the top-level names in `ignore`."""
        state = {}
        for path in sorted(self.home.rglob("*")):
            key = str(path.relative_to(self.home))
            if key.split(os.sep)[0] in ignore:
                continue
            state[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        return state


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path, KRITARC_VARIANTS["python_section"])


def text_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").splitlines()


# --------------------------------------------------------------------------- plugin files


def test_plugin_files_land_where_krita_looks(sandbox):
    sandbox.install()
    pykrita = sandbox.krita_dir / "pykrita"
    installed = pykrita / PLUGIN
    assert (installed / "__init__.py").read_text() == "from .docker import *  # noqa\n"
    assert (installed / "widgets" / "pins.py").is_file()
    assert not list(installed.rglob("__pycache__")), "caches are not copied"
    assert (installed / "protocol.py").read_text() == "PROTOCOL_VERSION = 1\n"
    assert (pykrita / f"{PLUGIN}.desktop").read_bytes() == (sandbox.src / f"{PLUGIN}.desktop").read_bytes()
    assert (sandbox.krita_dir / "actions" / f"{PLUGIN}.action").is_file()
    backend = json.loads((installed / "backend.json").read_text())
    assert backend["endpoint"] == "tcp://127.0.0.1:5557"
    expected = REPO_ROOT / ".venv" / ("Scripts/anisketch.exe" if os.name == "nt" else "bin/anisketch")
    assert Path(backend["anisketch"]) == expected
    # The user's other plugin is untouched.
    assert (pykrita / "other_plugin" / "__init__.py").read_text() == "# someone else's plugin\n"


def test_the_real_plugin_installs_and_uninstalls_cleanly(sandbox):
    """The checkout's own plugin/ (the default source), with its .desktop naming the installed package."""
    before = sandbox.snapshot()
    command = [
        sys.executable, str(INSTALL_PY), "--plugin-only",
        "--krita-dir", str(sandbox.krita_dir), "--kritarc", str(sandbox.kritarc), "--krita-python", sys.executable,
    ]
    env = {**os.environ, "HOME": str(sandbox.home)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    pykrita = sandbox.krita_dir / "pykrita"
    desktop = (pykrita / f"{PLUGIN}.desktop").read_text()
    assert f"X-KDE-Library={PLUGIN}" in desktop.splitlines()
    assert "ServiceTypes=Krita/PythonPlugin" in desktop.splitlines()
    assert (pykrita / PLUGIN / "__init__.py").is_file()
    protocol = REPO_ROOT / "backend" / "anisketch" / "protocol.py"
    assert (pykrita / PLUGIN / "protocol.py").read_bytes() == protocol.read_bytes()
    assert (sandbox.krita_dir / "actions" / f"{PLUGIN}.action").is_file()
    subprocess.run([*command, "--uninstall"], check=True, capture_output=True, env=env, timeout=120)
    assert sandbox.snapshot() == before


def test_reinstall_updates_files_and_drops_stale_ones(sandbox):
    sandbox.install()
    installed = sandbox.krita_dir / "pykrita" / PLUGIN
    (installed / "__pycache__").mkdir()  # Krita compiled the plugin meanwhile
    (installed / "vendor" / "py311" / "zmq").mkdir(parents=True)  # vendored pyzmq survives updates
    (sandbox.src / PLUGIN / "docker.py").write_text("DOCKER = 'AniSketch 2'\n")
    (sandbox.src / PLUGIN / "widgets" / "pins.py").unlink()
    sandbox.install()
    assert (installed / "docker.py").read_text() == "DOCKER = 'AniSketch 2'\n"
    assert not (installed / "widgets" / "pins.py").exists()
    assert not (installed / "__pycache__").exists()
    assert (installed / "vendor" / "py311" / "zmq").is_dir()


# --------------------------------------------------------------------------- kritarc


@pytest.mark.parametrize("variant", [name for name, data in KRITARC_VARIANTS.items() if data])
def test_kritarc_gains_only_our_line(tmp_path, variant):
    before = KRITARC_VARIANTS[variant]
    box = Sandbox(tmp_path, before)
    box.install()
    after = box.kritarc.read_bytes()
    changes = [
        (tag, text_lines(before)[i1:i2], text_lines(after)[j1:j2])
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=text_lines(before), b=text_lines(after)).get_opcodes()
        if tag != "equal"
    ]
    if variant == "disabled_by_user":
        assert changes == [("replace", ["enable_anisketch_krita=false"], [OUR_LINE])]
    elif b"[python]" in before:
        assert changes == [("insert", [], [OUR_LINE])]
    else:  # a new [python] section at the end, after a blank line
        assert len(changes) == 1 and changes[0][0] == "insert"
        assert [line for line in changes[0][2] if line] == ["[python]", OUR_LINE]
        assert after.startswith(before)
    assert ("\r\n" in after.decode("utf-8", "surrogateescape")) == (variant == "crlf")
    # Our line sits inside the [python] section.
    lines = text_lines(after)
    section = lines.index("[python]")
    assert OUR_LINE in lines[section + 1:]
    assert not any(line.startswith("[") for line in lines[section + 1 : lines.index(OUR_LINE)])


def test_kritarc_created_when_absent(tmp_path):
    box = Sandbox(tmp_path, None)
    box.install()
    assert box.kritarc.read_text() == f"[python]\n{OUR_LINE}\n"


def test_enabled_already_means_no_edit(tmp_path):
    before = b"[python]\nenable_anisketch_krita=true\n[General]\nx=1\n"
    box = Sandbox(tmp_path, before)
    box.install()
    assert box.kritarc.read_bytes() == before
    box.uninstall()
    assert box.kritarc.read_bytes() == before, "a line the user wrote is not ours to remove"


# --------------------------------------------------------------------------- idempotence and uninstall


def test_install_twice_is_harmless(sandbox):
    sandbox.install()
    once = sandbox.snapshot()
    second = sandbox.install()
    assert sandbox.snapshot() == once
    assert sandbox.kritarc.read_bytes().count(OUR_LINE.encode()) == 1
    assert "already enabled" in second.stdout


@pytest.mark.parametrize("variant", list(KRITARC_VARIANTS))
def test_uninstall_restores_profile_byte_for_byte(tmp_path, variant):
    box = Sandbox(tmp_path, KRITARC_VARIANTS[variant])
    before = box.snapshot()
    box.install()
    box.install()
    assert box.snapshot() != before
    box.uninstall()
    assert box.snapshot() == before
    assert box.kritarc.exists() == (KRITARC_VARIANTS[variant] is not None)


def test_uninstall_on_a_fresh_home_removes_every_folder_it_made(tmp_path):
    box = Sandbox(tmp_path, None, krita_dir_exists=False)
    assert box.snapshot() == {}
    box.install()
    assert (box.krita_dir / "pykrita" / PLUGIN).is_dir()
    box.uninstall()
    assert box.snapshot() == {}


def test_uninstall_keeps_what_arrived_after_install(tmp_path):
    """Krita rewrites kritarc on exit and the user installs more plugins: only our things go."""
    box = Sandbox(tmp_path, None, krita_dir_exists=False)
    box.install()
    rewritten = box.kritarc.read_text().replace("[python]\n", "[General]\nLastPreset=ink\n\n[python]\n")
    box.kritarc.write_text(rewritten.replace(OUR_LINE, f"enable_other_plugin=true\n{OUR_LINE}"))
    (box.krita_dir / "pykrita" / "later_plugin").mkdir()
    box.uninstall()
    assert box.kritarc.read_text() == "[General]\nLastPreset=ink\n\n[python]\nenable_other_plugin=true\n"
    assert (box.krita_dir / "pykrita" / "later_plugin").is_dir()
    assert not (box.krita_dir / "pykrita" / PLUGIN).exists()
    assert not (box.krita_dir / "actions").exists()


def test_uninstall_when_not_installed_changes_nothing(sandbox):
    before = sandbox.snapshot()
    done = sandbox.uninstall()
    assert "not installed" in done.stdout
    assert sandbox.snapshot() == before


# --------------------------------------------------------------------------- pyzmq for Krita's Python


@pytest.mark.slow
def test_vendors_pyzmq_for_a_krita_python_without_it(tmp_path):
    """A Python without zmq (and without pip) gets a pyzmq wheel for its version in vendor/pyXY."""
    bare = tmp_path / "bare-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    bare_python = str(bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    assert subprocess.run([bare_python, "-c", "import zmq"], capture_output=True).returncode != 0

    box = Sandbox(tmp_path / "box", KRITARC_VARIANTS["python_section"])
    before = box.snapshot()
    done = box.install(krita_python=bare_python)
    vendor = box.krita_dir / "pykrita" / PLUGIN / "vendor" / f"py{sys.version_info.major}{sys.version_info.minor}"
    assert "vendored pyzmq" in done.stdout
    probe = f"import sys; sys.path.insert(0, {str(vendor)!r}); import zmq; print(zmq.zmq_version())"
    assert subprocess.run([bare_python, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()

    started = time.monotonic()
    again = box.install(krita_python=bare_python)
    assert "already vendored" in again.stdout and time.monotonic() - started < 10
    box.uninstall()
    # pip itself leaves traces in HOME (its cache; rustup's settings when it asks rustc for its user agent).
    assert box.snapshot(ignore=PIP_TRACES) == before


def test_krita_python_with_zmq_needs_nothing(sandbox):
    done = sandbox.install()
    assert "already has pyzmq" in done.stdout
    assert not (sandbox.krita_dir / "pykrita" / PLUGIN / "vendor").exists()


# --------------------------------------------------------------------------- errors and help


def test_unwritable_krita_dir_is_a_clear_error(tmp_path):
    box = Sandbox(tmp_path, None, krita_dir_exists=False)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")  # fails even for root, unlike chmod
    box.krita_dir = blocker / "krita"
    done = box.install(check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "--krita-dir" in done.stderr


def test_missing_plugin_source_is_a_clear_error(sandbox):
    sandbox.src = sandbox.root / "nowhere"
    before = sandbox.snapshot()
    done = sandbox.install(check=False)
    assert done.returncode == 1 and "missing" in done.stderr
    assert sandbox.snapshot() == before


def test_help_explains_every_mode():
    done = subprocess.run([sys.executable, str(INSTALL_PY), "--help"], capture_output=True, text=True, check=True)
    for option in ("--setup-only", "--test", "--uninstall", "--krita-dir", "--kritarc", "--krita-python"):
        assert option in done.stdout


# --------------------------------------------------------------------------- the .venv step, serving, --test
#
# These load install.py as a module and point it at a fake .venv whose python and anisketch are shell scripts
# that log how they were called: the logic is real, pip and the server are stand-ins.


def import_install_py(monkeypatch):
    """A fresh copy of install.py as a module (registered, as dataclasses need, until the test ends)."""
    spec = importlib.util.spec_from_file_location("anisketch_install", INSTALL_PY)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def load_install_module(monkeypatch, tmp_path, fail_on: str = ""):
    """install.py pointed at a fake checkout and .venv; the fake python fails calls whose arguments hold fail_on."""
    module = import_install_py(monkeypatch)
    root = tmp_path / "checkout"
    (root / "backend").mkdir(parents=True)
    (root / "backend" / "pyproject.toml").write_text("[project]\nname = 'anisketch'\n")
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    failing = f'case "$*" in *"{fail_on}"*) exit 1;; esac\n' if fail_on else ""
    for name in ("python", "anisketch"):
        script = venv / "bin" / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n{failing if name == "python" else ""}exit 0\n')
        script.chmod(0o755)
    monkeypatch.setattr(module, "ROOT", root)
    monkeypatch.setattr(module, "VENV", venv)
    return module, log


def pip_calls(log: Path, kind: str) -> list[str]:
    """The logged `pip install -e ...` (kind "-e"), `pip install --no-deps ...` or `--target ...` calls."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if f" -m pip install {kind} " in line]


@pytest.mark.skipif(os.name == "nt", reason="the fake venv is made of shell scripts")
def test_venv_step_runs_pip_only_when_needed(monkeypatch, tmp_path, capsys):
    install, log = load_install_module(monkeypatch, tmp_path)
    install.setup_venv(extras=[])
    assert pip_calls(log, "-e") == [f"python -m pip install -e {install.ROOT / 'backend'}"]
    assert pip_calls(log, "--no-deps") == ["python -m pip install --no-deps " + " ".join(install.WITHOUT_DEPS)]
    install.setup_venv(extras=[])
    assert len(pip_calls(log, "-e")) == 1 and len(pip_calls(log, "--no-deps")) == 1, "nothing changed: no pip"
    assert "skipping pip" in capsys.readouterr().out
    install.setup_venv(extras=["test"])
    assert pip_calls(log, "-e")[-1].endswith("backend[test]"), "new extras need pip"
    install.setup_venv(extras=[])
    assert len(pip_calls(log, "-e")) == 2, "an install with more extras satisfies one with fewer"
    (install.ROOT / "backend" / "pyproject.toml").write_text("[project]\nname = 'anisketch'\nversion = '2'\n")
    install.setup_venv(extras=[])
    assert len(pip_calls(log, "-e")) == 3, "a changed pyproject.toml means pip again"


@pytest.mark.skipif(os.name == "nt", reason="the fake venv is made of shell scripts")
def test_pip_failure_is_a_clear_error(monkeypatch, tmp_path):
    install, log = load_install_module(monkeypatch, tmp_path, fail_on="install -e")
    with pytest.raises(install.InstallError, match="pip could not install the backend"):
        install.setup_venv(extras=[])
    assert not (install.VENV / install.VENV_STAMP).exists()


@pytest.mark.skipif(os.name == "nt", reason="the fake venv is made of shell scripts")
def test_mediapipe_failure_warns_and_is_retried_alone(monkeypatch, tmp_path, capsys):
    install, log = load_install_module(monkeypatch, tmp_path, fail_on="--no-deps")
    install.setup_venv(extras=[])  # no exception: photo to anime falls back to OpenCV
    assert "warning: MediaPipe did not install" in capsys.readouterr().out
    install.setup_venv(extras=[])
    assert len(pip_calls(log, "-e")) == 1, "the backend itself is not reinstalled"
    assert len(pip_calls(log, "--no-deps")) == 2, "the failed step is tried again"


@pytest.mark.skipif(os.name == "nt", reason="the fake venv is made of shell scripts")
def test_test_mode_passes_arguments_and_exit_code(monkeypatch, tmp_path):
    install, log = load_install_module(monkeypatch, tmp_path)
    (install.VENV / "bin" / "python").write_text(f'#!/bin/sh\necho "python $*" >> "{log}"\nexit 3\n')
    (install.VENV / install.VENV_STAMP).write_text(json.dumps({
        "pyproject_sha256": install.file_sha256(install.ROOT / "backend" / "pyproject.toml"),
        "root": str(install.ROOT), "extras": ["test"], "without_deps": install.WITHOUT_DEPS,
    }))
    (install.VENV / install.FACE_DETECTOR[0] / "animeface").mkdir(parents=True)  # installed by an earlier run
    assert install.main(["--test", "--", "-m", "not e2e", "-x"]) == 3
    assert log.read_text().splitlines() == ["python -m pytest -m not e2e -x"]


@pytest.mark.skipif(os.name == "nt", reason="the fake venv is made of shell scripts")
def test_test_mode_installs_the_face_detector_into_a_folder_of_its_own(monkeypatch, tmp_path):
    """The renders' judge needs Pillow 10 beside our newer one: pip --target into .venv/anime-face-detector."""
    install, log = load_install_module(monkeypatch, tmp_path)
    folder, packages = install.FACE_DETECTOR
    install.setup_face_detector()
    assert pip_calls(log, "--target") == [f"python -m pip install --target {install.VENV / folder} " + " ".join(packages)]
    (install.VENV / folder / "animeface").mkdir(parents=True)  # what pip put there
    install.setup_face_detector()
    assert len(pip_calls(log, "--target")) == 1, "installed once"
    assert "animeface==2.0.3" in packages and "pillow>=10,<11" in packages
    # the detector's runner looks for what install.py put there (install.py runs before any venv: its own list)
    from anisketch.eval import anime_faces

    assert (folder, packages) == (anime_faces.DETECTOR_DIR.name, anime_faces.PACKAGES)


@pytest.mark.skipif(os.name == "nt", reason="signals and shell scripts")
@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c-to-group", "sigint-to-installer-alone"])
def test_ctrl_c_stops_the_backend_cleanly(tmp_path, to_group):
    """No flags ends in serving; Ctrl-C (SIGINT to the foreground group) exits 0 without a traceback, and a
    SIGINT sent to the installer alone is passed on to the backend."""
    ready = tmp_path / "ready"
    server = tmp_path / "anisketch"
    server.write_text(f"#!/bin/sh\ntrap 'echo server stopped; exit 130' INT\ntouch {ready}\n"
                      "while true; do sleep 0.1; done\n")
    server.chmod(0o755)
    driver = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("anisketch_install", {str(INSTALL_PY)!r})
        install = sys.modules["anisketch_install"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(install)
        install.venv_executable = lambda name: {str(server)!r}
        sys.exit(install.serve("tcp://127.0.0.1:5557"))
    """)
    process = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, out + err
    assert "Traceback" not in err and "server stopped" in out and "Backend stopped" in out


# --------------------------------------------------------------------------- where Krita's profile is


@pytest.fixture
def locate(monkeypatch, tmp_path):
    """find_profile() for a fake HOME, platform and environment; returns (module, home)."""
    module = import_install_py(monkeypatch)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(module.shutil, "which", lambda name: "/usr/bin/krita" if name == "krita" else None)

    def find(*argv: str, platform: str = "linux"):
        monkeypatch.setattr(module.sys, "platform", platform)
        profile = module.find_profile(module.parse_args(list(argv))[0])
        return profile

    yield find, module, home


def test_linux_profile(locate):
    find, _, home = locate
    profile = find()
    assert profile.pykrita == home / ".local/share/krita/pykrita"
    assert profile.kritarc == home / ".config/kritarc"
    assert profile.python == ["/usr/bin/python3"]


def test_linux_profile_respects_xdg(locate, monkeypatch, tmp_path):
    find, _, _ = locate
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    profile = find()
    assert profile.data_dir == tmp_path / "data" / "krita"
    assert profile.kritarc == tmp_path / "config" / "kritarc"


def test_flatpak_profile_when_only_flatpak_krita_is_there(locate, monkeypatch):
    find, module, home = locate
    flatpak = home / ".var/app/org.kde.krita"
    (flatpak / "data" / "krita").mkdir(parents=True)
    assert find().data_dir == home / ".local/share/krita", "a native krita on PATH wins"
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    profile = find()
    assert profile.flatpak
    assert profile.data_dir == flatpak / "data" / "krita"
    assert profile.kritarc == flatpak / "config" / "kritarc"
    assert profile.python[:3] == ["flatpak", "run", "--command=python3"]


def test_macos_profile(locate):
    find, _, home = locate
    profile = find(platform="darwin")
    assert profile.data_dir == home / "Library/Application Support/krita"
    assert profile.kritarc == home / "Library/Preferences/kritarc"


def test_windows_profile(locate, monkeypatch, tmp_path):
    find, _, _ = locate
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    profile = find(platform="win32")
    assert profile.data_dir == tmp_path / "Roaming" / "krita"
    assert profile.kritarc == tmp_path / "Local" / "kritarc"


def test_overrides_win(locate, tmp_path):
    find, _, _ = locate
    profile = find("--krita-dir", str(tmp_path / "k"), "--kritarc", str(tmp_path / "rc"), "--krita-python", "/opt/py")
    assert (profile.data_dir, profile.kritarc, profile.python) == (tmp_path / "k", tmp_path / "rc", ["/opt/py"])


# --------------------------------------------------------------------------- the real thing: set up, serve, Ctrl-C


def free_tcp_endpoint() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.skipif(os.name == "nt", reason="process groups and SIGINT")
def test_no_flags_sets_up_then_serves_until_ctrl_c(tmp_path):
    """`python3 install.py` as a user runs it: setup (pip skipped: --test did it), the real backend, Ctrl-C."""
    from conftest import require

    from anisketch.server.client import Client, ServerError, ServerTimeout

    stamp = REPO_ROOT / ".venv" / "anisketch-install.json"
    require(stamp.exists(), "the checkout's .venv was not set up by install.py (run python3 install.py --setup-only)")
    box = Sandbox(tmp_path, KRITARC_VARIANTS["python_section"])
    endpoint = free_tcp_endpoint()
    command = [
        sys.executable, str(INSTALL_PY), "--endpoint", endpoint,
        "--krita-dir", str(box.krita_dir), "--kritarc", str(box.kritarc), "--krita-python", sys.executable,
        "--plugin-src", str(box.src), "--protocol-src", str(box.protocol),
    ]
    log = tmp_path / "install.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "HOME": str(box.home)})
    try:
        answered, deadline = False, time.monotonic() + 90
        while not answered and time.monotonic() < deadline and process.poll() is None:
            with Client(endpoint, timeout=2) as client:
                try:
                    client.info()
                    answered = True
                except ServerError:  # an error reply is an answer too: the backend is serving
                    answered = True
                except ServerTimeout:
                    pass
        assert answered, f"no answer on {endpoint}:\n{log.read_text()}"
        backend = json.loads((box.krita_dir / "pykrita" / PLUGIN / "backend.json").read_text())
        assert backend["endpoint"] == endpoint
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    assert "skipping pip" in output and "Backend stopped" in output
    assert "Traceback" not in output, output
