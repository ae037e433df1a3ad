"""A large guidance crop goes to the backend shrunk, and the shrinking happens off the GUI thread.

The guidance model reads a 256 px window of the sketch, so most of a 1446 or 2048 px crop's pixels only cost
time: Krita's copy is unavoidable, but ZeroMQ moving 8-17 MB and the backend converting them to ink are not.
A crop wider than SEND_SIDE is sent shrunk by a power of two (2 or 4), along with its size on the canvas, and
the backend draws the guidance at that full size all the same.

The shrunk square is aligned to that power on the canvas (its corner and sides are multiples of it), and Qt's
smooth scaling averages each aligned block the same way wherever the crop lies: the same strokes always give
the same pixels, so when the crop grows the backend still sees unchanged pixels where the artist did not draw
(and the guidance of those parts stays put). Qt's scaling releases Python's lock, so the worker thread that
runs it does not hold up Krita's GUI thread.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from . import protocol
from .qt import QImage, Qt, sip
from .region import Box

SEND_SIDE = 1024  # a crop up to this side goes as it is; a larger one is halved until it fits (at most MAX_FACTOR)
MAX_FACTOR = 4  # crops reach 4096 px (protocol.MAX_SIDE)


def send_factor(crop: Box) -> int:
    """By how much the crop's pixels are shrunk for the request: 1, 2 or 4."""
    factor = 1
    while max(crop.w, crop.h) > SEND_SIDE * factor and factor < MAX_FACTOR:
        factor *= 2
    return factor


def aligned_box(crop: Box, factor: int) -> Box:
    """The largest box inside `crop` whose corners lie on multiples of `factor` (canvas pixels)."""
    x0, y0 = -(-crop.x // factor) * factor, -(-crop.y // factor) * factor
    x1, y1 = crop.right // factor * factor, crop.bottom // factor * factor
    return Box(x0, y0, x1 - x0, y1 - y0)


def shrunk_sketch(bgra: Any, crop: Box, box: Box, factor: int) -> protocol.Image:
    """`box` (inside `crop`, whose bgra8 pixels these are) shrunk by `factor`, each output pixel the blend of a
    factor x factor block. Safe to run on a worker thread: it touches Qt images only, not Krita."""
    if len(bgra) < crop.w * crop.h * 4 or not crop.contains(box):
        raise ValueError(f"{len(bgra)} bytes are not the {crop.w}x{crop.h} px crop holding {box}")
    # The box's pixels where they lie in the crop's buffer (no copy): `bgra` outlives the image made on it.
    start = int(sip.voidptr(bgra)) + ((box.y - crop.y) * crop.w + (box.x - crop.x)) * 4
    part = QImage(sip.voidptr(start), box.w, box.h, crop.w * 4, QImage.Format.Format_ARGB32)
    small = part.scaled(box.w // factor, box.h // factor, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_ARGB32)
    bits = small.constBits()
    if bits is None:
        raise MemoryError(f"could not shrink the {box.w}x{box.h} px sketch crop")
    return protocol.Image("sketch", "bgra8", small.width(), small.height(), bits.asstring(small.sizeInBytes()),
                          stride=small.bytesPerLine())


class Shrinker:
    """One worker thread that shrinks crops; `done` is called on the worker with the finished Future (emit a
    Qt signal from it to get back to the GUI thread)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anisketch-shrink")

    def submit(self, work: Callable[[], protocol.Image], done: Callable[[Future], None]) -> None:
        self._pool.submit(work).add_done_callback(done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)  # a shrink takes milliseconds
