"""Image metrics shared by every evaluation: line F1 within a tolerance, PSNR (colour differences: anisketch.colour)."""

from __future__ import annotations

import cv2
import numpy as np

LINE_THRESHOLD = 128  # a line pixel has darkness >= 0.5


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel of `mask` (inf when mask is empty)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def line_f1(pred_darkness: np.ndarray, true_darkness: np.ndarray, tolerance_px: float = 3.0) -> float:
    """F1 of line pixels: a predicted pixel is right within `tolerance_px` of a true one, and vice versa."""
    pred = pred_darkness >= LINE_THRESHOLD
    true = true_darkness >= LINE_THRESHOLD
    if not pred.any() and not true.any():
        return 1.0
    if not pred.any() or not true.any():
        return 0.0
    precision = float((_distance_to(true)[pred] <= tolerance_px).mean())
    recall = float((_distance_to(pred)[true] <= tolerance_px).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)
