"""Training configs: a config may extend a base (`extends = "base.toml"`) and hold only what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from anisketch.train.cli import load_config, merge_configs

CONFIGS = Path(__file__).resolve().parents[1] / "backend" / "configs"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_config_extends_its_base_table_by_table(tmp_path):
    write(tmp_path, "base.toml", '[loop]\nsteps = 100\nlr = 0.1\n\n[model]\nwidths = [8, 16]\n\n[data.style]\na = 1\nb = 2\n')
    write(tmp_path, "mid.toml", 'extends = "base.toml"\n\n[loop]\nlr = 0.01\n\n[data.style]\nb = 3\n')
    leaf = write(tmp_path, "leaf.toml", 'extends = "mid.toml"\n\n[loop]\nsteps = 5\n\n[own]\nshare = 0.5\n\n[model]\nwidths = [4]\n')
    assert load_config(tmp_path / "mid.toml") == {"loop": {"steps": 100, "lr": 0.01}, "model": {"widths": [8, 16]},
                                                  "data": {"style": {"a": 1, "b": 3}}}
    assert load_config(leaf) == {"loop": {"steps": 5, "lr": 0.01}, "model": {"widths": [4]},
                                 "data": {"style": {"a": 1, "b": 3}}, "own": {"share": 0.5}}


def test_a_loop_of_extends_or_a_missing_base_is_a_clear_error(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(SystemExit, match="extends itself"):
        load_config(tmp_path / "a.toml")
    write(tmp_path, "c.toml", 'extends = "nowhere.toml"\n')
    with pytest.raises(SystemExit, match="nowhere.toml not found"):
        load_config(tmp_path / "c.toml")
    write(tmp_path, "d.toml", 'extends = 3\n')
    with pytest.raises(SystemExit, match="must be a file name"):
        load_config(tmp_path / "d.toml")


def test_merging_leaves_its_inputs_alone():
    base = {"loop": {"lr": 1.0, "steps": 3}}
    assert merge_configs(base, {"loop": {"lr": 2.0}}) == {"loop": {"lr": 2.0, "steps": 3}}
    assert base == {"loop": {"lr": 1.0, "steps": 3}}


@pytest.mark.parametrize("name, base, loop", [
    ("colorizer_polish.toml", "colorizer.toml", {"steps": 10000, "lr": 1e-3, "warmup": 200}),
    ("colorizer_wide_polish.toml", "colorizer_wide.toml", {"lr": 1e-3, "warmup": 200}),
    ("colorizer_own.toml", "colorizer.toml", {"steps": 2000, "lr": 3e-4, "warmup": 20, "checkpoint_every": 200}),
    ("guidance_own.toml", "guidance.toml", {"steps": 2000, "lr": 3e-4, "warmup": 20, "checkpoint_every": 200}),
])
def test_shipped_configs_differ_from_their_base_only_where_they_say(name, base, loop):
    config, parent = load_config(CONFIGS / name), load_config(CONFIGS / base)
    assert config["loop"] == {**parent["loop"], **loop}
    assert {k: v for k, v in config.items() if k not in ("loop", "own")} == \
        {k: v for k, v in parent.items() if k != "loop"}
    assert "extends" not in config


def test_every_shipped_config_loads():
    for path in sorted(CONFIGS.glob("*.toml")):
        assert "loop" in load_config(path), path.name
