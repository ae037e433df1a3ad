"""Face alignment: a similarity transform from the photo to a canonical, FFHQ-like square crop.

FFHQ's recipe (Karras et al. 2019, ffhq-dataset/download_ffhq.py): the crop's centre sits a tenth
of the way from the eye midpoint to the mouth midpoint, its half side is the larger of twice the
eye-to-eye distance and 1.8 times the eye-to-mouth distance, and its axes follow the face. Eyes and
mouth alone define it, so both detectors align the same way.
"""

from __future__ import annotations

import cv2
import numpy as np

from .landmarks import Landmarks


def alignment_matrix(landmarks: Landmarks, size: int = 256, zoom: float = 1.0) -> np.ndarray:
    """2x3 matrix mapping photo pixels to the canonical crop (`zoom` > 1 shows more around the face)."""
    eye_l, eye_r = landmarks.eye_centre("l")[:2], landmarks.eye_centre("r")[:2]
    mouth_l, mouth_r = (c[:2] for c in landmarks.mouth_corners())
    eye_avg = (eye_l + eye_r) / 2
    eye_to_eye = eye_r - eye_l
    eye_to_mouth = (mouth_l + mouth_r) / 2 - eye_avg
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])
    x = x / np.hypot(*x) * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8) * zoom
    y = np.array([-x[1], x[0]])
    centre = eye_avg + eye_to_mouth * 0.1
    quad = np.array([centre - x - y, centre - x + y, centre + x - y], np.float32)  # top-left, bottom-left, top-right
    target = np.array([[0, 0], [0, size], [size, 0]], np.float32)
    return cv2.getAffineTransform(quad, target)


def aligned_crop(rgb: np.ndarray, landmarks: Landmarks, size: int = 256, zoom: float = 1.0) -> np.ndarray:
    matrix = alignment_matrix(landmarks, size, zoom)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
