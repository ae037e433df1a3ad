"""Hair: the back outline, the fringe's locks, side locks, tails and ponytails, shading and sheen."""

from __future__ import annotations

import numpy as np

from anisketch.engine.builder import Z_BACK_HAIR, Z_FACE, Z_FRONT_HAIR, Z_TAIL_BACK, Z_TAILS, Builder
from anisketch.engine.curves import SOLID, Points, curve, ellipse, mirror, quad_curves, unit_arc
from anisketch.engine.params import Params

def crown_arc(p: Params, n: int = 28, spread: float = 0.1) -> np.ndarray:
    """The hair silhouette over the head, from the right side to the left side."""
    radius = 1.0 + p["hair_volume"]
    unit = unit_arc(n, -spread, np.pi + spread)
    return unit * (radius * 1.04, -radius * (1.0 + p["crown"])) + (0.0, -0.08)


HAIRLINE_Y = -0.8  # where the fringe's locks grow from
TEMPLE = np.array([0.97, -0.12])  # the fringe's outer ends (a side lock starts here)


def bang_tips(p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Tips[7] and notches[8] of the fringe, left to right (the outer notches are the temples)."""
    cut = p.option("bangs")
    sweep = p["bang_sweep"]
    slots = np.linspace(-0.78, 0.78, 7)
    spacing = slots[1] - slots[0]
    xs = slots + (np.array([p[f"bang_x{i}"] for i in range(7)]) - 0.5) * 0.4 * spacing
    var = np.array([p[f"bang_l{i}"] for i in range(7)]) - 0.5
    spread = {"straight": 0.05, "swept": 0.12, "parted": 0.14, "spiky": 0.26}[cut]
    ys = -0.3 + 0.28 * p["bang_len"] + var * spread - 0.1 * xs * xs
    if cut == "swept":  # longer on one side, tips blown towards it
        direction = 1.0 if sweep >= 0 else -1.0
        ys = ys + 0.14 * direction * xs * (0.5 + 0.5 * abs(sweep))
        xs = xs + 0.1 * direction * (0.5 + 0.5 * abs(sweep))
    elif cut == "parted":  # the parting opens the fringe over the forehead
        ys = ys - 0.2 * np.exp(-((xs - p["parting"]) / 0.28) ** 2)
    ys = np.minimum(ys, -0.02)
    # how far up between two tips the notch reaches: a straight (hime) cut is nearly one line
    depth = {"straight": 0.12 + 0.2 * p["bang_depth"], "spiky": 0.45 + 0.35 * p["bang_depth"]}.get(
        cut, 0.3 + 0.35 * p["bang_depth"])
    mids = np.concatenate([[-TEMPLE[0]], 0.5 * (xs[1:] + xs[:-1]), [TEMPLE[0]]])
    between = np.concatenate([[ys[0]], np.maximum(ys[1:], ys[:-1]), [ys[-1]]])
    notch_y = HAIRLINE_Y + (between - HAIRLINE_Y) * (1.0 - depth)
    notch_y[0] = notch_y[-1] = TEMPLE[1]
    if cut == "parted":
        k = 1 + int(np.argmin(np.abs(mids[1:-1] - p["parting"])))
        notch_y[k] = HAIRLINE_Y + 0.04
    return np.stack([xs, ys], axis=1), np.stack([mids, notch_y], axis=1)


def lock_edges(p: Params, tips: np.ndarray, notches: np.ndarray) -> np.ndarray:
    """The two edges of every fringe lock, each running from a notch down to the lock's tip: [14, n, 2] in the
    order (left edge of lock 0, right edge of lock 0, left edge of lock 1, ...)."""
    cut = p.option("bangs")
    a = np.repeat(notches, 2, axis=0)[1:-1]  # notch i, notch i+1 for lock i
    b = np.repeat(tips, 2, axis=0)
    d = b - a
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / (np.hypot(d[:, 0], d[:, 1])[:, None] + 1e-9)
    side = np.tile([1.0, -1.0], 7)[:, None]  # bow each edge outwards from its lock
    bulge = {"straight": 0.0, "swept": 0.03, "parted": 0.035, "spiky": 0.0}[cut]
    if cut == "swept":
        sweep = p["bang_sweep"]
        lean = np.full(14, 0.13 * np.sign(sweep) * (0.5 + 0.5 * abs(sweep)))
    elif cut == "parted":
        lean = 0.06 * np.sign(b[:, 0] - p["parting"])
    else:
        lean = 0.03 * np.sign(b[:, 0]) * np.abs(b[:, 0])  # locks fan out gently from the centre
    mid = 0.5 * (a + b) - normal * side * bulge + np.stack([lean, np.zeros(14)], axis=1)
    return quad_curves(a, mid, b, n=10)


def fringe_edge(edges: np.ndarray) -> np.ndarray:
    """The fringe's lower outline, left temple to right temple, from the lock edges."""
    parts = []
    for i in range(7):
        parts += [edges[2 * i][:-1], edges[2 * i + 1][::-1][:-1]]
    parts.append(edges[13][:1])
    return np.concatenate(parts)


def side_lock(p: Params, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The lock hanging beside the cheek on side s: (outer edge, inner edge), both from the top to the tip."""
    style = p.option("hair_style")
    if style == "short":
        length = 0.55 + 0.55 * p["lock_len"]
    else:
        length = 0.75 + 0.95 * p["lock_len"]
    width = 0.2 + 0.14 * p["lock_w"]
    bend = 0.1 * p["lock_curve"]
    radius = 1.0 + p["hair_volume"]
    tip = np.array([0.88 + bend + 0.04 * (1 - p["lock_w"]), length])
    # a slim lock falls in front of the cheek and leaves the ear free; a wide one covers it
    x_mid = 0.97 + 0.22 * p["lock_w"] + 0.5 * bend
    outer = curve([(radius * 1.035, 0.0), (x_mid, 0.45 * length), (tip[0] + 0.06, 0.85 * length), tip], n=8)
    inner = curve([TEMPLE, (x_mid - width, 0.3 * length), (tip[0] - 0.05 + bend, 0.8 * length), tip], n=8)
    return outer * (s, 1.0), inner * (s, 1.0)


def _back_outline(p: Params) -> tuple[np.ndarray, np.ndarray]:
    """The back hair's silhouette below the crown: (right side from top to bottom, bottom edge right to left)."""
    style = p.option("hair_style")
    radius = 1.0 + p["hair_volume"]
    length, flare = p["back_len"], p["back_flare"]
    if style == "long":
        bottom, width = 2.4 + 1.2 * length, radius + 0.3 + 0.45 * flare
    elif style == "short":
        bottom, width = 1.0 + 0.35 * length, radius + 0.03 + 0.1 * flare
    elif style in ("twin_tail", "drill"):
        bottom, width = 1.1 + 0.5 * length, radius + 0.06 + 0.12 * flare
    else:  # ponytail: the hair is gathered at the back, little falls down
        bottom, width = 0.6 + 0.3 * length, radius + 0.02
    side = curve([(radius * 1.04, -0.1), (radius * 1.05 + 0.05 * flare, 0.35 * bottom),
                  (width - 0.1 * flare, 0.75 * bottom), (width, bottom)], n=8)
    jitter = np.array([p[f"back_tip{i}"] for i in range(5)]) - 0.5
    tips_x = np.linspace(width, -width, 7)[1:-1] * 0.9 + 0.12 * jitter
    if style == "short":  # a bob curls in: its middle is shorter
        tips_y = bottom - 0.02 + 0.06 * jitter - 0.1 * (1 - np.abs(tips_x) / width)
    else:
        tips_y = bottom + 0.05 - 0.12 * np.abs(tips_x) / width + 0.16 * jitter
    notch_x = np.linspace(width, -width, 6)[1:-1] * 0.92
    notch_y = 0.5 * (tips_y[1:] + tips_y[:-1]) - 0.22
    zig = [(width, bottom)]
    for i in range(5):
        zig.append((tips_x[i], tips_y[i]))
        if i < 4:
            zig.append((notch_x[i], notch_y[i]))
    zig.append((-width, bottom))
    return side, np.array(zig)


def build_hair(b: Builder, pal: dict) -> None:
    p = b.p
    style = p.option("hair_style")
    arc = crown_arc(p)
    # back hair: the silhouette behind everything
    side, zig = _back_outline(p)
    bottom_line = _zigzag_curve(zig)
    back_poly = np.concatenate([side[::-1], arc[1:-1], mirror(side), bottom_line[::-1][1:-1]])
    b.region(back_poly, "hair", pal["hair_back"], Z_BACK_HAIR)
    for outline in (side, mirror(side)):
        b.line(outline, 0.0038, "hair", "hair_back", Z_BACK_HAIR, (0.05, 0.15, 0.3))
    b.line(bottom_line, 0.0032, "hair", "hair_back", Z_BACK_HAIR, (0.05, 0.05, 0.5))
    for i in range(4):  # strands falling on the back hair, beside the neck
        t = p[f"strand{i}"]
        s = -1.0 if i % 2 == 0 else 1.0
        y_end = zig[:, 1].max() - 0.25 - 0.35 * t
        if y_end > 0.9:
            x_end = s * (0.6 + 0.3 * t) * abs(zig[0, 0])
            strand = curve([(s * (0.7 + 0.2 * t), 0.25), (s * (0.85 + 0.3 * t), 0.5 * (0.25 + y_end)),
                            (x_end, y_end)], n=6)
            b.line(strand, 0.0022, "hair", "hair_back", Z_BACK_HAIR, (0.3, 0.5, 0.05))

    if style in ("twin_tail", "drill"):
        for s in (-1.0, 1.0):
            build_tail(b, pal, s, drill=style == "drill")
    elif style == "ponytail":
        build_ponytail(b, pal)

    # front hair: crown + fringe + side locks, one shape in front of the face
    tips, notches = bang_tips(p)
    edges = lock_edges(p, tips, notches)
    fringe = fringe_edge(edges)
    outer_l, inner_l = side_lock(p, -1.0)
    outer_r, inner_r = side_lock(p, 1.0)
    front = np.concatenate([arc, outer_l, inner_l[::-1], fringe, inner_r, outer_r[::-1]])
    b.region(front, "hair", pal["hair"], Z_FRONT_HAIR)
    _hair_shading(b, pal, edges, inner_l, inner_r)
    b.line(arc, 0.0042, "hair", "hair_front", Z_FRONT_HAIR, (0.08, 0.08, 0.3))
    for edge in edges:
        b.line(edge, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, (0.0, 0.55, 0.06))
    for line in (outer_l, inner_l, outer_r, inner_r):
        b.line(line, 0.0036, "hair", "hair_front", Z_FRONT_HAIR, (0.1, 0.45, 0.06))
    for outer, inner in ((outer_l, inner_l), (outer_r, inner_r)):  # one strand down each side lock
        n = len(outer)
        strand = (0.45 * outer + 0.55 * inner)[n // 5: 4 * n // 5]
        b.line(strand, 0.0022, "hair", "hair_front", Z_FRONT_HAIR, (0.3, 0.5, 0.05))
    # strand lines rising from the fringe's notches towards the crown, fading out
    top = np.array([0.0, -1.1 - p["crown"]])
    starts = notches[1:-1]
    # short strands from the notches, fading upwards: long and short alternate so the locks do not close up
    reach = (np.tile([0.32, 0.14], 3) + 0.12 * np.array([p[f"bang_l{i}"] for i in range(6)]))[:, None]
    ends = starts + (top - starts) * reach
    mids = 0.5 * (starts + ends) + np.stack([0.03 * np.sign(starts[:, 0]), np.zeros(6)], axis=1)
    for strand in quad_curves(starts, mids, ends, n=8):
        b.line(strand, 0.0024, "hair", "hair_front", Z_FRONT_HAIR, (0.0, 0.8, 0.05))
    # flow lines over the crown: from near the whorl, sweeping down towards the temples
    radius = 1.0 + p["hair_volume"]
    sweep = p["bang_sweep"] if p.option("bangs") == "swept" else 0.0
    whorl = np.array([0.08 * sweep, -0.08 - 0.78 * radius * (1 + p["crown"])])
    for s, u in ((-1.0, p["bang_x1"]), (1.0, p["bang_x5"])):
        end = np.array([s * (0.66 + 0.12 * u) * radius, -0.5 - 0.1 * u])
        start = whorl + (s * (0.22 + 0.1 * u), 0.1)
        ctrl = np.array([start, 0.5 * (start + end) + (s * 0.16, -0.06), end])
        flow = quad_curves(ctrl[:1], ctrl[1:2], ctrl[2:], n=10)[0]
        b.line(flow, 0.0022, "hair", "hair_front", Z_FRONT_HAIR, (0.3, 0.45, 0.05))
    if p.option("bangs") == "parted":  # the parting itself, from the fringe's gap up to the crown
        gap = notches[1 + int(np.argmin(np.abs(notches[1:-1, 0] - p["parting"])))]
        parting = quad_curves(gap[None], (0.5 * (gap + whorl) + (0.03, 0.0))[None], whorl[None], n=10)[0]
        b.line(parting, 0.0024, "hair", "hair_front", Z_FRONT_HAIR, (0.1, 0.6, 0.1))
    # the fringe's shadow on the forehead
    shadow = np.concatenate([fringe, (fringe + (0.05, 0.11))[::-1]])
    b.region(shadow, "skin", pal["skin_shadow"], Z_FACE + 0.1, occludes=False)


def _zigzag_curve(zig: np.ndarray) -> np.ndarray:
    """Pointed tips joined by curved flanks: each tip stays a corner, each flank a gentle curve."""
    a, c = zig[:-1], zig[1:]
    d = c - a
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) * 0.12
    flanks = quad_curves(a, 0.5 * (a + c) + normal, c, n=6)
    return np.concatenate([flanks[:, :-1].reshape(-1, 2), zig[-1:]])


def _hair_shading(b: Builder, pal: dict, edges: np.ndarray, inner_l: np.ndarray, inner_r: np.ndarray) -> None:
    """Cel shading of the front hair: a shadow tone inside each lock beside one edge, and a sheen band."""
    p = b.p
    # in every lock, a sliver from the notch down two thirds of the lock, hugging its right edge
    k = int(0.7 * edges.shape[1])
    right = edges[1::2, :k]
    inside = 0.55 * right + 0.45 * edges[0::2, :k]
    for sliver in np.concatenate([right, inside[:, ::-1]], axis=1):
        b.detail(sliver, "hair", pal["hair_shadow"], Z_FRONT_HAIR + 0.02)
    for inner in (inner_l, inner_r):
        k = len(inner)
        band = np.concatenate([inner[k // 6: 5 * k // 6], (inner[k // 6: 5 * k // 6] * (0.9, 1.0) + (0.0, 0.0))[::-1]])
        band[:, 0] = np.where(np.arange(len(band)) < len(band) // 2, band[:, 0],
                              band[:, 0] + 0.09 * np.sign(band[:, 0]))
        b.detail(band, "hair", pal["hair_shadow"], Z_FRONT_HAIR + 0.02)
    b.detail(_sheen_band(p), "hair", pal["hair_sheen"], Z_FRONT_HAIR + 0.05)


def _sheen_band(p: Params) -> np.ndarray:
    radius = 1.0 + p["hair_volume"]
    unit = unit_arc(15, 0.4, np.pi - 0.4)
    r_in = np.where(np.arange(15) % 2 == 0, 0.72, 0.79)[:, None] * radius  # a zigzag lower edge
    squash = np.array([1.0, -(1 + p["crown"])])
    upper = unit * squash * 0.86 * radius + (0.0, -0.08)
    lower = unit * squash * r_in + (0.0, -0.08)
    return np.concatenate([upper, lower[::-1]])


def _tube(centre_ctrl: Points, half_widths: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lock of hair around a centre line: (one edge, other edge), both from root to tip. `half_widths` are
    the half-widths at 0, 20, 55 and 100 % of the length."""
    centre = curve(centre_ctrl, n=8)
    d = np.gradient(centre, axis=0)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.hypot(d[:, 0], d[:, 1])[:, None]
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(centre, axis=0).T))])
    w = np.interp(arc / arc[-1], (0.0, 0.2, 0.55, 1.0), half_widths)[:, None]
    return centre + normal * w, centre - normal * w, centre


def build_tail(b: Builder, pal: dict, s: float, drill: bool) -> None:
    """A twin tail (or a drill ringlet) on side s, tied high on the head and falling past the shoulders."""
    p = b.p
    radius = 1.0 + p["hair_volume"]
    attach = np.array([radius * 0.97, -0.45 - 0.4 * p["tail_height"]])
    length = 2.3 + 1.6 * p["tail_len"]
    width = 0.2 + 0.16 * p["tail_w"]
    spread = p["tail_spread"]
    if not drill:
        ctrl = [attach, attach + (0.22 + 0.2 * spread, 0.22 * length), attach + (0.3 + 0.3 * spread, 0.6 * length),
                attach + (0.2 + 0.25 * spread, length)]
        edge_a, edge_b, centre = _tube(ctrl, (0.07, 0.85 * width, 0.9 * width, 0.0))
        poly = np.concatenate([edge_a, edge_b[::-1]]) * (s, 1.0)
        b.region(poly, "hair", pal["hair"], Z_TAILS)
        for edge in (edge_a, edge_b):
            b.line(edge * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAILS, (0.05, 0.4, 0.06))
        n = len(centre)
        for frac, lo, hi in ((0.35, 0.12, 0.8), (-0.4, 0.2, 0.65)):
            strand = (centre + (edge_a - centre) * frac)[int(lo * n): int(hi * n)]
            b.line(strand * (s, 1.0), 0.0022, "hair", "hair_back", Z_TAILS, (0.3, 0.5, 0.05))
    else:
        curls = 4
        out = 0.2 + 0.3 * spread
        w0 = 0.22 + 0.1 * p["tail_w"]
        centres = [attach + (out * (k / curls) ** 0.7, (length * 0.8) * k / curls) for k in range(curls + 1)]
        for k in range(curls):
            a, c = centres[k], centres[k + 1]
            wk = w0 * (1.0 - 0.1 * k)
            mid = 0.5 * (a + c) + (0.0, 0.05)
            blob = ellipse(mid[0], mid[1], wk, 0.5 * np.hypot(*(c - a)) + 0.09, n=28,
                           angle=np.arctan2(c[1] - a[1], c[0] - a[0]) - np.pi / 2)
            z = Z_TAILS + 0.01 * k
            b.region(blob * (s, 1.0), "hair", pal["hair"], z)
            b.line(blob * (s, 1.0), 0.0036, "hair", "hair_back", z, SOLID, closed=True)
            for off in (-0.04, 0.1):  # the curl's spiral, as two slanted arcs across it
                spiral = curve([mid + (-wk * 0.92, off - 0.1), mid + (0.0, off + 0.02), mid + (wk * 0.92, off + 0.06)],
                               n=6) * (s, 1.0)
                b.line(spiral, 0.0024, "hair", "hair_back", z, (0.2, 0.3, 0.1))
    # the hair tie sits on the head's outline, in front of the hair
    tie = ellipse(attach[0] * s, attach[1], 0.08, 0.11, n=16)
    b.region(tie, "hair", pal["tie"], Z_FRONT_HAIR + 0.1)
    b.line(tie, 0.003, "hair", "hair_front", Z_FRONT_HAIR + 0.1, SOLID, closed=True)


def build_ponytail(b: Builder, pal: dict) -> None:
    """A ponytail tied at the back of the head; in this front view it swings out from behind the head on one
    side (the back hair hides its root)."""
    p = b.p
    s = 1.0 if p["tail_side"] >= 0 else -1.0
    radius = 1.0 + p["hair_volume"]
    length = 1.7 + 1.3 * p["tail_len"]
    width = 0.22 + 0.16 * p["tail_w"]
    out = 0.25 + 0.3 * p["tail_spread"] + 0.1 * abs(p["tail_side"])
    top = -1.0 - 0.15 * p["tail_height"]
    ctrl = [(0.5, top), (radius + 0.15, top + 0.05), (radius + out + 0.05, -0.3),
            (radius + out + 0.1, 0.5 * length - 0.6), (radius + out - 0.05, length - 0.8)]
    edge_a, edge_b, centre = _tube(ctrl, (0.14, width, 0.9 * width, 0.0))
    poly = np.concatenate([edge_a, edge_b[::-1]]) * (s, 1.0)
    b.region(poly, "hair", pal["hair"], Z_TAIL_BACK)
    for edge in (edge_a, edge_b):
        b.line(edge * (s, 1.0), 0.0038, "hair", "hair_back", Z_TAIL_BACK, (0.05, 0.4, 0.06))
    n = len(centre)
    strand = (centre + (edge_a - centre) * 0.3)[int(0.25 * n): int(0.8 * n)]
    b.line(strand * (s, 1.0), 0.0022, "hair", "hair_back", Z_TAIL_BACK, (0.3, 0.5, 0.05))
