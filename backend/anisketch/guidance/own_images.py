"""Fine-tuning the guidance model on the user's own pictures (`anisketch train guidance --data DIR`).

A folder made by `anisketch data --from-images` holds pictures, their extracted line art and traced strokes,
but no engine parameter vector: nothing says which face the engine would draw for them. The shipped model
supplies one (teacher-student): it reads each picture's clean line art, and what it reads (faithfulness
1.0: the encoder's floats and choices, no projection) becomes that picture's *pseudo-label*. Training then
teaches the network to land on the same vector from partial, messy sketches of those strokes, while half
of every batch stays engine portraits so that the portrait prior is not forgotten.

Pseudo-labels are cached in the data folder (`pseudo_labels.npz`) together with the sha256 of the weights
that made them; other weights, or a changed folder, recompute them.

Traced strokes carry the group "unknown": the simulator's per-part mis-proportion (eyes a bit too far
apart, a nose a bit low) does not apply to them, every other beginner's error (wobble, gaps, overshoot,
doubled and feathered strokes, partial drawing in either order) does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.folder import SampleFolder
from ..data import format as fmt

PSEUDO_LABELS = "pseudo_labels.npz"
CACHE_LIMIT = 512  # samples a worker keeps in memory (strokes, and for the colouriser pixels)


def open_own_images(data_dir: Path, model: str) -> SampleFolder:
    """The folder as a SampleFolder, or SystemExit with what is wrong and how to make a right one."""
    make = "make one with `anisketch data --from-images YOUR_PICTURES --out DIR`"
    data_dir = Path(data_dir)
    prefix = f"anisketch train {model} --data {data_dir}"
    if not data_dir.is_dir():
        raise SystemExit(f"{prefix}: not a folder ({make})")
    try:
        folder = SampleFolder(data_dir)
    except FileNotFoundError:
        raise SystemExit(f"{prefix}: no {fmt.INDEX} here, so this is not an `anisketch data` folder ({make})") from None
    if len(folder) == 0:
        raise SystemExit(f"{prefix}: the folder holds no samples (did every picture get skipped? {make})")
    engine = [r["name"] for r in folder.records if r.get("source") != "image"]
    if engine:
        raise SystemExit(f"{prefix}: {len(engine)} of {len(folder)} samples are engine portraits, not your pictures "
                         f"(engine samples are rendered on the fly; {make})")
    return folder


def load_strokes(folder: SampleFolder, index: int) -> list:
    return fmt.strokes_from_json(fmt.load_json(folder.path(folder.names[index], "strokes")))


# --- pseudo-labels --------------------------------------------------------------------------------------


def pseudo_labels(folder: SampleFolder, weights_dir: Path | None = None) -> dict[str, np.ndarray]:
    """{"names", "floats" [N, D], "choices" [N, C]} for the samples the shipped model can read, cached."""
    from ..weights import default_weights_dir, verified_path

    weights_dir = Path(weights_dir or default_weights_dir())
    _, entry = verified_path(weights_dir, "guidance")
    cache = folder.root / PSEUDO_LABELS
    if cache.is_file():
        with np.load(cache) as stored:
            if str(stored["weights_sha256"]) == entry.sha256 and str(stored["folder"]) == _folder_key(folder):
                return {k: stored[k] for k in ("names", "floats", "choices")}
    labels = _read_line_art(folder, weights_dir)
    partial = cache.with_name(f".{cache.name}.{os.getpid()}")  # DDP ranks each write theirs, then one wins whole
    try:
        with open(partial, "wb") as f:
            np.savez(f, weights_sha256=entry.sha256, folder=_folder_key(folder), **labels)  # type: ignore[arg-type]  # numpy's stub types **kwds as its own flags
        os.replace(partial, cache)
    except OSError as error:  # a read-only folder: labels are recomputed next time, training goes on
        print(f"note: could not cache pseudo-labels in {cache} ({error})")
    return labels


def _folder_key(folder: SampleFolder) -> str:
    """Changes when the folder's samples change (the index lists them with their source files)."""
    import hashlib

    return hashlib.sha256((folder.root / fmt.INDEX).read_bytes()).hexdigest()


def _read_line_art(folder: SampleFolder, weights_dir: Path, batch: int = 32) -> dict[str, np.ndarray]:
    """The shipped encoder on every sample's clean line art; samples with (almost) no lines are left out."""
    from .predictor import MIN_INK_PIXELS, GuidanceModel, to_model_input

    model = GuidanceModel.load(weights_dir)
    names, images = [], []
    for name in folder.names:
        image, _ = to_model_input(fmt.load_darkness(folder.path(name, "lineart")), model.input_size)
        if (image > 0.05).sum() >= MIN_INK_PIXELS:
            names.append(name)
            images.append(image)
    if not names:
        raise SystemExit(f"anisketch train guidance --data {folder.root}: no picture has line art to learn from "
                         f"(the line extraction found no lines; try `anisketch data --from-images ... --lines canny`)")
    floats, choices = zip(*(model.read(np.stack(images[i:i + batch])) for i in range(0, len(images), batch)))
    return {"names": np.array(names), "floats": np.clip(np.concatenate(floats), 0.0, 1.0).astype(np.float32),
            "choices": np.concatenate(choices).astype(np.int64)}


# --- training samples -----------------------------------------------------------------------------------


@dataclass
class OwnSketches:
    """The user's samples as guidance training pairs: a sketch of their traced strokes -> their pseudo-label.

    Sketches follow the engine curriculum's law (`SketchCurriculum`: share of clean line art, fraction
    drawn, order, messiness), so own and engine samples differ only in where the strokes come from."""

    root: Path
    names: list
    floats: np.ndarray
    choices: np.ndarray

    def __post_init__(self):
        self._strokes: dict[int, list] = {}  # per worker process, filled lazily

    def __getstate__(self):  # workers start with an empty cache
        return {**self.__dict__, "_strokes": {}}

    def __len__(self) -> int:
        return len(self.names)

    def strokes(self, index: int) -> list:
        if index in self._strokes:
            return self._strokes[index]
        strokes = fmt.strokes_from_json(fmt.load_json(self.root / fmt.file_name(self.names[index], "strokes")))
        if len(self._strokes) < CACHE_LIMIT:
            self._strokes[index] = strokes
        return strokes

    def draw(self, rng: np.random.Generator, curriculum) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sketch darkness uint8[S, S], floats [D], choices [C]) of a random own sample."""
        index = int(rng.integers(len(self)))
        sketch = curriculum.sketch_of(self.strokes(index), rng)
        return sketch, self.floats[index], self.choices[index]


def own_sketches(data_dir: Path, weights_dir: Path | None = None) -> OwnSketches:
    folder = open_own_images(data_dir, "guidance")
    labels = pseudo_labels(folder, weights_dir)
    if len(labels["names"]) < len(folder):
        print(f"note: {len(folder) - len(labels['names'])} of {len(folder)} pictures have no line art and are left out")
    return OwnSketches(folder.root, [str(n) for n in labels["names"]], labels["floats"], labels["choices"])


def load_shipped_encoder(weights_dir: Path | None = None):
    """The shipped encoder as a trainable network (fp16 -> fp32, BatchNorm unfolded), to fine-tune."""
    from ..errors import ModelUnavailable
    from .predictor import load_encoder

    try:
        return load_encoder(weights_dir)[0]
    except ModelUnavailable as error:
        raise SystemExit(f"cannot fine-tune: {error}") from None
