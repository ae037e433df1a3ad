"""A face the canvas's edge cuts: read it a second time, its first reading drawn faintly beyond the cut.

The plugin's crop holds every stroke drawn and a margin round them, so ink reaches a request's edge only where
the canvas ends there: a bust whose shoulders run off the bottom, a face drawn against the canvas's side. The
encoder places the lines it sees partly by the lines it cannot: the same sketches drawn whole and scored on the
same pixels read 0.05-0.1 better (docs/guidance.md, "What lies beyond the request"). So once the artist has drawn
most of what the first reading shows inside the request, that reading's lines are laid faintly into the window
beyond the edges the ink reaches, and the encoder reads the window again. Early in a drawing the first reading
is too unsure to lean on (it was read back with more confidence than it deserved), so then nothing changes, and
a request whose ink stays clear of its edges is read once, as before.

Where the client says how large the canvas is (the plugin does), the canvas's own edges are the ones that cut:
a crop larger than a small canvas reaches past it, and Krita reads blank paper there.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..engine.raster import render_lines
from .framing import Window

EDGE_PX = 3  # ink this close to a side of the request runs off it
EDGE_INK = 60  # darkness (of 255) that counts as ink there: a pencil line, not paper grain
# The first reading's lines inside the request that must lie near the artist's ink (within SUPPORT_PX at the
# encoder's 256 px) before it is drawn beyond the cut: about three quarters into a drawing. Lower, and the early
# readings lean on guesses (25-50 % of the strokes lost up to 0.026 on 32 portraits at 0.6).
SUPPORT_MIN, SUPPORT_PX = 0.8, 5.0
BEYOND_MIN = 0.2  # share of the reading's lines beyond the cut: less, and there is little of the face to complete
STRENGTH = 0.6  # the completion's darkness: a faint line, as a light pencil draws


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in request pixels


def on_canvas(shape: tuple[int, int], origin: tuple[int, int], scale: float, canvas: tuple[int, int] | None) -> Box:
    """The part of a request (`shape`, its top-left at `origin` on the canvas, `scale` canvas px per pixel) that
    lies on a canvas of size `canvas` [w, h]; the whole request where the canvas is not told."""
    h, w = shape
    if canvas is None:
        return 0.0, 0.0, float(w), float(h)
    return (max(0.0, -origin[0] / scale), max(0.0, -origin[1] / scale),
            min(float(w), (canvas[0] - origin[0]) / scale), min(float(h), (canvas[1] - origin[1]) / scale))


def edges_with_ink(darkness: np.ndarray, box: Box) -> tuple[bool, bool, bool, bool]:
    """Which sides of `box` (left, top, right, bottom) the ink runs off."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    ink = darkness[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] > EDGE_INK
    if ink.size == 0:
        return False, False, False, False
    return (bool(ink[:, :EDGE_PX].any()), bool(ink[:EDGE_PX].any()), bool(ink[:, -EDGE_PX:].any()),
            bool(ink[-EDGE_PX:].any()))


def beyond_sides(box: Box, window: Window, size: int, sides: tuple[bool, ...]) -> np.ndarray:
    """bool [size, size]: the window's pixels (window in request pixels) beyond the chosen sides of `box`."""
    x0, y0, x1, y1 = box
    steps = (np.arange(size) + 0.5) * (window.side / size)
    x, y = window.x + steps, window.y + steps
    left, top, right, bottom = sides
    columns = (left & (x < x0)) | (right & (x > x1))
    rows = (top & (y < y0)) | (bottom & (y > y1))
    return columns[None, :] | rows[:, None]


def cut_part(darkness: np.ndarray, window: Window, size: int, box: Box) -> tuple[np.ndarray, np.ndarray] | None:
    """(beyond the cut, inside `box`), bool [size, size] each, for a request whose ink runs off a side of `box`
    (on_canvas) into the window; None when nothing of the window lies beyond such a side."""
    sides = edges_with_ink(darkness, box)
    if not any(sides):
        return None
    beyond = beyond_sides(box, window, size, sides)
    if not beyond.any():
        return None
    return beyond, ~beyond_sides(box, window, size, (True,) * 4)


def completed(image: np.ndarray, reading: list, beyond: np.ndarray, inside: np.ndarray) -> np.ndarray | None:
    """The window's image with the first reading's lines (`reading`: strokes in window units) drawn faintly
    beyond the cut, or None while the drawing is not far enough along to lean on it."""
    lines = render_lines(reading, image.shape[0]).astype(np.float32) / 255.0
    drawn = lines > 0.3
    if (drawn & beyond).sum() < BEYOND_MIN * max(int(drawn.sum()), 1):
        return None
    shown = drawn & inside
    ink = image > 0.15
    near_ink = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3) <= SUPPORT_PX
    if (shown & near_ink).sum() < SUPPORT_MIN * max(int(shown.sum()), 1):
        return None
    return np.maximum(image, lines * (STRENGTH * beyond))
