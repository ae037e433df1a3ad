"""Photo measurements -> the engine's parameters: the face keeps what makes it that person's.

Each measured trait moves one engine parameter across its range: a trait at the low end of the
human range (below) gives the parameter's low end, and so on, linearly, clipped. Anime exaggerates,
so the human spread fills the whole stylised range: a face with slightly wide-set eyes gets clearly
wide-set anime eyes. The human ranges are typical spreads of MediaPipe-mesh measurements (IOD units),
not a fitted population model; see docs/photo.md.

What the photo does not tell (bang cut, lashes, highlights, clothes, nose style...) comes from the
engine's prior by seed, so N seeds give N styles of the same face.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from ..engine.geometry import ANCHOR_Y
from ..engine.params import EYE_COLORS, HAIR_COLORS, ON_OFF, SPEC, Params, decode, encode, nearest_color_name, \
    sample_params, validate_attributes
from .detect import Face

# (engine parameter, measurement, photo value giving the parameter's low end, ... its high end)
SHAPE_MAP = (
    ("chin_y", "face_aspect", 0.98, 0.74),  # a narrow face (low width/height) is a long one
    ("jaw_x", "jaw_ratio", 0.74, 0.90),
    ("chin_round", "chin_taper", 0.28, 0.42),
    ("eye_w", "eye_width", 0.38, 0.52),
    ("eye_h", "eye_openness", 0.16, 0.42),
    ("eye_tilt", "eye_tilt", -6.0, 10.0),  # degrees, outer corner up
    ("eye_x", "eye_spacing", 0.40, 0.50),
    ("brow_gap", "brow_height", 0.22, 0.42),
    ("brow_tilt", "brow_tilt", 22.0, 0.0),  # photo: inner end raised is positive; engine: the reverse
    ("mouth_w", "mouth_width", 0.72, 1.12),
    ("mouth_curve", "smile", -0.02, 0.16),
    ("mouth_open_h", "mouth_openness", 0.06, 0.40),
    ("yaw", "yaw", -25.0, 25.0),
    ("hair_volume", "hair_side", 0.15, 0.75),  # hair standing out beside the temples
    ("crown", "hair_top", 0.5, 1.4),  # hair piled above the forehead
)
OPEN_MOUTH = 0.07  # inner lip gap / mouth width above which the mouth is open
SMILE = 0.035  # corners this far above the lip centre (/ mouth width) make a smile
TEETH = 0.25  # share of the opening that must look like teeth to draw them
FACE_UNITS_PER_IOD = 1 / 1.1  # the engine's face half-width is 1; a face is about 2.2 IOD wide
# Real irises are brown, blue-grey or green/hazel; a warm cast on a small dark iris must not read as red.
PHOTO_EYE_COLORS = ("brown", "blue", "green")
FRAMING = {"cx": 0.5, "cy": 0.5, "scale": 0.2}  # a centred head and shoulders: the photo crop's framing


def photo_to_params(face: Face, seed: int = 0, attributes: dict | None = None) -> Params:
    """The portrait of `face`; `seed` picks the style where the photo says nothing.

    `attributes` (MakeGirlsMoe vocabulary) override what the photo says, e.g. {"glasses": "off"}.
    """
    overrides = validate_attributes(attributes)
    m = face.measurements
    seen = _photo_attributes(face)
    params = sample_params(seed, {**seen, **overrides})
    params.update(FRAMING)
    for name, measurement, photo_lo, photo_hi in SHAPE_MAP:
        value = m.mean_of(measurement)
        if value is not None:
            params[name] = _rescale(value, photo_lo, photo_hi, SPEC[name].lo, SPEC[name].hi)
    if m.roll is not None:
        # The portrait stands upright: a sideways or upside-down photo is read from its nearest edge,
        # so only the head's own tilt (within the engine's ±11.5°) is kept.
        tilt = (m.roll + 45.0) % 90.0 - 45.0
        params["roll"] = float(np.clip(np.radians(tilt), SPEC["roll"].lo, SPEC["roll"].hi))
    if face.appearance.teeth is not None and "open_mouth" not in overrides:
        params["teeth"] = int(face.appearance.teeth > TEETH)
    _hair_length(params, m.hair_length, overrides)
    _colours(params, face.appearance.colours, overrides)
    return decode(*encode(params))  # canonical, and exactly what the vector (and a guidance state) holds


def _photo_attributes(face: Face) -> dict:
    """The on/off attributes the photo decides; hat and ribbon are off (a photo rarely shows a bow,
    and hats are not detected), the rest stays with the prior."""
    m = face.measurements
    seen = {"hat": "off", "ribbon": "off"}
    if m.glasses is not None:
        seen["glasses"] = ON_OFF[face.glasses]
    if m.mouth_openness is not None:
        seen["open_mouth"] = ON_OFF[m.mouth_openness > OPEN_MOUTH]
    if m.smile is not None:
        seen["smile"] = ON_OFF[m.smile > SMILE]
    colours = face.appearance.colours
    if colours["hair"] is not None:
        seen["hair_color"] = nearest_color_name(HAIR_COLORS, _unit(colours["hair"]))
    if colours["eyes"] is not None:
        seen["eye_color"] = _eye_colour_name(_unit(colours["eyes"]))
    return seen


def _rescale(value: float, photo_lo: float, photo_hi: float, lo: float, hi: float) -> float:
    t = float(np.clip((value - photo_lo) / (photo_hi - photo_lo), 0.0, 1.0))
    return lo + t * (hi - lo)


def _hair_length(params: Params, hair_length: float | None, overrides: dict) -> None:
    """Short or long, and how long, from the lowest hair beside the face (relative to the chin)."""
    if hair_length is None or "hair_style" in overrides:
        return
    bottom = params["chin_y"] + hair_length * FACE_UNITS_PER_IOD  # face units, like the engine's outlines
    if bottom < params["chin_y"] + 0.25:  # ends above or at the chin: a bob or shorter
        params["hair_style"] = SPEC["hair_style"].options.index("short")
        params["back_len"] = float(np.clip((bottom - 0.95) / 0.35, 0.0, 1.0))
        params["lock_len"] = float(np.clip((bottom - 0.45) / 0.5, 0.0, 1.0))
    else:
        params["hair_style"] = SPEC["hair_style"].options.index("long")
        params["back_len"] = float(np.clip((bottom - 2.3) / 1.3, 0.0, 1.0))
        params["lock_len"] = float(np.clip((bottom - 0.5) / 1.0, 0.0, 1.0))


def _colours(params: Params, colours: dict, overrides: dict) -> None:
    """Skin and hair as sampled (so the portrait matches the photo); irises brightened to read as anime."""
    if colours["skin"] is not None and "dark_skin" not in overrides:
        params["skin_color"] = _unit(colours["skin"])
    if colours["hair"] is not None and "hair_color" not in overrides:
        params["hair_color"] = _unit(colours["hair"])
    if colours["eyes"] is not None and "eye_color" not in overrides:
        photo_iris = _unit(colours["eyes"])
        named = EYE_COLORS[_eye_colour_name(photo_iris)]
        # The named anime colour, with a little of the photo's own shade so eyes are not all alike.
        params["iris_color"] = tuple(float(0.75 * a + 0.25 * b) for a, b in zip(named, _anime_iris(photo_iris)))


def _anime_iris(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """Photo irises are dark and greyish; anime ones are bright and saturated: lift both, keep the hue."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    r, g, b = colorsys.hsv_to_rgb(h, min(1.0, max(s, 0.2) * 1.4), max(v, 0.6))
    return float(r), float(g), float(b)


def _eye_colour_name(rgb: tuple[float, float, float]) -> str:
    return nearest_color_name({name: EYE_COLORS[name] for name in PHOTO_EYE_COLORS}, _anime_iris(rgb))


def _unit(rgb8) -> tuple[float, float, float]:
    return tuple(float(c) / 255.0 for c in rgb8)  # type: ignore[return-value]


def framed_crop(rgb: np.ndarray, face: Face, size: int) -> np.ndarray:
    """The photo framed like the portrait (eyes where the engine puts them at FRAMING), for side-by-sides."""
    eye_half_gap, eye_y = 0.47, 0.27  # the engine's typical eye_x and eye_y, face units
    canvas_iod = 2 * eye_half_gap * FRAMING["scale"] * size
    target_mid = np.array([FRAMING["cx"], FRAMING["cy"] + (eye_y - ANCHOR_Y) * FRAMING["scale"]]) * size
    eye_l, eye_r = face.landmarks.eye_centre("l")[:2], face.landmarks.eye_centre("r")[:2]
    src = np.array([eye_l, eye_r], np.float32)
    dst = np.array([target_mid - (canvas_iod / 2, 0), target_mid + (canvas_iod / 2, 0)], np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
