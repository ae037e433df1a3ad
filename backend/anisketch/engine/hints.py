"""Simulated colour hints: what the plugin's "Color hints" layer holds when an artist says what colour goes where.

An artist drops a few round-brush dabs or short scribbles on the big areas (hair, skin, iris, clothes,
background), in the colour that area should have. We imitate that from a rendered portrait:

- how many: the caller picks (`sample_hint_count` draws from a geometric law, p = 1/8 as in Zhang et al.
  2017, so no hints at all is common and many hints are rare);
- where: a region is chosen by how likely an artist is to colour it (`HINT_WEIGHTS`), then a spot inside
  it, biased towards the middle of the face (people hint where they look), away from the region's edge
  so that the brush stays inside;
- what colour: the region's colour under the dab (median, so line-art pixels do not count), plus a little
  noise, as a colour picked by eye is never exact.

`sample_dabs` returns the dabs as data (tests and the colouriser's curriculum use them); `paint_hints`
draws them as the RGBA layer; `simulate_hints` does both. The layer is RGBA uint8, straight (not
premultiplied) alpha, transparent where there is no hint, exactly what the plugin sends.

Speed: pixels and rows are gathered with `np.take` on flat indices rather than `parts[y, x]` fancy
indexing: the same values, several times faster with numpy 2.4.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from anisketch.engine.params import LABEL

# Relative chance that a dab lands on each part (when that part is big enough to hold one).
HINT_WEIGHTS = {
    "hair": 0.30, "skin": 0.22, "eye_l": 0.07, "eye_r": 0.07, "clothes": 0.14, "background": 0.12,
    "accessory": 0.05, "neck": 0.02, "mouth": 0.01,
}
RADIUS = (0.01, 0.04)      # round brush radius, fraction of the canvas side
MIN_RADIUS = 0.006         # a dab shrinks down to this to fit a small region (an iris), then gives up
SCRIBBLE_CHANCE = 0.4      # a short back-and-forth stroke instead of a single dab
COLOR_NOISE = 6.0          # per-channel std of the colour error, 0..255
BRIGHTNESS_NOISE = 8.0     # std of a shared brightness error
CENTRE_BIAS = 0.3          # std (canvas units) of the Gaussian preference for spots near the face centre
GRID = 64                  # positions are chosen on a coarse grid of the part map, then jittered
CANDIDATES = 12            # spots tried per dab
BRUSH_SHRINK = np.array([1.0, 0.6, 0.36])  # a brush that does not fit shrinks (an iris is small)


@dataclass
class Dab:
    label: int               # the part it was placed in
    points: np.ndarray       # float32[N, 2] normalised; one point = a dab, several = a scribble
    radius: float            # brush radius, normalised
    color: tuple             # (r, g, b) uint8


def sample_hint_count(rng: np.random.Generator, p: float = 1 / 8, most: int = 40) -> int:
    """Number of hints an artist gives: geometric from 0 (Zhang et al. 2017 use p = 1/8)."""
    return int(min(rng.geometric(p) - 1, most))


def simulate_hints(portrait, color: np.ndarray, parts: np.ndarray, rng: np.random.Generator,
                   count: int, weights: dict | None = HINT_WEIGHTS) -> np.ndarray:
    """`count` dabs or scribbles, painted as the hint layer: uint8[S, S, 4] RGBA.

    portrait: unused beyond the contract (the part map says everything needed); may be None.
    color: uint8[S, S, 3] the rendered portrait; parts: int[S, S] part labels of the same size.
    weights: part name -> relative chance; None treats every label in `parts` alike (weighted by the
        square root of its area), for label maps that are not engine parts (`--from-images`).
    """
    del portrait
    return paint_hints(sample_dabs(color, parts, rng, count, weights), color.shape[0])


def sample_dabs(color: np.ndarray, parts: np.ndarray, rng: np.random.Generator, count: int,
                weights: dict | None = HINT_WEIGHTS) -> list[Dab]:
    """Where the hints go and what colour they have (see the module's docstring).

    All dabs are handled together, each step one numpy gather for all of them: 12 candidate spots per
    dab at 3 brush sizes (the first spot where the largest brush fits wins), the scribbles' next points,
    and the colours under the brushes."""
    if count <= 0:
        return []
    coarse = _coarse(parts)
    labels, chances = _label_chances(coarse, weights)
    if len(labels) == 0:
        return []
    centre = _face_centre(coarse) if weights is not None else np.array([0.5, 0.5])
    label = labels[np.minimum(np.searchsorted(np.cumsum(chances), rng.random(count)), len(labels) - 1)]
    radii = rng.uniform(*RADIUS, size=(count, 1)) * BRUSH_SHRINK  # [count, 3]
    spots = _candidate_spots(coarse, label, centre, rng.random((count, CANDIDATES)))
    spots += rng.uniform(-0.5, 0.5, size=spots.shape) / GRID
    fits = _fits(parts, spots, radii, label) & (radii >= MIN_RADIUS)[:, :, None]  # [count, 3, candidates]
    scribble = rng.random(count) < SCRIBBLE_CHANCE
    noise = rng.normal(0, COLOR_NOISE, (count, 3)) + rng.normal(0, BRIGHTNESS_NOISE, (count, 1))
    steps = rng.random((count, SCRIBBLE_STEPS, 3))
    placed = np.flatnonzero(fits.any(axis=(1, 2)))
    if len(placed) == 0:
        return []
    level, candidate = np.divmod(np.argmax(fits[placed].reshape(len(placed), -1), axis=1), CANDIDATES)
    spot, radius, label = spots[placed, candidate], radii[placed, level], label[placed]
    paths = _scribbles(parts, spot, radius, label, steps[placed], scribble[placed])
    colors = _pick_colors(color, spot, radius, label, noise[placed])
    return [Dab(int(label[i]), path, float(radius[i]), tuple(colors[i].tolist())) for i, path in enumerate(paths)]


def _coarse(parts: np.ndarray) -> np.ndarray:
    """The part map on the GRID x GRID grid, the nearest pixel of each cell (a strided view when the size
    allows it: the same pixels, without a 2-D gather)."""
    size = parts.shape[0]
    if size % (2 * GRID) == 0:
        step = size // GRID
        return parts[step // 2::step, step // 2::step].astype(np.int64)
    grid = ((np.arange(GRID) + 0.5) * size / GRID).astype(np.intp)
    return np.take(np.take(parts, grid, axis=0), grid, axis=1).astype(np.int64)


def _label_chances(coarse: np.ndarray, weights: dict | None) -> tuple[np.ndarray, np.ndarray]:
    area = np.bincount(coarse.ravel())
    present = np.flatnonzero(area >= 4)  # at least a few grid cells: room for a brush
    if weights is None:
        chance = np.sqrt(area[present].astype(np.float64))
    else:
        by_label = {LABEL[name]: w for name, w in weights.items()}
        chance = np.array([by_label.get(int(label), 0.0) for label in present])
    keep = chance > 0
    present, chance = present[keep], chance[keep]
    return present, chance / chance.sum() if len(chance) else chance


def _face_centre(coarse: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(coarse == LABEL["skin"])
    if len(xs) == 0:
        return np.array([0.5, 0.5])
    return (np.array([xs.mean(), ys.mean()]) + 0.5) / GRID  # (x, y)


_CELL_XY = (np.stack(np.meshgrid(np.arange(GRID), np.arange(GRID)), axis=-1).reshape(-1, 2) + 0.5) / GRID


def _candidate_spots(coarse, label, centre, u) -> np.ndarray:
    """[count, CANDIDATES, 2] grid-cell centres inside each dab's part, drawn with a preference for the
    face centre. The cells are sorted by part once; each part is then a contiguous run."""
    flat = coarse.ravel()
    by_part = np.argsort(flat, kind="stable")
    start = np.searchsorted(flat[by_part], label)
    size = np.bincount(flat, minlength=int(label.max()) + 1)[label]
    axis = (np.arange(GRID) + 0.5) / GRID  # the Gaussian preference is separable: 2 x 64 exponentials
    gauss_x, gauss_y = (np.exp(-(axis - c) ** 2 / (2 * CENTRE_BIAS ** 2)) for c in centre)
    preference = np.outer(gauss_y, gauss_x).ravel()[by_part]
    spots = np.empty(u.shape + (2,))
    for value in np.unique(label):
        rows = label == value
        run = slice(start[rows][0], start[rows][0] + size[rows][0])
        cumulative = np.cumsum(preference[run])
        pick = np.minimum(np.searchsorted(cumulative, u[rows] * cumulative[-1]), len(cumulative) - 1)
        spots[rows] = np.take(_CELL_XY, by_part[run][pick], axis=0)
    return spots


_RING = np.stack([np.cos(np.linspace(0, 2 * np.pi, 8, endpoint=False)),
                  np.sin(np.linspace(0, 2 * np.pi, 8, endpoint=False))], axis=1)
_PROBE = np.concatenate([np.zeros((1, 2)), _RING, _RING * 0.5])  # centre, rim, half-way: [17, 2]


_PROBE_X, _PROBE_Y = np.ascontiguousarray(_PROBE[:, 0]), np.ascontiguousarray(_PROBE[:, 1])


def _fits(parts: np.ndarray, centres: np.ndarray, radii: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether a disk lies inside its region: its 17 probe points (centre, rim, half-way) all do.

    centres [D, K, 2], radii [D, R], labels [D] -> bool[D, R, K]. x and y are computed apart: numpy 2.4
    broadcasts along a last axis of 2 several times slower."""
    size = parts.shape[0]
    r = radii[:, :, None, None]
    x = np.floor((np.ascontiguousarray(centres[..., 0])[:, None, :, None] + _PROBE_X * r) * size).astype(np.int64)
    y = np.floor((np.ascontiguousarray(centres[..., 1])[:, None, :, None] + _PROBE_Y * r) * size).astype(np.int64)
    inside = np.all((x >= 0) & (x < size) & (y >= 0) & (y < size), axis=3)  # [D, R, K]
    np.clip(x, 0, size - 1, out=x)
    np.clip(y, 0, size - 1, out=y)
    same = np.take(parts, y * parts.shape[1] + x) == labels[:, None, None, None]  # parts[y, x]
    return inside & np.all(same, axis=3)


SCRIBBLE_STEPS = 3


def _scribbles(parts, start, radius, label, u, scribble) -> list[np.ndarray]:
    """Each dab's path: its spot, and for a scribble 1-3 more points wandering inside the part (a path
    stops at its first step that would leave the part). u: [D, SCRIBBLE_STEPS, 3] uniforms."""
    turn = np.cumsum((u[..., 0] - 0.5) * 2.4, axis=1) + u[:, :1, 0] * 2 * np.pi  # heading at each step
    step = radius[:, None] * (1.0 + 1.5 * u[..., 1])
    moves = np.stack([np.cos(turn), np.sin(turn)], axis=-1) * step[..., None]
    path = np.concatenate([start[:, None], start[:, None] + np.cumsum(moves, axis=1)], axis=1)  # [D, 4, 2]
    ok = _fits(parts, path[:, 1:], radius[:, None], label)[:, 0]  # [D, SCRIBBLE_STEPS]
    wanted = np.where(scribble, 1 + (u[:, 0, 2] * SCRIBBLE_STEPS).astype(int), 0)
    length = 1 + np.minimum(np.cumprod(ok, axis=1).sum(axis=1), wanted)
    path = path.astype(np.float32)
    return [path[i, :n] for i, n in enumerate(length.tolist())]


def _pick_colors(color, spot, radius, label, noise) -> np.ndarray:
    """The region's colour under each dab, as an artist with a colour picker would take it, plus noise.

    The probe points of the brush (all inside the region) are sorted by brightness and the middle one
    taken: a colour the picture really has, not a dark line pixel. In an eye the artist means the iris,
    so near-white and near-black pixels are left out there when enough of the iris is under the brush."""
    size = color.shape[0]
    x, y = (np.clip(np.floor((np.ascontiguousarray(spot[:, axis])[:, None] + probe * radius[:, None] * 0.8)
                             * size).astype(np.int64), 0, size - 1) for axis, probe in ((0, _PROBE_X), (1, _PROBE_Y)))
    pixel = y * color.shape[1] + x  # color[y, x] as a flat row
    pixels = np.take(color.reshape(-1, 3), pixel, axis=0).astype(np.int64)  # [D, 17, 3]
    brightness = pixels @ np.array([299, 587, 114])
    iris = (pixels.min(axis=2) < 200) & (pixels.max(axis=2) > 50)
    use = np.where((((label == _EYES[0]) | (label == _EYES[1])) & (iris.sum(axis=1) >= 4))[:, None], iris, True)
    brightness = np.where(use, brightness, np.iinfo(np.int64).max)  # left out: sorted last
    middle = np.take_along_axis(np.argsort(brightness, axis=1, kind="stable"), (use.sum(axis=1) // 2)[:, None], 1)
    base = np.take_along_axis(pixels, middle[..., None], axis=1)[:, 0]
    return np.clip(np.rint(base + noise), 0, 255).astype(np.int64)


_EYES = (LABEL["eye_l"], LABEL["eye_r"])

SUBPIXEL_BITS = 4


def paint_hints(dabs: list[Dab], size: int) -> np.ndarray:
    """The hint layer: each dab a round-brush stamp or stroke, later dabs on top.

    Alpha is anti-aliased; the colour is painted hard over a slightly larger area, so that it is exact
    even at soft edges (straight alpha, as Krita stores a layer). Drawn straight into the layer with
    OpenCV: every extra full-size array costs about a millisecond at 512 px."""
    layer = np.zeros((size, size, 4), np.uint8)
    if not dabs:
        return layer
    alpha = np.zeros((size, size), np.uint8)
    one = 1 << SUBPIXEL_BITS
    for dab in dabs:
        r = max(1.0, dab.radius * size)
        pts = np.rint(dab.points * size * one).astype(np.int32)
        color = (*dab.color, 0)  # the alpha channel is filled from `alpha` at the end
        if len(pts) == 1:
            centre = (int(pts[0, 0]), int(pts[0, 1]))
            cv2.circle(layer, centre, int(round((r + 2) * one)), color, -1, cv2.LINE_8, SUBPIXEL_BITS)
            cv2.circle(alpha, centre, int(round(r * one)), 255, -1, cv2.LINE_AA, SUBPIXEL_BITS)
        else:
            cv2.polylines(layer, [pts], False, color, int(round(2 * r + 4)), cv2.LINE_8, SUBPIXEL_BITS)
            cv2.polylines(alpha, [pts], False, 255, max(1, int(round(2 * r))), cv2.LINE_AA, SUBPIXEL_BITS)
    cv2.mixChannels([alpha], [layer], [0, 3])
    return layer


def hints_to_mask(rgba: np.ndarray, threshold: int = 128) -> np.ndarray:
    """bool[S, S]: where the hint layer holds a colour (alpha at least `threshold`)."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"hint layer must be uint8 [H, W, 4] RGBA, got {rgba.dtype} {rgba.shape}")
    return rgba[..., 3] >= threshold
