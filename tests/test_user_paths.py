"""The README's own commands, end to end, on the install a user gets: `python3 install.py` (no test extras).

The checkout is copied to a temporary folder and set up there by install.py exactly as README's first
command does (the plugin goes into a throwaway Krita profile); then the `anisketch` commands the README
shows run on small inputs, each checked by what it writes. Anything a README command needs must be a
dependency of the plain install: that is what these tests are for (training once died here for want of
matplotlib, which only the test extras had). Every process started here is stopped, every port freed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_harness import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "runs", "out", ".whl", ".dev", "__pycache__", ".pytest_cache", "demo", "data"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _copy_checkout(to: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, check=False)
    if tracked.returncode == 0:  # the checkout's files (and new ones not yet committed), nothing ignored
        for name in tracked.stdout.decode().split("\0"):
            if name and (REPO / name).is_file():
                (to / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, to / name)
    else:
        shutil.copytree(REPO, to, ignore=lambda _, names: [n for n in names if n in SKIP], dirs_exist_ok=True)


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A checkout set up by `python3 install.py --setup-only`, and a runner of its `anisketch` command."""
    root = tmp_path_factory.mktemp("user")
    checkout = root / "anisketch"
    checkout.mkdir()
    _copy_checkout(checkout)
    done = subprocess.run(
        [sys.executable, "install.py", "--setup-only", "--krita-dir", str(root / "krita"),
         "--kritarc", str(root / "kritarc"), "--krita-python", sys.executable],
        cwd=checkout, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    python = checkout / ".venv" / "bin" / "python"
    # The plain install: none of the test tools came along.
    assert subprocess.run([str(python), "-c", "import pytest"], capture_output=True).returncode != 0
    return User(checkout, root)


class User:
    def __init__(self, checkout: Path, root: Path):
        self.checkout, self.root = checkout, root
        self.anisketch = checkout / ".venv" / "bin" / "anisketch"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")

    def run(self, *args: str, timeout: float = 600) -> str:
        print(f"\n$ anisketch {' '.join(args)}", flush=True)
        done = subprocess.run([str(self.anisketch), *args], cwd=self.checkout, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"anisketch {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def serve(self, *args: str) -> "Served":
        return Served(self, *args)


class Served:
    """`anisketch serve` on a free loopback port, stopped (Ctrl-C, as a user would) when the block ends."""

    def __init__(self, user: User, *args: str):
        self.user = user
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.log = user.root / f"serve-{self.endpoint.rsplit(':', 1)[1]}.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([str(user.anisketch), "serve", "--endpoint", self.endpoint, *args],
                                            cwd=user.checkout, env=user.env, stdout=log, stderr=subprocess.STDOUT)

    def client(self, *args: str) -> str:
        return self.user.run("client", "--endpoint", self.endpoint, *args)

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        if exc[0] is None:
            assert code == 0, self.log.read_text()[-3000:]


def _picture(path: Path, min_colours: int = 50) -> np.ndarray:
    """The PNG at `path`, which must be a picture (not blank)."""
    pixels = np.asarray(Image.open(path).convert("RGBA"))
    assert len(np.unique(pixels.reshape(-1, 4), axis=0)) >= min_colours, f"{path} is (nearly) blank"
    return pixels


def test_demo_generate_and_photo(user):
    user.run("demo", "--out", str(user.root / "demo"), "--device", "cpu", "--candidates", "1")
    pngs = sorted((user.root / "demo").glob("*.png"))
    assert len(pngs) >= 3, pngs
    for png in pngs:
        _picture(png, min_colours=2)

    user.run("generate", "--attr", "hair_color=blonde,smile=on", "--seed", "7", "--size", "256",
             "--out", str(user.root / "generated"))
    assert _picture(user.root / "generated" / "portrait.png").shape[:2] == (256, 256)

    from anisketch.photo.bench import face_photos  # a real face photo (the test extras ship it)

    photo = user.root / "astronaut.png"
    Image.fromarray(face_photos()["astronaut"]).save(photo)
    user.run("photo", str(photo), "--out", str(user.root / "photo"), "--n", "1", "--size", "256")
    report = json.loads((user.root / "photo" / "photo.json").read_text())
    assert report["faces_found"] >= 1, report
    assert any(_picture(p).shape[:2] == (256, 256) for p in (user.root / "photo").glob("*.png"))


def test_serve_and_the_command_line_client(user):
    assets = user.checkout / "backend" / "anisketch" / "assets"
    with user.serve("--device", "cpu") as served:
        info = _wait_for_info(served)
        assert "guide" in info and "render" in info
        served.client("guide", "--sketch", str(assets / "sample_sketch.png"), "--out", str(user.root / "guide"))
        served.client("render", "--sketch", str(assets / "sample_sketch.png"), "--hints",
                      str(assets / "sample_hints.png"), "--n", "1", "--out", str(user.root / "render"))
    reply = json.loads((user.root / "guide" / "reply.json").read_text())["result"]
    assert reply["state"] and set(reply["confidence"]) <= {"face", "eyes", "brows", "nose", "mouth", "hair", "accessories"}
    assert list((user.root / "render").glob("*.png"))


def _wait_for_info(served: Served, within: float = 120) -> str:
    import time

    deadline = time.monotonic() + within
    while True:
        try:
            return served.client("--timeout", "2", "info")
        except AssertionError:
            if time.monotonic() > deadline or served.process.poll() is not None:
                raise


def test_training_on_your_own_images(user):
    """README "Training on your own images", step by step, a few steps each; then serving the result."""
    own = user.root / "my-portraits"
    own.mkdir()
    # a folder of anime portraits: generated ones stand in for the user's (one call: a transition of six)
    user.run("generate", "--seed", "100", "--interpolate-to", "105", "--steps", "6", "--size", "256",
             "--out", str(user.root / "gen"))
    for k, frame in enumerate(sorted((user.root / "gen" / "interpolation").glob("frame_*.png"))):
        shutil.copy(frame, own / f"portrait-{k}.png")
    assert len(list(own.glob("*.png"))) == 6
    data = user.root / "data" / "mine"
    user.run("data", "--from-images", str(own), "--out", str(data))
    mine = user.root / "weights-mine"
    shutil.copytree(user.checkout / "weights", mine)
    shipped = json.loads((mine / "manifest.json").read_text())["models"]
    for model, config in (("guidance", "guidance_own.toml"), ("colorizer", "colorizer_own.toml")):
        run = user.root / "runs" / f"mine-{model}"
        out = user.run("train", model, "--config", f"backend/configs/{config}", "--data", str(data), "--out", str(run),
                       "--steps", "2", "--batch-size", "2", "--workers", "1", "--time-limit", "900",
                       "--export", str(mine), timeout=900)
        assert "of your images mixed" in out, out[-2000:]
        _picture(run / "curves.png", min_colours=3)  # the training curves a user looks at
        assert (run / "curves.csv").read_text().count("\n") >= 1
    exported = json.loads((mine / "manifest.json").read_text())["models"]
    for model in ("guidance", "colorizer"):
        assert exported[model]["sha256"] != shipped[model]["sha256"], f"{model} was not exported"
    with user.serve("--weights", str(mine), "--device", "cpu") as served:
        _wait_for_info(served)
        served.client("guide", "--sketch", str(user.checkout / "backend" / "anisketch" / "assets" / "sample_sketch.png"),
                      "--out", str(user.root / "guide-mine"))
    assert json.loads((user.root / "guide-mine" / "reply.json").read_text())["result"]["state"]


def test_eval_and_bench(user):
    user.run("eval", "--count", "2", "--device", "cpu", "--out", str(user.root / "eval"))
    metrics = json.loads((user.root / "eval" / "metrics.json").read_text())
    assert metrics and all(np.isfinite(v) for v in metrics.values() if isinstance(v, float))
    assert list((user.root / "eval").glob("*.png"))
    out = user.run("bench", "models", "--sizes", "256", "--repeats", "1")
    assert "guide" in out
