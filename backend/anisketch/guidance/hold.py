"""What holds still from one guidance to the next, judged on the drawn lines rather than on parameters.

The encoder reads the whole window at once, so a stroke anywhere (hair outside the old crop, a neck, the
shoulders) changes its reading of everything a little: left alone, eyes the artist finished long ago slide by a
few pixels whenever the hair grows. Two rules keep them still:

1. Evidence. The state carries a small map of the ink that the previous guidance read (`INK_MAP` cells a side,
   over its window). Ink that appeared or vanished since then is given to the part whose lines lie clearly
   nearest to it (ink about as near to two parts' lines is evidence for neither); a part the artist had drawn
   and whose ink did not change keeps its previous values exactly, and the pose it was drawn with: its lines
   stay on the canvas where they were.
2. Shimmer. Any other part whose lines would move by less than `HOLD_SHIFT` keeps its previous values too, and
   so does the face's pose when it alone would move the drawing by less.

A held part keeps its own pose while the face around it may move on (`Drawn`): the neck and hair drawn later say
more about where the face is than the eyes alone did, and the contour, neck and hair follow that, but the eyes
the artist finished stay where they were drawn. Holding the whole face's pose instead cost 0.18 F1 on the
evaluation's crop change (eval/hold.py).

Everything here works in window units (the window's side is 1), where the previous and the new guidance meet.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..engine import params as P
from ..engine.curves import column_max, column_min, row_lengths, split_rows
from ..engine.geometry import Builder, PartMemo, Portrait, Stroke, build_parts, posed
from .framing import Window, cut_window, reexpress_pose, restore_ink

GROUP_OF_FLOAT = np.array(P.ALL_GROUPS)[P.float_groups()]
GROUP_OF_CHOICE = np.array(P.ALL_GROUPS)[P.choice_groups()]
POSE = GROUP_OF_FLOAT == "pose"  # the floats that place the face on the canvas

INK_MAP = 64  # cells a side of the ink map a state carries (512 bytes as bits); a face is ~27 cells wide
INK_BYTES = INK_MAP * INK_MAP // 8
INK_READ = 256  # the window is read at this size for the ink map (the encoder's input size)
INK_LEVEL = 0.25  # a pixel holds ink when its restored darkness reaches this
# A part is held when at least DRAWN of its previous lines lie within FIT_CELLS of the ink they were read from:
# the artist drew it. A guessed part (no ink there yet) has nothing to keep: it follows the new reading.
DRAWN = 0.3
FIT_CELLS = 2.5
NEAR_CELLS = 2.5  # ink farther than this from every part's lines belongs to none (a stray mark)
# A piece of changed ink touches every part whose lines lie nearest to at least TOUCH_SHARE of its cells (a side
# lock drawn past the corner of an eye touches the hair, not the eye; a nose tick, two cells, touches the nose).
TOUCH_SHARE = 0.15
# A long stretch of ink along a part's lines touches it however much else was drawn at the same time (a neck
# and shoulders drawn with the whole hair, all one connected piece): about an eye's width.
TOUCH_CELLS = 8
AMBIGUOUS_CELLS = 1.0  # a cell whose nearest two parts' lines lie within this of each other votes for neither
AMBIGUOUS = -2
# The cells within NEAR_CELLS + AMBIGUOUS_CELLS of a cell: lines farther from changed ink neither hold it nor
# make it ambiguous (hold.untouched_parts).
_REACH = NEAR_CELLS + AMBIGUOUS_CELLS
_DISK = (np.hypot(*np.mgrid[-4:5, -4:5]) <= _REACH).astype(np.uint8)  # (4: the reach, 3.5 cells, rounded up)
# A part whose lines would move by less than this (window units: 1.5 px of a 512 px window) holds still.
HOLD_SHIFT = 0.003
SHIFT_PX = 1024  # raster on which line displacements are measured (per window side)


@dataclass
class Drawn:
    """A face as guidance draws it: the vector, and the parts drawn with a pose of their own (held where the
    artist left them) instead of the vector's."""

    floats: np.ndarray  # float32 [D]
    choices: np.ndarray  # int64 [C]
    poses: dict[str, np.ndarray] = field(default_factory=dict)  # group -> its pose floats [POSE.sum()]

    def pose_of(self, group: str) -> np.ndarray:
        return self.poses.get(group, self.floats[POSE])

    def portrait(self) -> Portrait:
        """The engine's drawing of the vector, each part with its own pose where it has one: its lines, and its
        regions where they hide other parts' lines."""
        floats, choices = np.asarray(self.floats, np.float32).tobytes(), np.asarray(self.choices, np.int64).tobytes()
        return _build(floats, choices) if not self.poses else _build_posed(floats, choices, self._pose_key())

    def strokes_of(self, groups: Iterable[str]) -> list[Stroke]:
        """The strokes of `groups` as `portrait` draws them, without placing and cutting the other parts' lines.
        (In the engine's order of parts, as `portrait`'s: the detail layer draws all strokes in one batch, and
        the outlines' thinning depends on their order.)"""
        return _composed(np.asarray(self.floats, np.float32).tobytes(), np.asarray(self.choices, np.int64).tobytes(),
                         self._pose_key(), frozenset(groups))

    def _pose_key(self) -> tuple[tuple[str, bytes], ...]:
        """The parts' own poses, hashable."""
        return tuple((group, np.asarray(self.poses[group], np.float32).tobytes())
                     for group in P.GROUPS if group in self.poses)

    def courses_of(self, groups: Iterable[str]) -> list[Stroke]:
        """The lines of `groups` as `strokes_of` draws them but with nothing hiding them: where each runs."""
        strokes: list[Stroke] = []
        for group in groups:
            floats = np.array(self.floats, np.float32)
            floats[POSE] = self.pose_of(group)
            placed = _placed(floats.tobytes(), np.asarray(self.choices, np.int64).tobytes(), lines_only=True)
            strokes += placed.whole_strokes({group})
        return strokes

    def holding(self, other: "Drawn", groups) -> "Drawn":
        """This face with `groups` taken from `other`: their values and the pose they were drawn with there."""
        f_mask, c_mask = np.isin(GROUP_OF_FLOAT, list(groups)), np.isin(GROUP_OF_CHOICE, list(groups))
        floats = np.where(f_mask, other.floats, self.floats).astype(np.float32)
        poses = {g: p for g, p in self.poses.items() if g not in groups}
        poses.update({g: other.pose_of(g) for g in groups if g in P.GROUPS})
        return Drawn(floats, np.where(c_mask, other.choices, self.choices), poses).tidy()

    def settled(self, limit: float, pinned: Iterable[str] = ()) -> "Drawn":
        """Parts whose lines the vector's own pose draws less than `limit` (window units) from where their own
        pose draws them join it: fewer poses of their own, fewer placements for every guide after this one.
        Judged on the lines' vertices: the limit is far under the raster measure's error. A pinned part keeps its
        own pose: a pin holds its lines exactly."""
        pinned = set(pinned)
        shifts = vertex_shifts(self.floats, self.choices, {g: p for g, p in self.poses.items() if g not in pinned})
        return Drawn(self.floats, self.choices, {g: p for g, p in self.poses.items() if shifts.get(g, limit) >= limit})

    def pose_barely_moves(self, pose: np.ndarray) -> bool:
        """Whether giving the vector `pose` moves no line vertex of the parts that follow it (not those with a
        pose of their own) by HOLD_SHIFT: decided without drawing them. (Drawing and comparing the lines as
        well, where the vertices move by 3/4 of HOLD_SHIFT or more, changed a replay's consistency by 3e-4 at a
        whole drawing of the face on a third of the strokes.)"""
        return vertex_shift(self.floats, self.choices, pose, set(P.GROUPS) - set(self.poses)) < HOLD_SHIFT

    def tidy(self) -> "Drawn":
        """Poses equal to the vector's own are no poses of their own."""
        poses = {g: p for g, p in self.poses.items() if not np.array_equal(p, self.floats[POSE])}
        return Drawn(self.floats, self.choices, poses)

    def in_window(self, old: Window, new: Window) -> "Drawn":
        """The face read in window `old`, expressed in window `new` (every pose moved with it)."""
        def moved(pose):
            floats = self.floats.copy()
            floats[POSE] = pose
            return reexpress_pose(floats, old, new)[POSE]
        return Drawn(reexpress_pose(self.floats, old, new), self.choices,
                     {g: moved(p) for g, p in self.poses.items()})


def vertex_shift(floats: np.ndarray, choices: np.ndarray, pose: np.ndarray, groups: set[str]) -> float:
    """The farthest any line vertex of `groups` moves (window units) when the vector's pose becomes `pose`. The
    lines are drawn between their placed vertices, so they move no farther, except where an occluder cuts one
    (its end may slide along it): a pose change well under HOLD_SHIFT here needs no drawing to compare."""
    return max(vertex_shifts(floats, choices, {group: pose for group in groups}).values(), default=0.0)


def vertex_shifts(floats: np.ndarray, choices: np.ndarray, poses: dict[str, np.ndarray]) -> dict[str, float]:
    """Per group, the farthest any of its line vertices lies (window units) between the vector's pose and the
    pose `poses` gives the group: placements of vertices, no part built (they read no pose) and nothing drawn."""
    floats, choices = np.asarray(floats, np.float32), np.asarray(choices, np.int64)
    unposed = floats.copy()
    unposed[POSE] = 0.0
    points, depth, spans = _vertices(unposed.tobytes(), choices.tobytes())
    here = _placement(floats).place(points, depth)
    by_pose: dict[bytes, list[str]] = {}
    for group, pose in poses.items():
        by_pose.setdefault(np.asarray(pose, np.float32).tobytes(), []).append(group)
    shifts = {}
    for key, groups in by_pose.items():
        moved = floats.copy()
        moved[POSE] = np.frombuffer(key, np.float32)
        lengths = row_lengths(here - _placement(moved).place(points, depth))
        for group in groups:
            start, end = spans.get(group, (0, 0))
            shifts[group] = float(lengths[start:end].max()) if end > start else 0.0
    return shifts


@functools.lru_cache(maxsize=16)
def _vertices(unposed: bytes, choices: bytes) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[int, int]]]:
    """The line vertices of a vector's parts (_parts), group by group: points [N, 2] and depths [N] in face
    units, and each group's rows (start, end)."""
    lines = sorted(_parts(unposed, choices).lines, key=lambda line: line.group)  # (a stable sort)
    counts = [len(line.pts) for line in lines]
    points, depth = np.concatenate([line.pts for line in lines]), np.repeat([line.depth for line in lines], counts)
    ends = np.cumsum(counts)
    spans: dict[str, tuple[int, int]] = {}
    for line, end, count in zip(lines, ends.tolist(), counts):
        spans[line.group] = (spans.get(line.group, (end - count, 0))[0], end)
    return points, depth, spans


def _placement(floats: np.ndarray) -> Builder:
    """What places the vector's parts on its canvas (its pose): a Builder with nothing in it."""
    return Builder(P.decode_placing(floats))


@functools.lru_cache(maxsize=32)
def _build(floats: bytes, choices: bytes) -> Portrait:
    """build_portrait's lines of a vector given as bytes (guidance is line art: its portraits carry no regions,
    whose colours and placing cost a fifth of a build): the previous guidance's drawing comes back as a cache hit."""
    builder = _placed(floats, choices)
    return Portrait(builder.finished_strokes(), [], builder.p)


@functools.lru_cache(maxsize=32)
def _build_posed(floats: bytes, choices: bytes, poses: tuple[tuple[str, bytes], ...]) -> Portrait:
    """_build of a vector whose parts in `poses` have poses of their own: the previous guidance's drawing, with
    its held parts, comes back as a cache hit (its params decoded once)."""
    params = P.decode(np.frombuffer(floats, np.float32), np.frombuffer(choices, np.int64))
    return Portrait(_composed(floats, choices, poses, None), [], params)


@functools.lru_cache(maxsize=32)
def _composed(floats: bytes, choices: bytes, poses: tuple[tuple[str, bytes], ...],
              groups: frozenset[str] | None) -> list[Stroke]:
    """The strokes of `groups` (None: all) in the drawing of a vector whose parts in `poses` (group, pose floats)
    have poses of their own: one placement of the parts per pose and one depth test for the whole face
    (Builder.composed_strokes). A part held where the artist left it is hidden where the face as drawn hides
    it: a fringe hides a held brow where the fringe is drawn."""
    placements: dict[bytes, Builder] = {}
    for _, pose in poses:
        if pose not in placements:
            moved = np.frombuffer(floats, np.float32).copy()
            moved[POSE] = np.frombuffer(pose, np.float32)
            placements[pose] = _placement(moved)
    placers = {group: placements[pose] for group, pose in poses}
    return _placed(floats, choices, lines_only=True).composed_strokes(placers, groups)


def _placed(floats: bytes, choices: bytes, lines_only: bool = False) -> Builder:
    """The vector's parts placed by its pose, ready to finish. The parts are built once for all poses: the
    previous face moved to the new pose, or parts held with their own poses, cost a placement, not a build.
    `lines_only`: the builder knows only the pose (its strokes are the same; it has no params for a portrait)."""
    vector = np.frombuffer(floats, np.float32).copy()
    unposed = vector.copy()
    unposed[POSE] = 0.0  # the parts read no pose: any pose builds the same parts
    params = P.decode_placing(vector) if lines_only else P.decode(vector, np.frombuffer(choices, np.int64).copy())
    return posed(_parts(unposed.tobytes(), choices), params)


@functools.lru_cache(maxsize=16)
def _parts(unposed: bytes, choices: bytes) -> Builder:
    """The parts of a vector; those whose values some earlier vector had (held parts, the previous face's)
    are not built again (_PART_MEMO)."""
    return build_parts(P.decode(np.frombuffer(unposed, np.float32).copy(), np.frombuffer(choices, np.int64).copy()),
                       _PART_MEMO)


_PART_MEMO = PartMemo()


def lines_remembered(params: P.Params, groups: frozenset[str] | None = None) -> list[Stroke]:
    """build_portrait(params)'s strokes (of `groups` alone, as Builder.visible_strokes cuts them, where given),
    with the parts that some vector before had taken from the memo: the same lines."""
    parts = build_parts(params, _PART_MEMO)
    return parts.finished_strokes() if groups is None else parts.visible_strokes(groups)


def ink_map(darkness: np.ndarray, window: Window, origin: tuple[int, int], image: np.ndarray | None = None) -> np.ndarray:
    """bool [INK_MAP, INK_MAP]: the cells of `window` that hold any ink (beyond the request: none). A cell is
    inked when any pixel of the window read at INK_READ px is: a light nose tick, averaged over a cell, would
    vanish. `image`: the window already read at INK_READ px, when there is one."""
    if image is None:
        image = restore_ink(cut_window(darkness, window, origin, INK_READ))
    return cell_max(image, INK_READ // INK_MAP) >= INK_LEVEL


def cell_max(image: np.ndarray, k: int) -> np.ndarray:
    """The largest value of each k x k cell, as image.reshape(h // k, k, w // k, k).max(axis=(1, 3)) gives it, 20x
    faster: numpy 2.4 reduces over strided axes slowly, and takes maxima of whole strided views quickly."""
    rows = functools.reduce(np.maximum, (image[i::k] for i in range(k)))
    return functools.reduce(np.maximum, (rows[:, j::k] for j in range(k)))


def seen_cells(shape: tuple[int, int], window: Window, origin: tuple[int, int]) -> np.ndarray:
    """bool [INK_MAP, INK_MAP]: the cells of `window` that lie wholly inside the request (shape: its h, w)."""
    cell = window.side / INK_MAP
    h, w = shape
    x0, y0 = (origin[0] - window.x) / cell, (origin[1] - window.y) / cell
    cols, rows = np.arange(INK_MAP), np.arange(INK_MAP)
    inside_x = (cols >= math.ceil(x0)) & (cols + 1 <= math.floor(x0 + w / cell))
    inside_y = (rows >= math.ceil(y0)) & (rows + 1 <= math.floor(y0 + h / cell))
    return inside_y[:, None] & inside_x[None, :]


def pack_ink(ink: np.ndarray) -> bytes:
    return np.packbits(ink.astype(bool).ravel()).tobytes()


def unpack_ink(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, np.uint8))[: INK_MAP * INK_MAP].reshape(INK_MAP, INK_MAP).astype(bool)


def untouched_parts(before: list, read: list, ink_then: np.ndarray, ink_now: np.ndarray, seen: np.ndarray) -> set[str]:
    """The groups the artist had drawn and has not touched since.

    before / read: the previous guidance's lines and the new reading's, in the previous window's units (changed
    ink goes to the group whose lines, old or new, lie nearest: new hair where the old guess had none is hair);
    ink_then / ink_now: that window's ink map then and in this request; seen: the cells this request shows
    (ink beyond a new crop is unknown, not erased)."""
    old, new = line_cells(before), line_cells(read)
    changed = changed_cells(ink_then, ink_now) & seen
    # Only the groups whose lines, old or new, lie near changed ink can be nearest to it or make it ambiguous:
    # measuring the others' distances (most of them, on most strokes) would change nothing.
    near_change = cv2.dilate(changed.astype(np.uint8), _DISK) > 0
    either = dict(old)
    for group, lines in new.items():
        either[group] = either[group] | lines if group in either else lines
    touched = touched_groups({group: distance_to(lines) for group, lines in either.items()
                              if (lines & near_change).any()}, changed)
    near_ink = near_ink_cells(ink_then, FIT_CELLS)
    return {group for group, lines in old.items() if group not in touched and share_on(lines, near_ink) >= DRAWN}


def changed_cells(before: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Ink that appeared or vanished, a cell's misalignment forgiven (the same strokes cut from another crop
    may land a cell over)."""
    kernel = np.ones((3, 3), np.uint8)
    grown_before = cv2.dilate(before.astype(np.uint8), kernel) > 0
    grown_now = cv2.dilate(now.astype(np.uint8), kernel) > 0
    return (now & ~grown_before) | (before & ~grown_now)


def line_cells(strokes: list) -> dict[str, np.ndarray]:
    """Per group, bool [INK_MAP, INK_MAP]: the cells its lines pass through."""
    lines: dict[str, list[np.ndarray]] = {}
    for stroke in strokes:
        if len(stroke.points) >= 2:
            lines.setdefault(stroke.group, []).append(stroke.points)
    fixed = iter(fixed_point([points for group in lines.values() for points in group], INK_MAP))
    out = {}
    for group, points in lines.items():
        raster = np.zeros((INK_MAP, INK_MAP), np.uint8)
        cv2.polylines(raster, [next(fixed) for _ in points], False, 1, 1, cv2.LINE_8, 4)
        out[group] = raster > 0
    return out


def distance_to(cells: np.ndarray) -> np.ndarray:
    """float32 [INK_MAP, INK_MAP]: every cell's distance (in cells, exact) to the nearest of `cells`."""
    return cv2.distanceTransform((~cells).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def touched_groups(distances: dict[str, np.ndarray], cells: np.ndarray) -> set[str]:
    """The groups that changed ink touches: each connected piece of it (a stroke, more or less) touches the groups
    whose lines lie clearly nearest to at least TOUCH_SHARE of its cells (none farther than NEAR_CELLS)."""
    if not distances or not cells.any():
        return set()
    count, labels = cv2.connectedComponents(cells.astype(np.uint8), connectivity=8)
    names, best = list(distances), np.full(cells.shape, -1)
    best[cells] = clearly_nearest(np.stack([distances[name][cells] for name in names]))
    touched: set[str] = set()
    for piece in range(1, count):
        cells_of_piece = (labels == piece) & (best != AMBIGUOUS)  # an ambiguous cell says nothing either way
        votes = np.bincount(best[cells_of_piece & (best >= 0)], minlength=len(names))
        enough = (votes > 0) & ((votes >= TOUCH_SHARE * cells_of_piece.sum()) | (votes >= TOUCH_CELLS))
        touched.update(names[k] for k in np.flatnonzero(enough))
    return touched


def clearly_nearest(distances: np.ndarray) -> np.ndarray:
    """int [N]: for N cells (distances [groups, N] to each group's lines), the index of the group whose lines lie
    nearest, when within NEAR_CELLS (else -1) and more than AMBIGUOUS_CELLS nearer than any other group's (else
    AMBIGUOUS). Ink is known to a cell: a cell about as near to two parts' lines (a side lock passing the tip of
    an eye's lashes, a fringe's tips on a brow) is evidence for neither; it used to go to whichever part came
    first in the list."""
    near = distances.min(axis=0) <= NEAR_CELLS
    best = np.where(near, distances.argmin(axis=0), -1)
    if len(distances) == 1:
        return best
    two = np.partition(distances, 1, axis=0)[:2]
    return np.where(near & (two[1] - two[0] <= AMBIGUOUS_CELLS), AMBIGUOUS, best)


def near_ink_cells(ink: np.ndarray, cells: float) -> np.ndarray:
    """bool [INK_MAP, INK_MAP]: the cells within `cells` of ink."""
    return cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3) <= cells


def share_on(lines: np.ndarray, cells: np.ndarray) -> float:
    """Share of a group's line cells (`line_cells`') that lie on `cells`."""
    if not lines.any():
        return 0.0
    return float((cells & lines).sum() / lines.sum())


def fixed_point(lines: list[np.ndarray], scale: float = 1.0) -> list[np.ndarray]:
    """Polylines times `scale` (to pixels) in OpenCV's 4-bit fixed point (int32), all in one batch: one numpy
    operation per polyline (a portrait has ~80, drawn ~20 times a guide) cost more than the drawing."""
    if not lines:
        return []
    points = np.concatenate(lines).astype(np.float64)
    return split_rows(np.round(points * scale * 16).astype(np.int32), [len(p) for p in lines])


def displacement(a: list[np.ndarray], b: list[np.ndarray], cells_per_unit: float = SHIFT_PX) -> float:
    """How far two drawings of a part lie apart: the larger of `farthest` both ways (the Hausdorff distance)."""
    return max(farthest(a, b, cells_per_unit), farthest(b, a, cells_per_unit))


def farthest(a: list[np.ndarray], b: list[np.ndarray], cells_per_unit: float = SHIFT_PX) -> float:
    """The farthest distance from a point along the lines `a` to the lines `b` (polylines [N, 2], in their own
    units): how far from the old drawing `b` anything of the new drawing `a` now lies. Measured on a raster of
    `cells_per_unit` cells per unit over their shared bounds, to about half a cell; 0 for no lines at all,
    infinite when only one side has any."""
    a = [np.asarray(p, np.float64) * cells_per_unit for p in a if len(p) >= 2]
    b = [np.asarray(p, np.float64) * cells_per_unit for p in b if len(p) >= 2]
    if not a or not b:
        return 0.0 if not a and not b else math.inf
    low = np.concatenate(a + b).min(axis=0) - 2
    a, b = [p - low for p in a], [p - low for p in b]
    shape = np.ceil(np.concatenate(a + b).max(axis=0)).astype(int) + 3
    raster = np.zeros((shape[1], shape[0]), np.uint8)
    cv2.polylines(raster, fixed_point(b), False, 1, 1, cv2.LINE_8, 4)
    distance = cv2.distanceTransform((raster == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dense = densify_all(a, 0.5)
    cols = np.clip(np.round(dense[:, 0]).astype(int), 0, shape[0] - 1)
    rows = np.clip(np.round(dense[:, 1]).astype(int), 0, shape[1] - 1)
    return float(distance[rows, cols].max()) / cells_per_unit


def moved_less_than(a: list[np.ndarray], b: list[np.ndarray], limit: float,
                    cells_per_unit: float = SHIFT_PX / 2) -> bool:
    """Whether displacement(a, b) < limit, decided cheaply: bounds that moved farther settle it at once (the
    distance is at least how far any side of the bounds moved), else every point along each drawing must lie
    on the other drawn `limit` thick."""
    a = [np.asarray(p, np.float64) for p in a if len(p) >= 2]
    b = [np.asarray(p, np.float64) for p in b if len(p) >= 2]
    if not a or not b:
        return not a and not b
    pa, pb = np.concatenate(a), np.concatenate(b)
    low_a, low_b, high_a, high_b = column_min(pa), column_min(pb), column_max(pa), column_max(pb)
    if np.abs(low_a - low_b).max() >= limit or np.abs(high_a - high_b).max() >= limit:
        return False
    low = np.minimum(low_a, low_b) - 2 * limit
    shape = np.ceil((np.maximum(high_a, high_b) - low + 2 * limit) * cells_per_unit).astype(int)
    a, b = [(p - low) * cells_per_unit for p in a], [(p - low) * cells_per_unit for p in b]
    return _covers(b, a, limit * cells_per_unit, shape) and _covers(a, b, limit * cells_per_unit, shape)


def _covers(lines: list[np.ndarray], points: list[np.ndarray], radius: float, shape) -> bool:
    """Whether every point along `points` lies within about `radius` cells of `lines`."""
    raster = np.zeros((shape[1], shape[0]), np.uint8)
    thickness = max(1, int(2 * radius))  # OpenCV's thick lines reach thickness / 2 beside the centre line
    cv2.polylines(raster, fixed_point(lines), False, 1, thickness, cv2.LINE_8, 4)
    dense = densify_all(points, 1.0)
    cols = np.clip(np.round(dense[:, 0]).astype(int), 0, shape[0] - 1)
    rows = np.clip(np.round(dense[:, 1]).astype(int), 0, shape[1] - 1)
    return bool(raster[rows, cols].all())


def densify(points: np.ndarray, spacing: float) -> np.ndarray:
    """The polyline resampled so that consecutive points lie at most `spacing` apart (its vertices kept)."""
    return densify_all([points], spacing)


def densify_all(lines: list[np.ndarray], spacing: float) -> np.ndarray:
    """The points of `densify` for every polyline of `lines`, all in one array (in no particular order): one
    batch of numpy operations instead of one per polyline (a portrait has ~80), the hold comparisons' main cost."""
    points = np.concatenate(lines)
    ends = np.cumsum([len(line) for line in lines])
    first = np.ones(len(points) - 1, bool)
    first[ends[:-1] - 1] = False  # no segment joins one polyline's last vertex to the next one's first
    start = points[:-1][first]
    delta = points[1:][first] - start
    steps = np.maximum(1, np.ceil(row_lengths(delta) / spacing)).astype(int)
    segment = np.repeat(np.arange(len(start)), steps)
    t = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)) / np.repeat(steps, steps)
    return np.concatenate([start[segment] + delta[segment] * t[:, None], points[ends - 1]])
