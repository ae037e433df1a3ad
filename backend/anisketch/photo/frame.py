"""The face's own frame: where measurements are taken, whatever the photo's pose and size.

Origin midway between the eye centres, x along the eye line (towards the image-right eye), y down
the face, unit = the inter-ocular distance (IOD). With the face mesh the frame is 3-D (the mesh has
depth), so a turned head is measured as if frontal; with the Haar fallback it is the 2-D eye line.
Shifting, scaling or rotating the photo changes only the frame, never the coordinates within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landmarks import OVAL_CHIN, OVAL_TOP, Landmarks


@dataclass
class FaceFrame:
    origin: np.ndarray  # float64[3], image pixels
    axes: np.ndarray  # float64[3, 3], rows: x, y, z unit vectors in image space
    iod: float  # pixels, measured in 3-D

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """Image pixels [k, 3] -> face frame [k, 3] (IOD units)."""
        return (np.asarray(points, np.float64) - self.origin) @ self.axes.T / self.iod

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Face frame [k, 2 or 3] -> image pixels [k, 2]."""
        p = np.asarray(points, np.float64)
        if p.shape[1] == 2:
            p = np.concatenate([p, np.zeros((len(p), 1))], axis=1)
        return (p * self.iod @ self.axes + self.origin)[:, :2]

    @property
    def roll_degrees(self) -> float:
        """Angle of the eye line in the image, clockwise positive (y points down)."""
        x = self.axes[0]
        return float(np.degrees(np.arctan2(x[1], x[0])))


def face_frame(landmarks: Landmarks) -> FaceFrame:
    eye_l, eye_r = landmarks.eye_centre("l"), landmarks.eye_centre("r")
    oval = landmarks["oval"]
    x = eye_r - eye_l
    iod = float(np.linalg.norm(x))
    x = x / iod
    down = (oval[OVAL_CHIN] - oval[OVAL_TOP]).astype(np.float64)
    y = down - (down @ x) * x
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    return FaceFrame(origin=(eye_l + eye_r) / 2, axes=np.stack([x, y, z]), iod=iod)
