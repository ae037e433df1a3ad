"""The contact sheet: one row per sample, so that a person can judge the data at a glance.

Columns: colour | line art | parts (false colour) | sketch at 25 / 50 / 75 / 100 % | hints (over a faded
colour image). Rows are built from thumbnails as samples are made, so the sheet costs no second pass.
"""

from __future__ import annotations

import cv2
import numpy as np

from anisketch.data import format as fmt
from anisketch.data.sample import Sample

COLUMNS = ("colour", "line art", "parts", "sketch 25%", "sketch 50%", "sketch 75%", "sketch 100%", "hints")
CELL = 160
GAP = 4
HEADER = 22


def thumbnail_row(sample: Sample, cell: int = CELL) -> np.ndarray:
    """One row of the sheet, uint8[cell, len(COLUMNS) * (cell + GAP), 3]."""
    def fit(image, interpolation=cv2.INTER_AREA):
        return cv2.resize(image, (cell, cell), interpolation=interpolation)

    def paper(darkness):
        return np.repeat(255 - fit(darkness)[..., None], 3, axis=2)

    blank = np.full((cell, cell, 3), 255, np.uint8)
    parts = (fit(fmt.false_color(sample.parts), cv2.INTER_NEAREST) if sample.parts is not None else blank)
    sketches = [paper(sample.sketches[f]) if f in sample.sketches else blank for f in fmt.FRACTION_NAMES]
    cells = [fit(sample.color), paper(sample.lineart), parts, *sketches, _hints_cell(sample, fit)]
    return _join(cells, axis=1)


def _hints_cell(sample: Sample, fit) -> np.ndarray:
    hints = fit(sample.hints)
    alpha = hints[..., 3:4].astype(np.float32) / 255
    faded = fit(sample.color).astype(np.float32) * 0.3 + 255 * 0.7
    return np.rint(faded * (1 - alpha) + hints[..., :3] * alpha).astype(np.uint8)


def _join(images: list, axis: int) -> np.ndarray:
    shape = list(images[0].shape)
    shape[axis] = GAP
    gap = np.full(shape, 255, np.uint8)
    pieces = []
    for image in images:
        pieces += [image, gap]
    return np.concatenate(pieces[:-1], axis=axis)


def contact_sheet(rows: list[np.ndarray], cell: int = CELL) -> np.ndarray:
    """Rows under a header with the column names; uint8 RGB."""
    width = rows[0].shape[1]
    header = np.full((HEADER, width, 3), 255, np.uint8)
    for i, title in enumerate(COLUMNS):
        cv2.putText(header, title, (i * (cell + GAP) + 4, HEADER - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (60, 60, 60), 1, cv2.LINE_AA)
    return _join([header, *rows], axis=0)
