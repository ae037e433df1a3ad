"""Shards of rendered portraits (`anisketch data --shards`), read back and drawn anew each epoch for training."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from anisketch import cli
from anisketch.data import shards as S
from anisketch.data.sample import draw_sample, make_sample, render_seed
from anisketch.engine import sketch
from anisketch.engine.raster import render_lines

SIZE = 96
SEED, COUNT, PER_SHARD = 5, 7, 3  # three shards: 3 + 3 + 1 portraits


def data(*args: str) -> int:
    try:
        return cli.main(["data", *args])
    except SystemExit as exit_:  # argparse's own errors
        return int(exit_.code)


def write(out: Path, *extra: str) -> Path:
    assert data("--shards", str(out), "--count", str(COUNT), "--seed", str(SEED), "--size", str(SIZE),
                "--per-shard", str(PER_SHARD), *extra) == 0
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("shards") / "s", "--workers", "1")


def copy_of(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    out.mkdir()
    for path in folder.iterdir():
        (out / path.name).write_bytes(path.read_bytes())
    return out


def test_writes_tar_shards_with_webdataset_names_and_a_manifest(folder):
    manifest = json.loads((folder / S.MANIFEST).read_text())
    assert manifest["size"] == SIZE and manifest["seed"] == SEED and manifest["count"] == COUNT
    assert [s["count"] for s in manifest["shards"]] == [3, 3, 1]
    with tarfile.open(folder / "shard-000001.tar") as tar:
        names = tar.getnames()
        assert all(info.mtime == 0 and info.uid == 0 and info.uname == "" for info in tar.getmembers())
    assert names == [f"{seed:08d}.{field}" for seed in (8, 9, 10) for field in S.FIELDS]


def test_round_trip_gives_the_engines_pictures_and_strokes(folder):
    shards = S.ShardFolder(folder, size=SIZE)
    assert len(shards) == COUNT
    for i in range(COUNT):
        read, engine = shards.load(i), render_seed(SEED + i, SIZE, with_fill=True)
        assert read.seed == SEED + i and read.meta == engine.meta
        for name in S.IMAGES:
            assert np.array_equal(getattr(read, name), getattr(engine, name)), name
            assert getattr(read, name).dtype == np.uint8
        assert len(read.strokes) == len(engine.strokes)
        for a, b in zip(read.strokes, engine.strokes):
            assert (a.group, a.order, a.closed) == (b.group, b.order, b.closed)
            assert a.points.dtype == np.float32 and a.points.tobytes() == b.points.tobytes()
            assert a.widths.tobytes() == b.widths.tobytes()
        assert np.array_equal(render_lines(read.strokes, SIZE), engine.lineart)


def test_fill_is_the_colour_image_without_lines(folder):
    portrait = S.ShardFolder(folder).load(0)
    ink = portrait.lineart > 0
    assert np.array_equal(portrait.fill[~ink], portrait.color[~ink])
    assert not np.array_equal(portrait.fill[ink], portrait.color[ink])


def test_sketches_from_shards_equal_the_engines_for_the_same_rng(folder):
    shards = S.ShardFolder(folder)
    for i in range(COUNT):
        from_shard, engine = shards.load(i, images=()), render_seed(SEED + i, SIZE)
        for style in (("artist", 0.3, "pencil"), ("random", 1.0, "pen")):
            drawn = [sketch.sketch_darkness(p.strokes, SIZE, np.random.default_rng(i), 0.6, *style)
                     for p in (from_shard, engine)]
            assert np.array_equal(*drawn)


def test_epoch_zero_is_make_sample_and_later_epochs_draw_anew(folder):
    reader = S.EpochReader(S.ShardFolder(folder))
    for n in range(COUNT):
        portrait, epoch = reader.at(n)
        ours, engine = draw_sample(portrait, epoch, fractions=None), make_sample(SEED + n, SIZE, fractions=None)
        assert epoch == 0 and ours.meta == engine.meta
        for name in ("color", "lineart", "parts", "hints"):
            assert np.array_equal(getattr(ours, name), getattr(engine, name)), name
        assert ours.sketches.keys() == engine.sketches.keys()
        assert all(np.array_equal(ours.sketches[f], engine.sketches[f]) for f in ours.sketches)
    later = [reader.at(n) for n in range(COUNT, 3 * COUNT)]
    assert {epoch for _, epoch in later} == {1, 2}
    assert sorted(p.seed for p, e in later if e == 1) == list(range(SEED, SEED + COUNT))  # every record once
    drawn = [draw_sample(p, e, fractions=None) for p, e in later[:COUNT]]
    engine = [make_sample(p.seed, SIZE, fractions=None) for p, _ in later[:COUNT]]
    assert all(d.meta["drawing"]["epoch"] == 1 for d in drawn)
    assert sum(not np.array_equal(d.hints, e.hints) or d.style != e.style for d, e in zip(drawn, engine)) >= COUNT - 1
    for d, e in zip(drawn, engine):  # the same sample dict: fields, dtypes, shapes
        for name in ("color", "lineart", "parts", "hints"):
            assert getattr(d, name).dtype == getattr(e, name).dtype and getattr(d, name).shape == getattr(e, name).shape
        (sketch_d,), (sketch_e,) = d.sketches.values(), e.sketches.values()
        assert sketch_d.dtype == sketch_e.dtype and sketch_d.shape == sketch_e.shape


def test_same_arguments_same_bytes_whatever_the_workers(folder, tmp_path):
    again = write(tmp_path / "again", "--workers", "2")
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    assert all((folder / name).read_bytes() == (again / name).read_bytes() for name in files)


@pytest.mark.parametrize("problem, message", [
    ("missing", "is not a folder"),
    ("no manifest", "has no shards.json"),
    ("damaged manifest", "is damaged"),
    ("bad shard entry", "is damaged .*bad shard entry"),
    ("other engine", "was written by engine 0.0.1"),
    ("missing shard", "shard-000001.tar"),
    ("other size", f"holds {SIZE} px portraits, but 128 px"),
])
def test_unusable_folders_get_a_clear_error(folder, tmp_path, problem, message):
    root = tmp_path / "missing" if problem == "missing" else copy_of(folder, tmp_path)
    manifest = root / S.MANIFEST
    if problem == "no manifest":
        manifest.unlink()
    elif problem == "damaged manifest":
        manifest.write_text('{"format": "anisketch-shards", "shards": ')
    elif problem == "bad shard entry":
        manifest.write_text(manifest.read_text().replace('"file": "shard-000001.tar"', '"file": "../x.tar"'))
    elif problem == "other engine":
        manifest.write_text(manifest.read_text().replace(f'"engine_version": "{S.ENGINE_VERSION}"',
                                                         '"engine_version": "0.0.1"'))
    elif problem == "missing shard":
        (root / "shard-000001.tar").unlink()
    with pytest.raises(S.ShardError, match=message):
        S.ShardFolder(root, size=128 if problem == "other size" else SIZE)


def damage_member(root: Path, member: str, content: bytes = b"") -> None:
    """Overwrite the bytes of one tar member (as a bad disk or an interrupted copy would): with `content`
    padded with spaces, or zeros."""
    path = root / "shard-000001.tar"
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
    data = bytearray(path.read_bytes())
    data[info.offset_data:info.offset_data + info.size] = content.ljust(info.size, b" " if content else b"\0")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member, content, reason", [
    ("00000009.color.png", b"", "color.png: expected uint8"),
    ("00000009.parts.png", b"", "parts.png: expected uint8"),
    ("00000009.strokes.npy", b"", "unreadable json or strokes"),
    ("00000009.json", b"", "unreadable json or strokes"),
    ("00000009.json", b"{}", "unreadable json or strokes"),
    ("00000009.json", b'{"strokes": {"count": [1]}, "seed": 9}', r"strokes.npy: expected float32 \[1, 3\]"),
    ("00000009.json", b'{"strokes": {"count": "x"}, "seed": 9}', "unreadable json or strokes"),
])
def test_a_bad_member_is_reported_and_skipped(folder, tmp_path, capsys, member, content, reason):
    root = copy_of(folder, tmp_path)
    damage_member(root, member, content)
    shards = S.ShardFolder(root)
    with pytest.raises(S.RecordError, match=f"shard-000001.tar 00000009: {reason}"):
        shards.load(4)
    reader = S.EpochReader(shards)
    seeds = [reader.at(n)[0].seed for n in range(COUNT)]
    assert seeds == [5, 6, 7, 8, 10, 10, 11]  # record 9 replaced by the next one
    assert capsys.readouterr().err.count("skipped a shard record: shard-000001.tar 00000009") == 1


def test_a_truncated_shard_keeps_its_first_records(folder, tmp_path, capsys):
    root = copy_of(folder, tmp_path)
    path = root / "shard-000001.tar"
    with tarfile.open(path) as tar:
        cut = tar.getmember("00000009.parts.png").offset_data + 100
    path.write_bytes(path.read_bytes()[:cut])
    reader = S.EpochReader(S.ShardFolder(root))
    seeds = [reader.at(n)[0].seed for n in range(COUNT)]
    assert seeds == [5, 6, 7, 8, 11, 11, 11]
    err = capsys.readouterr().err
    assert "shard-000001.tar is damaged after" in err and "00000010: no such record" in err


def test_cli_refuses_bad_shard_arguments(folder, tmp_path, capsys):
    assert data("--shards", str(tmp_path / "a"), "--count", "2", "--per-shard", "0") == 2
    assert "--per-shard" in capsys.readouterr().err
    assert data("--shards", str(folder), "--count", "2") == 2
    assert "not empty" in capsys.readouterr().err
    assert data("--shards", str(tmp_path / "b"), "--out", str(tmp_path / "c"), "--count", "2") == 2
    assert data("--shards", str(tmp_path / "d"), "--from-images", str(tmp_path)) == 2


def test_overwrite_replaces_only_shard_files(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    (root / "notes.txt").write_text("mine")
    (root / "shard-000002.tar").unlink()
    assert data("--shards", str(root), "--count", "2", "--size", str(SIZE), "--overwrite") == 0
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt", "shard-000000.tar", S.MANIFEST]


def test_training_tasks_draw_the_same_from_shards_at_epoch_zero(folder):
    from anisketch.guidance.train import GuidanceTask, SketchCurriculum
    from anisketch.render.train import ColorCurriculum, ColorizerTask

    shards = S.ShardFolder(folder)
    guidance = GuidanceTask({}, SketchCurriculum(size=SIZE))
    colorizer = ColorizerTask({}, ColorCurriculum(size=SIZE))
    guidance.use_shards(shards)
    colorizer.use_shards(shards)
    for n in range(COUNT):
        ours = guidance.draw(n)
        engine = guidance.curriculum.draw(SEED + n)
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(ours, engine))
        ours = colorizer.curriculum.rendered(*colorizer.shards.at(n, images=("fill", "lineart", "parts")))
        engine = colorizer.curriculum.portrait(SEED + n)
        assert all(np.array_equal(a, b) for x, y in zip(ours, engine) for a, b in zip(x, y))
    later = guidance.make_batch(COUNT, COUNT)  # epoch 1: the same faces, new sketches
    first = guidance.make_batch(0, COUNT)
    assert not np.array_equal(later["sketch"], first["sketch"])
    assert {k: (v.dtype, v.shape[1:]) for k, v in later.items()} == {k: (v.dtype, v.shape[1:]) for k, v in first.items()}
    batch = colorizer.make_batch(0, 8)
    assert batch["lines"].shape == (8, 1, SIZE, SIZE) and batch["target"].shape == (8, 3, SIZE, SIZE)


def test_train_with_shards_of_the_wrong_size_says_so(folder):
    config = Path(__file__).resolve().parents[1] / "backend" / "configs" / "guidance.toml"
    done = subprocess.run([sys.executable, "-m", "anisketch.cli", "train", "guidance", "--config", str(config),
                           "--shards", str(folder), "--steps", "1", "--no-train"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"holds {SIZE} px portraits, but 256 px are needed" in done.stderr


def test_bench_prints_both_rates(capsys):
    assert cli.main(["bench", "data", "--sizes", "64", "--samples", "2", "--repeats", "2", "--workers", "2",
                     "--tasks"]) == 0
    out = capsys.readouterr().out
    assert "on the fly" in out and "shard reuse" in out and "samples/s" in out and "paired repeats" in out
    assert "guidance task batches" in out and "colorizer task batches" in out
