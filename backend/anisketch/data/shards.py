"""Rendered portraits in WebDataset-style tar shards, so training can reuse them across epochs.

Building and rendering a portrait is most of a training sample's cost; drawing it (the beginner's sketch and
hints) is what makes each sample new. A shard folder keeps the first part, and `draw_sample(portrait, epoch)`
(or a task's own curriculum) draws it anew every epoch.

    anisketch data --shards DIR --count N [--seed S] [--size 256] [--per-shard 1000] [--workers K]

A shard folder holds `shard-000000.tar`, `shard-000001.tar`... and `shards.json` (the manifest, written
last: a folder without it did not finish). Each tar holds, per seed, members named `<KEY>.<field>` (KEY =
the seed as 8 digits, WebDataset's convention: one sample per key, adjacent members):

| member | content |
| --- | --- |
| `KEY.color.png` | RGB colour image, line art inked in colour |
| `KEY.fill.png` | RGB flat colours without lines (the colouriser's target) |
| `KEY.lineart.png` | clean line art, black ink on white (darkness = 255 - value) |
| `KEY.parts.png` | part labels as 8-bit grey values 0..12 (engine.params.PART_LABELS) |
| `KEY.strokes.npy` | float32[M, 3]: every clean stroke's points (x, y normalised, y down) and width, back to back |
| `KEY.json` | seed, engine_version, size, source, attributes, params, vector (floats, choices) and `strokes`: group, order, closed and point count of each stroke, in the portrait's own order |

Strokes are stored as float32 bytes (not rounded JSON), so the drawing simulator, fed them, draws exactly
what it draws from the engine's portrait. Bytes depend only on (seed range, size, per-shard count,
ENGINE_VERSION): tar headers carry no time or owner, PNGs are written by OpenCV with fixed options.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import sys
import tarfile
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anisketch.data import format as fmt
from anisketch.data.sample import RenderedPortrait, render_seed
from anisketch.engine.geometry import Stroke
from anisketch.engine.params import ENGINE_VERSION, PART_LABELS

FORMAT = "anisketch-shards"
FORMAT_VERSION = 1
MANIFEST = "shards.json"
FIELDS = ("color.png", "fill.png", "lineart.png", "parts.png", "strokes.npy", "json")
IMAGES = ("color", "fill", "lineart", "parts")
SAMPLE_IMAGES = ("color", "lineart", "parts")  # what draw_sample needs (decoding a PNG is most of a read)
# PNG options. Decoding is most of a shard read, and is as fast at any zlib level, but 1.5-2x faster without
# PNG's row filters (SUB, UP, PAETH...), which flat cel colours and line art do not need: the files even come
# out smaller (512 px colour: 1.95 -> 1.06 ms, 63 -> 52 KiB). OpenCV < 4.10 lacks the option: default filters.
PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 6]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):
    PNG_OPTIONS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


class ShardError(ValueError):
    """A shard folder that cannot be used at all: missing, unfinished, or made for another engine or size."""


class RecordError(ValueError):
    """One record that cannot be read (a damaged member): reported and skipped by the readers."""


def shard_name(number: int) -> str:
    return f"shard-{number:06d}.tar"


# --- one portrait <-> tar members ------------------------------------------------------------------------


def encode_portrait(portrait: RenderedPortrait) -> list[tuple[str, bytes]]:
    """The tar members of one rendered portrait (it must carry its fill), in FIELDS order."""
    if portrait.fill is None:
        raise ValueError("a shard needs the flat colours: render_seed(..., with_fill=True)")
    assert portrait.color is not None and portrait.lineart is not None and portrait.parts is not None
    key = fmt.sample_name(portrait.seed)
    strokes = portrait.strokes
    table = {"group": [s.group for s in strokes], "order": [int(s.order) for s in strokes],
             "closed": [bool(s.closed) for s in strokes], "count": [len(s.points) for s in strokes]}
    columns = np.concatenate([np.concatenate([s.points, s.widths[:, None]], axis=1) for s in strokes])
    body = {**portrait.meta, "strokes": table}
    return [
        (f"{key}.color.png", _png(portrait.color[..., ::-1])),
        (f"{key}.fill.png", _png(portrait.fill[..., ::-1])),
        (f"{key}.lineart.png", _png(255 - portrait.lineart)),
        (f"{key}.parts.png", _png(portrait.parts)),
        (f"{key}.strokes.npy", _npy(columns.astype(np.float32))),
        (f"{key}.json", json.dumps(body, sort_keys=True, separators=(",", ":")).encode()),
    ]


def decode_portrait(members: dict[str, bytes], size: int, images=IMAGES) -> RenderedPortrait:
    """A rendered portrait from its members (field -> bytes), with the pictures named in `images` decoded
    (the others None); RecordError says what is wrong with the members."""
    missing = [name for name in FIELDS if name not in members]
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    try:
        meta = json.loads(members["json"])
        table = meta.pop("strokes")
        columns = np.load(io.BytesIO(members["strokes.npy"]), allow_pickle=False)
        strokes = _strokes(columns, table)
        seed = int(meta["seed"])
    except RecordError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, EOFError, OSError) as error:
        raise RecordError(f"unreadable json or strokes ({type(error).__name__}: {error})") from None
    color = _rgb(members, "color.png", size) if "color" in images else None
    fill = _rgb(members, "fill.png", size) if "fill" in images else None
    lineart = 255 - _image(members, "lineart.png", size, 1) if "lineart" in images else None
    parts = _image(members, "parts.png", size, 1) if "parts" in images else None
    if parts is not None and parts.max(initial=0) >= len(PART_LABELS):
        raise RecordError("parts.png holds values that are not part labels")
    return RenderedPortrait(seed, size, strokes, color, lineart, parts, meta, fill)


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image), PNG_OPTIONS)
    assert ok
    return data.tobytes()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _rgb(members: dict, name: str, size: int) -> np.ndarray:
    return cv2.cvtColor(_image(members, name, size, 3), cv2.COLOR_BGR2RGB)  # OpenCV decodes to BGR


def _image(members: dict, name: str, size: int, channels: int) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(members[name], np.uint8), cv2.IMREAD_UNCHANGED)
    expected = (size, size) if channels == 1 else (size, size, channels)
    if image is None or image.shape != expected or image.dtype != np.uint8:
        got = "not a PNG" if image is None else f"{image.dtype} {image.shape}"
        raise RecordError(f"{name}: expected uint8 {expected}, got {got}")
    return image


def _strokes(columns: np.ndarray, table: dict) -> list:
    """Strokes from the [M, 3] columns and the per-stroke table (contiguous float32, as the engine's)."""
    counts = table["count"]
    if columns.dtype != np.float32 or columns.ndim != 2 or columns.shape[1] != 3 or sum(counts) != len(columns):
        raise RecordError(f"strokes.npy: expected float32 [{sum(counts)}, 3], got {columns.dtype} {columns.shape}")
    points, widths = np.ascontiguousarray(columns[:, :2]), np.ascontiguousarray(columns[:, 2])
    ends = np.cumsum(counts).tolist()
    return [Stroke(points[a:b], widths[a:b], group, order, closed)
            for a, b, group, order, closed in zip([0] + ends[:-1], ends, table["group"], table["order"],
                                                  table["closed"])]


# --- writing ---------------------------------------------------------------------------------------------


def render_members(job: tuple[int, int]) -> list[tuple[str, bytes]]:
    """Worker job: seed, size -> the members of that seed's record."""
    seed, size = job
    return encode_portrait(render_seed(seed, size, with_fill=True))


class ShardWriter:
    """Records appended in seed order, `per_shard` to a tar; `close()` writes the manifest (last)."""

    def __init__(self, root: Path, seed: int, count: int, size: int, per_shard: int):
        self.root, self.per_shard = Path(root), per_shard
        self.manifest: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "engine_version": ENGINE_VERSION,
                         "size": size, "seed": seed, "count": count, "per_shard": per_shard,
                         "fields": list(FIELDS), "shards": []}
        self.tar: tarfile.TarFile | None = None
        self.in_shard = 0

    def add(self, members: list[tuple[str, bytes]]) -> None:
        if self.tar is None:
            self._open_next()
        assert self.tar is not None
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0  # no time, no owner: same bytes every run
            self.tar.addfile(info, io.BytesIO(data))
        self.in_shard += 1
        if self.in_shard == self.per_shard:
            self._close_current()

    def close(self) -> dict:
        self._close_current()
        with open(self.root / MANIFEST, "w", encoding="utf-8") as f:
            json.dump(self.manifest, f, indent=1, sort_keys=True)
            f.write("\n")
        return self.manifest

    def _open_next(self) -> None:
        shards = self.manifest["shards"]
        first = self.manifest["seed"] + len(shards) * self.per_shard
        shards.append({"file": shard_name(len(shards)), "first_seed": first, "count": 0})
        self.tar = tarfile.open(self.root / shards[-1]["file"], "w", format=tarfile.USTAR_FORMAT)
        self.in_shard = 0

    def _close_current(self) -> None:
        if self.tar is None:
            return
        self.tar.close()
        entry = self.manifest["shards"][-1]
        data = (self.root / entry["file"]).read_bytes()
        entry.update(count=self.in_shard, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        self.tar = None


# --- reading ---------------------------------------------------------------------------------------------


@dataclass
class _ShardIndex:
    """Where each record's members lie in one tar: key -> {field: (offset, size)}, in file order."""

    keys: list = field(default_factory=list)
    members: dict = field(default_factory=dict)


class ShardFolder:
    """Random access to the rendered portraits of a shard folder, record i = seed `seed + i`.

    Opening checks the manifest (format, engine version, size) and that every shard file is there; each
    tar's member table is read the first time one of its records is asked for. No file stays open (the
    object can be shared by forked DataLoader workers)."""

    def __init__(self, root, size: int | None = None):
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self.size = int(self.manifest["size"])
        if size is not None and size != self.size:
            raise ShardError(f"{self.root} holds {self.size} px portraits, but {size} px are needed: write "
                             f"shards of that size (anisketch data --shards DIR --size {size} ...)")
        self.shards = self.manifest["shards"]
        self.starts = np.cumsum([0] + [s["count"] for s in self.shards]).tolist()
        self._indexes: dict[int, _ShardIndex] = {}

    def __len__(self) -> int:
        return self.starts[-1]

    def seed_of(self, i: int) -> int:
        shard = bisect.bisect_right(self.starts, i) - 1
        return self.shards[shard]["first_seed"] + i - self.starts[shard]

    def load(self, i: int, images=IMAGES) -> RenderedPortrait:
        """Record i, with the pictures named in `images` (the others None); RecordError (with the shard and
        key) when it cannot be read."""
        if not 0 <= i < len(self):
            raise IndexError(f"record {i} of {len(self)}")
        shard = bisect.bisect_right(self.starts, i) - 1
        path = self.root / self.shards[shard]["file"]
        key = fmt.sample_name(self.seed_of(i))
        try:
            index = self._index(shard)
            if key not in index.members:
                raise RecordError("no such record in the tar")
            portrait = decode_portrait(_read_members(path, index.members[key]), self.size, images)
        except RecordError as error:
            raise RecordError(f"{path.name} {key}: {error}") from None
        if portrait.seed != self.seed_of(i):
            raise RecordError(f"{path.name} {key}: its json says seed {portrait.seed}")
        return portrait

    def _index(self, shard: int) -> _ShardIndex:
        if shard not in self._indexes:
            self._indexes[shard] = _scan(self.root / self.shards[shard]["file"])
        return self._indexes[shard]


def read_manifest(root: Path) -> dict:
    """The manifest, checked against this engine; ShardError with what is wrong and what to do."""
    if not root.is_dir():
        raise ShardError(f"{root} is not a folder (write shards with `anisketch data --shards {root} --count N`)")
    path = root / MANIFEST
    if not path.is_file():
        raise ShardError(f"{root} has no {MANIFEST}: not a shard folder, or writing it did not finish "
                         f"(write it again with `anisketch data --shards {root} --count N --overwrite`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        shards, size = manifest["shards"], int(manifest["size"])
        if manifest.get("format") != FORMAT or not isinstance(shards, list):
            raise ValueError("not an AniSketch shard manifest")
        for shard in shards:  # what the reader relies on
            if not (isinstance(shard["file"], str) and "/" not in shard["file"] and int(shard["count"]) >= 0):
                raise ValueError(f"bad shard entry {shard}")
            int(shard["first_seed"])
    except (ValueError, KeyError, TypeError) as error:
        raise ShardError(f"{path} is damaged ({error})") from None
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("engine_version") != ENGINE_VERSION:
        raise ShardError(f"{root} was written by engine {manifest.get('engine_version')} (shard format "
                         f"{manifest.get('format_version')}); this is engine {ENGINE_VERSION} (format "
                         f"{FORMAT_VERSION}): its portraits are stale, write them again with "
                         f"`anisketch data --shards {root} --count {manifest.get('count')} --size {size} --overwrite`")
    missing = [s["file"] for s in shards if not (root / s["file"]).is_file()]
    if missing:
        raise ShardError(f"{root}: {len(missing)} shard file(s) listed in {MANIFEST} are missing: "
                         f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    if not shards or sum(s["count"] for s in shards) == 0:
        raise ShardError(f"{root} holds no records")
    return manifest


def _scan(path: Path) -> _ShardIndex:
    """The member table of one tar (headers only). A damaged tar keeps the members read before the damage;
    the records after it are reported when asked for."""
    index = _ShardIndex()
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                key, dot, name = info.name.partition(".")
                if not dot or not info.isfile():
                    continue
                if key not in index.members:
                    index.keys.append(key)
                    index.members[key] = {}
                index.members[key][name] = (info.offset_data, info.size)
    except (tarfile.TarError, OSError) as error:
        print(f"warning: {path.name} is damaged after {len(index.keys)} records ({error}); "
              f"the rest of it is skipped", file=sys.stderr)
    return index


def _read_members(path: Path, members: dict) -> dict[str, bytes]:
    """A record's members in one read (they lie next to each other in the tar)."""
    start = min(offset for offset, _ in members.values())
    end = max(offset + size for offset, size in members.values())
    with open(path, "rb") as f:
        f.seek(start)
        block = f.read(end - start)
    if len(block) != end - start:
        raise RecordError("the tar ends inside this record")
    return {name: block[offset - start:offset - start + size] for name, (offset, size) in members.items()}


class EpochReader:
    """Sample number n -> (portrait, epoch) for training: epoch = n // len, each epoch a pass over every record.

    Epoch 0 goes in seed order (so, drawn with the epoch's streams, it is exactly what on-the-fly training on
    the same seeds sees); each later epoch in its own shuffled order. A record that cannot be read is
    reported once (per process) and the next one is used instead: a damaged member never stops training."""

    def __init__(self, folder: ShardFolder):
        self.folder = folder
        self._order_epoch, self._order = -1, np.arange(0)
        self._bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.folder)

    def at(self, n: int, images=SAMPLE_IMAGES) -> tuple[RenderedPortrait, int]:
        epoch, position = divmod(int(n), len(self.folder))
        i = self._record(epoch, position)
        for _ in range(len(self.folder)):
            if i not in self._bad:
                try:
                    return self.folder.load(i, images), epoch
                except RecordError as error:
                    self._bad.add(i)
                    print(f"warning: skipped a shard record: {error}", file=sys.stderr)
            i = (i + 1) % len(self.folder)
        raise ShardError(f"{self.folder.root}: no record could be read")

    def _record(self, epoch: int, position: int) -> int:
        if epoch == 0:
            return position
        if epoch != self._order_epoch:  # one permutation per epoch, the same in every worker
            self._order = np.random.default_rng([0x5A4D, epoch]).permutation(len(self.folder))
            self._order_epoch = epoch
        return int(self._order[position])
