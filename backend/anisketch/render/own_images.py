"""Fine-tuning the colouriser on the user's own pictures (`anisketch train colorizer --data DIR`).

A folder made by `anisketch data --from-images` has everything a colouriser sample needs: the picture (the
target), its line art and traced strokes (the lines), and a simulated hint layer. Each own sample is:

- lines: the extracted line art, drawn again from the traced strokes at the curriculum size (crisp, like
  the engine's), or (`messy_share`, half the time) a messy complete sketch of those strokes;
- hints: the folder's hint layer, resized (it may hold no dab: "no hints" is part of the curriculum too);
  a folder without hint layers gets generic dabs: a few round dabs of the picture's own colour at
  centre-biased positions;
- target: the picture itself, resized to the curriculum size.

Unlike the engine's targets (flat colours without lines) a picture has its lines painted in; the artist's
lines are inked on top at inference, so this costs nothing visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..data import format as fmt
from ..engine.hints import Dab, paint_hints, sample_hint_count
from ..engine.raster import render_lines
from ..engine.sketch import render_sketch, simulate_sketch
from ..guidance.own_images import CACHE_LIMIT, open_own_images

GENERIC_RADIUS = (0.015, 0.04)  # of the side
GENERIC_CENTRE_STD = 0.2        # dab positions ~ N(centre of the picture, this), canvas units


@dataclass
class OwnPictures:
    """The user's samples as colouriser training triples (lines, hints, target), loaded lazily per worker."""

    root: Path
    names: list
    size: int
    messy_share: float = 0.5
    min_messiness: float = 0.1
    max_messiness: float = 1.0
    hint_p: float = 1 / 8

    def __post_init__(self):
        self._cache: dict[int, tuple] = {}

    def __getstate__(self):  # workers start with an empty cache
        return {**self.__dict__, "_cache": {}}

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int) -> tuple[np.ndarray, list, np.ndarray | None]:
        """(picture uint8[S, S, 3], strokes, hint layer uint8[S, S, 4] or None) at the curriculum size."""
        if index in self._cache:
            return self._cache[index]
        path = lambda suffix: self.root / fmt.file_name(self.names[index], suffix)  # noqa: E731
        picture = _resized(fmt.load_rgb(path("color")), self.size)
        strokes = fmt.strokes_from_json(fmt.load_json(path("strokes")))
        hints = _resized(fmt.load_rgba(path("hints")), self.size) if path("hints").is_file() else None
        item = (picture, strokes, hints)
        if len(self._cache) < CACHE_LIMIT:
            self._cache[index] = item
        return item

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lines uint8[S, S], hints uint8[S, S, 4], target uint8[S, S, 3]) of a random own sample."""
        picture, strokes, hints = self.load(int(rng.integers(len(self))))
        if rng.random() < self.messy_share:
            messiness = rng.uniform(self.min_messiness, self.max_messiness)
            drawn = simulate_sketch(strokes, rng, fraction=1.0, order="random", messiness=messiness)
            lines = render_sketch(drawn, self.size, rng=rng, texture="pencil" if rng.random() < 0.5 else "pen")
        else:
            lines = render_lines(strokes, self.size)
        if hints is None:
            hints = generic_hints(picture, rng, sample_hint_count(rng, self.hint_p))
        if rng.random() < 0.5:  # mirror image, as for engine samples
            return lines[:, ::-1], hints[:, ::-1], picture[:, ::-1]
        return lines, hints, picture


def generic_hints(picture: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` round dabs of the picture's own colour (the median under the brush), at centre-biased spots."""
    size = picture.shape[0]
    dabs = []
    for _ in range(count):
        centre = np.clip(rng.normal(0.5, GENERIC_CENTRE_STD, 2), 0.05, 0.95)
        radius = rng.uniform(*GENERIC_RADIUS)
        x, y = (centre * size).astype(int)
        r = max(1, int(radius * size))
        patch = picture[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].reshape(-1, 3)
        dabs.append(Dab(0, centre[None].astype(np.float32), float(radius),
                        tuple(int(c) for c in np.median(patch, axis=0))))
    return paint_hints(dabs, size)


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size:
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def own_pictures(data_dir: Path, curriculum) -> OwnPictures:
    folder = open_own_images(data_dir, "colorizer")
    usable = [name for name in folder.names
              if fmt.strokes_from_json(fmt.load_json(folder.path(name, "strokes")))]
    if not usable:
        raise SystemExit(f"anisketch train colorizer --data {folder.root}: no picture has line art to learn from "
                         f"(the line extraction found no lines; try `anisketch data --from-images ... --lines canny`)")
    if len(usable) < len(folder):
        print(f"note: {len(folder) - len(usable)} of {len(folder)} pictures have no line art and are left out")
    return OwnPictures(folder.root, usable, curriculum.size, messy_share=1.0 - curriculum.clean_share,
                       min_messiness=curriculum.min_messiness, max_messiness=curriculum.max_messiness,
                       hint_p=curriculum.hint_p)


def load_shipped_colorizer(weights_dir: Path | None = None):
    """The shipped colouriser as a trainable network (fp16 -> fp32, BatchNorm statistics included)."""
    import json

    from ..weights import default_weights_dir, load_tensors
    from .model import Colorizer, ColorizerConfig

    tensors, meta, _ = load_tensors(Path(weights_dir or default_weights_dir()), "colorizer")
    net = Colorizer(ColorizerConfig.from_dict(json.loads(meta["colorizer_config"])))
    found = net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    missing = [k for k in found.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or found.unexpected_keys:
        raise SystemExit(f"the shipped colouriser weights do not fit this network (missing {missing[:3]}, "
                         f"unexpected {found.unexpected_keys[:3]}): reinstall")
    return net
