"""Faithful mode's production layers: the colouriser's predictions decomposed into flats, shadows and
highlights, snapped to the artist's own lines (docs/renders.md, "Faithful").

The colours of the predictions are clustered (`clusters.py`); a cluster that is a darker (lighter) tone of a
larger neighbouring cluster is a shadow (highlight) of it (`shading_roles.py`); the regions between the artist's lines (small gaps closed)
each take the one colour most of them has, and the lines themselves take the colour of the nearest region, so
the change of colour lies under the line's middle (`snapping.py`). The candidates of a request are one sketch
coloured n ways: these shapes are found once for all of them, and each candidate only takes its own colours
(`Shapes`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..engine.palette import hair_sheen, skin_shadow
from ..layers import ink_box
from .clusters import CLUSTERS, cluster_colors, upsampled_labels
from .dabs import IRIS_PALE_L, Dab, agreed_color, reads_as_blank_eye
from .drawn import at_side
from .lab import to_lab
from .layered import BLACK, EYES, FLATS, HIGHLIGHTS, SHADOWS, WHITE, GuideShading, multiply_color, screen_color
from .shading_roles import main_base, one_flat_per_part, part_votes, sort_shading
from .snapping import LineRegions, flat_family, labelled, line_regions

HINT_REACH = 30.0  # CIELAB distance: a dab recolours the flat it lands on only if the network painted it near
EYE_FAR = 25.0  # CIELAB distance from its cluster's colour at which an eye pixel gets the eyes' own cluster
EYE_MIN_PIXELS = 12  # at the prediction's size: fewer such pixels are an anti-aliased rim, not a colour
SCLERA = (255, 255, 255)  # the engine's whites of the eyes
SLIVER = 0.002  # of the side: shading thinner than twice this along a line is a halo of the network's edge
MIN_SHAPE = 0.00015  # of the area: specks of shading smaller than this go


def faithful_production(fill: np.ndarray, darkness: np.ndarray, outside: np.ndarray | None,
                        dabs: list[Dab], parts: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Production layers (name -> RGBA side x side) of one colouriser prediction `fill` (RGB uint8, any square
    size): `faithful_productions` of one candidate."""
    return faithful_productions(fill[None], darkness, outside, dabs, parts)[0]


def faithful_productions(fills: np.ndarray, darkness: np.ndarray, outside: np.ndarray | None,
                         dabs: list[Dab], parts: np.ndarray | None = None, device: str | None = None,
                         guide: GuideShading | None = None) -> list[dict[str, np.ndarray]]:
    """Production layers (name -> RGBA side x side) of each of the colouriser's predictions `fills` (RGB uint8
    [n, S, S, 3], any square size S): `shared_shapes`, then each candidate's `candidate_layers` (a request's
    candidates are painted side by side by `api.render`)."""
    shapes, under = shared_shapes(fills, darkness, outside, dabs, parts, device, guide)
    return [candidate_layers(shapes, centres, under) for centres in shapes.centres]


def shared_shapes(fills: np.ndarray, darkness: np.ndarray, outside: np.ndarray | None, dabs: list[Dab],
                  parts: np.ndarray | None = None, device: str | None = None, guide: GuideShading | None = None,
                  lines: LineRegions | None = None) -> tuple[Shapes, list[DabUnder]]:
    """What the candidates share, and what lies under each dab in it, of the colouriser's predictions `fills`
    (RGB uint8 [n, S, S, 3], any square size S), with the artist's lines (`darkness`, side x side), the outside
    of the portrait (bool side x side, None: all inside), the hint dabs (masks side x side), whose colours the
    flats take exactly, and the guidance's part map at the fills' size (None: unknown), which tells the back
    hair from the front.

    The candidates are one sketch coloured n ways, so the shapes are found once for all of them (`Shapes`: the
    flats snapped to the artist's lines, the shadow and highlight shapes); each candidate then only takes its
    own colours for them (`candidate_layers`: table look-ups). `device`: where the colours are clustered (None:
    OpenCV on the CPU; a torch device, the colouriser's GPU: `clusters_torch`). `guide` (None: none): where the
    guidance's face has its skin shadows and hair sheen (`layered.guide_shading`), added to the skin's and the
    hair's flats wherever the network left them plain (`find_shapes`). `lines`: `line_regions(darkness)`, when
    it was found already (while the network painted)."""
    dabbed = all_dabbed(dabs, darkness.shape) if dabs and guide is not None else None
    shapes = find_shapes(fills, darkness, outside, parts, device, guide, dabbed, lines)
    return shapes, [dab_under(dab, shapes) for dab in dabs]


def in_box(dab: Dab) -> tuple[slice, slice]:
    """The dab's box (the whole picture where unknown) as slices: a dab is a few hundred pixels, and a mask of the
    whole picture costs a pass over all of it each time it is read."""
    y0, y1, x0, x1 = dab.box or (0, dab.mask.shape[0], 0, dab.mask.shape[1])
    return slice(y0, y1), slice(x0, x1)


def all_dabbed(dabs: list[Dab], shape: tuple[int, ...]) -> np.ndarray:
    """bool: the pixels of any dab."""
    dabbed = np.zeros(shape, bool)
    for dab in dabs:
        box = in_box(dab)
        dabbed[box] |= dab.mask[box]
    return dabbed


def dab_under(dab: Dab, shapes: Shapes) -> DabUnder:
    """What lies under the dab's pixels in the shapes (in row-major order, as the whole mask lists them), read
    once for all the candidates (`read_under`)."""
    box = in_box(dab)
    mask = dab.mask[box]
    return read_under(DabUnder(dab.color, shapes.family[box][mask], shapes.labels[box][mask]), shapes.role)


@dataclass
class DabUnder:
    """A dab's colour and what lies under its pixels in the shapes all candidates share: the flats (`family`)
    and the clusters (`labels`); and what `read_under` reads of them, the same in every candidate: the base
    flat most of its pixels lie on (`base`, -1: none, it lies outside or on the whites of the eyes), how many
    of its pixels lie on base flats (`pixels`), the shadow cluster it lies mostly on (`tone`, -1: none) and
    whether it lies mostly on the irises (`on_iris`)."""

    color: tuple[int, int, int]
    family: np.ndarray
    labels: np.ndarray
    base: int = -1
    pixels: int = 0
    tone: int = -1
    on_iris: bool = False


def read_under(dab: DabUnder, role: np.ndarray) -> DabUnder:
    """dab with what lies under it read (`DabUnder`), by the clusters' roles (`Shapes.role`). A dab lying mostly
    on a shadow asks for the base that its shadow turns into the dab's colour (`hinted_bases`)."""
    k = len(role)
    on = dab.family[dab.family < k]  # not the outside, not the whites of the eyes
    if on.size == 0:
        return replace(dab, on_iris=on_iris(dab, k))
    shades = dab.labels
    shaded = np.bincount(role[shades], minlength=3)
    tone = int(np.bincount(shades[role[shades] == 1]).argmax()) if shaded[1] > shaded[0] + shaded[2] else -1
    return replace(dab, base=int(np.bincount(on).argmax()), pixels=on.size, tone=tone, on_iris=on_iris(dab, k))


@dataclass
class Shapes:
    """What all the candidates of a request share: the clusters (`labels`, at full size), their roles (0 base,
    1 shadow, 2 highlight), each pixel's flat (`family`: a base cluster, k outside the portrait, k + 1 the
    whites of the eyes, k + 2 the irises) snapped to the lines, and two index images from which each
    candidate's layers are one table look-up (`look_up`) each: `flat_index` (the family) and `shade_index` (tone
    cluster x k + base flat where a shading layer paints, NO_SHADE elsewhere), uint8.
    `centres` [n, k, 3]: each candidate's own CIELAB colour of each cluster; `skin`, `hair`: the skin's and the
    hair's base clusters (-1: unknown), whose shadow and sheen the guidance adds (shade_index SKIN_SHADE and
    HAIR_SHINE); `iris`: the base cluster the network painted most in the irises (-1: no iris flat)."""

    centres: np.ndarray
    labels: np.ndarray
    role: np.ndarray
    family: np.ndarray
    flat_index: np.ndarray
    shade_index: np.ndarray
    skin: int = -1
    hair: int = -1
    iris: int = -1


NO_SHADE = 255  # shade_index where neither shading layer paints
# shade_index of the guidance's skin shadow and hair sheen where the network drew none: the engine's tones
# (after every (tone, base) pair of the clusters and the eyes' own cluster, `eyes_own_cluster`)
SKIN_SHADE, HAIR_SHINE, PUPIL, CATCH_LIGHT = ((CLUSTERS + 1) ** 2 + i for i in range(4))
assert CATCH_LIGHT < NO_SHADE  # every (tone, base) pair has its own index, and so does each guidance shading
# The pupil multiplies the iris under it to a quarter of its value, as the engine's pupil is its iris's tone at a
# quarter (palette "pupil"), so it follows a hinted or repainted iris; a catch-light is screened white.
PUPIL_MULTIPLY, CATCH_LIGHT_SCREEN = (64, 64, 64), WHITE


def find_shapes(fills: np.ndarray, darkness: np.ndarray, outside: np.ndarray | None,
                parts: np.ndarray | None, device: str | None = None, guide: GuideShading | None = None,
                dabbed: np.ndarray | None = None, lines: LineRegions | None = None) -> Shapes:
    """The shapes of all candidates at once. The clusters are the k-means clusters of every pixel's colours in
    all the candidates together (a cluster edge where any candidate has one); which cluster shades which and
    which are one flat is decided on the first candidate's colours (the network's own colouring of the
    artist's hints: the others add style dabs on the parts the artist left open, which change their colours,
    not where the network shades). `device`, `guide`, `lines`: as `shared_shapes`; `dabbed`: bool side x side,
    the hint dabs' pixels (`guide_shapes`)."""
    side = darkness.shape[0]
    if device is None:
        centres, labels_small = cluster_colors(fills)
        labels = upsampled_labels(fills, labels_small, centres, side)
    else:
        from .clusters_torch import cluster_on_device

        centres, labels_small, labels = cluster_on_device(fills, CLUSTERS, side, device)
    # one byte a pixel (CLUSTERS + 1 at most; the GPU's come so): each look-up of it is then an OpenCV LUT
    labels = labels.astype(np.uint8, copy=False)
    if parts is not None:
        centres, labels_small, labels = eyes_own_cluster(fills, centres, labels_small, labels, parts)
    first = centres[0]
    k = len(first)
    votes = None if parts is None else part_votes(labels_small, parts, k)
    role, base_of = sort_shading(first, labels_small, votes)
    if votes is not None:
        base_of = one_flat_per_part(base_of, votes, first)
    skin, hair, background = (-1, -1, -1) if votes is None else (main_base(base_of, votes, name)
                                                                  for name in ("skin", "hair", "background"))
    # each pixel's base cluster, as the network painted it (one byte a pixel: every full-size step after is lighter)
    bases = per_cluster(labels, base_of)
    family = flat_family(bases, k, line_regions(darkness) if lines is None else lines, outside, parts, skin,
                         background, None if guide is None else guide.eye_whites)
    # shading only inside its own base's flat, and never on the background: the network's darker band along a
    # background's foot (or a gradient's steps) is no cel shadow, and an illustrator's background is one flat
    shade = (per_cluster(labels, role) != 0) & (bases == family) & (family != background)
    iris = iris_cluster(bases, family == k + 2, skin)
    added = [] if guide is None else guide_shapes(guide, family, shade, skin, hair, dabbed, outside=k)
    kept = drop_specks(drop_slivers(np.logical_or.reduce([shade] + [mask for _, mask in added])),
                       MIN_SHAPE * side * side)
    # (tone, base) pairs fit the labels' one byte: (k - 1) x k + k + 2 < CATCH_LIGHT for k <= CLUSTERS + 1
    shade_index = np.where(kept & shade, labels * k + family, NO_SHADE)
    for index, mask in added:
        shade_index[kept & mask] = index
    return Shapes(centres, labels, role, family, family.astype(np.uint8), shade_index.astype(np.uint8), skin, hair,
                  iris)


def per_cluster(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """uint8: values[labels] of each pixel (labels uint8, values one small whole number per cluster). OpenCV's
    LUT: a quarter of np.take's time, which first widens every index to 64 bits."""
    table = np.zeros(256, np.uint8)
    table[:len(values)] = values
    return cv2.LUT(labels, table)


def iris_cluster(bases: np.ndarray, irises: np.ndarray, skin: int) -> int:
    """The base cluster the network painted most in the irises (not the skin it left there), -1 if none."""
    painted = bases[irises & (bases != skin)]
    return int(np.bincount(painted).argmax()) if painted.size else -1


def guide_shapes(guide: GuideShading, family: np.ndarray, shade: np.ndarray, skin: int, hair: int,
                 dabbed: np.ndarray | None, outside: int) -> list[tuple[int, np.ndarray]]:
    """(shade_index, bool mask) of the guidance's shading the network left out. An anime colourist shades the
    skin under the fringe and the chin and puts a sheen on the hair in every portrait; the network does in most
    but not all (on 40 unseen portraits it drew 56 % of the engine's own skin shadow, on 12 37 % of its sheen).
    So where the guidance's face has them and the network left the skin's (hair's) flat plain, they are added,
    cut to that flat like the network's shading, in the engine's own tone of the candidate's base (SKIN_SHADE,
    HAIR_SHINE; a hinted base carries them). A shape of them that a hint dab touches is left out: the network
    saw the dab and painted it plain, and what the artist dabbed is what they get."""
    out = []
    for index, zone, base in ((SKIN_SHADE, guide.skin_shadow, skin), (HAIR_SHINE, guide.hair_sheen, hair)):
        if base >= 0:
            out.append((index, untouched(zone & (family == base) & ~shade, dabbed)))
    # The eyes: the irises are one flat (snapping.painted_eyes), and the guidance's eyes have a pupil and
    # catch-lights, by which an anime eye reads. A dabbed eye keeps them: the dab asks for the iris's colour,
    # and an iris without a pupil is a blank disc (the dab figure loses what the pupil covers of the dab).
    for index, eye_zone in ((PUPIL, guide.pupils), (CATCH_LIGHT, guide.catch_lights)):
        if eye_zone is not None:
            out.append((index, eye_zone & (family != outside)))
    return out


def untouched(mask: np.ndarray, dabbed: np.ndarray | None) -> np.ndarray:
    """mask without its 8-connected shapes that a `dabbed` pixel touches."""
    if dabbed is None or not (mask & dabbed).any():
        return mask
    box = ink_box(mask)  # all of mask's shapes lie in its box: labelled there alone
    assert box is not None  # some pixel of mask is dabbed
    y0, y1, x0, x1 = box
    window = mask[y0:y1, x0:x1]
    count, shapes = cv2.connectedComponents(window.astype(np.uint8), connectivity=8)
    touched = np.zeros(count, bool)
    touched[shapes[window & dabbed[y0:y1, x0:x1]]] = True
    kept = mask.copy()
    kept[y0:y1, x0:x1] = window & ~touched[shapes]
    return kept


def eyes_own_cluster(fills: np.ndarray, centres: np.ndarray, labels_small: np.ndarray, labels: np.ndarray,
                     parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clusters with one more for the eyes' pixels that their cluster's colour misrepresents. An iris is a
    few hundred pixels of the picture: k-means spends no cluster on it, and its dark tone can join the dark
    clothes' cluster, whose colour (mostly the clothes') then paints the iris green. Those pixels (inside the
    guidance's eyes, in the first candidate farther than EYE_FAR from their cluster's colour) get a cluster of
    their own, coloured in each candidate by their mean there; unchanged when there are too few."""
    # measured on the eyes' pixels alone, a few hundred of the picture's, gathered as whole RGB rows by their flat
    # index (a third of a boolean mask's time over three-byte pixels)
    eyes = np.flatnonzero(np.isin(parts, EYES))
    if eyes.size == 0:
        return centres, labels_small, labels
    rows = fills.reshape(len(fills), -1, 3)
    misread = np.linalg.norm(to_lab(np.take(rows[0], eyes, axis=0)) - centres[0][labels_small.reshape(-1)[eyes]],
                             axis=-1) > EYE_FAR
    far_pixels = eyes[misread]
    if far_pixels.size < EYE_MIN_PIXELS:
        return centres, labels_small, labels
    k = centres.shape[1]
    own = np.stack([to_lab(np.take(row, far_pixels, axis=0)).mean(axis=0) for row in rows])  # each one's mean there
    far = np.zeros(parts.shape, bool)
    far.reshape(-1)[far_pixels] = True
    side = labels.shape[0]
    far_full = at_side(far, side)
    return (np.concatenate([centres, own[:, None].astype(centres.dtype)], axis=1),
            np.where(far, k, labels_small).astype(labels_small.dtype),
            np.where(far_full, k, labels).astype(labels.dtype))


def candidate_layers(shapes: Shapes, centres: np.ndarray, dabs: list[DabUnder]) -> dict[str, np.ndarray]:
    """One candidate's layers: its colours (CIELAB `centres`, one per cluster) in the shared shapes."""
    return painted(shapes, candidate_tables(shapes, centres, dabs))


def painted(shapes: Shapes, tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """A candidate's layers from its look-up tables (`candidate_tables`): three look-ups in the shared shapes,
    work that lets other threads run (a request's candidates are painted side by side)."""
    flats, shadows, lights = tables
    return {
        FLATS: look_up(shapes.flat_index, flats),
        SHADOWS: look_up(shapes.shade_index, shadows),
        HIGHLIGHTS: look_up(shapes.shade_index, lights),
    }


def candidate_tables(shapes: Shapes, centres: np.ndarray,
                     dabs: list[DabUnder]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The RGBA look-up tables [256, 4] of one candidate's flats, shadows and highlights (of `Shapes.flat_index`
    and `shade_index`): its colours (CIELAB `centres`, one per cluster) with the dabs' colours. Many small steps
    that hold the interpreter lock: the candidates' tables are made one after another, not side by side."""
    k = len(centres)
    base_rgb = centres_rgb(centres)
    colors = hinted_bases(base_rgb, dabs)
    flats = np.zeros((256, 4))
    flats[:k, :3], flats[:k, 3] = colors, 255
    flats[k], flats[k + 1] = (*WHITE, 0), (*SCLERA, 255)  # outside the portrait: transparent
    if shapes.iris >= 0:
        flats[k + 2] = (*iris_color(colors[shapes.iris], [dab for dab in dabs if dab.on_iris]), 255)
    # Each shade pixel keeps the prediction's tone relative to the prediction's base (so a hinted base carries
    # its shadow), and both are clusters: the layer colours are a table of (tone, base) pairs.
    tone, base = np.broadcast_arrays(base_rgb[:, None], base_rgb[None])
    tone_role = np.repeat(shapes.role, k)  # role of the tone of each (tone, base) pair
    shadows = shading_table(multiply_color(tone, base), tone_role == 1, WHITE)
    lights = shading_table(screen_color(tone, base), tone_role == 2, BLACK)
    # the guidance's shading in the engine's tones of the bases as this candidate paints them (hints included)
    if shapes.skin >= 0:
        skin = colors[shapes.skin]
        shadows[SKIN_SHADE] = (*multiply_color(np.array(skin_shadow(tuple(skin / 255.0))) * 255, skin), 255)
    if shapes.hair >= 0:
        hair = colors[shapes.hair]
        lights[HAIR_SHINE] = (*screen_color(np.array(hair_sheen(tuple(hair / 255.0))) * 255, hair), 255)
    shadows[PUPIL], lights[CATCH_LIGHT] = (*PUPIL_MULTIPLY, 255), (*CATCH_LIGHT_SCREEN, 255)
    return flats, shadows, lights


def iris_color(painted: np.ndarray, dabs: list[DabUnder]) -> np.ndarray:
    """The irises' flat colour (RGB): what the dabs on them ask for (`agreed_color`; a white dab there colours the
    whites, and is not among them), else the network's colour, kept off near-white grey (`reads_as_blank_eye`):
    on dark skin the network often paints an unhinted iris so, and the eye reads as blank. Such an iris is
    brought down to L* IRIS_PALE_L - 20, its hue kept (silver turns grey)."""
    asked = [dab for dab in dabs if not reads_as_blank_eye(dab.color)]
    if asked:
        return agreed_color(np.array([dab.color for dab in asked], float), np.array([dab.family.size for dab in asked],
                                                                                    float))
    if reads_as_blank_eye(painted):
        lab = to_lab(np.asarray(painted, np.float32)[None])[0]
        lab[0] = IRIS_PALE_L - 20
        return cv2.cvtColor(lab.reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3) * 255.0
    return painted


def on_iris(dab: DabUnder, k: int) -> bool:
    """Whether most of a dab lies on the irises' flat."""
    return bool((dab.family == k + 2).mean() > 0.5) if dab.family.size else False


def shading_table(colors: np.ndarray, painted: np.ndarray, none) -> np.ndarray:
    """The RGBA look-up table of a shading layer: colors [k, k, 3] of each (tone, base) pair where `painted`
    (flat over the pairs), the blend's no-change colour, transparent, elsewhere."""
    table = np.zeros((256, 4))
    table[:, :3] = none
    pairs = np.flatnonzero(painted)
    table[pairs, :3] = colors.reshape(-1, 3)[pairs]
    table[pairs, 3] = 255
    return table


def look_up(index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """RGBA uint8 [..., 4]: table[index] (index uint8 side x side, table [256, 4] float, rounded). Each RGBA entry
    is one 32-bit word, and OpenCV's LUT of a one-channel index into 32-bit words gives them: under half of
    np.take's time (which first widens the index), and a quarter of a LUT over an index with four equal channels."""
    words = np.clip(np.rint(table), 0, 255).astype(np.uint8).view(np.int32).reshape(1, 256)
    return cv2.LUT(index, words).view(np.uint8).reshape(*index.shape, 4)


def centres_rgb(centres: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(np.ascontiguousarray(centres.reshape(1, -1, 3), np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb.reshape(-1, 3) * 255.0, 0, 255)


def hinted_bases(base_rgb: np.ndarray, dabs: list[DabUnder]) -> np.ndarray:
    """The flat colour of each base cluster: the prediction's, or the colour that most of the dab pixels on it
    ask for (`agreed_color`, each dab judged where it lies: a dab lying mostly on a shadow asks for the base
    that its shadow turns into the dab's colour, and shows that base multiplied by the shadow). The dabs are
    read once for all candidates (`read_under`)."""
    colors = base_rgb.copy()
    on_bases = [dab for dab in dabs if dab.base >= 0]
    if not on_bases:
        return colors
    # what lies on the base where the dab is: the shadow's multiply (undone in what the dab asks), or none
    under = [np.ones(3, np.float32) if dab.tone < 0 else
             np.maximum(base_rgb[dab.tone], 1) / np.maximum(base_rgb[dab.base], 1) for dab in on_bases]
    asked_of = [np.clip(np.asarray(dab.color, np.float32) / multiply, 0, 255) for dab, multiply in zip(on_bases, under)]
    # in CIELAB all at once: OpenCV converts each colour on its own, so a batch gives each one's own values
    asked_lab, base_lab = to_lab(np.array(asked_of)), to_lab(base_rgb)
    wanted: dict[int, list] = {}
    for dab, multiply, asked, lab in zip(on_bases, under, asked_of, asked_lab):
        if np.linalg.norm(lab - base_lab[dab.base]) > HINT_REACH:
            continue  # the network, shown this dab, still painted another colour here: the dab straddles an edge
        wanted.setdefault(dab.base, []).append((asked, multiply, np.asarray(dab.color, np.float32), dab.pixels))
    for base, dabbed in wanted.items():
        asks, multiplies, own, pixels = (np.array(column) for column in zip(*dabbed))
        colors[base] = agreed_color(asks, pixels.astype(float), lambda c: np.clip(c * multiplies, 0, 255), own)
    return colors


def drop_slivers(mask: np.ndarray) -> np.ndarray:
    """mask without its parts thinner than twice SLIVER of the side: the network's light or dark halo along the
    artist's lines is no cel shape (a morphological opening: real shapes keep their size, corners round a little)."""
    radius = max(1, int(round(SLIVER * mask.shape[0])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0


def drop_specks(mask: np.ndarray, min_area: float) -> np.ndarray:
    """mask without its 8-connected shapes smaller than min_area pixels. They are labelled in the box round the
    mask alone, where all of them lie (the shading covers half the picture's box or less)."""
    kept = np.zeros_like(mask, dtype=bool)
    box = ink_box(mask)
    if box is None:
        return kept
    y0, y1, x0, x1 = box
    _, labels, area = labelled(mask[y0:y1, x0:x1].astype(np.uint8), connectivity=8)
    keep = area >= min_area
    keep[0] = False
    kept[y0:y1, x0:x1] = keep[labels]
    return kept
