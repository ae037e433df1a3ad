"""Figures for photo to anime, on the real photographs that ship inside installed packages.

    python -m anisketch.photo.bench [--backend auto|mediapipe|haar]

Prints detection rate and timing over the photos and their transforms (mirror, shift, scale, rotate),
how far measurements move under those transforms, ΔE2000 between the photo's sampled hair/skin colour
and the portrait's, and whether eye and mouth openness follow edits of the photo. Needs scikit-image
and matplotlib (the test extras) for the photos. Timings share the machine with whatever else runs.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from ..engine import build_portrait, render
from ..engine.params import LABEL
from ..colour import delta_e2000, srgb_to_lab
from .detect import Face, detect_faces
from .mapping import photo_to_params


# ---------------------------------------------------------------------------------------------------
# Photos: real faces (and non-faces) bundled with scikit-image and matplotlib

def face_photos() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    from skimage import data, io

    return {
        "astronaut": data.astronaut(),  # frontal, smiling, open mouth, short hair
        # glasses, a hat
        "grace_hopper": io.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)),
        "cameraman": np.repeat(data.camera()[..., None], 3, axis=2),  # grey, small face in near profile
    }


FRONTAL = ("astronaut", "grace_hopper")  # the cameraman is a near profile: rough by nature


def no_face_photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {"chelsea_cat": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket()}


# ---------------------------------------------------------------------------------------------------
# Transforms and edits

def mirror(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def shift(rgb: np.ndarray, dx: int, dy: int) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(rgb, matrix, rgb.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


def scale(rgb: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Counter-clockwise on screen by `degrees` (OpenCV's convention), same canvas, reflected borders."""
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


TRANSFORMS = {
    "mirror": mirror,
    "shift": lambda im: shift(im, 50, 30),
    "scale 0.6": lambda im: scale(im, 0.6),
    "scale 1.7": lambda im: scale(im, 1.7),
    "rotate +20": lambda im: rotate(im, 20),
    "rotate -30": lambda im: rotate(im, -30),
}


def close_mouth(rgb: np.ndarray, face: Face) -> np.ndarray:
    """Paint the whole mouth as closed lips: the lip colour, and a darker line where they meet."""
    out = rgb.copy()
    outer, inner = face.landmarks["lips_outer"][:, :2], face.landmarks["lips_inner"][:, :2]
    lips = face.appearance.colours["lips"] or (180, 110, 100)
    cv2.fillPoly(out, [np.round(outer).astype(np.int32)], tuple(int(c) for c in lips), cv2.LINE_AA)
    seam = np.array([outer[0], (inner[5] + inner[15]) / 2, outer[10]])
    thickness = max(1, int(0.04 * face.frame.iod))
    cv2.polylines(out, [np.round(seam).astype(np.int32)], False, tuple(int(0.45 * c) for c in lips), thickness,
                  cv2.LINE_AA)
    return out


def open_mouth(rgb: np.ndarray, face: Face, height: float = 0.35) -> np.ndarray:
    """Paint a dark open mouth (an ellipse `height` mouth-widths tall) over the lips."""
    out = rgb.copy()
    outer = face.landmarks["lips_outer"][:, :2]
    centre, width = (outer[0] + outer[10]) / 2, float(np.linalg.norm(outer[10] - outer[0]))
    angle = float(np.degrees(np.arctan2(*(outer[10] - outer[0])[::-1])))
    cv2.ellipse(out, (int(centre[0]), int(centre[1] + 0.05 * width)), (int(0.36 * width), int(height * width / 2)),
                angle, 0, 360, (60, 20, 25), -1, cv2.LINE_AA)
    return out


def narrow_eyes(rgb: np.ndarray, face: Face, fraction: float = 0.5) -> np.ndarray:
    """Lower both upper lids by `fraction` of the eye's opening: skin over the top, a lash line below."""
    out = rgb.copy()
    skin = tuple(int(0.85 * c) for c in (face.appearance.colours["skin"] or (200, 160, 140)))
    for side in "lr":
        eye = face.landmarks[f"eye_{side}"][:, :2]
        cut = eye[4, 1] + fraction * (eye[12, 1] - eye[4, 1])
        upper = eye[:9]
        lid = np.vstack([upper, np.stack([upper[::-1, 0], np.maximum(upper[::-1, 1], cut)], axis=1)])
        cv2.fillPoly(out, [np.round(lid).astype(np.int32)], skin, cv2.LINE_AA)
        lash = np.stack([np.linspace(eye[0, 0], eye[8, 0], 9), np.full(9, cut)], axis=1)
        cv2.polylines(out, [np.round(lash).astype(np.int32)], False, (40, 25, 20), max(1, int(0.03 * face.frame.iod)),
                      cv2.LINE_AA)
    return out


def paint_glasses(rgb: np.ndarray, face: Face) -> np.ndarray:
    """Draw dark spectacle frames: a rim round each eye and a bridge between them."""
    out = rgb.copy()
    iod = face.frame.iod
    roll = face.frame.roll_degrees
    thickness = max(1, int(round(0.04 * iod)))
    centres = [face.landmarks.eye_centre(s)[:2] for s in "lr"]
    for c in centres:
        cv2.ellipse(out, (int(c[0]), int(c[1] + 0.05 * iod)), (int(0.33 * iod), int(0.25 * iod)), roll, 0, 360,
                    (35, 30, 30), thickness, cv2.LINE_AA)
    inner = [c + (centres[1] - centres[0]) * t for c, t in ((centres[0], 0.33), (centres[0], 0.67))]
    cv2.line(out, tuple(int(v) for v in inner[0]), tuple(int(v) for v in inner[1]), (35, 30, 30), thickness,
             cv2.LINE_AA)
    return out


# ---------------------------------------------------------------------------------------------------
# Colours

# Patches marked by hand on the astronaut (x0, y0, x1, y1): lit crown, both sides, fringe; a cheek.
HAND_MARKED = {
    "hair": ((212, 30, 262, 50), (157, 75, 175, 105), (277, 67, 297, 110), (220, 57, 260, 67)),
    "skin": ((192, 117, 205, 130),),
}


def hand_marked_lab(rgb: np.ndarray, name: str) -> np.ndarray:
    """Median CIELAB colour over the hand-marked patches: what a person would call the hair/skin colour."""
    pixels = [rgb[y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in HAND_MARKED[name]]
    return np.median(srgb_to_lab(np.concatenate(pixels)), axis=0)


def sampling_error(astronaut: np.ndarray, face: Face) -> dict[str, float]:
    """ΔE2000 between a face's sampled colours and those hand-marked on the (untransformed) astronaut."""
    return {name: float(delta_e2000(srgb_to_lab(np.array(face.appearance.colours[name], np.uint8)),
                                    hand_marked_lab(astronaut, name))) for name in HAND_MARKED}


def portrait_region_lab(params, label: str, size: int = 256) -> np.ndarray:
    """Median CIELAB colour of a part in the portrait's colour render (ink lines left out)."""
    images = render(build_portrait(params), size)
    mask = (images["parts"] == LABEL[label]) & (images["lineart"] < 16)
    return np.median(srgb_to_lab(images["color"][mask]), axis=0)


def colour_agreement(face: Face, seed: int = 0) -> dict[str, float]:
    """ΔE2000 between the photo's sampled colour and the portrait's, for hair and skin."""
    params = photo_to_params(face, seed)
    out = {}
    for name, label in (("hair", "hair"), ("skin", "skin")):
        photo = face.appearance.colours[name]
        if photo is not None:
            out[name] = float(delta_e2000(srgb_to_lab(np.array(photo, np.uint8)), portrait_region_lab(params, label)))
    return out


# ---------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("auto", "mediapipe", "haar"), default="auto")
    args = parser.parse_args()
    detect_faces(face_photos()["astronaut"], args.backend)  # load the models before timing
    print(f"backend: {args.backend}  (timings on a shared machine: medians, not guarantees)")

    found, total = 0, 0
    times: list[float] = []
    drift: dict[str, list[float]] = {}
    for name, photo in face_photos().items():
        base = _timed(photo, args.backend, times)
        total += 1
        found += bool(base)
        print(f"  {name:13s} {len(base)} face(s)  {times[-1]:6.0f} ms  {photo.shape[1]}x{photo.shape[0]}")
        if not base:
            continue
        for tname, transform in TRANSFORMS.items():
            faces = _timed(transform(photo), args.backend, times)
            total += 1
            found += bool(faces)
            if faces:
                measured = faces[0].measurements.mirrored() if tname == "mirror" else faces[0].measurements
                if name in FRONTAL:
                    for key, value in measured.as_dict().items():
                        reference = base[0].measurements.as_dict()[key]
                        if value is not None and reference is not None and key != "roll":
                            drift.setdefault(key, []).append(abs(value - reference))
    rejected = sum(not _timed(p, args.backend, times) for p in no_face_photos().values())
    print(f"detection: {found}/{total} face photos and transforms, {rejected}/{len(no_face_photos())} "
          f"non-face photos rejected; median {np.median(times):.0f} ms, max {np.max(times):.0f} ms per photo")
    print(f"measurement drift under mirror/shift/scale/rotate, {' and '.join(FRONTAL)} "
          "(median | max absolute difference):")
    for key, values in drift.items():
        print(f"  {key:15s} {np.median(values):7.3f} | {np.max(values):7.3f}")

    print("colour agreement, ΔE2000 photo sample vs portrait region (seeds 0-3, median):")
    for name, photo in face_photos().items():
        faces = detect_faces(photo, args.backend)
        if faces:
            figures = [colour_agreement(faces[0], seed) for seed in range(4)]
            text = "  ".join(f"{k} {np.median([f[k] for f in figures]):.2f}" for k in figures[0])
            print(f"  {name:13s} {text}   photo colours {faces[0].appearance.colours}")

    photo = face_photos()["astronaut"]
    names = ("mirror", "shift", "rotate +20")
    errors = [sampling_error(photo, detect_faces(photo, args.backend)[0])]
    errors += [sampling_error(photo, detect_faces(TRANSFORMS[n](photo), args.backend)[0]) for n in names]
    print("sampling, ΔE2000 sampled vs hand-marked patches on the astronaut (as is | mirror | shift | rotate):")
    for name in HAND_MARKED:
        print(f"  {name:5s} " + " | ".join(f"{e[name]:.1f}" for e in errors))

    print("following edits of the photo (measurement -> engine parameter):")
    for name in ("astronaut", "grace_hopper"):
        photo = face_photos()[name]
        face = detect_faces(photo, args.backend)[0]
        for ename, edit in (("as is", None), ("mouth closed", close_mouth), ("mouth opened", open_mouth),
                            ("eyes narrowed", narrow_eyes), ("glasses painted", paint_glasses)):
            edited = detect_faces(photo if edit is None else edit(photo, face), args.backend)
            if not edited:
                print(f"  {name:13s} {ename:16s} no face")
                continue
            m, p = edited[0].measurements, photo_to_params(edited[0], 0)
            print(f"  {name:13s} {ename:16s} mouth_openness {_fmt(m.mouth_openness)} -> open_mouth {p['open_mouth']}"
                  f"  eye_openness {_fmt(m.mean_of('eye_openness'))} -> eye_h {p['eye_h']:.3f}"
                  f"  glasses {_fmt(m.glasses)} -> {p['glasses'] != 0}")


def _timed(photo: np.ndarray, backend: str, times: list[float]) -> list[Face]:
    start = time.perf_counter()
    faces = detect_faces(photo, backend)
    times.append(1000 * (time.perf_counter() - start))
    return faces


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
