"""Find the faces in a photo and describe each: landmarks, alignment, measurements, colours."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import BadRequest
from . import detectors
from .align import alignment_matrix
from .appearance import GLASSES_THRESHOLD, Appearance, analyse
from .detectors import Box
from .frame import FaceFrame, face_frame
from .landmarks import Landmarks
from .measure import Measurements, measure

DETECT_SIDE = 1280  # faces are found on the photo scaled down to this, then measured at full resolution
MAX_FACES = 8  # faces described per photo; a crowd photo is not what the tool is for
MIN_FACE_PX = 24  # smaller faces carry no usable detail
SMALL_FACE_IOD = 20  # px between the eyes under which eyes and mouth are a few pixels: say so


@dataclass
class Face:
    box: Box  # detector box, photo pixels
    landmarks: Landmarks
    frame: FaceFrame
    measurements: Measurements
    appearance: Appearance
    align: np.ndarray = field(repr=False)  # 2x3 photo -> canonical 256 px crop (FFHQ-like)

    @property
    def source(self) -> str:
        return self.landmarks.source

    @property
    def glasses(self) -> bool:
        return self.appearance.glasses > GLASSES_THRESHOLD

    def warnings(self) -> list[str]:
        """What the artist should know about this face's portrait (shown beside the result)."""
        notes = []
        if self.source == "haar":
            notes.append("face shape not measured (Haar cascades, no MediaPipe face mesh): only the eyes, "
                         "mouth width and colours come from the photo")
        yaw = self.measurements.yaw
        if yaw is not None and abs(yaw) > 30:
            notes.append(f"the face is turned {abs(yaw):.0f}° away: it is drawn nearly frontal and its "
                         "measurements are rough")
        if self.size < SMALL_FACE_IOD:
            notes.append(f"the face is small ({self.size:.0f} px between the eyes): use a larger photo or "
                         "select the face for a closer likeness")
        return notes

    @property
    def size(self) -> float:
        """Face size in photo pixels (inter-ocular distance), what "largest" compares."""
        return self.frame.iod


@dataclass
class Detection:
    faces: list[Face]  # largest first
    chosen: int  # index into faces
    backend: str
    timing_ms: dict[str, float]

    @property
    def face(self) -> Face:
        return self.faces[self.chosen]

    @property
    def count(self) -> int:
        return len(self.faces)


def as_rgb(photo: np.ndarray) -> np.ndarray:
    """RGB uint8 from gray, RGB or RGBA (transparent pixels over white) uint8 photos."""
    photo = np.asarray(photo)
    if photo.dtype != np.uint8 or photo.ndim not in (2, 3) or (photo.ndim == 3 and photo.shape[2] not in (1, 3, 4)):
        raise BadRequest(f"the photo must be an 8-bit gray, RGB or RGBA image, not {photo.dtype} {photo.shape}")
    if min(photo.shape[:2]) < MIN_FACE_PX:
        raise BadRequest(f"the photo is too small ({photo.shape[1]}x{photo.shape[0]} px) to find a face in")
    if photo.ndim == 2:
        return np.repeat(photo[:, :, None], 3, axis=2)
    if photo.shape[2] == 1:
        return np.repeat(photo, 3, axis=2)
    if photo.shape[2] == 4:
        alpha = photo[:, :, 3:4].astype(np.float32) / 255
        return np.round(photo[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(photo)


def detect_faces(photo: np.ndarray, backend: str = "auto") -> list[Face]:
    """Every face found (up to MAX_FACES), largest first. Empty list when there is none."""
    return _detect(as_rgb(photo), backend)[0]


def find_face(photo: np.ndarray, selection: tuple[float, float, float, float] | None = None,
              backend: str = "auto") -> Detection:
    """The face to draw: the largest, or the one under `selection` (x0, y0, x1, y1 in photo pixels).

    Raises BadRequest with a message for the artist when there is no face (or none under the selection).
    """
    rgb = as_rgb(photo)
    faces, name, timing = _detect(rgb, backend)
    if not faces:
        raise BadRequest("no face found in the photo: use a photo (or a selection) where one face is seen "
                         "from the front, at least about 60 px wide, not covered")
    chosen = 0
    if selection is not None:
        chosen = _under_selection(faces, selection)
    return Detection(faces=faces, chosen=chosen, backend=name, timing_ms=timing)


def _under_selection(faces: list[Face], selection: tuple[float, float, float, float]) -> int:
    x0, y0, x1, y1 = selection
    area = Box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    overlaps = [_covered(face.box, area) for face in faces]
    best = int(np.argmax(overlaps))
    if overlaps[best] < 0.3:
        raise BadRequest(f"no face under the selection: the photo has {len(faces)} face(s) elsewhere; "
                         "select a face, or clear the selection to use the largest")
    return best


def _covered(box: Box, area: Box) -> float:
    """Fraction of the face box inside the selected area."""
    w = min(box.x1, area.x1) - max(box.x0, area.x0)
    h = min(box.y1, area.y1) - max(box.y0, area.y0)
    return max(0.0, w) * max(0.0, h) / max(box.area, 1e-9)


def _detect(rgb: np.ndarray, backend: str) -> tuple[list[Face], str, dict[str, float]]:
    finder = detectors.finder(backend)
    start = time.perf_counter()
    boxes = _distinct(sorted(_find_boxes(finder, rgb), key=lambda b: -b.area))
    boxes = [b for b in boxes if min(b.x1 - b.x0, b.y1 - b.y0) >= MIN_FACE_PX][:MAX_FACES]
    found = time.perf_counter()
    faces = []
    for box in boxes:
        landmarks = finder.landmarks(rgb, box)
        if landmarks is None and finder.name == "mediapipe":  # the mesh disagrees: take what Haar sees
            landmarks = detectors.finder("haar").landmarks(rgb, box)
        if landmarks is not None:
            faces.append(_describe(rgb, box, landmarks))
    described = time.perf_counter()
    faces.sort(key=lambda f: -f.size)
    timing = {"detect": 1000 * (found - start), "describe": 1000 * (described - found)}
    return faces, finder.name, timing


def _find_boxes(finder, rgb: np.ndarray) -> list[Box]:
    """Boxes found on a copy at most DETECT_SIDE px wide (detectors need no more), in photo pixels.

    A sideways or upside-down photo (a phone picture without its orientation tag) is searched again
    turned by quarter turns; the boxes keep the face's roll, so the mesh still sees it upright. Only
    MediaPipe can use that roll: the Haar cascades look upright faces only.
    """
    factor = min(1.0, DETECT_SIDE / max(rgb.shape[:2]))
    small = rgb if factor == 1 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    turns = (0, 1, 3, 2) if finder.name == "mediapipe" else (0,)
    for quarter_turns in turns:
        found = finder.boxes(np.ascontiguousarray(np.rot90(small, quarter_turns)))
        if found:
            return [_unturned(box, quarter_turns, small.shape, factor) for box in found]
    return []


def _unturned(box: Box, quarter_turns: int, shape: tuple[int, ...], factor: float) -> Box:
    """A box found on np.rot90(small, quarter_turns), back in the original photo's pixels."""
    h, w = shape[:2]
    corners = np.array([[box.x0, box.y0], [box.x1, box.y1]])
    for done in range(quarter_turns, 0, -1):  # undo one counter-clockwise quarter turn at a time
        width_before = w if (done - 1) % 2 == 0 else h  # (x, y) -> (y, width - x) was that turn
        corners = np.stack([width_before - corners[:, 1], corners[:, 0]], axis=1)
    (x0, y0), (x1, y1) = corners.min(axis=0) / factor, corners.max(axis=0) / factor
    return Box(float(x0), float(y0), float(x1), float(y1), box.score, box.roll + quarter_turns * np.pi / 2)


def _distinct(boxes: list[Box], overlap: float = 0.4) -> list[Box]:
    kept: list[Box] = []
    for box in boxes:
        if all(box.iou(k) < overlap for k in kept):
            kept.append(box)
    return kept


def _describe(rgb: np.ndarray, box: Box, landmarks: Landmarks) -> Face:
    frame = face_frame(landmarks)
    measurements = measure(landmarks, frame)
    appearance = analyse(rgb, landmarks, frame)
    if landmarks.source == "mediapipe" or "eye_centres" in landmarks.measured:
        measurements.glasses = appearance.glasses
    measurements.hair_length = appearance.hair_length
    measurements.hair_top = appearance.hair_top
    measurements.hair_side = appearance.hair_side
    return Face(box=box, landmarks=landmarks, frame=frame, measurements=measurements,
                appearance=appearance, align=alignment_matrix(landmarks))
