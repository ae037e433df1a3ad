"""`anisketch data` (engine samples and --from-images), the dataset reader and `anisketch bench`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from anisketch import cli
from anisketch.data import format as fmt
from anisketch.data.folder import SampleFolder
from anisketch.engine.params import PART_LABELS, sample_params, attributes_of
from anisketch.engine.raster import render_lines

SIZE = 96


def data(*args: str) -> int:
    try:
        return cli.main(["data", *args])
    except SystemExit as exit_:  # argparse's own errors
        return int(exit_.code)


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "out"
    assert data("--out", str(out), "--count", "3", "--seed", "7", "--size", str(SIZE), "--workers", "1") == 0
    return out


def test_writes_every_file_of_every_sample(dataset):
    names = set(p.name for p in dataset.iterdir())
    for seed in (7, 8, 9):
        for suffix in fmt.SUFFIXES:
            assert fmt.file_name(f"{seed:08d}", suffix) in names
    assert {"index.jsonl", "contact_sheet.png"} <= names
    sheet = np.asarray(Image.open(dataset / "contact_sheet.png"))
    assert sheet.shape[0] > 3 * 100 and sheet.shape[1] > 7 * 100  # 3 rows, colour..hints columns
    records = [json.loads(line) for line in (dataset / "index.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in records] == [7, 8, 9]


def test_samples_read_back_and_agree_with_the_engine(dataset):
    folder = SampleFolder(dataset)
    assert len(folder) == 3 and folder.names[0] == "00000007"
    item = folder.load(0)
    assert item["color"].shape == (SIZE, SIZE, 3) and item["hints"].shape == (SIZE, SIZE, 4)
    assert item["parts"].shape == (SIZE, SIZE) and item["parts"].max() < len(PART_LABELS)
    assert sorted(item["sketches"]) == [0.25, 0.5, 0.75, 1.0]
    ink = [int((item["sketches"][f] > 64).sum()) for f in (0.25, 0.5, 0.75, 1.0)]
    assert 0 < ink[0] < ink[1] < ink[2] < ink[3]  # the drawing grows
    meta = item["meta"]
    assert meta["seed"] == 7 and meta["attributes"] == attributes_of(sample_params(7))
    assert len(meta["vector"]["floats"]) > 50 and meta["drawing"]["order"] in ("artist", "random")
    # The strokes as written, inked again, are the line art as written.
    again = render_lines(item["strokes"], SIZE)
    assert np.abs(again.astype(int) - item["lineart"]).mean() < 1.0
    assert [s.order for s in item["strokes"]] == sorted(s.order for s in item["strokes"])


def test_same_arguments_same_bytes_whatever_the_workers(dataset, tmp_path):
    out = tmp_path / "again"
    assert data("--out", str(out), "--count", "3", "--seed", "7", "--size", str(SIZE), "--workers", "2") == 0
    assert files_of(out) == files_of(dataset)


@pytest.mark.parametrize("args, message", [
    (["--count", "0"], "--count must be between 1"),
    (["--count", "-3"], "--count must be between 1"),
    (["--count", "2", "--size", "32"], "--size must be between 64 and 2048"),
    (["--count", "2", "--size", "4096"], "--size must be between 64 and 2048"),
    (["--count", "2", "--seed", "-1"], "--seed must be a non-negative"),
    (["--count", "2", "--workers", "0"], "--workers must be between"),
    ([], "--count is required"),
    (["--count", "abc"], "invalid int value"),
])
def test_invalid_arguments_exit_2_with_a_clear_message(tmp_path, capsys, args, message):
    assert data("--out", str(tmp_path / "out"), *args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_non_empty_output_needs_overwrite_which_keeps_other_files(dataset, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert data("--out", str(out), "--count", "1", "--size", "64") == 2
    assert "not empty" in capsys.readouterr().err
    (out / "00000005_color.png").write_bytes(b"stale")
    assert data("--out", str(out), "--count", "1", "--size", "64", "--overwrite", "--workers", "1") == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "00000005_color.png").exists()  # a stale sample of ours is gone
    assert (out / "00000000_color.png").exists()
    file_as_out = tmp_path / "file"
    file_as_out.write_text("x")
    assert data("--out", str(file_as_out), "--count", "1") == 2


@pytest.mark.parametrize("lines", ["auto", "canny"])
def test_from_images_converts_good_images_and_reports_bad_ones(tmp_path, capsys, lines):
    src = tmp_path / "mine"
    (src / "sub").mkdir(parents=True)
    Image.fromarray(skimage.data.astronaut()).resize((200, 200)).save(src / "sub" / "astronaut.png")
    good = (src / "sub" / "astronaut.png").read_bytes()
    (src / "broken.png").write_bytes(good[:200])  # a PNG cut short
    (src / "notes.txt").write_text("not a picture")
    Image.new("RGB", (20, 20), "white").save(src / "tiny.png")
    out = tmp_path / "out"
    assert data("--from-images", str(src), "--out", str(out), "--size", "128", "--workers", "1", "--lines", lines) == 0
    captured = capsys.readouterr()
    assert "skipped broken.png: corrupt image data" in captured.err
    assert "skipped notes.txt: not an image" in captured.err
    assert "skipped tiny.png: too small: 20x20 px" in captured.err
    assert "converted 1 of 4 files" in captured.out
    folder = SampleFolder(out)
    assert len(folder) == 1
    item = folder.load(0)
    assert item["meta"]["source"] == "image" and item["meta"]["file"] == "sub/astronaut.png"
    assert item["meta"]["lineart"].startswith("extracted: ")
    assert item["parts"] is None and item["color"].shape == (128, 128, 3)
    assert len(item["strokes"]) > 10 and (item["lineart"] > 64).mean() > 0.02
    assert (item["sketches"][1.0] > 64).sum() > (item["sketches"][0.25] > 64).sum() > 0


def test_from_images_with_nothing_usable_says_so(tmp_path, capsys):
    src = tmp_path / "empty"
    src.mkdir()
    (src / "a.txt").write_text("x")
    assert data("--from-images", str(src), "--out", str(tmp_path / "out")) == 1
    assert "no usable image" in capsys.readouterr().err
    assert data("--from-images", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")) == 2
    assert data("--from-images", str(src), "--out", str(tmp_path / "o3"), "--count", "3") == 2


def test_reader_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    with pytest.raises(FileNotFoundError, match="index.jsonl"):
        SampleFolder(tmp_path)


def test_bench_lists_targets_and_runs_data(capsys):
    assert cli.main(["bench"]) == 0
    assert "data" in capsys.readouterr().out
    assert cli.main(["bench", "nonsense"]) == 2
    assert "unknown target" in capsys.readouterr().err
    assert cli.main(["bench", "data", "--sizes", "64", "--samples", "2", "--repeats", "1", "--workers", "1"]) == 0
    assert "samples/s" in capsys.readouterr().out


def test_line_extraction_finds_the_engines_own_lines():
    """--from-images on an engine portrait: the traced lines lie on the engine's true line art."""
    import cv2

    from anisketch.data.images import extract_lines, thin, trace
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.raster import render

    image = render(build_portrait(sample_params(4)), 256)
    truth = thin(image["lineart"] > 128)
    near = lambda mask: cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # noqa: E731
    f1 = {}
    for method in ("xdog", "canny"):
        skeleton, width, used = extract_lines(image["color"], method)
        assert used == method
        precision = (skeleton & near(truth)).sum() / skeleton.sum()
        recall = (truth & near(skeleton)).sum() / truth.sum()
        assert precision > 0.7 and recall > 0.7, (method, precision, recall)
        f1[method] = 2 * precision * recall / (precision + recall)
        strokes = trace(skeleton, width)
        assert len(strokes) > 10 and all(s.group == "unknown" for s in strokes)
        orders = [s.order for s in strokes]
        assert orders == sorted(orders)  # longest traced lines first: the big shapes an artist starts with
    assert f1["xdog"] > f1["canny"]  # why xdog is the default
    assert extract_lines(image["color"])[2] == "xdog"  # auto: an inked portrait
    flat = np.zeros((256, 256, 3), np.uint8)
    flat[:, 128:] = 255
    assert extract_lines(flat)[2] == "canny"  # auto: a picture without ink lines
    with pytest.raises(ValueError, match="line method"):
        extract_lines(image["color"], "sobel")
