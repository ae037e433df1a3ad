"""Which of the clustered colours of faithful mode's predictions are flats and which shade them
(`faithful_layers.find_shapes`, docs/renders.md, "Faithful"): a cluster that is a darker (lighter) tone of a larger
neighbouring cluster is a shadow (highlight) of it, and the base colours lying mostly on one of the parts a
colourist fills with one flat (the hair, the skin) are that part's one flat.
"""

from __future__ import annotations

import numpy as np

from ..engine import params as P

SHADING_HUE = 20.0  # degrees: a shadow keeps its base's hue (the engine nudges it by 5)
SHADING_LIGHTNESS = (4.0, 35.0)  # CIELAB L* steps between a base and its shading
SAME_COLOR = 7.0  # CIELAB distance under which two clusters are one flat colour
SHADING_SHARE = 0.4  # shading covers at most this share of its base's area (else it is a region of its own)
NEUTRAL_CHROMA = 5.0  # below this a colour is a grey: it has no hue to compare
LIT_HAIR = 0.25  # a lighter hair tone this share of a darker one's size is the lit hair (the base), not a sheen


def part_votes(labels: np.ndarray, parts: np.ndarray, k: int) -> np.ndarray:
    """[k, part labels]: how many pixels of each of the k clusters lie on each part of the guidance's part map
    (`parts`, the labels' size). The roles read it four ways (each cluster's size and part, each base's cover of
    a part, each part's main base): one count over the pixels instead of five."""
    votes = np.bincount(labels.ravel() * len(P.PART_LABELS) + parts.ravel(), minlength=k * len(P.PART_LABELS))
    return votes.reshape(k, len(P.PART_LABELS))


def sort_shading(centres: np.ndarray, labels: np.ndarray, votes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """role per cluster (0 base, 1 shadow, 2 highlight) and base_of (the base colour it shades, a base itself).

    A cluster shades a larger one it borders when it keeps its hue and is a few L* steps darker or lighter.
    With the guidance's part map (`votes`: `part_votes`; None: none) both must lie on the same part (a light brown lock
    is no shadow of the skin beside it), and on the hair a darker tone shades a lighter one even when larger
    (not when the lighter is a mere band, under LIT_HAIR of it): the back hair, in the head's shade, is often
    larger than the lit hair in front of it."""
    k = len(centres)
    size = np.bincount(labels.ravel(), minlength=k) if votes is None else votes.sum(axis=1)
    border = adjacency(labels, k)
    part = np.zeros(k, np.int64) if votes is None else part_group(votes.argmax(axis=1))  # where most of it lies
    on_hair = part == part_group(np.array([P.LABEL["hair"]]))[0] if votes is not None else np.zeros(k, bool)
    role, base_of = np.zeros(k, np.int32), np.arange(k, dtype=np.int32)
    chroma = np.hypot(centres[:, 1], centres[:, 2])
    hue = np.degrees(np.arctan2(centres[:, 2], centres[:, 1]))
    for c in np.argsort(-size):
        for b in np.argsort(-border[c]):
            hair_pair = on_hair[c] and on_hair[b] and centres[c, 0] < centres[b, 0] and size[b] >= LIT_HAIR * size[c]
            if border[c, b] < 8 or base_of[b] != b or b == c or part[b] != part[c] or \
                    (size[b] < size[c] and not hair_pair):
                continue
            if np.linalg.norm(centres[c] - centres[b]) < SAME_COLOR:  # one colour split in two by k-means
                base_of[c] = b
                break
            step = centres[b, 0] - centres[c, 0]
            same_hue = (chroma[b] < NEUTRAL_CHROMA and chroma[c] < NEUTRAL_CHROMA) or (
                min(chroma[b], chroma[c]) >= NEUTRAL_CHROMA and abs((hue[b] - hue[c] + 180) % 360 - 180) < SHADING_HUE)
            if (size[c] <= SHADING_SHARE * size[b] or hair_pair) and same_hue and \
                    SHADING_LIGHTNESS[0] <= abs(step) <= SHADING_LIGHTNESS[1]:
                role[c], base_of[c] = (1 if step > 0 else 2), b
                break
    # A base that later became a shade of another (the larger back hair first took a lock as its base): its
    # own shades now shade that other base, with the tone they had.
    for _ in range(k):
        base_of = base_of[base_of]
    return role, base_of


# Parts a colourist fills with one flat each, whatever tones the network spread over them (its guess drifts from
# the fringe to the ends of the hair): the hair, and the skin with the neck and ears. Eyes and clothes keep
# their several flats (sclera, iris, pupil; a collar).
ONE_FLAT_PARTS = (("hair",), ("skin", "neck", "ears"), ("background",))
MERGE_REACH = 35.0  # CIELAB: a base this far from the part's main colour is a shape of its own (a ribbon)


def part_group(labels: np.ndarray) -> np.ndarray:
    """Part labels with the parts of one ONE_FLAT_PARTS group (skin, neck, ears) under one number."""
    group = np.arange(len(P.PART_LABELS))
    for names in ONE_FLAT_PARTS:
        group[[P.LABEL[name] for name in names]] = P.LABEL[names[0]]
    return group[labels]


def one_flat_per_part(base_of: np.ndarray, votes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """base_of with every base colour lying mostly on one of ONE_FLAT_PARTS merged into that part's main base
    (the one covering most of it) when within MERGE_REACH of it; their shading follows. `votes`: `part_votes`."""
    k = len(base_of)
    where = part_group(votes.argmax(axis=1))
    cover = np.zeros_like(votes)  # each base's pixels (its shades' too) on each group of parts
    np.add.at(cover, (base_of[:, None], part_group(np.arange(votes.shape[1]))[None]), votes)
    merged = np.arange(k)
    for names in ONE_FLAT_PARTS:
        group = P.LABEL[names[0]]
        bases = np.flatnonzero((base_of == np.arange(k)) & (where == group))
        if len(bases) > 1:
            main = bases[np.argmax(cover[bases, group])]
            near = bases[np.linalg.norm(centres[bases] - centres[main], axis=1) <= MERGE_REACH]
            merged[near] = main
    return merged[base_of]


def adjacency(labels: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts of horizontally or vertically neighbouring pixels of two clusters."""
    pairs = [(labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])]
    flat = np.zeros(k * k, np.int64)
    for a, b in pairs:
        differ = a != b
        flat += np.bincount((a[differ] * k + b[differ]).ravel(), minlength=k * k)
    counts = flat.reshape(k, k)
    return counts + counts.T


def main_base(base_of: np.ndarray, votes: np.ndarray, name: str) -> int:
    """The base colour covering most of a part (-1: the part is absent), from the clusters' `part_votes`."""
    on = np.bincount(base_of, weights=votes[:, P.LABEL[name]], minlength=len(base_of))
    return int(on.argmax()) if on.any() else -1
