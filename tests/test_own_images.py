"""Training on the user's own pictures: `anisketch data --from-images` then `anisketch train guidance|colorizer --data`.

The training commands run in this process (through `anisketch.cli.main`) so that the held-out validation can be
made small; the error case runs the real command line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anisketch.cli import main as anisketch

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "backend" / "configs"


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory) -> Path:
    """Three pictures (two engine colour renders, the astronaut photo) converted by `--from-images` at 256 px."""
    import skimage.data
    from PIL import Image

    from anisketch.engine import params as P
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.raster import render

    root = tmp_path_factory.mktemp("own")
    pictures = root / "pictures"
    pictures.mkdir()
    Image.fromarray(skimage.data.astronaut()).save(pictures / "astronaut.png")
    for seed in (7, 8):
        color = render(build_portrait(P.sample_params(seed)), 256)["color"]
        Image.fromarray(color).save(pictures / f"engine{seed}.png")
    assert anisketch(["data", "--from-images", str(pictures), "--out", str(root / "data"), "--size", "256",
                      "--workers", "1"]) == 0
    return root / "data"


@pytest.fixture
def small_validation(monkeypatch):
    from anisketch.guidance import train as guidance
    from anisketch.render import train as render

    for recipe in (guidance, render):
        monkeypatch.setattr(recipe, "VALIDATION_COUNT", 4)
        monkeypatch.setattr(recipe, "OWN_VALIDATION_COUNT", 4)


def train(model: str, data: Path, out: Path) -> int:
    return anisketch(["train", model, "--config", str(CONFIGS / f"{model}.toml"), "--data", str(data),
                      "--steps", "2", "--batch-size", "2", "--workers", "0", "--out", str(out)])


@pytest.mark.parametrize("model", ["guidance", "colorizer"])
def test_training_on_own_images_writes_checkpoints(model, own_folder, tmp_path, small_validation, capsys):
    assert train(model, own_folder, tmp_path / "run") == 0
    out = capsys.readouterr().out
    assert "training on 3 of your images mixed 50%/50% with engine portraits, starting from the shipped" in out
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text())["info"]["step"] == 2
    header = (tmp_path / "run" / "validation.csv").read_text().splitlines()[0]
    assert "own_" in header  # the fit on the user's pictures is tracked beside the engine validation


def test_fine_tuning_starts_from_the_shipped_weights(own_folder):
    import torch

    from anisketch.guidance import train as guidance
    from anisketch.guidance.own_images import load_shipped_encoder
    from anisketch.render import train as render
    from anisketch.render.own_images import load_shipped_colorizer
    from anisketch.train.cli import load_config

    for recipe, shipped in ((guidance, load_shipped_encoder()), (render, load_shipped_colorizer())):
        name = "guidance" if recipe is guidance else "colorizer"
        task = recipe.make_task(load_config(CONFIGS / f"{name}.toml"), own_folder)
        for key, value in shipped.state_dict().items():
            assert torch.equal(task.model.state_dict()[key], value), key
        assert all(p.dtype == torch.float32 for p in task.model.parameters())


def test_batches_mix_own_and_engine_samples(own_folder):
    from anisketch.guidance import train as guidance
    from anisketch.render import train as render
    from anisketch.train.cli import load_config

    task = guidance.make_task(load_config(CONFIGS / "guidance.toml"), own_folder)
    batch = task.make_batch(0, 16)
    assert batch["sketch"].shape == (16, 1, 256, 256) and batch["sketch"].dtype == np.uint8
    own_targets = {tuple(f) for f in task.own.floats}
    from_own = sum(tuple(f) in own_targets for f in batch["floats"])
    assert 2 <= from_own <= 14  # about half
    assert all((s > 128).sum() > 20 for s in batch["sketch"][:, 0])  # every sample has ink

    task = render.make_task(load_config(CONFIGS / "colorizer.toml"), own_folder)
    batch = task.make_batch(0, 8)
    assert batch["lines"].shape == (8, 1, 256, 256) and batch["hints"].shape == (8, 4, 256, 256)
    assert batch["target"].shape == (8, 3, 256, 256)


def test_pseudo_labels_are_cached_and_reused(own_folder, monkeypatch):
    from anisketch.guidance import own_images
    from anisketch.data.folder import SampleFolder
    from anisketch.guidance.own_images import PSEUDO_LABELS, pseudo_labels

    folder = SampleFolder(own_folder)
    first = pseudo_labels(folder)
    assert (own_folder / PSEUDO_LABELS).is_file()
    assert first["floats"].shape[0] == 3 and np.all((first["floats"] >= 0) & (first["floats"] <= 1))

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cached pseudo-labels were recomputed")

    monkeypatch.setattr(own_images, "_read_line_art", must_not_run)
    again = pseudo_labels(folder)
    assert np.array_equal(again["floats"], first["floats"]) and np.array_equal(again["choices"], first["choices"])


def test_stale_pseudo_labels_are_recomputed(own_folder):
    from anisketch.data.folder import SampleFolder
    from anisketch.guidance.own_images import PSEUDO_LABELS, pseudo_labels

    folder = SampleFolder(own_folder)
    labels = pseudo_labels(folder)
    np.savez(own_folder / PSEUDO_LABELS, weights_sha256="0" * 64, folder="old",
             **{**labels, "floats": np.zeros_like(labels["floats"])})
    assert np.array_equal(pseudo_labels(folder)["floats"], labels["floats"])


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "anisketch.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_a_folder_with_no_samples_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "index.jsonl").write_text("")
    done = cli("train", "colorizer", "--config", str(CONFIGS / "colorizer.toml"), "--data", str(empty),
               "--steps", "1", "--workers", "0", "--out", str(tmp_path / "run"))
    assert done.returncode != 0
    assert "holds no samples" in done.stderr and "anisketch data --from-images" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("model", ["guidance", "colorizer"])
def test_folders_that_are_not_from_images_output_are_refused(model, tmp_path):
    from anisketch.train.cli import load_config

    recipe = __import__(f"anisketch.{'guidance' if model == 'guidance' else 'render'}.train", fromlist=["make_task"])
    config = load_config(CONFIGS / f"{model}.toml")
    with pytest.raises(SystemExit, match="not a folder"):
        recipe.make_task(config, tmp_path / "missing")
    with pytest.raises(SystemExit, match="not an `anisketch data` folder"):
        recipe.make_task(config, tmp_path)
    engine = tmp_path / "engine"
    assert anisketch(["data", "--out", str(engine), "--count", "1", "--size", "64", "--workers", "1"]) == 0
    with pytest.raises(SystemExit, match="engine portraits, not your pictures"):
        recipe.make_task(config, engine)
