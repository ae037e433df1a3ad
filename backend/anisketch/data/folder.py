"""Reading a dataset folder written by `anisketch data` (engine samples or converted images).

    folder = SampleFolder("data/train")
    len(folder), folder.names[:3]
    item = folder.load(0)        # dict of numpy arrays + strokes + meta, see `load`

Pixel conventions on load match the engine's: line art and sketches as darkness (255 = ink), parts as
labels, hints as RGBA. No torch here: the training loader wraps this.
"""

from __future__ import annotations

import json
from pathlib import Path

from anisketch.data import format as fmt


class SampleFolder:
    def __init__(self, root):
        self.root = Path(root)
        index = self.root / fmt.INDEX
        if not index.is_file():
            raise FileNotFoundError(f"{self.root} is not an AniSketch dataset folder: {fmt.INDEX} is missing "
                                    f"(write one with `anisketch data`)")
        with open(index, encoding="utf-8") as f:
            self.records = [json.loads(line) for line in f if line.strip()]
        self.names = [record["name"] for record in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def path(self, name: str, suffix: str) -> Path:
        return self.root / fmt.file_name(name, suffix)

    def load(self, index: int, sketches: bool = True, strokes: bool = True) -> dict:
        """{"name", "color" uint8[S,S,3], "lineart" uint8[S,S] darkness, "parts" uint8[S,S] or None,
        "sketches" {0.25: darkness, ...}, "hints" uint8[S,S,4], "strokes" [Stroke], "meta" dict}."""
        record = self.records[index]
        name = record["name"]
        parts = self.path(name, "parts")
        item = {
            "name": name,
            "color": fmt.load_rgb(self.path(name, "color")),
            "lineart": fmt.load_darkness(self.path(name, "lineart")),
            "parts": fmt.load_parts(parts) if parts.is_file() else None,
            "hints": fmt.load_rgba(self.path(name, "hints")),
            "meta": fmt.load_json(self.path(name, "meta")),
        }
        if sketches:
            item["sketches"] = {fraction: fmt.load_darkness(self.path(name, suffix))
                                for fraction, suffix in fmt.FRACTION_NAMES.items()
                                if self.path(name, suffix).is_file()}
        if strokes:
            item["strokes"] = fmt.strokes_from_json(fmt.load_json(self.path(name, "strokes")))
        return item

    def __getitem__(self, index: int) -> dict:
        return self.load(index)

    def __iter__(self):
        return (self.load(i) for i in range(len(self)))
