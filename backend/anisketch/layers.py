"""What every operation returns to the artist: RGBA layers placed in the request image's pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Layer:
    name: str
    group: str | None
    rgba: np.ndarray  # uint8 [h, w, 4]
    x: int = 0  # offset of the layer's top-left pixel in the request image (may be negative)
    y: int = 0


@dataclass
class Result:
    """Layers plus whatever the operation reports (confidence, state, noise...), and where the time went."""

    layers: list[Layer]
    info: dict = field(default_factory=dict)
    timing_ms: dict[str, float] = field(default_factory=dict)


def ink_layer(darkness: np.ndarray, rgb: tuple[int, int, int], name: str, group: str | None) -> Layer | None:
    """A layer of solid colour whose alpha is the ink, cropped to where there is ink (None when empty)."""
    ys, xs = np.nonzero(darkness)
    if len(xs) == 0:
        return None
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = darkness[y0:y1, x0:x1]
    rgba = np.empty(crop.shape + (4,), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = crop
    return Layer(name, group, rgba, int(x0), int(y0))
