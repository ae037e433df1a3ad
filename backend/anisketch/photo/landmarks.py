"""Named facial landmarks: one vocabulary for both detectors.

MediaPipe's face mesh gives 468 points (+10 iris points with refinement); the Haar fallback gives
only a face box, two eye boxes and perhaps a mouth box. Everything downstream (alignment,
measurements, colour sampling) reads the same named point sets, so it never asks which detector ran.
Names follow the image, not anatomy: "_l" is the eye/brow on the image's left (the subject's right
in an unmirrored photo). Mirroring a photo therefore swaps "_l" and "_r", as it should.

Points are float32 [k, 3] in image pixels: x right, y down, z towards the back of the head in the
same pixel scale (MediaPipe's relative depth; 0 for the Haar fallback).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Face mesh indices (MediaPipe's canonical topology). Contours run: outer corner, upper lid to the
# inner corner, lower lid back; so index 0 is the outer corner, 8 the inner, 4/12 the lid centres.
MESH_INDICES: dict[str, tuple[int, ...]] = {
    "eye_l": (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    "eye_r": (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
    "iris_l": (468, 469, 470, 471, 472),  # centre, then the ring
    "iris_r": (473, 474, 475, 476, 477),
    "brow_l": (70, 63, 105, 66, 107),  # upper edge, outer end to inner end
    "brow_r": (300, 293, 334, 296, 336),
    "nose": (168, 6, 1, 2),  # glabella, bridge between the eyes, tip, base
    # lips: corner (image left), upper lip to the other corner, lower lip back; 5/15 are the centres
    "lips_outer": (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146),
    "lips_inner": (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95),
    # face oval from the top of the forehead, clockwise on the image: 8 image-right side, 18 chin,
    # 28 image-left side; 12/24 the jaw angles, 14/22 and 16/20 the jaw nearer the chin.
    "oval": (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109),
    "cheeks": (50, 280),  # cheek centres (image left, image right), the skin sample spots
}

# Pairs of upper/lower lid points (indices into an eye contour) for the openness measure.
LID_PAIRS = ((3, 13), (4, 12), (5, 11))
OVAL_TOP, OVAL_RIGHT, OVAL_CHIN, OVAL_LEFT = 0, 8, 18, 28

# Mean face in the measurement frame (origin between the eyes, x along the eye line, y down, unit
# = inter-ocular distance), measured with the face mesh on the bundled photos. The Haar fallback
# places it on the detected eyes, so that colour sampling and alignment have their regions; no
# shape measurement is ever read off it (see `Landmarks.measured`).
# (Symmetrised mean of the MediaPipe mesh on skimage astronaut and matplotlib grace_hopper.)
def _template_points(pairs: str) -> np.ndarray:
    return np.array([float(v) for v in pairs.replace("(", " ").replace(")", " ").replace(",", " ").split()],
                    np.float32).reshape(-1, 2)


def _mirror(points: np.ndarray) -> np.ndarray:
    return points * np.array([-1, 1], np.float32)


_EYE_L = _template_points("""(-0.725, -0.012) (-0.705, -0.036) (-0.678, -0.063) (-0.629, -0.094) (-0.545, -0.114)
    (-0.456, -0.108) (-0.369, -0.071) (-0.305, -0.021) (-0.275, 0.012) (-0.298, 0.017) (-0.349, 0.017)
    (-0.427, 0.027) (-0.509, 0.034) (-0.593, 0.033) (-0.650, 0.024) (-0.689, 0.010)""")
_IRIS_L = _template_points("(-0.514, -0.033) (-0.431, -0.033) (-0.514, -0.116) (-0.597, -0.033) (-0.514, 0.050)")
_BROW_L = _template_points("(-0.921, -0.213) (-0.825, -0.309) (-0.674, -0.367) (-0.475, -0.369) (-0.247, -0.347)")
TEMPLATE = {
    "eye_l": _EYE_L, "eye_r": _mirror(_EYE_L),
    "iris_l": _IRIS_L, "iris_r": _mirror(_IRIS_L),
    "brow_l": _BROW_L, "brow_r": _mirror(_BROW_L),
    "nose": _template_points("(0, -0.108) (0, 0.006) (0, 0.552) (0, 0.664)"),
    "lips_outer": _template_points("""(-0.464, 0.963) (-0.420, 0.932) (-0.356, 0.902) (-0.270, 0.873)
        (-0.140, 0.852) (0.000, 0.874) (0.140, 0.852) (0.270, 0.873) (0.356, 0.902) (0.420, 0.932)
        (0.464, 0.963) (0.415, 1.024) (0.350, 1.080) (0.256, 1.138) (0.137, 1.172) (0.000, 1.182)
        (-0.137, 1.172) (-0.256, 1.138) (-0.350, 1.080) (-0.415, 1.024)"""),
    "lips_inner": _template_points("""(-0.427, 0.964) (-0.368, 0.957) (-0.303, 0.951) (-0.222, 0.950)
        (-0.120, 0.956) (0.000, 0.964) (0.120, 0.956) (0.222, 0.950) (0.303, 0.951) (0.368, 0.957)
        (0.427, 0.964) (0.357, 0.998) (0.297, 1.015) (0.215, 1.032) (0.116, 1.045) (0.000, 1.053)
        (-0.116, 1.045) (-0.215, 1.032) (-0.297, 1.015) (-0.357, 0.998)"""),
    "oval": _template_points("""(0.000, -0.818) (0.313, -0.806) (0.576, -0.752) (0.814, -0.642) (0.962, -0.483)
        (1.051, -0.292) (1.100, -0.087) (1.119, 0.158) (1.111, 0.382) (1.097, 0.602) (1.065, 0.834)
        (1.004, 1.074) (0.912, 1.258) (0.805, 1.390) (0.659, 1.513) (0.529, 1.599) (0.387, 1.674)
        (0.219, 1.726) (0.000, 1.744) (-0.219, 1.726) (-0.387, 1.674) (-0.529, 1.599) (-0.659, 1.513)
        (-0.805, 1.390) (-0.912, 1.258) (-1.004, 1.074) (-1.065, 0.834) (-1.097, 0.602) (-1.111, 0.382)
        (-1.119, 0.158) (-1.100, -0.087) (-1.051, -0.292) (-0.962, -0.483) (-0.814, -0.642)
        (-0.576, -0.752) (-0.313, -0.806)"""),
    "cheeks": _template_points("(-0.795, 0.460) (0.795, 0.460)"),
}


@dataclass
class Landmarks:
    points: dict[str, np.ndarray]  # name -> float32[k, 3], image pixels
    source: str  # "mediapipe" or "haar"
    measured: frozenset[str]  # names located in the photo (the rest comes from TEMPLATE)
    mesh: np.ndarray | None = None  # float32[478, 3] when MediaPipe ran

    def __getitem__(self, name: str) -> np.ndarray:
        return self.points[name]

    def eye_centre(self, side: str) -> np.ndarray:
        """Midpoint of the eye corners: steadier than the iris, which follows the gaze."""
        contour = self.points[f"eye_{side}"]
        return (contour[0] + contour[8]) / 2

    def mouth_corners(self) -> tuple[np.ndarray, np.ndarray]:
        lips = self.points["lips_outer"]
        return lips[0], lips[10]

    def transformed(self, matrix: np.ndarray) -> "Landmarks":
        """The same landmarks after a 2x3 image transform (x, y only; depth scales with the transform)."""
        scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))

        def move(p: np.ndarray) -> np.ndarray:
            xy = p[:, :2] @ matrix[:, :2].T + matrix[:, 2]
            return np.concatenate([xy, p[:, 2:] * scale], axis=1).astype(np.float32)

        return Landmarks(
            points={k: move(v) for k, v in self.points.items()},
            source=self.source,
            measured=self.measured,
            mesh=None if self.mesh is None else move(self.mesh),
        )


def from_mesh(mesh: np.ndarray) -> Landmarks:
    """Named landmarks from a 478-point mesh in image pixels (468 without iris refinement)."""
    mesh = np.asarray(mesh, np.float32)
    names = [n for n, idx in MESH_INDICES.items() if max(idx) < len(mesh)]
    points = {n: mesh[list(MESH_INDICES[n])] for n in names}
    for side in "lr":  # no refinement: the iris centre falls back on the eye centre, radius unknown
        if f"iris_{side}" not in points:
            eye = points[f"eye_{side}"]
            points[f"iris_{side}"] = np.repeat(((eye[0] + eye[8]) / 2)[None], 5, axis=0)
    measured = frozenset(names) | {"eye_centres", "mouth_corners"}
    return Landmarks(points=points, source="mediapipe", measured=measured, mesh=mesh)


def from_template(eye_l: np.ndarray, eye_r: np.ndarray, measured: frozenset[str], source: str = "haar",
                  mouth_width: float | None = None, mouth_centre: np.ndarray | None = None) -> Landmarks:
    """The mean face placed on two eye centres (image pixels); optionally the mouth where it was seen."""
    eye_l, eye_r = np.asarray(eye_l, np.float64), np.asarray(eye_r, np.float64)
    axis = eye_r - eye_l
    iod = float(np.hypot(*axis))
    c, s = axis / iod
    rot = np.array([[c, -s], [s, c]]) * iod
    origin = (eye_l + eye_r) / 2
    points = {}
    for name, p in TEMPLATE.items():
        xy = p[:, :2] @ rot.T + origin
        points[name] = np.concatenate([xy, np.zeros((len(p), 1))], axis=1).astype(np.float32)
    if mouth_centre is not None and mouth_width is not None:
        # Move and stretch the template mouth onto the observed one; its height stays the template's.
        for name in ("lips_outer", "lips_inner"):
            lips = points[name][:, :2]
            centre = (lips[0] + lips[10]) / 2
            template_width = float(np.hypot(*(lips[10] - lips[0])))
            along = np.array([c, s])
            offset = lips - centre
            stretch = (offset @ along)[:, None] * along * (mouth_width / template_width - 1)
            points[name][:, :2] = mouth_centre + offset + stretch
    return Landmarks(points=points, source=source, measured=frozenset(measured))
