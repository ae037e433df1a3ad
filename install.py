#!/usr/bin/env python3
"""Set up AniSketch: the backend in .venv, the plugin in Krita, then serve.

    python3 install.py                 set up, then run the backend until Ctrl-C
    python3 install.py --setup-only    set up and exit
    python3 install.py --test          set up with test extras and run the whole test suite
    python3 install.py --uninstall     remove the plugin from Krita, exactly as it was added

Standard library only: this file runs before anything else is installed.
Every change made to a Krita profile is written to an install record beside the plugin,
so that --uninstall takes away exactly that and nothing else.

Why one file of this size: it runs with a bare system Python before anything is installed, so it cannot
import helpers from the package it installs.
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 10):
    sys.exit(f"AniSketch needs Python 3.10 or newer; this is {sys.version.split()[0]}.")

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PLUGIN_NAME = "anisketch_krita"
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5557"
FLATPAK_APP = "org.kde.krita"
RECORD_NAME = f"{PLUGIN_NAME}.install.json"
VENV_STAMP = "anisketch-install.json"
KRITARC_SECTION = "[python]"
KRITARC_KEY = f"enable_{PLUGIN_NAME}"
# Installed with `pip install --no-deps`, as pyproject.toml cannot say: mediapipe 0.10.21's metadata asks for
# numpy<2, opencv-contrib-python and jax, which would break our numpy and cv2; its face mesh needs only these
# (docs/photo.md explains).
WITHOUT_DEPS = ["mediapipe==0.10.21", "absl-py", "attrs", "flatbuffers", "protobuf>=4.25.3,<5"]
# The tests' independent judge of a colour render (backend/anisketch/eval/anime_faces.py): an anime-face detector
# trained on real illustrations, whose compiled extension needs Pillow 10 or older, so it goes into a folder of its
# own inside .venv (pip --target) and runs in a process of its own; the backend keeps its own Pillow.
FACE_DETECTOR = ("anime-face-detector", ["animeface==2.0.3", "pillow>=10,<11"])


class InstallError(Exception):
    """An expected failure: the message tells the user what went wrong and what to do."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def note(message: str) -> None:
    print(f"    {message}", flush=True)


# --------------------------------------------------------------------------- the backend's .venv


def venv_executable(name: str) -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"
    return VENV / "bin" / name


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def setup_venv(extras: list[str]) -> None:
    """Create .venv and install the backend into it, skipping what a previous run already did."""
    pyproject = ROOT / "backend" / "pyproject.toml"
    if not pyproject.is_file():
        raise InstallError(f"{pyproject} is missing: run install.py from a complete AniSketch checkout.")
    stamp_path = VENV / VENV_STAMP
    stamp = read_json(stamp_path) or {}
    wanted = {"pyproject_sha256": file_sha256(pyproject), "root": str(ROOT)}
    backend_done = (
        all(stamp.get(key) == value for key, value in wanted.items())
        and set(extras) <= set(stamp.get("extras", []))
        and venv_executable("anisketch").exists()
    )
    without_deps_done = backend_done and stamp.get("without_deps") == WITHOUT_DEPS
    if backend_done and without_deps_done:
        say(f"Backend already installed in {VENV} (pyproject.toml unchanged): skipping pip.")
        return

    python = ensure_venv()
    if not backend_done:
        target = str(ROOT / "backend") + (f"[{','.join(extras)}]" if extras else "")
        say(f"Installing the backend into {VENV} (pip install -e {target}); the first time takes a few minutes.")
        started = time.monotonic()
        # pip prints its own progress; no index options here, so pip's configuration (local wheels) applies.
        if subprocess.call([str(python), "-m", "pip", "install", "-e", target]) != 0:
            raise InstallError("pip could not install the backend (see its messages above).")
        note(f"backend installed in {time.monotonic() - started:.0f} s")
        stamp = {**wanted, "extras": sorted(extras)}
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")

    say("Installing MediaPipe's face mesh for photo to anime, without its declared dependencies (docs/photo.md)")
    command = [str(python), "-m", "pip", "install", "--no-deps", *WITHOUT_DEPS]
    if subprocess.call(command) == 0:
        stamp["without_deps"] = WITHOUT_DEPS
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    else:  # not fatal: photo to anime falls back to OpenCV's face finder; the next run tries again
        note("warning: MediaPipe did not install (no wheel for this Python?); photo to anime will use OpenCV's "
             "simpler face finder.")


def setup_face_detector() -> None:
    """The anime-face detector the tests judge colour renders with (FACE_DETECTOR), once."""
    folder, packages = FACE_DETECTOR
    target = VENV / folder
    if (target / "animeface").is_dir():
        return
    say(f"Installing the anime-face detector the tests judge renders with into {target}")
    command = [str(venv_executable("python")), "-m", "pip", "install", "--target", str(target), *packages]
    if subprocess.call(command) != 0:
        raise InstallError(f"pip could not install {' '.join(packages)} (see its messages above).")


def ensure_venv() -> Path:
    """The venv's python, creating .venv first if needed."""
    if not venv_executable("python").exists():
        create_venv()
    python = venv_executable("python")
    if run_quiet([str(python), "-m", "pip", "--version"]) != 0:
        raise InstallError(
            f"{VENV} has no working pip. Delete that folder and run install.py again"
            " (on Debian/Ubuntu first: sudo apt install python3-venv)."
        )
    return python


def create_venv() -> None:
    say(f"Creating {VENV} with {sys.executable} (Python {sys.version.split()[0]})")
    try:
        import venv  # noqa: F401  (missing on some distributions' minimal Pythons)
    except ImportError:
        raise InstallError("This Python has no venv module. On Debian/Ubuntu: sudo apt install python3-venv")
    if subprocess.call([sys.executable, "-m", "venv", str(VENV)]) != 0:
        shutil.rmtree(VENV, ignore_errors=True)  # a half-made venv would fool the next run
        raise InstallError(
            "Could not create the virtual environment (ensurepip missing?)."
            " On Debian/Ubuntu: sudo apt install python3-venv, then run install.py again."
        )


def run_quiet(command: list[str], **kwargs) -> int:
    try:
        return subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    except OSError:
        return 127


# --------------------------------------------------------------------------- where Krita keeps things


@dataclass
class KritaProfile:
    """The folders and files of one Krita installation that the plugin touches."""

    data_dir: Path  # holds pykrita/ and actions/
    kritarc: Path
    python: list[str] | None  # the command that runs Krita's embedded Python, when it can be run at all
    flatpak: bool = False

    @property
    def pykrita(self) -> Path:
        return self.data_dir / "pykrita"

    @property
    def plugin_dir(self) -> Path:
        return self.pykrita / PLUGIN_NAME

    @property
    def record_path(self) -> Path:
        return self.pykrita / RECORD_NAME


def find_profile(args: argparse.Namespace) -> KritaProfile:
    home = Path.home()
    flatpak_root = home / ".var" / "app" / FLATPAK_APP
    flatpak = False
    if sys.platform == "win32":
        data_dir = Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "krita"
        kritarc = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "kritarc"
        python = None  # Krita for Windows bundles a Python that cannot be run on its own
    elif sys.platform == "darwin":
        data_dir = home / "Library" / "Application Support" / "krita"
        kritarc = home / "Library" / "Preferences" / "kritarc"
        python = None  # likewise inside krita.app
    elif (flatpak_root / "data" / "krita").is_dir() and not shutil.which("krita"):
        flatpak = True
        data_dir = flatpak_root / "data" / "krita"
        kritarc = flatpak_root / "config" / "kritarc"
        python = ["flatpak", "run", "--command=python3", FLATPAK_APP]
    else:
        data_dir = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "krita"
        kritarc = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "kritarc"
        python = ["/usr/bin/python3"]  # distribution Krita embeds the system Python
    if args.krita_dir:
        data_dir = Path(args.krita_dir).expanduser().resolve()
    if args.kritarc:
        kritarc = Path(args.kritarc).expanduser().resolve()
    if args.krita_python:
        python = [args.krita_python]
    return KritaProfile(data_dir, kritarc, python, flatpak)


# --------------------------------------------------------------------------- the install record


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def make_dirs(path: Path, record: dict) -> None:
    """mkdir -p that remembers which folders it created, so uninstall can remove them again."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir()
        if str(folder) not in record["created_dirs"]:
            record["created_dirs"].append(str(folder))


# --------------------------------------------------------------------------- kritarc, edited as text
#
# Krita's kritarc is a Qt INI file; configparser would reorder, re-case and re-escape it. We change one line
# and remember exactly which characters we inserted where, so that uninstall can put the file back byte for byte.


def read_text(path: Path) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as file:
        return file.read()


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as file:
        file.write(text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def find_section(lines: list[str], header: str) -> tuple[int, int] | None:
    """(index of the header line, index one past the section's last line) or None."""
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    return start, end


def plan_kritarc_edit(text: str) -> dict | None:
    """The smallest edit that enables the plugin: {"at", "old", "new"} over characters, or None if enabled."""
    newline = "\r\n" if "\r\n" in text else "\n"
    wanted = f"{KRITARC_KEY}=true"
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    section = find_section(lines, KRITARC_SECTION)
    if section is None:
        prefix = "" if not text or text.endswith("\n") else newline
        separator = newline if text.strip() else ""
        return {"at": len(text), "old": "", "new": f"{prefix}{separator}{KRITARC_SECTION}{newline}{wanted}{newline}"}

    start, end = section
    for i in range(start + 1, end):
        key, _, value = lines[i].partition("=")
        if key.strip() == KRITARC_KEY:
            if value.strip().lower() == "true":
                return None
            body = lines[i].rstrip("\r\n")
            return {"at": offsets[i], "old": body, "new": wanted}
    # Insert after the section's last non-blank line, keeping the blank line that separates sections.
    last = end - 1
    while last > start and not lines[last].strip():
        last -= 1
    at = offsets[last + 1]
    if not lines[last].endswith("\n"):  # the file ends inside this section without a final newline
        return {"at": at, "old": "", "new": f"{newline}{wanted}"}
    return {"at": at, "old": "", "new": f"{wanted}{newline}"}


def enable_in_kritarc(profile: KritaProfile, record: dict) -> str:
    path = profile.kritarc
    existed = path.exists()
    text = read_text(path) if existed else ""
    edit = plan_kritarc_edit(text)
    if edit is None:
        return f"already enabled in {path}"
    if "kritarc" not in record:  # the first install remembers how the file was before
        record["kritarc"] = {"path": str(path), "existed": existed, "edits": []}
    make_dirs(path.parent, record)
    new_text = text[: edit["at"]] + edit["new"] + text[edit["at"] + len(edit["old"]) :]
    write_text(path, new_text)
    record["kritarc"]["edits"].append({**edit, "sha256_after": text_sha256(new_text)})
    return f"enabled in {path}" if existed else f"created {path} with the plugin enabled"


def restore_kritarc(info: dict) -> str:
    path = Path(info["path"])
    if not path.exists():
        return f"{path} is gone already"
    text = read_text(path)
    for edit in reversed(info["edits"]):
        text = undo_edit(text, edit)
    if not info["existed"] and not text.strip():
        path.unlink()
        return f"removed {path} (install.py had created it)"
    write_text(path, text)
    return f"restored {path}"


def undo_edit(text: str, edit: dict) -> str:
    at, old, new = edit["at"], edit["old"], edit["new"]
    if text_sha256(text) == edit["sha256_after"] and text[at : at + len(new)] == new:
        return text[:at] + old + text[at + len(new) :]  # untouched since: exact inverse
    # Krita (or the user) rewrote the file since; take our line out wherever it is now.
    lines = text.splitlines(keepends=True)
    section = find_section(lines, KRITARC_SECTION)
    if section is None:
        return text
    start, end = section
    for i in range(start + 1, end):
        if lines[i].partition("=")[0].strip() == KRITARC_KEY:
            newline = lines[i][len(lines[i].rstrip("\r\n")) :]
            lines[i] = old + newline if old else ""
            break
    if KRITARC_SECTION in new and not any(line.strip() for line in lines[start + 1 : end]):
        del lines[start:end]  # the section was ours and is empty now
    return "".join(lines)


# --------------------------------------------------------------------------- the plugin files


def copy_plugin(profile: KritaProfile, plugin_src: Path, protocol_src: Path, endpoint: str, record: dict) -> None:
    package_src = plugin_src / PLUGIN_NAME
    desktop_src = plugin_src / f"{PLUGIN_NAME}.desktop"
    action_src = plugin_src / f"{PLUGIN_NAME}.action"
    for required in (package_src, desktop_src, protocol_src):
        if not required.exists():
            raise InstallError(f"{required} is missing: is this a complete AniSketch checkout?")

    make_dirs(profile.pykrita, record)
    sync_tree(package_src, profile.plugin_dir, keep={"vendor"})
    shutil.copy2(protocol_src, profile.plugin_dir / "protocol.py")
    shutil.copy2(desktop_src, profile.pykrita / desktop_src.name)
    if action_src.exists():
        make_dirs(profile.data_dir / "actions", record)
        shutil.copy2(action_src, profile.data_dir / "actions" / action_src.name)
    backend = {"anisketch": str(venv_executable("anisketch")), "endpoint": endpoint}
    (profile.plugin_dir / "backend.json").write_text(json.dumps(backend, indent=2) + "\n")


def sync_tree(src: Path, dst: Path, keep: set[str]) -> None:
    """Make dst a copy of src (without __pycache__), keeping the top-level names in `keep` (vendored pyzmq)."""
    if dst.exists():
        for child in dst.iterdir():
            if child.name not in keep:
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    dst.mkdir(exist_ok=True)
    for child in src.iterdir():
        if child.name == "__pycache__" or child.name in keep:
            continue
        if child.is_dir():
            shutil.copytree(child, dst / child.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(child, dst / child.name)


def plugin_paths(profile: KritaProfile) -> list[Path]:
    """Everything the plugin itself consists of in a profile (folders created for it are recorded apart)."""
    return [
        profile.plugin_dir,
        profile.pykrita / f"{PLUGIN_NAME}.desktop",
        profile.data_dir / "actions" / f"{PLUGIN_NAME}.action",
        profile.record_path,
    ]


# --------------------------------------------------------------------------- pyzmq for Krita's own Python


BUNDLED_KRITA_PYTHON = "3.10"  # what Krita 5 for Windows and macOS bundles inside its own installation


def python_version(python: list[str]) -> str | None:
    try:
        done = subprocess.run(
            [*python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def imports_zmq(python: list[str], extra_path: Path | None = None) -> bool:
    prelude = f"import sys; sys.path.insert(0, {str(extra_path)!r}); " if extra_path else ""
    return run_quiet([*python, "-c", prelude + "import zmq"], cwd=tempfile.gettempdir()) == 0


def provide_pyzmq(profile: KritaProfile) -> str:
    """Make `import zmq` work inside Krita; returns what was done, for the summary."""
    python = profile.python
    if python is None:  # Windows, macOS: the bundled Python cannot be run from outside Krita
        return vendor_pyzmq(profile, None, BUNDLED_KRITA_PYTHON)
    version = python_version(python)
    if version is None:
        return (
            f"could not run Krita's Python ({' '.join(python)}): if the docker says it cannot import zmq,"
            " install python3-zmq (sudo apt install python3-zmq) or run install.py with --krita-python PATH."
        )
    if imports_zmq(python):
        return f"Krita's Python {version} ({' '.join(python)}) already has pyzmq"
    return vendor_pyzmq(profile, python, version)


def vendor_pyzmq(profile: KritaProfile, python: list[str] | None, version: str) -> str:
    """pip install --target the plugin's vendor/pyXY, which the plugin puts on sys.path."""
    target = profile.plugin_dir / "vendor" / f"py{version.replace('.', '')}"
    if (target / "zmq").is_dir() and (python is None or imports_zmq(python, target)):
        return f"pyzmq for Python {version} already vendored in {target}"
    say(f"Installing pyzmq for Krita's Python {version} into {target}")
    if not pip_install_target(python, version, target):
        raise InstallError(
            f"could not install pyzmq for Krita's Python {version} (see pip's messages above)."
            " On Debian/Ubuntu: sudo apt install python3-zmq, then run install.py again."
        )
    if python is not None and not imports_zmq(python, target):
        raise InstallError(f"pyzmq was installed into {target} but Krita's Python cannot import it.")
    return f"vendored pyzmq for Python {version} into {target}"


def pip_install_target(python: list[str] | None, version: str, target: Path) -> bool:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if python is not None and run_quiet([*python, "-m", "pip", "--version"]) == 0:
        command = [*python, "-m", "pip", "install"]  # that Python's own pip picks the right wheel by itself
    else:  # otherwise our pip fetches a wheel built for that Python version
        pip_python = venv_executable("python") if venv_executable("python").exists() else Path(sys.executable)
        command = [str(pip_python), "-m", "pip", "install", "--python-version", version, "--only-binary=:all:"]
        if sys.platform == "darwin":
            command += ["--platform", "macosx_10_15_universal2"]
    command += ["--no-user", "--disable-pip-version-check", "--target", str(target), "pyzmq"]
    ok = subprocess.call(command) == 0 and (target / "zmq").is_dir()
    if not ok:
        shutil.rmtree(target, ignore_errors=True)
    return ok


# --------------------------------------------------------------------------- install / uninstall


def install_plugin(profile: KritaProfile, plugin_src: Path, protocol_src: Path, endpoint: str) -> None:
    say(f"Installing the Krita plugin into {profile.pykrita}")
    record = read_json(profile.record_path) or {"version": 1, "created_dirs": []}
    record["krita_dir"] = str(profile.data_dir)
    try:
        copy_plugin(profile, plugin_src, protocol_src, endpoint, record)
        write_record(profile, record)  # written after each step: a failure later still leaves it right
        note(f"plugin files copied to {profile.plugin_dir}")
        note(f"kritarc: {enable_in_kritarc(profile, record)}")
        write_record(profile, record)
        note(f"pyzmq: {provide_pyzmq(profile)}")
    except OSError as error:  # typically a profile folder we may not write to
        raise InstallError(
            f"{error.strerror}: {error.filename}. Use --krita-dir DIR (and --kritarc PATH)"
            " to install into a Krita profile you can write to."
        ) from None


def write_record(profile: KritaProfile, record: dict) -> None:
    profile.record_path.write_text(json.dumps(record, indent=2) + "\n")


def uninstall(profile: KritaProfile) -> int:
    record = read_json(profile.record_path)
    if record is None:
        say(f"AniSketch is not installed in {profile.pykrita} (no {RECORD_NAME} there): nothing to do.")
        return 0
    say(f"Removing the Krita plugin from {profile.data_dir}")
    if "kritarc" in record:
        note(f"kritarc: {restore_kritarc(record['kritarc'])}")
    for path in plugin_paths(profile):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for folder in sorted(record.get("created_dirs", []), key=len, reverse=True):
        try:
            Path(folder).rmdir()  # only when empty: something else may have moved in since
        except OSError:
            pass
    note("plugin removed; the backend's .venv beside install.py stays (delete that folder to remove it)")
    return 0


# --------------------------------------------------------------------------- running


def serve(endpoint: str) -> int:
    """Run the backend in the foreground until it exits or Ctrl-C stops it (then exit 0).

    Ctrl-C in a terminal reaches the whole foreground group, the backend included; a SIGINT or SIGTERM sent to
    this process alone is passed on (the backend shuts down on either, once or twice). The handler only records
    the signal instead of raising KeyboardInterrupt, so a Ctrl-C at any moment, even while the backend is still
    starting, ends the same clean way; the backend gets STOP_GRACE_S to close before it is killed."""
    command = [str(venv_executable("anisketch")), "serve", "--endpoint", endpoint]
    stop_asked: list[float] = []
    backend: list[subprocess.Popen] = []

    def on_stop_signal(signum, frame) -> None:
        stop_asked.append(time.monotonic())
        if backend and backend[0].poll() is None:
            backend[0].send_signal(signum)

    previous = {sig: signal.signal(sig, on_stop_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        say(f"Starting the backend: {' '.join(command)}  (Ctrl-C stops it)")
        backend.append(subprocess.Popen(command))  # exec resets our handlers to the default in the child
        code = wait_for_backend(backend[0], stop_asked)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop_asked:
        print()
        say("Backend stopped.")
        return 0
    if code != 0:
        print(f"error: the backend exited with code {code} (see its messages above).", file=sys.stderr)
    return code


STOP_GRACE_S = 10.0


def wait_for_backend(process: subprocess.Popen, stop_asked: list[float]) -> int:
    """The backend's exit code; killed when it outlives STOP_GRACE_S after the first stop signal."""
    while True:
        try:
            return process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            if stop_asked and time.monotonic() - stop_asked[0] > STOP_GRACE_S:
                process.kill()
                return process.wait()


def run_tests(pytest_args: list[str]) -> int:
    command = [str(venv_executable("python")), "-m", "pytest", *pytest_args]
    say("Running the test suite: " + " ".join(command[1:]))
    try:
        return subprocess.call(command, cwd=ROOT)
    except KeyboardInterrupt:
        return 130


def print_how_to_use(profile: KritaProfile) -> None:
    krita = "flatpak run org.kde.krita" if profile.flatpak else "krita"
    print(
        f"\nIn Krita ({krita}): Settings → Dockers → AniSketch. Restart Krita if it was running.\n"
        f"The docker starts the backend by itself when none is running (see {profile.plugin_dir / 'backend.json'}).",
        flush=True,
    )


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    own, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(
        prog="install.py",
        description=(
            "Set up AniSketch: create .venv beside this file and install the backend into it, install the "
            "Krita plugin (with pyzmq for Krita's Python) and enable it in kritarc, then run the backend "
            "until Ctrl-C. Running it again is quick and harmless."
        ),
        epilog="Arguments after -- go to pytest (with --test), e.g. install.py --test -- -m 'not e2e' -x",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--setup-only", action="store_true", help="set up, then exit instead of serving")
    mode.add_argument("--test", action="store_true",
                      help="set up the backend with its test extras and run the whole test suite (pytest's exit "
                           "code); the tests install the plugin into throwaway Krita profiles, not yours")
    mode.add_argument("--uninstall", action="store_true",
                      help="remove the plugin and the kritarc line this script added, exactly, and nothing else")
    parser.add_argument("--krita-dir", metavar="DIR",
                        help="Krita's resource folder (holds pykrita/); default: the usual place for this system")
    parser.add_argument("--kritarc", metavar="PATH", help="Krita's settings file; default: the usual place")
    parser.add_argument("--krita-python", metavar="PATH",
                        help="the Python that Krita embeds (default /usr/bin/python3 on Linux): pyzmq is "
                             "vendored for its version when it cannot import zmq")
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"where the backend listens and the plugin connects (default {DEFAULT_ENDPOINT}, "
                             "this machine only)")
    parser.add_argument("--plugin-only", action="store_true",
                        help="install the Krita plugin only; leave .venv as it is")
    # For tests: install a different plugin tree (holding anisketch_krita/, .desktop, .action) and protocol file.
    parser.add_argument("--plugin-src", type=Path, default=ROOT / "plugin", help=argparse.SUPPRESS)
    parser.add_argument("--protocol-src", type=Path, default=ROOT / "backend" / "anisketch" / "protocol.py",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(own)
    if pytest_args and not args.test:
        parser.error("arguments after -- are for pytest: use them with --test")
    if args.plugin_only and args.test:
        parser.error("--plugin-only and --test do not go together: the tests need the backend")
    return args, pytest_args


def main(argv: list[str] | None = None) -> int:
    args, pytest_args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        if args.test:
            setup_venv(extras=["test"])
            setup_face_detector()
            note(f"set up in {time.monotonic() - started:.1f} s")
            return run_tests(pytest_args)
        profile = find_profile(args)
        if args.uninstall:
            return uninstall(profile)
        if not args.plugin_only:
            setup_venv(extras=[])
        install_plugin(profile, args.plugin_src, args.protocol_src, args.endpoint)
    except InstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted.", file=sys.stderr)
        return 130
    say(f"Set up in {time.monotonic() - started:.1f} s.")
    print_how_to_use(profile)
    if args.setup_only or args.plugin_only:
        return 0
    return serve(args.endpoint)


if __name__ == "__main__":
    sys.exit(main())
