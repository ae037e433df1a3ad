"""Shape measurements of a face, in its own frame (see frame.py): pose, size and shift drop out.

Every length is in inter-ocular distances (IOD) or is a ratio; angles are degrees. A measurement is
None when the landmarks behind it were not located in the photo (the Haar fallback locates only the
eyes and perhaps the mouth): the mapping then leaves that part to the engine's prior.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from .frame import FaceFrame
from .landmarks import LID_PAIRS, OVAL_CHIN, OVAL_LEFT, OVAL_RIGHT, OVAL_TOP, Landmarks

# Measurements that swap or change sign when the photo is mirrored.
_SIDED = ("eye_width", "eye_openness", "eye_tilt", "brow_height", "brow_tilt")
_SIGNED = ("roll", "yaw")


@dataclass
class Measurements:
    # face shape
    face_aspect: float | None = None  # face width at the cheekbones / forehead-top-to-chin height
    jaw_ratio: float | None = None  # width at the jaw angles / face width: low = narrow, tapered jaw
    chin_taper: float | None = None  # width near the chin / face width: low = pointed chin
    chin_length: float | None = None  # mouth centre to chin, IOD
    # eyes ("_l" = the eye on the image's left)
    eye_width_l: float | None = None  # corner to corner, IOD
    eye_width_r: float | None = None
    eye_openness_l: float | None = None  # lid distance / eye width
    eye_openness_r: float | None = None
    eye_tilt_l: float | None = None  # degrees, outer corner above the inner one is positive
    eye_tilt_r: float | None = None
    eye_spacing: float | None = None  # IOD / face width
    # brows
    brow_height_l: float | None = None  # brow above the eye centre, IOD
    brow_height_r: float | None = None
    brow_tilt_l: float | None = None  # degrees, inner end raised (worried) positive, lowered (stern) negative
    brow_tilt_r: float | None = None
    # mouth
    mouth_width: float | None = None  # corner to corner, IOD
    mouth_openness: float | None = None  # inner lip gap / mouth width
    smile: float | None = None  # corners above the lip centre line / mouth width
    # pose
    roll: float | None = None  # degrees, eye line clockwise in the image
    yaw: float | None = None  # degrees, nose towards the image's right is positive
    # from the pixels (appearance.py)
    glasses: float | None = None  # frame evidence; above appearance.GLASSES_THRESHOLD = glasses
    hair_length: float | None = None  # lowest hair below the chin, IOD (negative: above the chin)
    hair_top: float | None = None  # hair above the top of the face oval, IOD
    hair_side: float | None = None  # hair beyond the face's sides at the temples, IOD

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)

    def mirrored(self) -> "Measurements":
        """What the mirrored photo should measure: sides swapped, roll and yaw negated."""
        values = self.as_dict()
        for name in _SIDED:
            values[f"{name}_l"], values[f"{name}_r"] = values[f"{name}_r"], values[f"{name}_l"]
        for name in _SIGNED:
            value = values[name]
            if value is not None:
                values[name] = -value
        return Measurements(**values)

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(Measurements)]

    def mean_of(self, name: str) -> float | None:
        """Average of a sided measurement ("eye_openness" -> mean of _l and _r), or the value itself."""
        pair = [v for v in (getattr(self, f"{name}_{s}", None) for s in "lr") if v is not None]
        if pair:
            return float(np.mean(pair))
        return getattr(self, name, None)


def measure(landmarks: Landmarks, frame: FaceFrame) -> Measurements:
    has = landmarks.measured.__contains__
    p = {name: frame.to_face(points)[:, :2] for name, points in landmarks.points.items()}
    m = Measurements()
    if has("eye_centres"):
        m.roll = frame.roll_degrees
    if has("oval"):
        _face_shape(m, p)
    if has("eye_l") and has("eye_r"):
        _eyes(m, p)
    if has("brow_l") and has("brow_r"):
        _brows(m, p)
    if has("lips_inner") and has("lips_outer"):
        _mouth(m, p)
    elif has("mouth_corners"):
        left, right = p["lips_outer"][0], p["lips_outer"][10]
        m.mouth_width = float(np.hypot(*(right - left)))
    if has("nose") and has("oval"):
        m.yaw = _yaw(landmarks)
    return m


def _face_shape(m: Measurements, p: dict[str, np.ndarray]) -> None:
    oval = p["oval"]
    width = _span(oval, OVAL_LEFT, OVAL_RIGHT)
    height = oval[OVAL_CHIN, 1] - oval[OVAL_TOP, 1]
    m.face_aspect = float(width / height)
    m.jaw_ratio = float(_span(oval, 24, 12) / width)
    m.chin_taper = float(_span(oval, 20, 16) / width)
    mouth_centre = (p["lips_outer"][0] + p["lips_outer"][10]) / 2
    m.chin_length = float(oval[OVAL_CHIN, 1] - mouth_centre[1])
    m.eye_spacing = float(1.0 / width)  # the frame's unit is the IOD


def _eyes(m: Measurements, p: dict[str, np.ndarray]) -> None:
    for side in "lr":
        eye = p[f"eye_{side}"]
        outer, inner = eye[0], eye[8]
        width = float(np.hypot(*(outer - inner)))
        gap = np.mean([eye[lower, 1] - eye[upper, 1] for upper, lower in LID_PAIRS])
        setattr(m, f"eye_width_{side}", width)
        setattr(m, f"eye_openness_{side}", float(max(gap, 0.0) / width))
        setattr(m, f"eye_tilt_{side}", float(np.degrees(np.arctan2(inner[1] - outer[1], abs(inner[0] - outer[0])))))


def _brows(m: Measurements, p: dict[str, np.ndarray]) -> None:
    for side in "lr":
        brow, eye = p[f"brow_{side}"], p[f"eye_{side}"]
        eye_centre_y = (eye[0, 1] + eye[8, 1]) / 2
        outer, inner = brow[0], brow[-1]
        setattr(m, f"brow_height_{side}", float(eye_centre_y - brow[:, 1].mean()))
        setattr(m, f"brow_tilt_{side}", float(np.degrees(np.arctan2(outer[1] - inner[1], abs(inner[0] - outer[0])))))


def _mouth(m: Measurements, p: dict[str, np.ndarray]) -> None:
    outer, inner = p["lips_outer"], p["lips_inner"]
    left, right = outer[0], outer[10]
    width = float(np.hypot(*(right - left)))
    gap = np.mean([inner[lower, 1] - inner[upper, 1] for upper, lower in ((4, 16), (5, 15), (6, 14))])
    centre_y = (inner[5, 1] + inner[15, 1]) / 2
    m.mouth_width = width
    m.mouth_openness = float(max(gap, 0.0) / width)
    m.smile = float((centre_y - (left[1] + right[1]) / 2) / width)


def _yaw(landmarks: Landmarks) -> float:
    """Nose offset from the middle of the face, in the image plane with the roll undone."""
    oval, nose_tip = landmarks["oval"][:, :2], landmarks["nose"][2, :2]
    left, right = oval[OVAL_LEFT], oval[OVAL_RIGHT]
    axis = (right - left) / np.linalg.norm(right - left)
    half_width = np.linalg.norm(right - left) / 2
    offset = (nose_tip - (left + right) / 2) @ axis / half_width
    return float(np.degrees(np.arcsin(np.clip(offset, -1.0, 1.0))))


def _span(points: np.ndarray, a: int, b: int) -> float:
    return float(abs(points[b, 0] - points[a, 0]))
