"""The photo op: anime portraits of a photo's face, drawn in the photo's frame as layers.

    result = photo(photo_rgba, n=4, mode="rough", selection=None)
    result.layers   # n colour candidates (the first is the closest reading of the photo), then the guidance
    result.info     # faces_found, warnings, and the first candidate's noise, attributes and guidance state

The service checks the image and calls this; the candidates differ in style where the photo says nothing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..engine.geometry import build_portrait
from ..engine.raster import render
from ..errors import BadRequest
from ..generate.api import Generated, draw
from ..layers import Result, color_layer
from ..protocol import MAX_CANDIDATES
from .detect import find_face
from .mapping import photo_to_params


def photo(photo_rgba: np.ndarray, *, n: int = 4, mode: str = "rough", selection: Any = None) -> Result:
    """Portraits of the photo's largest face (or the one under `selection`): colour candidates, then the
    first candidate's guidance line art, all at the photo's size."""
    t0 = time.perf_counter()
    if not 1 <= int(n) <= MAX_CANDIDATES:
        raise BadRequest(f"n must be between 1 and {MAX_CANDIDATES}")
    detection = find_face(np.ascontiguousarray(photo_rgba[..., :3]), selection=selection)
    t1 = time.perf_counter()
    side = max(photo_rgba.shape[:2])
    candidates = [photo_to_params(detection.face, seed=i) for i in range(int(n))]
    first = Generated(candidates[0], None)
    layers, _ = draw(first, side, mode, transparent=True, suffix=" 1")  # colour 1, then the guidance
    for i, params in enumerate(candidates[1:], start=2):
        images = render(build_portrait(params), side)
        layers.insert(i - 1, color_layer(images["color"], images["parts"], f"Portrait {i}", transparent=True))
    info = {"faces_found": detection.count, "warnings": detection.face.warnings(), **first.info()}
    timing = {"detect": (t1 - t0) * 1e3, "draw": (time.perf_counter() - t1) * 1e3}
    return Result(layers, info, {k: round(v, 2) for k, v in timing.items()})
