"""Pictures for a person to look at: the faces found, and photo | line art | colour per candidate."""

from __future__ import annotations

import cv2
import numpy as np

from .detect import Detection

FOUND, CHOSEN = (255, 170, 0), (0, 220, 90)


def faces_overlay(rgb: np.ndarray, detection: Detection, max_side: int = 768) -> np.ndarray:
    """The photo with every face's box (the chosen one in green) and its landmarks."""
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    out = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb.copy()
    for index, face in enumerate(detection.faces):
        colour = CHOSEN if index == detection.chosen else FOUND
        b = face.box
        cv2.rectangle(out, (int(b.x0 * scale), int(b.y0 * scale)), (int(b.x1 * scale), int(b.y1 * scale)), colour, 2)
        for name, points in face.landmarks.points.items():
            measured = name in face.landmarks.measured
            for x, y in points[:, :2] * scale:
                cv2.circle(out, (int(round(x)), int(round(y))), 1, colour if measured else (200, 200, 200), -1)
        label = f"{index + 1}: {face.source}"
        cv2.putText(out, label, (int(b.x0 * scale), max(12, int(b.y0 * scale) - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, colour, 1, cv2.LINE_AA)
    return out


def candidate_sheet(photo_crop: np.ndarray, rows: list[dict[str, np.ndarray]], labels: list[str]) -> np.ndarray:
    """One row per candidate: photo crop | rough line art | detail line art | colour."""
    size = photo_crop.shape[0]
    header = _text_strip(["photo", "guidance (rough)", "guidance (detail)", "colour"], size)
    lines = [header]
    for row, label in zip(rows, labels):
        tiles = [photo_crop, row["rough"], row["detail"], row["color"]]
        strip = np.hstack(tiles)
        cv2.putText(strip, label, (6, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 3, cv2.LINE_AA)
        cv2.putText(strip, label, (6, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
        lines.append(strip)
    return np.vstack(lines)


def _text_strip(titles: list[str], size: int) -> np.ndarray:
    strip = np.full((24, size * len(titles), 3), 255, np.uint8)
    for k, title in enumerate(titles):
        cv2.putText(strip, title, (k * size + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    return strip


def on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    return np.round(rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
