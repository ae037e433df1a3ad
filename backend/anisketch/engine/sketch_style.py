"""How real artists sketch, beyond the engine's own line art: the styles the drawing simulator can draw.

`sketch.simulate_sketch` makes clean strokes messy and draws a share of them. This module decides *which*
strokes there are and in which order, before that:

- **Construction guides** (group "guide", a group no portrait ever contains): the cranium circle, the centre
  line, the eye line, the jaw lines and the neck and shoulder guides that every manga tutorial draws first,
  placed by the portrait's own pose (turned with its yaw and roll). They are drawn first and often left in;
  some artists erase them once the contour is down (`erase_guides_at`). The training target never has them,
  so the model learns that a guide line is never a part.
- **Beginner simplifications**: circle or dot eyes, a zigzag fringe, a stick neck with a straight shoulder
  line, no ears, a plain round jaw.
- **Sketchy multi-pass lines** (each line drawn 2-3 times, a little off and a little shorter each time) and
  **hatching** (parallel short strokes: under the chin, in the hair), group "shading".
- **Artists' orders**: "artist" (the engine's: contour, ears, neck, features, hair), "random", "features"
  (eyes, brows, nose, mouth, then contour, hair last), "contour" (contour first, features, hair), "hair"
  (hair first), "left_first" (one side of the face, then the other: stroke by stroke from left to right,
  whatever part each belongs to, as artists do who draw one half and then match it) and "sweep" (stroke by
  stroke down the face from the top, or up from the bottom, at a tilt of up to 35 degrees: the face grows in
  one direction, never sideways, so the left-first order stays unseen). Guides always come first: that is what
  they are for.

`SketchStyle` says what one drawing does; `styled_strokes(portrait, style, rng)` gives its strokes, ordered
(Stroke.order), ready for `simulate_sketch(..., order="artist")`; `draw_styled` does both. `sample_style` is
the training curriculum's sampler: it never draws the HELD_OUT variants, which exist for a fair held-out
evaluation (`anisketch eval` conditions, `eval/styles.py`).

Strokes are classified by where they lie in *face units* (the pose undone): the engine's Stroke keeps only
its group, and "face" holds the contour, the ears, the neck and the clothes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from anisketch.engine.geometry import ANCHOR_Y, Stroke

GUIDE_GROUP = "guide"      # construction lines: never part of a portrait
SHADING_GROUP = "shading"  # hatching: tone, not a line of the portrait
ORDERS = ("artist", "random", "features", "contour", "hair", "left_first", "sweep")
EYE_STYLES = ("circle", "dot")
# Variants the training sampler never draws: held out for the robustness evaluation (docs/data-engine.md).
# The left-first order draws half a face (the left locks, cheek, eye and brow, then across), partial sketches
# none of the named orders makes, so it tests order-independence on an order never seen. The
# hair-first order was held out until the guidance_long leg, which draws it: artists really do start there.
HELD_OUT = {"order": ("left_first",), "eyes": ("dot",)}

# Kinds of stroke, after classification, and the drawing order of each named order (earlier first).
KINDS = ("guide", "contour", "ears", "neck", "eyes", "brows", "nose", "mouth", "blush", "hair", "accessories",
         "shading")
_ORDER_RANK = {
    "features": ("guide", "eyes", "brows", "nose", "mouth", "contour", "ears", "neck", "blush", "accessories",
                 "hair", "shading"),
    "contour": ("guide", "contour", "ears", "neck", "eyes", "brows", "nose", "mouth", "blush", "hair",
                "accessories", "shading"),
    "hair": ("guide", "hair", "contour", "ears", "neck", "eyes", "brows", "nose", "mouth", "blush", "accessories",
             "shading"),
}
GUIDE_WIDTH = 0.0022   # canvas units at the engine's typical face size: a light construction line
HATCH_WIDTH = 0.0018


@dataclass(frozen=True)
class SketchStyle:
    """One drawing's habits. The defaults draw exactly the engine's strokes in the engine's order."""

    order: str = "artist"
    guides: bool = False
    erase_guides_at: float = 2.0   # share of the drawing after which the guides are erased (> 1: left in)
    beginner: bool = False
    eyes: str = "circle"           # a beginner's eyes: "circle" (with a pupil) or "dot"
    passes: int = 1                # each line drawn this many times (sketchy multi-pass)
    hatching: bool = False

    def __post_init__(self):
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, not {self.order!r}")
        if self.eyes not in EYE_STYLES:
            raise ValueError(f"eyes must be one of {EYE_STYLES}, not {self.eyes!r}")
        if not 1 <= int(self.passes) <= 4:
            raise ValueError(f"passes must be 1..4, not {self.passes!r}")

    @property
    def held_out(self) -> bool:
        return self.order in HELD_OUT["order"] or (self.beginner and self.eyes in HELD_OUT["eyes"])


# Training sampler weights (probabilities per feature; the guidance config's [data.style] overrides them).
DEFAULT_STYLE_WEIGHTS = {
    "guides": 0.35, "erase_guides": 0.3, "beginner": 0.25, "multipass": 0.25, "hatching": 0.2,
    "order.artist": 0.3, "order.random": 0.3, "order.features": 0.25, "order.contour": 0.15,
    "order.hair": 0.0,  # 0: the configs before guidance_long.toml never drew it (their legs stay reproducible)
    "order.sweep": 0.0,  # likewise before guidance_sweep.toml
}
SWEEP_TILT = np.radians(35.0)  # a sweep's greatest tilt from the vertical: never within 55 degrees of sideways
SWEEP_DOWN = 0.75  # the share of sweeps that start at the top (the rest start at the chin and clothes)


def sample_style(rng: np.random.Generator, weights: dict | None = None) -> SketchStyle:
    """A training drawing's style. Never draws a HELD_OUT variant (tested): those stay unseen."""
    w = {**DEFAULT_STYLE_WEIGHTS, **(weights or {})}
    unknown = set(w) - set(DEFAULT_STYLE_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown sketch style weights {sorted(unknown)}; known: {sorted(DEFAULT_STYLE_WEIGHTS)}")
    orders = [o for o in ORDERS if o not in HELD_OUT["order"]]
    p = np.array([float(w.get(f"order.{o}", 0.0)) for o in orders])
    if p.sum() <= 0:
        raise ValueError("sketch style weights: at least one training order needs a positive weight")
    u = rng.random(6)
    return SketchStyle(order=orders[int(rng.choice(len(orders), p=p / p.sum()))],
                       guides=bool(u[0] < w["guides"]),
                       erase_guides_at=float(0.4 + 0.5 * u[1]) if u[1] < w["erase_guides"] else 2.0,
                       beginner=bool(u[2] < w["beginner"]), eyes="circle",
                       passes=int(2 + (u[3] > 0.6)) if u[3] < w["multipass"] else 1,
                       hatching=bool(u[4] < w["hatching"]))


# ---------------------------------------------------------------------------------------------------------
# Face units <-> canvas (as builder.Builder.place, the yaw warp included)


@dataclass
class _Pose:
    scale: float
    yaw: float
    rot: np.ndarray     # [2, 2]: face units (after the warp) -> canvas offsets
    offset: np.ndarray  # [2]

    @classmethod
    def of(cls, params) -> "_Pose":
        ca, sa = np.cos(params["roll"]), np.sin(params["roll"])
        rot = (np.array([[ca, -sa], [sa, ca]]) * params["scale"]).T
        return cls(float(params["scale"]), 0.2 * float(params["yaw"]), rot, np.array([params["cx"], params["cy"]]))

    def place(self, pts: np.ndarray, depth: float | np.ndarray = 0.0) -> np.ndarray:
        pts = np.asarray(pts, np.float64)
        x = pts[:, 0]
        xc = np.clip(x, -1.3, 1.3)
        warped = np.stack([x + self.yaw * (1.0 - xc * xc + depth), pts[:, 1] - ANCHOR_Y], axis=1)
        return warped @ self.rot + self.offset

    def unplace(self, pts: np.ndarray) -> np.ndarray:
        """Canvas -> face units, the yaw warp undone approximately (good enough to tell parts apart)."""
        warped = (np.asarray(pts, np.float64) - self.offset) @ np.linalg.inv(self.rot)
        x = warped[:, 0] - self.yaw * (1.0 - np.clip(warped[:, 0], -1.3, 1.3) ** 2)
        return np.stack([x, warped[:, 1] + ANCHOR_Y], axis=1)


def _stroke(pose: _Pose, pts, width: float, group: str, depth=0.0) -> Stroke:
    canvas = pose.place(np.asarray(pts, np.float64), depth).astype(np.float32)
    return Stroke(canvas, np.full(len(canvas), width * pose.scale / 0.21, np.float32), group, 0, False)


def _arc(cx, cy, rx, ry, a0, a1, n=48):
    t = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


# ---------------------------------------------------------------------------------------------------------
# Classification


def classify(stroke: Stroke, pose: _Pose) -> str:
    """The kind of an engine stroke (KINDS): its group, or for "face" the contour, ears or neck (and clothes)."""
    if stroke.group != "face":
        return {"guide": "guide", "shading": "shading"}.get(stroke.group, stroke.group)
    f = pose.unplace(stroke.points)
    if f[:, 1].max() > 1.6:
        return "neck"
    if np.abs(f[:, 0]).max() > 1.03 and np.ptp(f[:, 1]) < 0.8 and f[:, 1].max() < 1.0:
        return "ears"
    if f[:, 1].min() > 0.6 and np.abs(f[:, 0]).max() < 0.75 and f[:, 1].max() < 1.3:
        return "blush"  # cheek hatching, drawn with the features
    return "contour"


# ---------------------------------------------------------------------------------------------------------
# What gets drawn


def kinds_of(strokes: list[Stroke], params) -> list[str]:
    """The kind (KINDS) of each stroke of a drawing of the portrait with these params (its pose)."""
    pose = _Pose.of(params)
    return [classify(s, pose) for s in strokes]


def construction_guides(params, rng: np.random.Generator) -> list[Stroke]:
    """Cranium circle, centre line, eye line, jaw lines, neck and shoulder guides, in drawing order, placed by
    the portrait's pose: the centre line bows with the yaw as it would on a ball."""
    pose = _Pose.of(params)
    wobble = lambda: rng.uniform(-0.04, 0.04)  # noqa: E731 - a guide is drawn freehand, never exact
    eye_y = 0.25 + wobble()
    y = np.linspace(-1.05, 1.5, 40)
    ball = np.sqrt(np.clip(1.0 - y * y, 0.0, 1.0))
    chin = np.array([0.0, 1.45 + wobble()])
    guides = [
        _stroke(pose, _arc(0.0, 0.0, 1.0 + wobble(), 1.0 + wobble(), -np.pi, np.pi, 72), GUIDE_WIDTH, GUIDE_GROUP),
        _stroke(pose, np.stack([np.zeros_like(y), y], 1), GUIDE_WIDTH, GUIDE_GROUP, depth=0.6 * ball),
        _stroke(pose, _arc(0.0, eye_y - 0.9, 1.02, 0.9 + 0.1 * wobble(), 0.1 * np.pi, 0.9 * np.pi, 32)[::-1],
                GUIDE_WIDTH, GUIDE_GROUP),
    ]
    for s in (-1.0, 1.0):  # jaw: from the circle's side down to the chin
        guides.append(_stroke(pose, np.array([(0.97 * s, 0.3), (0.75 * s, 1.0), chin]), GUIDE_WIDTH, GUIDE_GROUP))
    if rng.random() < 0.8:  # neck and shoulders
        nw = float(params.get("neck_w", 0.4)) if hasattr(params, "get") else 0.4
        for s in (-1.0, 1.0):
            guides.append(_stroke(pose, np.array([(nw * s, 1.2), (nw * s * 1.05, 2.0)]), GUIDE_WIDTH, GUIDE_GROUP))
        sw = float(params.get("shoulder_w", 1.8)) if hasattr(params, "get") else 1.8
        guides.append(_stroke(pose, np.array([(-sw, 2.25), (-0.6, 2.0), (0.6, 2.0), (sw, 2.25)]), GUIDE_WIDTH,
                              GUIDE_GROUP))
    return guides


def _eye_centres(strokes: list, pose: _Pose) -> list[tuple[np.ndarray, float]]:
    """(centre, half-width) of each eye in face units, from the eye strokes on either side."""
    eyes = []
    points = [pose.unplace(s.points) for s in strokes]
    for side in (-1, 1):
        mine = [p for p in points if np.sign(p[:, 0].mean()) == side]
        if mine:
            p = np.concatenate(mine)
            lo, hi = p.min(axis=0), p.max(axis=0)
            eyes.append(((lo + hi) / 2, float(max(hi[0] - lo[0], 0.1)) / 2))
    return eyes


def beginner_strokes(kinds: list[tuple[str, Stroke]], params, style: SketchStyle,
                     rng: np.random.Generator) -> list[tuple[str, Stroke]]:
    """The portrait as a beginner draws it: circle or dot eyes, a zigzag fringe, a stick neck, no ears, a plain
    jaw. Brows, nose and mouth stay as the engine draws them (they are already single lines)."""
    pose = _Pose.of(params)
    width = 0.0034
    out = []
    eye_strokes = [s for k, s in kinds if k == "eyes"]
    for kind, stroke in kinds:
        if kind in ("eyes", "ears", "contour", "neck"):
            continue  # redrawn below (ears: left out)
        if kind == "hair" and _in_fringe(pose.unplace(stroke.points)):
            continue  # the fringe's locks: one zigzag instead
        out.append((kind, stroke))
    for centre, half in _eye_centres(eye_strokes, pose):
        if style.eyes == "dot":
            r = 0.06 + 0.03 * rng.random()
            dot = _arc(centre[0], centre[1], r, r, 0, 2 * np.pi, 16)
            out.append(("eyes", _stroke(pose, dot, 0.009, "eyes")))
        else:
            r = half * rng.uniform(0.7, 0.9)
            out.append(("eyes", _stroke(pose, _arc(centre[0], centre[1], r, r * 1.15, 0, 2 * np.pi, 40), width,
                                        "eyes")))
            p = 0.35 * r
            out.append(("eyes", _stroke(pose, _arc(centre[0], centre[1] + 0.2 * r, p, p, 0, 2 * np.pi, 16),
                                        0.008, "eyes")))
    # plain jaw: the cranium's sides straight down into one round chin
    chin_y = 1.4 + rng.uniform(-0.05, 0.05)
    jaw = _arc(0.0, 0.0, 0.98, chin_y, -0.15 * np.pi, 1.15 * np.pi, 60)
    out.append(("contour", _stroke(pose, jaw, 0.0042, "face")))
    # stick neck: two straight lines and a straight shoulder line
    nw = 0.3 + 0.1 * rng.random()
    for s in (-1.0, 1.0):
        out.append(("neck", _stroke(pose, np.array([(nw * s, chin_y - 0.25), (nw * s, 2.0)]), width, "face")))
    out.append(("neck", _stroke(pose, np.array([(-1.9, 2.2), (-nw, 2.0), (nw, 2.0), (1.9, 2.2)]), width, "face")))
    # zigzag fringe across the forehead
    teeth = int(rng.integers(5, 9))
    x = np.linspace(-0.95, 0.95, 2 * teeth + 1)
    y = np.where(np.arange(len(x)) % 2 == 0, -0.45, -0.02) + rng.uniform(-0.05, 0.05, len(x))
    out.append(("hair", _stroke(pose, np.stack([x, y], 1), 0.004, "hair")))
    return out


def _in_fringe(face_points: np.ndarray) -> bool:
    """A hair stroke that hangs over the forehead (inside the cranium, above the brows)."""
    x, y = face_points[:, 0], face_points[:, 1]
    inside = (np.abs(x) < 0.85) & (y > -0.8) & (y < 0.15)
    return bool(inside.mean() > 0.6)


def hatching(params, rng: np.random.Generator) -> list[tuple[str, Stroke]]:
    """Parallel short strokes: the shadow under the chin and a patch of hair tone."""
    pose = _Pose.of(params)
    out = []
    for x0, y0, w, h, count in ((-0.35, 1.5, 0.7, 0.25, int(rng.integers(5, 9))),
                                (rng.choice([-0.85, 0.35]), -0.85, 0.5, 0.3, int(rng.integers(4, 8)))):
        for i in range(count):
            x = x0 + w * (i + 0.5) / count
            stroke = np.array([(x, y0 + h), (x + 0.6 * h, y0)]) + rng.normal(0, 0.01, (2, 2))
            out.append(("shading", _stroke(pose, stroke, HATCH_WIDTH, SHADING_GROUP)))
    return out


def multipass(kinds: list[tuple[str, Stroke]], passes: int, rng: np.random.Generator) -> list[tuple[str, Stroke]]:
    """Each line drawn `passes` times: every later pass a little off and a little shorter (sketchy lines)."""
    if passes <= 1:
        return kinds
    out = []
    for kind, stroke in kinds:
        out.append((kind, stroke))
        n = len(stroke.points)
        for _ in range(passes - 1):
            a, b = int(rng.integers(0, max(1, n // 6))), n - int(rng.integers(0, max(1, n // 6)))
            if b - a < 2:
                continue
            shift = rng.normal(0, 0.003, 2).astype(np.float32)
            out.append((kind, Stroke(stroke.points[a:b] + shift, stroke.widths[a:b] * np.float32(0.8),
                                     stroke.group, stroke.order, False)))
    return out


def styled_strokes(portrait, style: SketchStyle, rng: np.random.Generator) -> list[Stroke]:
    """The strokes of `portrait` as an artist of `style` draws them, with Stroke.order their drawing order.

    Uses the portrait's params (the pose) for guides, beginner shapes and hatching."""
    params = params_of(portrait)
    if params is None:
        raise ValueError("a styled sketch needs the portrait's params (its pose): an engine Portrait or a "
                         "shard's RenderedPortrait")
    pose = _Pose.of(params)
    kinds = [(classify(s, pose), s) for s in portrait.strokes if len(s.points) >= 2]
    if style.beginner:
        kinds = beginner_strokes(kinds, params, style, rng)
    if style.hatching:
        kinds = kinds + hatching(params, rng)
    kinds = multipass(kinds, style.passes, rng)
    if style.guides:
        kinds = [("guide", g) for g in construction_guides(params, rng)] + kinds
    ordered = _in_order(kinds, style.order, rng, pose)
    return [dataclasses.replace(s, order=i) for i, (_, s) in enumerate(ordered)]


def params_of(portrait):
    """The engine params of a Portrait (`.params`) or a shard's RenderedPortrait (`.meta["params"]`), else None."""
    params = getattr(portrait, "params", None)
    if params is None:
        params = getattr(portrait, "meta", {}).get("params")
    return params


def _in_order(kinds: list[tuple[str, Stroke]], order: str, rng: np.random.Generator,
              pose: _Pose) -> list[tuple[str, Stroke]]:
    guides = [ks for ks in kinds if ks[0] == "guide"]
    rest = [ks for ks in kinds if ks[0] != "guide"]
    if order == "artist":  # the engine's stage order, new strokes placed with their kind
        rank = {kind: i for i, kind in enumerate(_ORDER_RANK["contour"])}
        rest = sorted(rest, key=lambda ks: (rank[ks[0]], ks[1].order))
    elif order == "random":
        rest = [rest[i] for i in rng.permutation(len(rest))]
    elif order == "left_first":  # by each stroke's middle, left to right on the upright face (the pose undone)
        rest = sorted(rest, key=lambda ks: float(pose.unplace(ks[1].points)[:, 0].mean()))
    elif order == "sweep":
        tilt = rng.uniform(-SWEEP_TILT, SWEEP_TILT) + (0.0 if rng.random() < SWEEP_DOWN else np.pi)
        direction = np.array([np.sin(tilt), np.cos(tilt)])  # on the upright face, y downwards
        rest = sorted(rest, key=lambda ks: float(pose.unplace(ks[1].points).mean(axis=0) @ direction))
    else:
        rank = {kind: i for i, kind in enumerate(_ORDER_RANK[order])}
        rest = sorted(rest, key=lambda ks: rank[ks[0]])  # stable: the engine's order within a kind
    return guides + rest


def draw_styled(portrait, rng: np.random.Generator, style: SketchStyle, fraction: float = 1.0,
                messiness: float = 0.5) -> list[Stroke]:
    """simulate_sketch of the styled strokes: what the sketch layer holds at `fraction` of this drawing.
    Guides are gone once `fraction` passes `style.erase_guides_at` (erased after the contour)."""
    from anisketch.engine.sketch import simulate_sketch

    strokes = styled_strokes(portrait, style, rng)
    drawn = simulate_sketch(strokes, rng, fraction=fraction, order="artist", messiness=messiness)
    if fraction >= style.erase_guides_at:
        drawn = [s for s in drawn if s.group != GUIDE_GROUP]
    return drawn
