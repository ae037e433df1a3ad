"""CIELAB of sRGB colours through OpenCV: fast at full resolution, what the production layers and the hint dabs
measure colour distances in (`anisketch.colour` holds the exact numpy conversion and CIEDE2000)."""

from __future__ import annotations

import cv2
import numpy as np


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L 0..100) of RGB 0..255, float32, any [..., 3] shape."""
    flat = np.ascontiguousarray(np.asarray(rgb, np.float32).reshape(1, -1, 3)) * (1.0 / 255.0)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))
