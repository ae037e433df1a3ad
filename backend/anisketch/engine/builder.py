"""The builder and occlusion: strokes and regions collected in face units, then placed on the canvas by the
pose, resampled, depth-tested and cut, all in one batch of numpy operations (see geometry.py's docstring).

Also the engine's output types (Stroke, Region, Portrait) and the depths that decide what hides what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from anisketch.engine import palette
from anisketch.engine.params import LABEL, Params
from anisketch.engine.curves import split_rows, taper_profile

# The order an artist draws the parts in (Stroke.order sorts by stage first, then by creation).
STAGES = ("contour", "ears", "neck", "clothes", "eyes", "brows", "nose", "mouth", "blush",
          "hair_back", "hair_front", "accessories")

# Depths (front is larger). Strokes on a region's outline carry that region's depth.
Z_TAIL_BACK, Z_BACK_HAIR, Z_TAILS, Z_NECK, Z_CLOTHES, Z_EARS, Z_FACE, Z_FEATURES = 0.5, 1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 5.0
Z_FRONT_HAIR, Z_HAT, Z_RIBBON, Z_GLASSES = 6.0, 7.0, 8.0, 9.0
# Eyes show through the fringe, as anime draws them: a long lock never hides the lash line.
Z_EYES = 6.5

ANCHOR_Y = 0.3  # the face point that sits at the pose's (cx, cy)
OCCLUSION_RES = 512  # resolution of the depth map used to cut hidden strokes (fixed: strokes are size-free)
STEP = 0.004  # stroke points are resampled to this spacing (canvas units)


@dataclass(slots=True)  # (slots: a portrait makes ~80 strokes and ~55 regions, a sketch ~100 strokes)
class Stroke:
    points: np.ndarray  # float32[N, 2], canvas coordinates
    widths: np.ndarray  # float32[N], fractions of the canvas side
    group: str
    order: int
    closed: bool = False


@dataclass(slots=True)
class Region:
    polygon: np.ndarray  # float32[M, 2]
    label: int  # index into PART_LABELS
    color: tuple  # (r, g, b) uint8
    z: float
    detail: bool = False  # shading or highlight inside a region of the same label: the part map skips it

    def recolored(self, color: tuple) -> Region:
        """The same region in another colour (a sixth of `dataclasses.replace`'s time: production layers
        repaint every region three times a candidate)."""
        return Region(self.polygon, self.label, color, self.z, self.detail)


@dataclass
class Portrait:
    strokes: list[Stroke]
    regions: list[Region]
    params: Params = field(repr=False)


# ----------------------------------------------------------------------------------------------------------------
# The builder: collects strokes and regions in face units, then places, resamples and cuts them all at once
# (one batch of numpy operations for the whole portrait, rather than a few dozen per stroke).

@dataclass(slots=True)
class Line:
    pts: np.ndarray
    width: float
    group: str
    stage: str
    z: float
    taper: tuple
    closed: bool
    depth: float


class Builder:
    def __init__(self, p: Params) -> None:
        self.p = p
        self.scale = p["scale"]
        self.yaw = 0.2 * p["yaw"]
        ca, sa = np.cos(p["roll"]), np.sin(p["roll"])
        self.rot_t = (np.array([[ca, -sa], [sa, ca]]) * self.scale).T
        self.offset = np.array([p["cx"], p["cy"]])
        self.width_unit = self.scale / 0.21  # line weights follow the face size
        self.lines: list[Line] = []
        self.local_regions: list[tuple] = []  # (points, label, color, z, occludes, depth, detail)
        self.region_groups: list[str] = []  # the group of the part that added each region (build_parts)

    def place(self, pts: np.ndarray, depth: float | np.ndarray) -> np.ndarray:
        """Face units -> canvas. The yaw warp slides the face centre sideways and narrows the far side; points
        that stand out of the face (depth > 0: the nose) slide further."""
        x = pts[:, 0]
        xc = np.minimum(np.maximum(x, -1.3), 1.3)
        warped = np.empty_like(pts)
        warped[:, 0] = x + self.yaw * (1.0 - xc * xc + depth)
        warped[:, 1] = pts[:, 1] - ANCHOR_Y
        out = warped @ self.rot_t
        out[:, 0] += self.offset[0]  # (column by column: numpy 2.4 broadcasts [N, 2] + [2] slowly)
        out[:, 1] += self.offset[1]
        return out

    def line(self, pts: np.ndarray, width: float, group: str, stage: str, z: float,
             taper: tuple[float, float, float] = (0.15, 0.15, 0.2), closed: bool = False, depth: float = 0.0) -> None:
        self.lines.append(Line(pts, width, group, stage, z, taper, closed, depth))

    def region(self, pts: np.ndarray, label: str, color: tuple, z: float, occludes: bool = True,
               depth: float = 0.0) -> None:
        self.local_regions.append((pts, LABEL[label], color, z, occludes, depth, False))

    def detail(self, pts: np.ndarray, label: str, color: tuple, z: float, depth: float = 0.0) -> None:
        """Shading or a highlight painted inside a region of the same label (hides nothing, labels nothing)."""
        self.local_regions.append((pts, LABEL[label], color, z, False, depth, True))

    def finish(self) -> tuple[list[Stroke], list[Region]]:
        placed = self._placed_local()
        return self._visible_strokes(self.lines, placed), self.placed_regions(placed)

    def finished_strokes(self) -> list[Stroke]:
        """finish's strokes alone: guidance draws lines, and the regions' colours and background are most of
        placing them (only the occluders among them cut lines)."""
        return self._visible_strokes(self.lines)

    def placed_regions(self, placed_local: np.ndarray | None = None) -> list[Region]:
        """finish's regions alone: a portrait in other colours has the same strokes, which carry no colour.
        `placed_local`: the local regions already placed (`_placed_local`)."""
        canvas = palette.background_regions(self.p)  # already in canvas coordinates
        items = [(poly, label, color, z, False, 0.0, False) for poly, label, color, z in canvas]
        local = self._placed_local() if placed_local is None else placed_local
        placed = np.concatenate([np.concatenate([item[0] for item in canvas]), local])
        items += self.local_regions
        counts = [len(item[0]) for item in items]
        polygons32 = split_rows(placed.astype(np.float32), counts)
        regions = [Region(poly32, label, color, float(z), detail)
                   for poly32, (_, label, color, z, _, _, detail) in zip(polygons32, items)]
        regions.sort(key=lambda r: r.z)
        return regions

    def visible_strokes(self, groups: set[str] | frozenset[str]) -> list[Stroke]:
        """Only the strokes of `groups`, as finish cuts them (every occluder still hides them): placing and
        cutting the other groups' lines is most of a finish. Their `order` counts these strokes only."""
        return self._visible_strokes([line for line in self.lines if line.group in groups])

    def whole_strokes(self, groups: set[str] | frozenset[str]) -> list[Stroke]:
        """The strokes of `groups` with nothing hiding them: the whole course of each line, where an occluder
        would cut it too (how far a part's lines moved is judged against where they run, hidden or not)."""
        return self._visible_strokes([line for line in self.lines if line.group in groups], hidden=False)

    def composed_strokes(self, placers: Mapping[str, "Builder"], groups: Iterable[str] | None = None) -> list[Stroke]:
        """The strokes of `groups` (None: every group) of these parts, each part placed by its own pose: by the
        Builder `placers` gives its group, else by this one. Lines and the regions that hide them go with their
        part alike, and one depth test cuts them all: the face as drawn with parts held where the artist left
        them (guidance/hold.py), whatever the number of poses."""
        chosen = None if groups is None else set(groups)
        lines = [line for line in self.lines if chosen is None or line.group in chosen]
        return self._visible_strokes(lines, placers=placers)

    def _placed_local(self) -> np.ndarray:
        """Every local region's points on the canvas, one placement for all, in the order they were added."""
        counts = [len(region[0]) for region in self.local_regions]
        local = np.concatenate([region[0] for region in self.local_regions])
        return self.place(local, np.repeat([region[5] for region in self.local_regions], counts))

    def _place_by_group(self, points: np.ndarray, depth: np.ndarray, groups: np.ndarray | None,
                        placers: Mapping[str, "Builder"]) -> np.ndarray:
        """Points (face units; `groups`: each point's group) placed by their group's Builder, else by this one."""
        if not placers or groups is None:
            return self.place(points, depth)
        placed = np.empty_like(points)
        for group in set(groups.tolist()):
            rows = groups == group
            placed[rows] = placers.get(group, self).place(points[rows], depth[rows])
        return placed

    def _occluders(self, deeper_than: int, placed_local: np.ndarray | None,
                   placers: Mapping[str, "Builder"]) -> list[tuple[np.ndarray, int]]:
        """The regions that hide lines behind them and lie deeper (z * 10) than `deeper_than`, on the canvas,
        with their depths (z * 10), front-most last. An occluder no deeper than the lowest line hides nothing,
        and what it would paint is overwritten or hides nothing either: left out, and not placed (a held
        part's eyes, in front of all but the accessories, are cut by none). `placed_local`: every local region
        already placed (`_placed_local`); `placers`: as `_place_by_group`'s."""
        depth = [int(round(region[3] * 10)) for region in self.local_regions]
        chosen = [k for k, region in enumerate(self.local_regions) if region[4] and depth[k] > deeper_than]
        if not chosen:
            return []
        if placed_local is not None:
            polygons = split_rows(placed_local, [len(region[0]) for region in self.local_regions])
            placed = [polygons[k] for k in chosen]
        else:
            regions = [self.local_regions[k] for k in chosen]
            counts = [len(region[0]) for region in regions]
            groups = np.repeat([self.region_groups[k] for k in chosen], counts) if placers else None
            points = self._place_by_group(np.concatenate([region[0] for region in regions]),
                                          np.repeat([region[5] for region in regions], counts), groups, placers)
            placed = split_rows(points, counts)
        return sorted(zip(placed, [depth[k] for k in chosen]), key=lambda o: o[1])

    @staticmethod
    def _depth_map(occluders: list[tuple[np.ndarray, int]]) -> np.ndarray:
        """The depth (z * 10) of the front-most occluder at each cell (`_occluders`, back to front)."""
        zmap = np.zeros((OCCLUSION_RES, OCCLUSION_RES), np.uint8)
        fixed = (np.concatenate([poly for poly, _ in occluders]) * (OCCLUSION_RES * 16)).astype(np.int32)
        for (_, z), poly in zip(occluders, split_rows(fixed, [len(poly) for poly, _ in occluders])):
            cv2.fillPoly(zmap, [poly], z, lineType=cv2.LINE_8, shift=4)
        return zmap

    def _visible_strokes(self, lines: list[Line], placed_local: np.ndarray | None = None, hidden: bool = True,
                         placers: Mapping[str, "Builder"] | None = None) -> list[Stroke]:
        """The lines placed (each by its group's Builder in `placers`, else by this one), resampled and cut
        where an occluder hides them (`hidden`: else whole)."""
        if not lines:
            return []
        placers = placers or {}
        rank = {name: i for i, name in enumerate(STAGES)}
        lines = [line for _, line in sorted(enumerate(lines), key=lambda il: (rank[il[1].stage], il[0]))]
        local = [np.concatenate([line.pts, line.pts[:1]]) if line.closed else line.pts for line in lines]
        counts = np.array([len(p) for p in local])
        groups = np.repeat([line.group for line in lines], counts) if placers else None
        pts = self._place_by_group(np.concatenate(local), np.repeat([line.depth for line in lines], counts), groups,
                                   placers)
        units = np.array([placers.get(line.group, self).width_unit for line in lines])
        pts, widths, counts = _resample_all(lines, pts, counts, units)
        line_z = [int(round(line.z * 10)) for line in lines]
        occluders = self._occluders(min(line_z), placed_local, placers) if hidden else []
        if not occluders:
            return _cut_hidden(lines, pts, widths, counts, np.ones(len(pts), bool))
        zmap = self._depth_map(occluders)
        ij = np.clip((pts * OCCLUSION_RES).astype(np.int64), 0, OCCLUSION_RES - 1)
        z_line = np.repeat(line_z, counts)
        visible = np.take(zmap, ij[:, 1] * OCCLUSION_RES + ij[:, 0]) <= z_line  # zmap[y, x], as a flat gather
        return _cut_hidden(lines, pts, widths, counts, visible)


def _cut_hidden(lines: list[Line], pts: np.ndarray, widths: np.ndarray, counts: np.ndarray,
                visible: np.ndarray) -> list[Stroke]:
    """Strokes made of the visible runs of each line. A cut end moves halfway to the first hidden point, so
    that it meets the occluder's outline."""
    starts = np.cumsum(counts) - counts
    ends = starts + counts
    v = visible.astype(np.int8)
    prev = np.concatenate([[0], v[:-1]])
    prev[starts] = 0
    nxt = np.concatenate([v[1:], [0]])
    nxt[ends - 1] = 0
    run_starts = np.flatnonzero((v == 1) & (prev == 0))
    run_ends = np.flatnonzero((v == 1) & (nxt == 0)) + 1
    owner = np.searchsorted(starts, run_starts, side="right") - 1
    pts32, widths32 = pts.astype(np.float32), widths.astype(np.float32)
    midpoints = 0.5 * (pts32[:-1] + pts32[1:])
    start_list, end_list = starts.tolist(), ends.tolist()
    strokes: list[Stroke] = []
    done_closed: set[int] = set()
    add = strokes.append
    for a, b, k in zip(run_starts.tolist(), run_ends.tolist(), owner.tolist()):
        line, s0, s1 = lines[k], start_list[k], end_list[k]
        if a == s0 and b == s1:
            add(Stroke(pts32[a:b], widths32[a:b], line.group, len(strokes), line.closed))
        elif line.closed:  # partly hidden loops are rare: cut them on their own (their runs may wrap around)
            if k not in done_closed:
                done_closed.add(k)
                for run_pts, run_w in _visible_runs(pts[s0:s1], widths[s0:s1], visible[s0:s1], True):
                    add(Stroke(run_pts.astype(np.float32), run_w.astype(np.float32), line.group, len(strokes),
                               False))
        else:
            lo, hi = (a - 1 if a > s0 else a), (b + 1 if b < s1 else b)
            if hi - lo < 2:
                continue
            run_pts = pts32[lo:hi].copy()
            if lo < a:
                run_pts[0] = midpoints[lo]
            if hi > b:
                run_pts[-1] = midpoints[hi - 2]
            add(Stroke(run_pts, widths32[lo:hi].copy(), line.group, len(strokes), False))
    return strokes


def _resample_all(lines: list[Line], pts: np.ndarray, counts: np.ndarray, width_units: np.ndarray,
                  step: float = STEP, gap: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample every placed line (`pts`, `counts` points each, a closed line's first point repeated at its
    end; `width_units`: each line's width unit, its face's size) to even arc-length spacing, all at once.

    The strokes are laid end to end on one arc-length axis, with a `gap` between them so that one np.interp
    call resamples all of them without mixing neighbours. Returns (points, widths, counts)."""
    starts = np.cumsum(counts) - counts
    step_xy = np.diff(pts, axis=0)
    seg = np.hypot(step_xy[:, 0], step_xy[:, 1])
    seg[starts[1:] - 1] = 0.0
    length = np.add.reduceat(seg, starts)
    seg[starts[1:] - 1] = gap
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    m = np.maximum(np.ceil(length / step).astype(np.int64), 1) + 1
    first = np.cumsum(m) - m
    t = (np.arange(m.sum()) - np.repeat(first, m)) / np.repeat(m - 1, m)
    target = np.repeat(arc[starts], m) + t * np.repeat(length, m)
    out = np.stack([np.interp(target, arc, pts[:, 0]), np.interp(target, arc, pts[:, 1])], axis=1)
    tapers = np.array([line.taper for line in lines], np.float64)
    base = np.array([line.width for line in lines]) * width_units
    widths = np.repeat(base, m) * taper_profile(t, *(np.repeat(tapers[:, k], m) for k in range(3)))
    closed = np.array([line.closed for line in lines])
    if closed.any():  # a closed loop's last sample repeats its first
        keep = np.ones(len(t), bool)
        keep[(first + m - 1)[closed]] = False
        out, widths, m = np.compress(keep, out, axis=0), widths[keep], m - closed
    return out, widths, m


def _visible_runs(pts: np.ndarray, widths: np.ndarray, visible: np.ndarray,
                  closed: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a stroke into its visible runs; each cut end moves halfway to the first hidden point."""
    if closed:  # rotate so that the stroke starts on a hidden point, then treat it as open
        k = int(np.argmin(visible))
        pts, widths, visible = (np.concatenate((a[k:], a[:k])) for a in (pts, widths, visible))  # np.roll
    edges = np.flatnonzero(np.diff(np.concatenate(([0], visible.astype(np.int8), [0])))).tolist()
    runs = []
    for start, stop in zip(edges[::2], edges[1::2]):
        a, b = max(start - 1, 0), min(stop + 1, len(pts))
        if b - a < 2:
            continue
        run_pts, run_w = pts[a:b].copy(), widths[a:b].copy()
        if a < start:
            run_pts[0] = 0.5 * (run_pts[0] + run_pts[1])
        if b > stop:
            run_pts[-1] = 0.5 * (run_pts[-1] + run_pts[-2])
        runs.append((run_pts, run_w))
    return runs
