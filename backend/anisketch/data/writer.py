"""Writing samples to a dataset folder (the format is in `format.py`)."""

from __future__ import annotations

import json
from pathlib import Path

from anisketch.data import format as fmt
from anisketch.data.sample import Sample


def write_sample(sample: Sample, out: Path, name: str) -> dict:
    """All files of one sample; returns its index.jsonl record."""
    path = lambda suffix: out / fmt.file_name(name, suffix)  # noqa: E731
    fmt.save_png(path("color"), sample.color)
    fmt.save_darkness(path("lineart"), sample.lineart)
    if sample.parts is not None:
        fmt.save_parts(path("parts"), sample.parts)
    for fraction, darkness in sample.sketches.items():
        fmt.save_darkness(path(fmt.FRACTION_NAMES[fraction]), darkness)
    fmt.save_png(path("hints"), sample.hints)
    fmt.save_strokes(path("strokes"), sample.strokes)
    fmt.save_json(path("meta"), sample.meta)
    record = {"name": name, "seed": sample.seed, "source": sample.meta.get("source", "engine"),
              "size": sample.size, "has_parts": sample.parts is not None}
    for key in ("attributes", "file"):
        if key in sample.meta:
            record[key] = sample.meta[key]
    return record


def write_index(out: Path, records: list[dict]) -> None:
    with open(out / fmt.INDEX, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, sort_keys=True) + "\n")


def is_ours(path: Path) -> bool:
    """Whether a file in an output folder is one that `anisketch data` writes (and so may replace)."""
    name = path.name
    if name in (fmt.INDEX, fmt.CONTACT_SHEET):
        return True
    stem, _, rest = name.partition("_")
    suffix = rest.rsplit(".", 1)[0]
    return len(stem) == 8 and stem.isdigit() and suffix in fmt.SUFFIXES
