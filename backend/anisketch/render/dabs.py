"""Reading the artist's hint layer: where the colour dabs are, what colour each is, which part it lands on.

A hint layer is RGBA with straight alpha (as Krita stores it), transparent where there is no hint. A dab is
a connected blob of pixels with alpha >= 128 (the colouriser's mask uses the same threshold). Its colour is
the alpha-weighted mean of its pixels' colours: soft brush edges carry the right colour in straight alpha,
but count less; fully transparent pixels carry whatever colour Krita left there and never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from ..engine import params as P
from .lab import to_lab

ALPHA_THRESHOLD = 128
AGREE = 10.0  # CIELAB dE76 within which a colour shows a dab's colour (issue 19's measure)
MIN_DAB_PIXELS = 4  # smaller specks are noise (a stray click), not a colour decision
IRIS_PALE_L, IRIS_PALE_CHROMA = 65.0, 25.0  # CIELAB: an iris lighter and greyer than this reads as a blank eye


@dataclass
class Dab:
    color: tuple[int, int, int]  # RGB uint8
    label: str  # part-map label under most of it ("" before the part map is known)
    mask: np.ndarray  # bool [S, S], in the frame of the part map
    box: tuple[int, int, int, int] | None = None  # (y0, y1, x0, x1) holding all of `mask` (None: unknown)

    def info(self) -> dict:
        # the pixel count and centre from image moments (listing every pixel, np.nonzero, cost 3 ms a dab), in
        # the dab's box: over the whole mask they cost 8 ms a dab at a 1800 px crop
        y0, y1, x0, x1 = self.box or (0, self.mask.shape[0], 0, self.mask.shape[1])
        moments = cv2.moments(np.asarray(self.mask[y0:y1, x0:x1], bool).view(np.uint8), binaryImage=True)
        pixels = moments["m00"]
        return {"color": "#%02x%02x%02x" % self.color, "part": self.label, "pixels": int(pixels),
                "center": [round(moments["m10"] / pixels + x0, 1), round(moments["m01"] / pixels + y0, 1)]}


def check_hints(hints_rgba) -> np.ndarray:
    if not isinstance(hints_rgba, np.ndarray) or hints_rgba.dtype != np.uint8 or hints_rgba.ndim != 3 \
            or hints_rgba.shape[2] != 4:
        raise ValueError("the hint layer must be a uint8 RGBA image (height, width, 4)")
    return hints_rgba


def find_dabs(hints_rgba: np.ndarray, parts: np.ndarray | None = None) -> list[Dab]:
    """The dabs of a hint layer, largest first; with `parts` (same height and width), each knows its part."""
    check_hints(hints_rgba)
    alpha = hints_rgba[..., 3]
    solid = (alpha >= ALPHA_THRESHOLD).astype(np.uint8)
    if not solid.any():
        return []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    dabs = []
    for k in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1:
        if stats[k, cv2.CC_STAT_AREA] < MIN_DAB_PIXELS:
            continue
        # Everything within the dab's box: ten dabs each compared over the whole layer cost 8 ms at 512 px.
        x, y, w, h = stats[k, :4]
        box = np.s_[y:y + h, x:x + w]
        inside = labels[box] == k
        weights = alpha[box][inside].astype(np.float64)
        rgb = hints_rgba[box][inside][:, :3].astype(np.float64).T @ weights / weights.sum()
        label = ""
        if parts is not None:
            label = P.PART_LABELS[int(np.bincount(parts[box][inside], minlength=len(P.PART_LABELS)).argmax())]
        r, g, b = (int(c) for c in np.clip(np.rint(rgb), 0, 255))
        mask = np.zeros(labels.shape, bool)
        mask[box] = inside
        dabs.append(Dab((r, g, b), label, mask, (int(y), int(y + h), int(x), int(x + w))))
    return dabs


def region_color(color: np.ndarray, lineart: np.ndarray, parts: np.ndarray, dab: Dab) -> np.ndarray | None:
    """The colour the render shows where the dab lies on its part: the median of those pixels off the lines.

    Falls back to the whole part region when the dab covers too little of it; None when the part is absent.
    In an eye the iris is meant, so near-white (sclera, highlights) and near-black (pupil) pixels are left
    out, as the hint simulator's colour picker does."""
    region = parts == P.LABEL[dab.label]
    off_lines = lineart < 64
    pixels = color[region & off_lines & dab.mask]
    if len(pixels) < MIN_DAB_PIXELS:
        pixels = color[region & off_lines]
    if dab.label in ("eye_l", "eye_r"):
        iris = pixels[(pixels.min(axis=1) < 200) & (pixels.max(axis=1) > 50)]
        pixels = iris if len(iris) >= MIN_DAB_PIXELS else pixels
    if len(pixels) == 0:
        return None
    return np.median(pixels.astype(np.float64), axis=0)


def reads_as_blank_eye(rgb) -> bool:
    """Whether an iris of this colour (RGB) would read as a blank eye: lighter than L* IRIS_PALE_L with chroma
    under IRIS_PALE_CHROMA, where no engine iris lies (none of 2000). A dab of such a colour on an eye colours
    its whites, as an artist who picks white there means, not the iris."""
    lightness, a, b = to_lab(np.asarray(rgb, np.float32)[None])[0]
    return bool(lightness > IRIS_PALE_L and np.hypot(a, b) < IRIS_PALE_CHROMA)


def agreed_color(colors: np.ndarray, weights: np.ndarray, shows: Callable[[np.ndarray], np.ndarray] | None = None,
                 wanted: np.ndarray | None = None) -> np.ndarray:
    """The colour that most of the dabbed pixels on one flat ask for (RGB float): of the dabs' own colours (RGB
    [n, 3], `weights` their pixels) and the pixel-weighted means of those whose dabs lie within 2 x AGREE of each
    other, the one that shows the most dab pixels within AGREE (ties: the nearest to the pixels it shows). Dabs of
    one colour (an artist's picks differ a little) all count; of two far colours on one flat (a lit lock and the
    hair in shade) the larger wins, where a mean of both would show neither.

    `colors` may be what each dab asks of the flat rather than its own colour (the base whose shadow shows it);
    then `wanted` holds the dabs' own colours (RGB [n, 3]) and `shows(candidate)` the colour [n, 3] that the
    flat in that colour shows at each dab (its shadow where the dab lies on one)."""
    rgb, weights = np.asarray(colors, np.float64), np.asarray(weights, np.float64)
    wanted_lab = to_lab(np.asarray(rgb if wanted is None else wanted, np.float32))
    near = np.linalg.norm(wanted_lab[:, None] - wanted_lab[None], axis=2) <= 2 * AGREE
    means = (near * weights) @ rgb / (near @ weights)[:, None]
    candidates = np.concatenate([means, rgb])
    shown = (to_lab(candidates.astype(np.float32))[:, None] if shows is None else
             to_lab(np.stack([shows(c) for c in candidates]).astype(np.float32)))
    distance = np.linalg.norm(shown - wanted_lab[None], axis=2)
    within = distance <= AGREE
    pixels = within @ weights
    spread = (within * distance) @ weights / np.maximum(pixels, 1.0)
    best = np.lexsort((spread, -pixels))[0]  # most pixels shown, then the nearest to them
    return candidates[best]
