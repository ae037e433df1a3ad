"""What the photo shows beyond landmark geometry: colours, glasses, teeth, hair length and volume.

Sampling happens in face-aligned crops (roll undone, fixed pixels per IOD) so that region sizes
mean the same on every photo. Regions come from the landmarks: cheeks for skin, the iris disc
(pupil and highlight left out) for the eyes, the ring between the lip contours for the lips, and
for hair the band around the upper face, with pixels that look like the background (the photo's
border away from the head) or like the skin left out. docs/photo.md has the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import delta_e2000, lab_to_srgb, srgb_to_lab
from .frame import FaceFrame
from .landmarks import OVAL_CHIN, OVAL_TOP, Landmarks

DETAIL_PPI, DETAIL_EXTENT = 64, 2.5  # pixels per IOD, half side in IOD: skin, eyes, lips, glasses
CONTEXT_PPI, CONTEXT_EXTENT = 24, 4.5  # hair and how far it falls
CROP_CENTRE_Y = 0.6  # IOD below the eye midpoint
BACKGROUND_DE = 6.0  # CIEDE2000 under which a pixel counts as background-coloured
SKIN_DE = 9.0  # ... as skin-coloured (not hair)
HAIR_DE = 18.0  # ... as hair-coloured (lit and shaded strands included), for hair length and volume
HAIR_REACH = 1.6  # IOD beyond the face's sides where hair length and volume are read
HAIR_BAND = 1.2  # IOD beyond the face oval searched for hair (voluminous hair reaches that far)
HAIR_SHADES_DE = 20.0  # clusters this close to the hair cluster are its lit or shaded strands
BORDER_BAND = 4  # px of the photo's border (scaled to 128 px) read for the background
HEAD_STRIP = 2.2  # IOD either side of the face's midline: hair may reach the border there
GLASSES_THRESHOLD = 1.0  # glasses score above which we say "glasses" (see docs/photo.md)


@dataclass
class Appearance:
    colours: dict[str, tuple[int, int, int] | None]  # skin, hair, eyes, lips: sRGB, None = not seen
    glasses: float  # frame evidence, > GLASSES_THRESHOLD means glasses
    hair_length: float | None  # lowest hair below the chin, IOD (negative = above the chin)
    hair_top: float | None = None  # hair's height above the top of the face oval, IOD (volume)
    hair_side: float | None = None  # hair's reach beyond the face's sides at the temples, IOD (volume)
    teeth: float | None = None  # fraction of the open mouth that is teeth-white (None: mouth not located)


class FaceCrop:
    """The photo resampled in the face's frame: pixel (u, v) <-> face coordinates (x, y) in IOD."""

    def __init__(self, rgb: np.ndarray, frame: FaceFrame, ppi: int, extent: float):
        self.ppi, self.extent = ppi, extent
        self.size = int(round(2 * extent * ppi))
        roll = np.radians(frame.roll_degrees)
        c, s = np.cos(roll), np.sin(roll)
        # face (x, y) -> image: origin + iod * R(roll) @ (x, y); we need image -> crop
        self.scale = scale = ppi / frame.iod  # crop pixels per image pixel
        rotation = np.array([[c, s], [-s, c]]) * scale
        offset = np.array([self.size / 2, self.size / 2 - CROP_CENTRE_Y * ppi]) - rotation @ frame.origin[:2]
        self.matrix = np.concatenate([rotation, offset[:, None]], axis=1)
        flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        self.rgb = cv2.warpAffine(rgb, self.matrix, (self.size, self.size), flags=flags,
                                  borderMode=cv2.BORDER_REPLICATE)
        inside = np.ones(rgb.shape[:2], np.uint8)
        self.valid = cv2.warpAffine(inside, self.matrix, (self.size, self.size), flags=cv2.INTER_NEAREST) > 0
        self.lab = srgb_to_lab(self.rgb)

    def points(self, image_points: np.ndarray) -> np.ndarray:
        return image_points[:, :2] @ self.matrix[:, :2].T + self.matrix[:, 2]

    def y_of(self, face_y: float) -> int:
        return int(round(self.size / 2 + (face_y - CROP_CENTRE_Y) * self.ppi))

    def x_of(self, face_x: float) -> int:
        return int(round(self.size / 2 + face_x * self.ppi))

    def polygon(self, image_points: np.ndarray) -> np.ndarray:
        mask = np.zeros((self.size, self.size), np.uint8)
        cv2.fillPoly(mask, [np.round(self.points(image_points)).astype(np.int32)], 1)
        return mask > 0

    def disc(self, image_centre: np.ndarray, radius_px: float) -> np.ndarray:
        mask = np.zeros((self.size, self.size), np.uint8)
        centre = np.round(self.points(image_centre[None])[0]).astype(int)
        cv2.circle(mask, tuple(int(v) for v in centre), max(1, int(round(radius_px))), 1, -1)
        return mask > 0


def analyse(rgb: np.ndarray, landmarks: Landmarks, frame: FaceFrame) -> Appearance:
    detail = FaceCrop(rgb, frame, DETAIL_PPI, DETAIL_EXTENT)
    context = FaceCrop(rgb, frame, CONTEXT_PPI, CONTEXT_EXTENT)
    skin = _skin_lab(detail, landmarks)
    background = _background_labs(rgb, frame)
    hair = _hair_lab(context, landmarks, skin, background)
    extent = (None, None, None) if hair is None else _hair_extent(context, landmarks, frame, hair, background)
    colours = {
        "skin": skin,
        "hair": hair,
        "eyes": _iris_lab(detail, landmarks),
        "lips": _lips_lab(detail, landmarks),
    }
    return Appearance(
        colours={k: None if v is None else _to_rgb8(v) for k, v in colours.items()},
        glasses=glasses_score(detail, landmarks),
        hair_length=extent[0],
        hair_top=extent[1],
        hair_side=extent[2],
        teeth=_teeth_fraction(detail, landmarks) if "lips_inner" in landmarks.measured else None,
    )


def _to_rgb8(lab: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.round(lab_to_srgb(lab) * 255))  # type: ignore[return-value]


def _robust_median(lab: np.ndarray, low: float = 20, high: float = 90) -> np.ndarray | None:
    """Median colour of the pixels whose lightness lies between two percentiles (no shadows, no shine)."""
    if len(lab) < 6:
        return None
    lo, hi = np.percentile(lab[:, 0], [low, high])
    keep = lab[(lab[:, 0] >= lo) & (lab[:, 0] <= hi)]
    return np.median(keep if len(keep) >= 3 else lab, axis=0)


def _skin_lab(crop: FaceCrop, landmarks: Landmarks) -> np.ndarray | None:
    radius = 0.2 * crop.ppi
    mask = crop.disc(landmarks["cheeks"][0], radius) | crop.disc(landmarks["cheeks"][1], radius)
    return _robust_median(crop.lab[mask & crop.valid])


def _lips_lab(crop: FaceCrop, landmarks: Landmarks) -> np.ndarray | None:
    mask = crop.polygon(landmarks["lips_outer"]) & ~crop.polygon(landmarks["lips_inner"])
    return _robust_median(crop.lab[mask & crop.valid], 10, 90)


def _teeth_fraction(crop: FaceCrop, landmarks: Landmarks) -> float:
    """Share of the mouth opening that is light and grey-white (teeth), 0 for a closed mouth."""
    mask = crop.polygon(landmarks["lips_inner"]) & crop.valid
    if mask.sum() < 0.002 * crop.ppi ** 2:
        return 0.0
    lab = crop.lab[mask]
    skin_light = np.percentile(crop.lab[..., 0], 75)
    white = (lab[:, 0] > min(60.0, skin_light - 5)) & (np.hypot(lab[:, 1], lab[:, 2]) < 22)
    return float(white.mean())


def _iris_lab(crop: FaceCrop, landmarks: Landmarks) -> np.ndarray | None:
    pixels = []
    for side in "lr":
        iris = landmarks[f"iris_{side}"]
        radius = float(np.mean(np.linalg.norm(iris[1:, :2] - iris[0, :2], axis=1))) * crop.scale
        if radius < 1e-3:  # mesh without iris refinement: a typical iris
            radius = 0.083 * crop.ppi
        ring = crop.disc(iris[0], 0.85 * radius) & ~crop.disc(iris[0], 0.35 * radius)
        mask = ring & crop.polygon(landmarks[f"eye_{side}"]) & crop.valid
        pixels.append(crop.lab[mask])
    lab = np.concatenate(pixels)
    return _robust_median(lab, 0, 80)  # drop the catchlights, keep the dark limbal ring


def _background_labs(rgb: np.ndarray, frame: FaceFrame, clusters: int = 10) -> np.ndarray:
    """Main colours along the photo's border, away from the head: what the background looks like.

    Hair often runs off the top of a photo (or long hair off the bottom), straight above or below the
    face. A border colour counts as background only where it is also seen outside the vertical strip
    through the head, so such hair is never mistaken for the background.
    """
    h, w = rgb.shape[:2]
    factor = 128 / max(h, w)
    small = cv2.resize(rgb, (max(8, round(w * factor)), max(8, round(h * factor))), interpolation=cv2.INTER_AREA)
    ring = np.ones(small.shape[:2], bool)
    ring[BORDER_BAND:-BORDER_BAND, BORDER_BAND:-BORDER_BAND] = False
    ys, xs = np.nonzero(ring)
    lab = srgb_to_lab(small[ys, xs])
    photo_points = (np.stack([xs, ys], axis=1) + 0.5) / factor
    across = (photo_points - frame.origin[:2]) @ frame.axes[0, :2] / frame.iod  # face-frame x
    outside = np.abs(across) > HEAD_STRIP
    if outside.sum() < 20:  # the head fills the photo's width: no background to speak of
        return np.zeros((0, 3))
    labels, centres = _clusters(lab, clusters)  # many clusters: few blends that land on a hair tone
    share = np.bincount(labels[outside], minlength=len(centres)) / outside.sum()
    return centres[share >= 0.05]


def _near_any(lab: np.ndarray, centres: np.ndarray, threshold: float) -> np.ndarray:
    if len(centres) == 0:
        return np.zeros(len(lab), bool)
    return np.asarray((delta_e2000(lab[:, None, :], centres[None, :, :]) < threshold).any(axis=1))


def _hair_regions(crop: FaceCrop, landmarks: Landmarks) -> tuple[np.ndarray, np.ndarray]:
    """Where hair grows around the upper face: (crown, sides) masks in the crop.

    The crown is the band above the brows plus the forehead itself (fringes); the sides run from the
    brows down to the nose. A hat covers the crown only, a bald head leaves only the sides: hair is
    the colour seen in both.
    """
    face = crop.polygon(landmarks["oval"]).astype(np.uint8)
    near = cv2.dilate(face, _disc_kernel(0.08 * crop.ppi)) > 0
    far = cv2.dilate(face, _disc_kernel(HAIR_BAND * crop.ppi)) > 0
    band = far & ~near
    band[crop.y_of(0.8):] = False  # below the nose: neck, collar, clothes
    brow_y = int(min(float(crop.points(landmarks[f"brow_{s}"])[:, 1].min()) for s in "lr") - 0.15 * crop.ppi)
    crown = band | (face > 0)
    crown[brow_y:] = False
    sides = band.copy()
    sides[:brow_y] = False
    return crown & crop.valid, sides & crop.valid


def _hair_lab(crop: FaceCrop, landmarks: Landmarks, skin: np.ndarray | None,
              background: np.ndarray) -> np.ndarray | None:
    crown, sides = _hair_regions(crop, landmarks)
    region = crown | sides
    lab = crop.lab[region]
    if len(lab) == 0:
        return None
    keep = ~_near_any(lab, background, BACKGROUND_DE)
    if keep.mean() < 0.05:  # the border looks like the hair (tight crop): trust the region instead
        keep[:] = True
    if skin is not None:
        keep &= ~_near_any(lab, skin[None], SKIN_DE)
    if keep.sum() < 0.05 * len(lab) or keep.sum() < 20:
        return None  # no hair to be seen (bald, or hair the colour of the background)
    candidates = lab[keep].astype(np.float32)
    in_crown = crown[region][keep]
    labels, centres = _clusters(candidates, 4)
    crown_counts = np.bincount(labels[in_crown], minlength=len(centres))
    side_counts = np.bincount(labels[~in_crown], minlength=len(centres))
    hair = int(np.argmax((crown_counts + 1.0) * (side_counts + 1.0)))
    # Lit and shaded strands land in neighbouring clusters: take them all.
    shades = np.flatnonzero(delta_e2000(centres, centres[hair]) < HAIR_SHADES_DE)
    return np.median(candidates[np.isin(labels, shades)], axis=0)


def _clusters(lab: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means in CIELAB, deterministic: (labels [n], centres [k, 3])."""
    k = min(k, len(lab))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(lab.astype(np.float32), k, None, criteria, 3,  # type: ignore[call-overload]
                                    cv2.KMEANS_PP_CENTERS)
    return labels.ravel(), centres


def _hair_mask(crop: FaceCrop, zone: np.ndarray, hair: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels of `zone` that have the hair's colour and not the background's."""
    mask = np.zeros_like(zone)
    lab = crop.lab[zone]
    hairlike = delta_e2000(lab, hair) < HAIR_DE
    # Only background colours near the hair's can claim a hair-coloured pixel: test those alone.
    close = background[delta_e2000(background, hair) < HAIR_DE + BACKGROUND_DE] if len(background) else background
    hairlike[hairlike] &= ~_near_any(lab[hairlike], close, BACKGROUND_DE)
    mask[zone] = hairlike
    return mask


def _hair_extent(crop: FaceCrop, landmarks: Landmarks, frame: FaceFrame, hair: np.ndarray,
                 background: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """How far the hair reaches: (below the chin, above the face oval, beyond the face's sides), IOD."""
    oval_face = frame.to_face(landmarks["oval"])[:, :2]
    half_width = float(np.abs(oval_face[:, 0]).max())
    face = cv2.dilate(crop.polygon(landmarks["oval"]).astype(np.uint8), _disc_kernel(0.08 * crop.ppi)) > 0
    zone = ~face & crop.valid
    zone[:, : max(crop.x_of(-(half_width + HAIR_REACH)), 0)] = False
    zone[:, crop.x_of(half_width + HAIR_REACH):] = False
    hairlike = _hair_mask(crop, zone, hair, background)
    length = _hair_length(crop, hairlike, zone, half_width, float(oval_face[OVAL_CHIN, 1]))
    top = _hair_top(crop, hairlike, zone, float(oval_face[OVAL_TOP, 1]))
    side = _hair_side(crop, hairlike, zone, half_width)
    return length, top, side


HAIR_ROW, THIN_HAIR = 0.15, 0.05  # share of a row (column) that is hair: hair there / hair thinning out


def _walk(fraction: np.ndarray, available: np.ndarray, start: int, step: int, gap: int,
          lead: int | None = None, thin: float = 1.0) -> int | None:
    """From `start`, step along while the fraction of hair stays above HAIR_ROW (gaps up to `gap` allowed,
    `lead` before the first hair); return the last index with hair, None if there was none. Where the hair
    only thins (`thin` < fraction <= HAIR_ROW) the walk goes on without spending the gap."""
    last, i = None, start
    while 0 <= i < len(fraction) and not available[i] and abs(i - start) <= (lead or gap):
        i += step  # the start may lie just inside the face's margin
    gap_from = start
    while 0 <= i < len(fraction) and available[i]:
        if fraction[i] > HAIR_ROW:
            last = gap_from = i
        elif last is not None and fraction[i] > thin:
            gap_from = i
        elif abs(i - gap_from) > (gap if last is not None or lead is None else lead):
            break
        i += step
    return last


def _profile(hairlike: np.ndarray, zone: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    counts = zone.sum(axis=axis)
    fraction = np.where(counts > 0, hairlike.sum(axis=axis) / np.maximum(counts, 1), 0.0)
    return np.convolve(fraction, np.ones(5) / 5, mode="same"), counts > 0


def _hair_length(crop: FaceCrop, hairlike: np.ndarray, zone: np.ndarray, half_width: float,
                 chin_y: float) -> float | None:
    """Walk down beside the face from the temples while the rows still hold hair; end relative to the chin.
    (Where the photo ends first, the hair goes at least that far.)"""
    strips = zone.copy()
    strips[:, crop.x_of(-0.7 * half_width): crop.x_of(0.7 * half_width)] = False  # not the neck below the chin
    fraction, available = _profile(hairlike & strips, strips, axis=1)
    last = _walk(fraction, available, crop.y_of(-0.8), 1, int(0.3 * crop.ppi))
    return None if last is None else (last - crop.y_of(0.0)) / crop.ppi - chin_y


def _hair_top(crop: FaceCrop, hairlike: np.ndarray, zone: np.ndarray, oval_top_y: float) -> float | None:
    """Walk up over the middle of the head from the top of the face oval; height above it."""
    column = zone.copy()
    column[:, : crop.x_of(-0.4)] = False
    column[:, crop.x_of(0.4):] = False
    fraction, available = _profile(hairlike & column, column, axis=1)
    start = crop.y_of(oval_top_y) - 1
    # Over the crown, hair thinning out for a few rows (lit, sparse) is still the head's hair: stopping at the
    # first dip under HAIR_ROW put the astronaut's crown 0.33 IOD lower on her mirror image than on the photo.
    # Only here: beside the face a background of near-hair colour would carry the walk on and on.
    last = _walk(fraction, available, start, -1, int(0.15 * crop.ppi), lead=int(0.6 * crop.ppi),  # forehead
                 thin=THIN_HAIR)
    if last is None or not available[max(last - 2, 0)]:
        return None  # hair runs off the top of the photo: its height is unknown
    return (start - last) / crop.ppi


def _hair_side(crop: FaceCrop, hairlike: np.ndarray, zone: np.ndarray, half_width: float) -> float | None:
    """Walk outwards from each temple (above the eyes); the hair's mean reach beyond the face sides."""
    band = zone.copy()
    band[: crop.y_of(-0.9)] = False
    band[crop.y_of(-0.2):] = False
    fraction, available = _profile(hairlike & band, band, axis=0)
    reach = []
    for sign in (-1, 1):
        start = crop.x_of(sign * (half_width + 0.1))
        last = _walk(fraction, available, start, sign, int(0.15 * crop.ppi))
        if last is not None and available[min(max(last + 2 * sign, 0), crop.size - 1)]:
            reach.append(abs(last - crop.x_of(0.0)) / crop.ppi - half_width)
    return float(np.mean(reach)) if reach else None


def _disc_kernel(radius: float) -> np.ndarray:
    r = max(1, int(round(radius)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def glasses_score(crop: FaceCrop, landmarks: Landmarks) -> float:
    """Evidence of spectacle frames: long straight edges where bare skin is smooth.

    Frames draw a horizontal bar over the nose bridge and a rim under each eye; bare skin there has
    no long coherent edge. Each band's strongest row of mean |dI/dy| (averaged across the band, so a
    wrinkle or a pore does not count) is compared with the cheeks' texture.
    """
    gray = cv2.GaussianBlur(cv2.cvtColor(crop.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 0.02 * crop.ppi)
    gy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    radius = 0.2 * crop.ppi
    cheeks = crop.disc(landmarks["cheeks"][0], radius) | crop.disc(landmarks["cheeks"][1], radius)
    texture = float(np.mean(gy[cheeks & crop.valid])) if (cheeks & crop.valid).any() else 1.0
    eyes = [crop.points(landmarks.eye_centre(s)[None])[0] for s in "lr"]
    bridge = _band_peak(gy, crop, (eyes[0][0] + eyes[1][0]) / 2, eyes[0][1] / 2 + eyes[1][1] / 2,
                        half_width=0.12, top=-0.3, bottom=0.1)
    rims = [_band_peak(gy, crop, x, y, half_width=0.3, top=0.12, bottom=0.5) for x, y in eyes]
    return float((bridge + np.mean(rims)) / 2 / (texture + 2.0) / 4.0)


def _band_peak(gy: np.ndarray, crop: FaceCrop, cx: float, cy: float, half_width: float,
               top: float, bottom: float) -> float:
    x0, x1 = int(cx - half_width * crop.ppi), int(cx + half_width * crop.ppi)
    y0, y1 = int(cy + top * crop.ppi), int(cy + bottom * crop.ppi)
    x0, y0 = max(x0, 0), max(y0, 0)
    band = gy[y0:y1, x0:x1]
    valid = crop.valid[y0:y1, x0:x1]
    if band.size == 0 or not valid.all():
        return 0.0
    return float(band.mean(axis=1).max())
