"""The two face finders: MediaPipe (face detector + 478-point mesh) and OpenCV's Haar cascades.

Both ship their models inside the PyPI wheel, so nothing is fetched at run time. MediaPipe is an
optional extra (`pip install anisketch[photo]`, see docs/photo.md for the numpy caveat); without it
the Haar cascades still find faces, eyes and mouths, and the measurements they cannot support stay
unknown (None) instead of being guessed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..errors import BadRequest
from . import landmarks as lm

MESH_CROP = 384  # px: faces are cropped, upright-scaled to this square, then meshed
MESH_MARGIN = 1.1  # the crop spans the detector box plus this many box sizes around it


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0
    roll: float = 0.0  # radians, eye line angle when the detector gives eye points (MediaPipe does)

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2])

    def iou(self, other: "Box") -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        inter = max(0.0, w) * max(0.0, h)
        return inter / max(1e-9, self.area + other.area - inter)


def mediapipe_available() -> bool:
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        return False
    return True


class MediapipeFinder:
    """MediaPipe's full-range face detector for boxes, then the face mesh on a crop of each box.

    Meshing a crop rather than the whole photo lets small faces in large photos work (the mesh's own
    detector is short-range) and tells the mesh which face we mean.
    """

    name = "mediapipe"

    def __init__(self) -> None:
        import mediapipe as mp  # the optional extra; callers check mediapipe_available() first

        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.5)
        self._mesher = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3)
        self._lock = threading.Lock()  # the graphs are not re-entrant

    def boxes(self, rgb: np.ndarray) -> list[Box]:
        h, w = rgb.shape[:2]
        with self._lock:
            result = self._detector.process(np.ascontiguousarray(rgb))
        found = []
        for det in result.detections or []:
            r = det.location_data.relative_bounding_box
            eye_l, eye_r = det.location_data.relative_keypoints[:2]  # image left, right on upright faces
            roll = float(np.arctan2((eye_r.y - eye_l.y) * h, (eye_r.x - eye_l.x) * w))
            found.append(Box(r.xmin * w, r.ymin * h, (r.xmin + r.width) * w, (r.ymin + r.height) * h,
                             float(det.score[0]), roll))
        return found

    def landmarks(self, rgb: np.ndarray, box: Box) -> lm.Landmarks | None:
        crop, to_crop = crop_around(rgb, box)
        with self._lock:
            result = self._mesher.process(crop)
        if not result.multi_face_landmarks:
            return None
        mesh = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], np.float32)
        mesh *= MESH_CROP  # normalised crop coordinates -> crop pixels (z shares x's scale)
        back = cv2.invertAffineTransform(to_crop)
        return lm.from_mesh(mesh).transformed(back)


class HaarFinder:
    """OpenCV's bundled cascades: faces, then eyes and a smile inside each face box."""

    name = "haar"

    def __init__(self) -> None:
        self._faces = _cascade("haarcascade_frontalface_default.xml")
        self._eyes = _cascade("haarcascade_eye_tree_eyeglasses.xml")
        self._smiles = _cascade("haarcascade_smile.xml")

    def boxes(self, rgb: np.ndarray) -> list[Box]:
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        side = max(24, min(gray.shape) // 16)
        rects, _, weights = self._faces.detectMultiScale3(
            gray, scaleFactor=1.08, minNeighbors=6, minSize=(side, side), outputRejectLevels=True)
        return [Box(float(x), float(y), float(x + w), float(y + h), float(s))
                for (x, y, w, h), s in zip(rects, np.ravel(weights))]

    def landmarks(self, rgb: np.ndarray, box: Box) -> lm.Landmarks:
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        x0, y0, w, h = int(box.x0), int(box.y0), int(box.x1 - box.x0), int(box.y1 - box.y0)
        measured: set[str] = set()
        eyes = self._eye_pair(gray, x0, y0, w, h)
        if eyes is None:  # typical positions inside a Haar face box
            eyes = (np.array([x0 + 0.31 * w, y0 + 0.39 * h]), np.array([x0 + 0.69 * w, y0 + 0.39 * h]))
        else:
            measured.add("eye_centres")
        mouth = self._mouth(gray, x0, y0, w, h)
        if mouth is not None:
            measured.add("mouth_corners")
        eye_l, eye_r = eyes
        return lm.from_template(eye_l, eye_r, measured=frozenset(measured), source="haar",
                                mouth_width=None if mouth is None else mouth[1],
                                mouth_centre=None if mouth is None else mouth[0])

    def _eye_pair(self, gray, x0, y0, w, h):
        top = gray[y0 + int(0.15 * h): y0 + int(0.6 * h), x0: x0 + w]
        if top.size == 0:
            return None
        found = self._eyes.detectMultiScale(top, 1.05, 4, minSize=(max(8, w // 10),) * 2)
        centres = [np.array([x0 + x + ew / 2, y0 + int(0.15 * h) + y + eh / 2]) for x, y, ew, eh in found]
        left = [c for c in centres if c[0] < x0 + 0.5 * w]
        right = [c for c in centres if c[0] >= x0 + 0.5 * w]
        if not left or not right:
            return None
        # The pair most nearly level and closest to the typical spacing (0.38 of the box width).
        pairs = [(abs(lt[1] - rt[1]) + abs(np.hypot(*(rt - lt)) - 0.38 * w), lt, rt) for lt in left for rt in right]
        _, lt, rt = min(pairs, key=lambda t: t[0])
        return lt, rt

    def _mouth(self, gray, x0, y0, w, h):
        band_top = y0 + int(0.6 * h)
        band = gray[band_top: y0 + int(1.05 * h), x0 + w // 6: x0 + w - w // 6]
        if band.size == 0:
            return None
        found = self._smiles.detectMultiScale(band, 1.1, 20, minSize=(w // 5, h // 12))
        if len(found) == 0:
            return None
        x, y, mw, mh = max(found, key=lambda r: r[2] * r[3])
        centre = np.array([x0 + w // 6 + x + mw / 2, band_top + y + mh / 2])
        return centre, 0.8 * mw  # the smile box is a little wider than the lips


@lru_cache(maxsize=None)
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + name  # type: ignore[attr-defined]  # (missing from OpenCV's stubs)
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's bundled cascade {path} is missing: reinstall opencv-python-headless<5")
    return cascade


def crop_around(rgb: np.ndarray, box: Box, size: int = MESH_CROP) -> tuple[np.ndarray, np.ndarray]:
    """A square crop centred on the box, turned upright and scaled to `size`.

    Returns the crop and the image->crop transform. Turning the face upright first means the mesh
    sees the same picture however the photo was rotated.
    """
    side = max(box.x1 - box.x0, box.y1 - box.y0) * (1 + 2 * MESH_MARGIN)
    scale = size / side
    c, s = np.cos(-box.roll) * scale, np.sin(-box.roll) * scale
    centre = box.centre
    rotation = np.array([[c, -s], [s, c]])
    to_crop = np.concatenate([rotation, (size / 2 - rotation @ centre)[:, None]], axis=1)
    crop = cv2.warpAffine(rgb, to_crop, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return crop, to_crop


@lru_cache(maxsize=None)
def finder(backend: str = "auto"):
    """The shared finder for `backend` ("auto", "mediapipe" or "haar"), built once."""
    if backend == "auto":
        backend = "mediapipe" if mediapipe_available() else "haar"
    if backend == "mediapipe":
        if not mediapipe_available():
            raise BadRequest("the MediaPipe face mesh is not installed: install it with `pip install --no-deps "
                             "mediapipe==0.10.21 absl-py attrs flatbuffers 'protobuf>=4.25.3,<5'` (see "
                             "docs/photo.md), or use the Haar cascades (backend 'haar')")
        return MediapipeFinder()
    if backend == "haar":
        return HaarFinder()
    raise BadRequest(f"unknown face finder {backend!r}: use auto, mediapipe or haar")
