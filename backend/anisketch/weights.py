"""Shipped weights: safetensors files listed in `weights/manifest.json`, verified before use.

The manifest records, for each model, the file, its sha256, the config it was trained from, the engine version
of its training data and its evaluation metrics. Loading checks the checksum so that a truncated or edited
file fails with a message that says which file and what to do, instead of producing silent garbage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelUnavailable

MANIFEST_NAME = "manifest.json"


def default_weights_dir() -> Path:
    """`weights/` at the repository root (the backend lives in `backend/anisketch`)."""
    return Path(__file__).resolve().parents[2] / "weights"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ModelEntry:
    name: str
    file: str
    sha256: str
    config: str = ""
    engine_version: str = ""
    metadata: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


def read_manifest(weights_dir: Path) -> dict[str, ModelEntry]:
    path = Path(weights_dir) / MANIFEST_NAME
    if not path.is_file():
        raise ModelUnavailable(f"No weights manifest at {path}. Reinstall AniSketch or restore weights/ from git.")
    try:
        raw = json.loads(path.read_text())
        return {name: ModelEntry(name=name, **entry) for name, entry in raw["models"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(f"The weights manifest {path} is unreadable ({exc}).") from exc


def write_manifest(weights_dir: Path, entries: dict[str, ModelEntry]) -> None:
    models = {
        name: {k: v for k, v in vars(entry).items() if k != "name"} for name, entry in sorted(entries.items())
    }
    (Path(weights_dir) / MANIFEST_NAME).write_text(json.dumps({"models": models}, indent=2) + "\n")


def register(weights_dir: Path, name: str, file: Path, **info) -> ModelEntry:
    """Add or replace a model in the manifest, computing its checksum now."""
    weights_dir = Path(weights_dir)
    try:
        entries = read_manifest(weights_dir)
    except ModelUnavailable:
        entries = {}
    entry = ModelEntry(name=name, file=Path(file).name, sha256=sha256_of(Path(file)), **info)
    entries[name] = entry
    write_manifest(weights_dir, entries)
    return entry


def verified_path(weights_dir: Path, name: str) -> tuple[Path, ModelEntry]:
    """The path of model `name`'s file after checking it exists and matches its checksum."""
    entries = read_manifest(weights_dir)
    if name not in entries:
        raise ModelUnavailable(f"Model '{name}' is not in {Path(weights_dir) / MANIFEST_NAME}.")
    entry = entries[name]
    path = Path(weights_dir) / entry.file
    if not path.is_file():
        raise ModelUnavailable(f"Weights file {path} for model '{name}' is missing. Restore it from git.")
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ModelUnavailable(
            f"Weights file {path} is corrupt (sha256 {actual[:12]}…, expected {entry.sha256[:12]}…). "
            "Restore it from git (`git checkout -- weights/`)."
        )
    return path, entry


def load_tensors(weights_dir: Path, name: str, device: str = "cpu"):
    """Verified tensors and metadata of model `name` (torch is imported only here)."""
    from safetensors import safe_open

    path, entry = verified_path(weights_dir, name)
    tensors = {}
    with safe_open(str(path), framework="pt", device=device) as f:
        metadata = f.metadata() or {}
        for key in f.keys():
            tensors[key] = f.get_tensor(key)
    return tensors, metadata, entry
