"""The on-disk sample format, in one place: file names, pixel conventions, strokes as JSON.

A dataset folder holds, per sample NAME (the seed as 8 digits, or the image's index for `--from-images`):

| file | content |
| --- | --- |
| `NAME_color.png` | RGB colour image |
| `NAME_lineart.png` | clean line art, **black ink on white** (so a person can look at it); darkness = 255 - value |
| `NAME_parts.png` | part map: a palette PNG whose pixel values are the labels (engine.params.PART_LABELS) and whose palette shows them in false colour; absent for user images |
| `NAME_sketch25.png` ... `NAME_sketch100.png` | the simulated sketch at 25/50/75/100 % of the ink, black on white like the line art |
| `NAME_hints.png` | RGBA hint layer (transparent where no hint) |
| `NAME_strokes.json` | the clean strokes: `{"strokes": [{"group", "order", "closed", "points": [[x, y], ...], "widths": [...]}]}` in drawing order, normalised coordinates |
| `NAME_meta.json` | seed, engine version, size, source, attributes, params, vector (floats, choices), drawing style |

plus `index.jsonl` (one line per sample: name, seed, source, attributes) and `contact_sheet.png`.
PNG and JSON bytes depend only on the arguments: the same command writes the same files.
"""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from anisketch.engine.geometry import Stroke
from anisketch.engine.params import PART_LABELS

INDEX = "index.jsonl"
CONTACT_SHEET = "contact_sheet.png"
FRACTION_NAMES = {0.25: "sketch25", 0.5: "sketch50", 0.75: "sketch75", 1.0: "sketch100"}
SUFFIXES = ("color", "lineart", "parts", *FRACTION_NAMES.values(), "hints", "strokes", "meta")

# False colours of the part labels (RGB), for the part PNG's palette and the contact sheet.
PART_COLORS = np.array([
    (235, 235, 235),  # background
    (250, 205, 170),  # skin
    (40, 110, 230),   # eye_l
    (20, 170, 230),   # eye_r
    (120, 60, 20),    # brow_l
    (170, 90, 30),    # brow_r
    (230, 120, 60),   # nose
    (220, 30, 60),    # mouth
    (150, 70, 200),   # hair
    (240, 160, 120),  # ears
    (200, 160, 130),  # neck
    (250, 210, 30),   # accessory
    (40, 150, 80),    # clothes
], np.uint8)
assert len(PART_COLORS) == len(PART_LABELS)


def file_name(name: str, suffix: str) -> str:
    return f"{name}_{suffix}.json" if suffix in ("strokes", "meta") else f"{name}_{suffix}.png"


def sample_name(number: int) -> str:
    return f"{int(number):08d}"


def false_color(parts: np.ndarray) -> np.ndarray:
    """uint8[S, S, 3] picture of a part map."""
    return PART_COLORS[np.minimum(parts, len(PART_COLORS) - 1)]


# --- pixels -----------------------------------------------------------------------------------------------


def save_png(path, array: np.ndarray) -> None:
    """Gray [S, S], RGB [S, S, 3] or RGBA [S, S, 4] uint8, written deterministically (no timestamps)."""
    Image.fromarray(np.ascontiguousarray(array)).save(path, format="PNG", compress_level=6)


def save_darkness(path, darkness: np.ndarray) -> None:
    save_png(path, 255 - darkness)


def load_darkness(path) -> np.ndarray:
    return 255 - np.asarray(Image.open(path).convert("L"))


def save_parts(path, parts: np.ndarray) -> None:
    image = Image.fromarray(np.ascontiguousarray(parts.astype(np.uint8)), mode="P")
    palette = np.zeros((256, 3), np.uint8)
    palette[:len(PART_COLORS)] = PART_COLORS
    image.putpalette(palette.ravel().tolist())
    image.save(path, format="PNG", compress_level=6)


def load_parts(path) -> np.ndarray:
    image = Image.open(path)
    if image.mode != "P":
        raise ValueError(f"{path}: a part map must be a palette PNG, got mode {image.mode}")
    return np.asarray(image)


def load_rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def load_rgba(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


# --- strokes and JSON -------------------------------------------------------------------------------------


def strokes_to_json(strokes) -> dict:
    return {"coordinates": "normalised canvas: x right, y down, [0, 1]; widths are fractions of the side",
            "strokes": [{"group": s.group, "order": int(s.order), "closed": bool(s.closed),
                         "points": np.round(np.asarray(s.points, np.float64), 5).tolist(),
                         "widths": np.round(np.asarray(s.widths, np.float64), 6).tolist()}
                        for s in strokes]}


def strokes_from_json(data: dict) -> list:
    return [Stroke(np.asarray(s["points"], np.float32).reshape(-1, 2), np.asarray(s["widths"], np.float32),
                   s["group"], int(s["order"]), bool(s["closed"])) for s in data["strokes"]]


def save_strokes(path, strokes) -> None:
    """Strokes JSON with one stroke per line: compact, still readable and diff-able."""
    data = strokes_to_json(strokes)
    lines = [json.dumps(s, sort_keys=True, separators=(",", ":")) for s in data["strokes"]]
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"coordinates": ' + json.dumps(data["coordinates"]) + ',\n "strokes": [\n  ')
        f.write(",\n  ".join(lines))
        f.write("\n]}\n")


def save_json(path, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
