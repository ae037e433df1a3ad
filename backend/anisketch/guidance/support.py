"""What of a guided face the artist's ink supports: accessories are drawn only where strokes support them, and each
part gets a confidence (the share of its lines lying near ink) for the docker to show."""

from __future__ import annotations

import cv2
import numpy as np

from ..engine import params as P
from ..engine.curves import row_lengths
from ..engine.geometry import Portrait
from ..engine.raster import render_lines
from .hold import lines_remembered


# Accessories are drawn only where strokes support them: a hat, ribbon or glasses whose lines mostly lie
# away from the artist's ink is dropped (a beginner's jaw is no hat brim, a construction circle no glasses).
ACCESSORIES = ("hat", "ribbon", "glasses")
# Share of the accessory's line length within a few pixels of unexplained ink. 0.35 dropped half of the accessories
# artists had drawn in full (a ribbon sits among hair lines, glasses beside the eyes' lines, and the predicted one a
# few pixels off the drawn one), which left a drawn hat as bare lines over the background in a colour render.
# Validation seeds (1.5e9.., 60 portraits x 8 styles x 4 levels): of the accessories predicted on complete
# sketches that wear them, 0.35 kept 53 %, 0.2 keeps 83 %; predicted on portraits without any, the largest support
# was 0.14; predicted before any of their strokes were drawn, 0.05.
ACCESSORY_SUPPORT = 0.2


def drop_unsupported_accessories(floats, choices, image, pins) -> tuple[np.ndarray, np.ndarray]:
    """Turn off each accessory whose lines are not supported by ink that the rest of the face leaves
    unexplained (glasses rims run close to the eyes: ink near the eyes is the eyes' unless more is drawn)."""
    if "accessories" in pins:
        return floats, choices
    params = P.decode(floats, choices)
    worn = [name for name in ACCESSORIES if params[name] != 0]
    if not worn:
        return floats, choices
    bare = dict(params)
    bare.update({name: 0 for name in ACCESSORIES})
    # Both drawings below are the face being guided with other accessories: they share its parts (the memo).
    residual = unexplained_ink(image, lines_remembered(P.canonicalize(P.Params(bare))))
    for name in worn:
        alone = P.Params(bare)
        alone[name] = params[name]
        lines = lines_remembered(P.canonicalize(alone), frozenset({"accessories"}))
        if line_support(lines, residual) < ACCESSORY_SUPPORT:
            params[name] = 0
    return P.encode(P.canonicalize(params))


SUPPORT_SIZE, SUPPORT_TOLERANCE_PX = 128, 2.5


def unexplained_ink(image: np.ndarray, strokes: list) -> np.ndarray:
    """Ink (bool [SUPPORT_SIZE]^2) farther than the tolerance from every one of `strokes`."""
    ink = cv2.resize(image, (SUPPORT_SIZE, SUPPORT_SIZE), interpolation=cv2.INTER_AREA) > 0.15
    lines = render_lines(strokes, SUPPORT_SIZE) > 0
    explained = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, 3) <= SUPPORT_TOLERANCE_PX
    return ink & ~explained


def line_support(strokes: list, ink: np.ndarray) -> float:
    """Share of the strokes' centre-line length lying near `ink` (bool [SUPPORT_SIZE]^2); 0 without lines."""
    share = share_near(strokes, near_ink(ink))
    return 0.0 if share is None else share


def near_ink(ink: np.ndarray) -> np.ndarray:
    """Pixels within the tolerance of any ink pixel (bool [SUPPORT_SIZE]^2)."""
    return cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3) <= SUPPORT_TOLERANCE_PX


def share_near(strokes: list, near: np.ndarray) -> float | None:
    """Share of the strokes' centre-line length on `near` pixels; lines leaving the canvas count where seen.
    None when no line is seen."""
    lines = [s.points for s in strokes if len(s.points) >= 2]
    if not lines:
        return None
    points, weights = centre_line_samples(lines, SUPPORT_SIZE)
    pixel = np.floor(points).astype(np.intp)
    on = (pixel >= 0) & (pixel < SUPPORT_SIZE)
    inside = on[:, 0] & on[:, 1]
    pixel, weights = pixel[inside], weights[inside]
    if weights.sum() <= 0:
        return None
    return float((weights * near[pixel[:, 1], pixel[:, 0]]).sum() / weights.sum())


def group_support(portrait: Portrait, image: np.ndarray) -> dict[str, float]:
    """Per group, the share of its predicted line length lying near ink the artist has drawn: 0 = guessed,
    1 = drawn. Measured along the strokes' centre lines (each vertex weighted by the length it stands for)
    rather than on rasterised strokes, which cost 3 ms a guide."""
    near = near_ink(cv2.resize(image, (SUPPORT_SIZE, SUPPORT_SIZE), interpolation=cv2.INTER_AREA) > 0.15)
    support = {}
    for group in P.GROUPS:
        share = share_near([s for s in portrait.strokes if s.group == group], near)
        if share is not None:
            support[group] = round(share, 3)
    return support


def centre_line_samples(lines: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """All vertices of the polylines in pixels [N, 2], each weighted by half of its two segments' lengths."""
    points = np.concatenate(lines).astype(np.float64) * size
    seg = row_lengths(points[1:] - points[:-1])
    ends = np.cumsum([len(line) for line in lines])[:-1]
    seg[ends - 1] = 0.0  # no segment joins the last vertex of one line to the first of the next
    weights = np.zeros(len(points))
    weights[:-1] += seg / 2
    weights[1:] += seg / 2
    return points, weights
