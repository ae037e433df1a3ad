"""Production layers: a colour render as an anime colourist hands it over, to sit beneath the artist's lines.

Per candidate, bottom to top, each with its Krita blending mode (`Layer.blend`):
- "Flat colours" (normal): one opaque colour per region, reaching under the lines (no white seams where a line
  ends and its neighbour's colour begins); transparent outside the figure unless the background was hinted;
- "Shadows" (multiply): cel shapes, each pixel the shadow tone divided by the base tone under it, so multiplying
  gives back exactly the tone the engine (or the colouriser) meant, and a repainted flat keeps its shadow;
- "Highlights" (screen): hair sheen and the eyes' catch-lights, the screen colour that turns the base into the
  highlight tone;
- refined mode only: "Line art" (normal), the engine's own lines in colour-traced ink, with the brows and the
  glasses' frames (`line_art`: line work, never the colourist's), placed hidden (`Layer.visible` False): the
  artist's sketch stays on top of everything, and the engine's lines, a few pixels off the artist's, showed every
  line twice. An artist who hides their sketch switches it on for clean lines.

Refined mode decomposes the engine's own painting (`refined_production`, here): the engine knows which regions
are shading. Under the artist's dabs, in both modes, what they dabbed is what they get: a shape of shading that
dabs cover is left out, unless they lie on its tone (then the base is the colour that shading turns into the
dab's); the eyes keep theirs. Faithful mode decomposes the colouriser's predictions and snaps them to the artist's own lines
(`faithful_layers.faithful_productions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import cv2
import numpy as np

from ..engine import params as P
from ..engine.builder import Region
from ..engine.geometry import Portrait
from ..engine.palette import line_colors, make_palette
from ..engine.raster import GroupInk, paint_regions, region_coverage, render_lines, render_regions
from .dabs import agreed_color
from .drawn import Box, fill_outside, on_backdrop
from .line_art import drawn_as_line, with_line_shapes

FLATS, SHADOWS, HIGHLIGHTS, LINE_ART = "Flat colours", "Shadows", "Highlights", "Line art"
BLEND_OF = {FLATS: "normal", SHADOWS: "multiply", HIGHLIGHTS: "screen", LINE_ART: "normal"}
HIDDEN = {LINE_ART}  # placed hidden: beside the artist's own lines on top it drew every line twice

WHITE, BLACK = (255, 255, 255), (0, 0, 0)  # multiply's and screen's "no change"


def multiply_color(tone, base) -> np.ndarray:
    """The colour that multiplied onto `base` gives `tone` (RGB 0..255, any [..., 3] shape)."""
    tone, base = np.asarray(tone, np.float32), np.asarray(base, np.float32)
    return np.clip(255.0 * tone / np.maximum(base, 1.0), 0, 255)


def screen_color(tone, base) -> np.ndarray:
    """The colour that screened onto `base` gives `tone`: 1 - (1 - tone) / (1 - base)."""
    tone, base = np.asarray(tone, np.float32), np.asarray(base, np.float32)
    return np.clip(255.0 - 255.0 * (255.0 - tone) / np.maximum(255.0 - base, 1.0), 0, 255)


def as_layer_rgba(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    # uint8 goes in as it is: np.rint would make it float16, whose clip cost 30 ms a layer at 512 px
    return rgba_of(rgb if rgb.dtype == np.uint8 else np.clip(np.rint(rgb), 0, 255).astype(np.uint8), alpha)


def rgba_of(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """uint8 RGBA from uint8 RGB and alpha. OpenCV widens the colours (numpy's copy into a 3-of-4-channel view
    cost 3 ms a layer at 512 px, 0.2 ms so: a refined candidate makes three)."""
    rgba = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)
    rgba[..., 3] = alpha
    return rgba


def composite(layers: list[tuple[np.ndarray, str]], under: np.ndarray | None = None) -> np.ndarray:
    """RGB float of (rgba, blend) layers, bottom to top, over `under` (white paper by default), as Krita
    composites them (straight alpha; multiply and screen mixed in by the layer's alpha)."""
    first = layers[0][0]
    out = np.full(first.shape[:2] + (3,), 255.0, np.float32) if under is None else under.astype(np.float32)
    for rgba, blend in layers:
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        c = rgba[..., :3].astype(np.float32)
        if blend == "multiply":
            mixed = out * c / 255.0
        elif blend == "screen":
            mixed = 255.0 - (255.0 - out) * (255.0 - c) / 255.0
        elif blend == "add":
            mixed = np.minimum(out + c, 255.0)
        else:
            mixed = c
        out = out * (1.0 - a) + mixed * a
    return out


# ------------------------------------------------------------------------------------------------ refined mode

# Shading the engine paints (palette.make_palette names): tone -> the base tone it shades. The engine paints
# these over their base; removed from the flats, the base shows.
SHADOW_TONES = {"skin_shadow": "skin", "hair_shadow": "hair", "sclera_shadow": "sclera"}
# In the eyes the iris's darker top and its pupil are shades of the iris: on the Shadows layer, a repainted iris
# flat keeps its gradient and its pupil.
EYE_SHADOW_TONES = {"iris_dark": "iris", "pupil": "iris"}
# What a dab never takes away (`covered_shapes`): a dab in an eye asks for the iris's colour, and the eye
# keeps the shading it reads by (the iris's gradient, the pupil, the catch-lights, the lid's shade on the white).
KEPT_UNDER_DABS = ("pupil", "highlight", "iris_dark", "iris_light", "sclera_shadow")
# What else a dab can lie on (`tones_under`): a shadow it may keep, or a flat whose colour no parameter sets (a
# sailor collar, a tie, a brow), which the dab repaints itself (`fixed_flats_dabbed`).
FIXED_FLAT = "fixed_flat"
UNDER_CODES = {"hair_back": (255, 0, 0), "hair_shadow": (0, 255, 0), "skin_shadow": (0, 0, 255),
               "blush": (255, 255, 0), "hat_band": (0, 255, 255),
               FIXED_FLAT: (255, 255, 255)}  # tones_under's colour codes, three bits each (as GUIDE_CODES)
# Flats in a tone that a colour parameter sets (the cheeks' blush, a hat's band): a dab on one reads as that tone
TINTS = ("blush", "hat_band")
BASE_TONES = ("hair", "skin", "iris", "clothes", "hat", "ribbon")  # palette tones a colour parameter sets
# A cel shape of shading goes when dabs cover more than this share of it: a lock's shadow under a dab goes, the
# sheen band across the head that a dab only grazes stays (40 unseen portraits: dab hits the same as taking every
# touched shape, 87.8 %, sheen kept in 72 % of its zone instead of 61 %, the skin's shade in 95 % instead of 88 %)
DABBED_SHARE = 0.1
# A dab this much on flats no parameter sets may be meant for them (`fixed_flats_under`, `refined.read_dabs`)
FIXED_SHARE = 0.25
# The back hair is the hair in the head's shade (a tone between the hair and its shadow), a region with nothing
# of its own under it: a colourist fills it with the hair's flat and darkens it on the shadow layer, so
# repainting the hair flat recolours the back hair too.
SHADED_FILLS = {"hair_back": "hair"}
# Shading painted as a shape of its own, with no base under it, whose flat is therefore its base: the back hair,
# and the iris's dark rim (the engine paints the whole iris in its dark tone, the iris's own tone inside it).
# Left out of the flats, the rim's multiply colour fell on the eye's white: a teal ring round a blue iris.
FILLED_SHADING = (*SHADED_FILLS, "iris_dark")
HIGHLIGHT_TONES = {"hair_sheen": "hair", "iris_light": "iris", "highlight": None}  # None: white on anything
EYES = (P.LABEL["eye_l"], P.LABEL["eye_r"])


class Shading(NamedTuple):
    """How the engine paints a region as shading: "shadow" or "highlight", the base tone it shades (RGB) and the
    palette's name for its own tone."""

    kind: str
    base: tuple
    tone: str


def shading_kind(region, pal: dict) -> Shading | None:
    """How the region is shading (`Shading`), or None for a flat."""
    tones = SHADOW_TONES | SHADED_FILLS | (EYE_SHADOW_TONES if region.label in EYES else {})
    for tone, base in tones.items():
        if region.color == pal[tone] and region.color != pal[base]:
            return Shading("shadow", pal[base], tone)
    if not region.detail:  # the sclera, the teeth: white flats, not catch-lights
        return None
    for tone, lit in HIGHLIGHT_TONES.items():
        if region.color == pal[tone] and (lit is not None or region.label in EYES):
            return Shading("highlight", pal[lit] if lit is not None else BLACK, tone)
    return None


class DabbedTone(NamedTuple):
    """A hint dab for the production layers: its pixels (bool side x side), what most of them lie on in the
    portrait (`tones_under`: a shadow, FIXED_FLAT, or None: a base flat) and its colour (RGB)."""

    mask: np.ndarray
    tone: str | None
    color: tuple = BLACK


def refined_production(portrait: Portrait, side: int, background_hinted: bool, dabs: Sequence[DabbedTone] = (),
                       covered: DabbedShapes | None = None, ink: Callable[[], GroupInk] | None = None,
                       drawn: Box | None = None) -> dict[str, np.ndarray]:
    """The engine's portrait as production layers (name -> RGBA side x side). A shape of shading that a dab
    touches is left out unless the dab lies on its tone (`covered_shapes`; `covered`: those shapes, found once
    for a request's candidates by `dabbed_shapes`, else here). `ink`: a getter of the strokes' ink by group, the
    same for a request's candidates, which differ in the line colours alone (None: inked here). `drawn`
    (`drawn.drawn_box`, None: all of it): where the artist drew; beyond it is the background's."""
    passes = decomposed(portrait)
    painted = [r for r in passes.flats if r is not None]
    color, parts = render_regions(painted, side)
    repaint = fixed_flats_dabbed(color, make_palette(portrait.params), dabs)
    if repaint:
        painted = [recolored(r, repaint[r.color]) if r.color in repaint else r for r in painted]
        color, parts = render_regions(painted, side)
    if background_hinted:  # opaque wherever the engine painted (the guidance's window)
        alpha = region_coverage(painted, side)
    else:
        alpha = np.where(parts == P.LABEL["background"], 0, 255).astype(np.uint8)
    backdrop = next((r.color for r in painted if r.label == P.LABEL["background"]), None) if background_hinted else None
    if backdrop is not None:  # the hinted background fills the whole request
        color = on_backdrop(color, alpha, painted, backdrop, drawn)
    if drawn is not None:  # the figure ends where the drawing does
        fill_outside(alpha, drawn, 0)
    figure, alpha = alpha, alpha if backdrop is None else np.full((side, side), 255, np.uint8)
    shadow_rgb, light_rgb = shading_pass(passes.shadows, WHITE, side), shading_pass(passes.highlights, BLACK, side)
    if dabs:
        if covered is None:
            covered = shapes_under_dabs(passes, shadow_rgb, light_rgb, dabs)
        shadow_rgb, light_rgb = cleared(shadow_rgb, covered.shadows, WHITE), cleared(light_rgb, covered.highlights, BLACK)
    colors = line_colors(portrait.params)
    lines = ink().colored(colors) if ink is not None else render_lines(portrait.strokes, side, colors=colors)
    lines = with_line_shapes(lines, passes.line_shapes, side)
    if drawn is not None:
        fill_outside(lines, drawn, 0)
    return {
        FLATS: as_layer_rgba(color, alpha),
        SHADOWS: as_layer_rgba(shadow_rgb, painted_where(shadow_rgb, WHITE, figure)),
        HIGHLIGHTS: as_layer_rgba(light_rgb, painted_where(light_rgb, BLACK, figure)),
        LINE_ART: lines,
    }


class Passes(NamedTuple):
    """A portrait's regions for each production layer, in painting order: the flats (a shading region's base; None
    where it is shading alone), the Shadows and the Highlights passes (every other region in the blend's "no
    change" colour, so whatever the engine paints over a shadow, front hair over the forehead's shadow, hides it
    there too), per pass the tones a dab can take away (pass colour -> tone name), and the shapes drawn as lines
    (`line_art.drawn_as_line`), in none of those passes: they go to the line art."""

    flats: list
    shadows: list
    highlights: list
    dabbable: dict
    line_shapes: list


def decomposed(portrait: Portrait) -> Passes:
    pal = make_palette(portrait.params)
    passes = Passes([], [], [], {"shadow": {}, "highlight": {}}, [])
    for region in portrait.regions:
        if drawn_as_line(region, pal):
            passes.line_shapes.append(region)
            continue
        kind = shading_kind(region, pal)
        passes.flats.append(region if kind is None else
                            recolored(region, kind.base) if kind.tone in FILLED_SHADING else None)
        shadow = recolored(region, multiply_color(region.color, kind.base) if kind and kind.kind == "shadow"
                           else WHITE)
        light = recolored(region, screen_color(region.color, kind.base) if kind and kind.kind == "highlight"
                          else BLACK)
        passes.shadows.append(shadow)
        passes.highlights.append(light)
        if kind and kind.tone not in KEPT_UNDER_DABS:
            passes.dabbable[kind.kind][(shadow if kind.kind == "shadow" else light).color] = kind.tone
    return passes


class DabbedShapes(NamedTuple):
    """The cel shapes dabs take off the Shadows and the Highlights layers (bool side x side each; None: none)."""

    shadows: np.ndarray | None
    highlights: np.ndarray | None


def dabbed_shapes(portrait: Portrait, side: int, dabs: Sequence[DabbedTone]) -> DabbedShapes:
    """`covered_shapes` of both shading passes of the portrait. A request's candidates are one face in other
    colours, so one portrait's shapes serve them all (found once, where each candidate found its own)."""
    passes = decomposed(portrait)
    return shapes_under_dabs(passes, shading_pass(passes.shadows, WHITE, side),
                             shading_pass(passes.highlights, BLACK, side), dabs)


def shapes_under_dabs(passes: Passes, shadow_rgb: np.ndarray, light_rgb: np.ndarray,
                      dabs: Sequence[DabbedTone]) -> DabbedShapes:
    return DabbedShapes(covered_shapes(shadow_rgb, WHITE, passes.dabbable["shadow"], dabs),
                        covered_shapes(light_rgb, BLACK, passes.dabbable["highlight"], dabs))


def cleared(rgb: np.ndarray, mask: np.ndarray | None, none: tuple) -> np.ndarray:
    """rgb with `none` where the mask is set (rgb itself if nowhere)."""
    if mask is None:
        return rgb
    out = rgb.copy()
    out[mask] = none
    return out


def shading_pass(regions: list, none: tuple, side: int) -> np.ndarray:
    """RGB of a shading pass: the regions painted in order on a canvas of `none`, the blend's "no change" colour.
    The regions before the first shading one paint `none` on `none` and are skipped (in the highlights pass,
    nearly all of them: the sheen and the catch-lights come late)."""
    first = next((k for k, region in enumerate(regions) if region.color != none), len(regions))
    canvas = np.empty((side, side, 3), np.uint8)
    cv2.rectangle(canvas, (0, 0), (side - 1, side - 1), none, thickness=-1)  # numpy's fill by a tuple: 2 ms
    paint_regions(canvas, None, regions[first:], side)
    return canvas


def fixed_flats_dabbed(color: np.ndarray, pal: dict, dabs: Sequence[DabbedTone]) -> dict[tuple, tuple]:
    """Flat colour -> the colour dabs give it, for the flats no colour parameter sets (a sailor collar, a tie,
    a brow) that dabs lie on (FIXED_FLAT): each dab's flat is the colour most of its pixels show in the flats
    (`color`, RGB), repainted wherever the flats use it, as a colourist repaints a collar from one dab; several
    dabs on one flat agree on the colour that shows the most of their pixels (`dabs.agreed_color`)."""
    bases = {pal[tone] for tone in BASE_TONES}
    asked: dict[tuple, list[tuple[tuple, int]]] = {}  # flat -> (dab colour, dab pixels) of the dabs on it
    for dab in dabs:
        if dab.tone != FIXED_FLAT:
            continue
        shown, counts = np.unique(color[dab.mask], axis=0, return_counts=True)
        flat = tuple(int(c) for c in shown[int(np.argmax(counts))])
        if flat not in bases:
            asked.setdefault(flat, []).append((dab.color, int(counts.sum())))
    return {flat: tuple(int(round(c)) for c in agreed_color(np.array([rgb for rgb, _ in wants], float),
                                                          np.array([n for _, n in wants], float)))
            for flat, wants in asked.items()}


def covered_shapes(rgb: np.ndarray, none: tuple, tones: dict, dabs: Sequence[DabbedTone]) -> np.ndarray | None:
    """Where a shading pass (RGB, `none` where it changes nothing) has cel shapes that dabs cover (bool; None:
    nowhere): each 8-connected shape of one of `tones` (colour -> tone name; with its anti-aliased rim) more than
    DABBED_SHARE of which lies under dabs, dabs that lie on that tone not counted. What the artist dabbed
    is what they get: a dab on a lit lock that covers a shadowed one asks for its colour there too, and a dab on
    the hair in shade asks for the shade (its base is the colour that shade turns into the dab's,
    `refined.dab_colors`); the other locks keep their shade (faithful mode takes every shape a dab touches,
    `faithful_layers.guide_shapes`)."""
    if not dabs:
        return None
    none_u8 = np.array(none, np.uint8)
    changed = cv2.bitwise_not(cv2.inRange(rgb, none_u8, none_u8))
    covered = None
    rim = np.ones((3, 3), np.uint8)
    every = union_of([dab.mask for dab in dabs], rgb.shape[:2])
    on_tones = {dab.tone for dab in dabs}
    for color, name in tones.items():
        # the dabs that do not lie on this tone: all of them, unless one does (then the union is made anew)
        dabbed = every if name not in on_tones else union_of([d.mask for d in dabs if d.tone != name], rgb.shape[:2])
        exact = cv2.inRange(rgb, np.array(color, np.uint8), np.array(color, np.uint8))
        shapes_of_tone = cv2.bitwise_and(cv2.dilate(exact, rim), changed)
        hit = cv2.bitwise_and(shapes_of_tone, dabbed)
        if not cv2.countNonZero(hit):
            continue
        count, shapes, stats, _ = cv2.connectedComponentsWithStats(shapes_of_tone, connectivity=8)
        under = np.bincount(shapes[hit > 0], minlength=count)
        touched = np.flatnonzero(under > DABBED_SHARE * stats[:, cv2.CC_STAT_AREA])
        for shape in touched[touched > 0].tolist():  # each within its own box: a few small shapes, a big image
            covered = np.zeros(rgb.shape[:2], bool) if covered is None else covered
            x, y, w, h = stats[shape, :4]
            covered[y:y + h, x:x + w] |= shapes[y:y + h, x:x + w] == shape
    return covered


def union_of(masks: list[np.ndarray], shape: tuple) -> np.ndarray:
    """uint8 0/255: where any of the bool masks is set (OpenCV's 8-bit masks)."""
    union = np.logical_or.reduce(masks) if masks else np.zeros(shape, bool)
    return union.view(np.uint8) * np.uint8(255)


def tones_under(portrait: Portrait, masks: Sequence[np.ndarray], index: np.ndarray | None = None) -> list[str | None]:
    """What most of each mask's pixels lie on in the portrait (rendered at the masks' size): a shadow, a tint or
    FIXED_FLAT (UNDER_CODES), or None: a base flat, the background, an eye (a dab there means the iris, whose
    own shading stays: KEPT_UNDER_DABS) or shading a dab takes away. `index`: the portrait's `under_index` at the
    masks' size, if made already."""
    if not masks:
        return []
    index = under_index(portrait, len(masks[0])) if index is None else index
    names = [None, *UNDER_CODES]
    return [names[int(np.argmax(np.bincount(index[mask], minlength=len(names))))] for mask in masks]


def under_index(portrait: Portrait, side: int) -> np.ndarray:
    """uint8 side x side: 1 + the position in UNDER_CODES of what the portrait shows at each pixel (0: none of
    them; `coded_index`), read by `tones_under` and `fixed_flats_under`."""
    return coded_index(portrait, side, what_lies_under(make_palette(portrait.params)), UNDER_CODES)


def what_lies_under(pal: dict) -> Callable[[Region], str | None]:
    """A region's name among UNDER_CODES in a portrait of palette `pal` (`tones_under`), None for the rest."""
    bases = {pal[tone] for tone in BASE_TONES}
    known: dict[tuple, str | None] = {}  # by all that decides it: a portrait repeats a few kinds of region

    def looked_at(region: Region) -> str | None:
        if region.label in EYES:
            return None
        kind = shading_kind(region, pal)
        if kind is not None:
            return kind.tone if kind.tone in UNDER_CODES else None
        tint = next((name for name in TINTS if region.color == pal[name]), None)
        if tint is not None:
            return tint
        return FIXED_FLAT if region.color not in bases and region.label != P.LABEL["background"] else None

    def under(region: Region) -> str | None:
        key = (region.color, region.label, region.detail)
        if key not in known:
            known[key] = looked_at(region)
        return known[key]

    return under


def fixed_flat_colors(portrait: Portrait) -> list[tuple]:
    """The colours (RGB) of the portrait's flats that no colour parameter sets (FIXED_FLAT: a collar, a tie)."""
    under = what_lies_under(make_palette(portrait.params))
    return sorted({region.color for region in portrait.regions if under(region) == FIXED_FLAT})


def fixed_flats_under(portrait: Portrait, masks: Sequence[np.ndarray],
                      index: np.ndarray | None = None) -> list[tuple | None]:
    """For each mask, the colour (RGB) of the flat that no colour parameter sets (a collar, a tie: FIXED_FLAT)
    covering the most of its pixels, where such flats cover at least FIXED_SHARE of them; else None. `index`:
    the portrait's `under_index` at the masks' size, if made already."""
    if not masks:
        return []
    side = len(masks[0])
    index = under_index(portrait, side) if index is None else index
    fixed = index == 1 + list(UNDER_CODES).index(FIXED_FLAT)
    color = render_regions(portrait.regions, side)[0]
    out: list[tuple | None] = []
    for mask in masks:
        on = mask & fixed
        if on.sum() < FIXED_SHARE * mask.sum():
            out.append(None)
            continue
        shown, counts = np.unique(color[on], axis=0, return_counts=True)
        out.append(tuple(int(c) for c in shown[int(np.argmax(counts))]))
    return out


def coded_masks(portrait: Portrait, side: int, name_of, codes: dict) -> dict[str, np.ndarray]:
    """name -> bool side x side: where the portrait shows a region that `name_of(region)` gives that name (one of
    `codes`: name -> a colour of 0s and 255s), painted in order so that what lies over a region hides it
    (`coded_index`)."""
    index = coded_index(portrait, side, name_of, codes)
    return {name: index == k for k, name in enumerate(codes, start=1)}


def coded_index(portrait: Portrait, side: int, name_of, codes: dict) -> np.ndarray:
    """uint8 side x side: 1 + the position in `codes` of the name the portrait shows at each pixel (0: none; see
    `coded_masks`). One render of the regions in their codes on black (beyond the portrait's window: none); a
    pixel's code is which channels it lights past half (an anti-aliased edge between two codes lights no channel
    past half, so no pixel is read as a third)."""
    names = [name_of(region) for region in portrait.regions]
    rgb = render_regions([recolored(region, codes[name] if name else BLACK)
                          for region, name in zip(portrait.regions, names)], side)[0]
    lit = (rgb > 127).view(np.uint8)
    bits = lit[..., 0] | lit[..., 1] << 1 | lit[..., 2] << 2  # which channels each pixel lights, as one number
    of_bits = np.zeros(8, np.uint8)  # the code's bits -> 1 + its position in `codes` (no code: 0)
    for k, (r, g, b) in enumerate(codes.values(), start=1):
        of_bits[(r > 0) | (g > 0) << 1 | (b > 0) << 2] = k
    return of_bits[bits]


@dataclass
class GuideShading:
    """Where the guidance's face (an engine portrait) shows its cel shading, bool side x side each: the skin's
    shadows (under the fringe, under the chin on the neck, beside the nose) and the hair's sheen band, hidden
    where anything is painted over them, as on refined's Shadows and Highlights layers; and its eyes: where they
    show their whites (beside the iris, under the lid's shadow), their pupils and their catch-lights, which
    faithful mode paints where the network painted none (`snapping.flat_family`, `faithful_layers`)."""

    skin_shadow: np.ndarray
    hair_sheen: np.ndarray
    eye_whites: np.ndarray | None = None
    pupils: np.ndarray | None = None
    catch_lights: np.ndarray | None = None


# guide_shading's colour codes, one per mask: a channel each, or two for the eyes' pupils and catch-lights (an
# anti-aliased edge between two codes lights no channel past half, so no pixel is read as a third)
GUIDE_CODES = {"skin_shadow": (255, 0, 0), "hair_sheen": (0, 255, 0), "eye_whites": (0, 0, 255),
               "pupils": (255, 255, 0), "catch_lights": (0, 255, 255)}


def guide_shading(portrait: Portrait, side: int) -> GuideShading:
    pal = make_palette(portrait.params)
    eyes = {pal["sclera"]: "eye_whites", pal["sclera_shadow"]: "eye_whites", pal["pupil"]: "pupils",
            pal["highlight"]: "catch_lights"}

    def name_of(region) -> str | None:
        if region.label in EYES:
            return eyes.get(region.color)
        kind = shading_kind(region, pal)
        return kind.tone if kind and kind.tone in ("skin_shadow", "hair_sheen") else None

    return GuideShading(**coded_masks(portrait, side, name_of, GUIDE_CODES))


def painted_where(rgb: np.ndarray, none: tuple, alpha: np.ndarray) -> np.ndarray:
    """Alpha of a shading layer: 255 where `rgb` is not the blend's "no change" colour and the flats are opaque
    (cv2.inRange: numpy's any() over the channel axis cost 8 ms a layer at 512 px)."""
    unchanged = cv2.inRange(rgb, np.array(none, np.uint8), np.array(none, np.uint8))
    return cv2.bitwise_and(cv2.bitwise_not(unchanged), (alpha > 0).view(np.uint8) * np.uint8(255))


def recolored(region, rgb):
    """The region in colour `rgb` (rounded to whole 0..255 values)."""
    exact = type(rgb) is tuple and all(type(c) is int for c in rgb)
    return region.recolored(rgb if exact else tuple(int(round(float(c))) for c in rgb))


def candidate_stacks(layers: list, height: int, width: int,
                     with_hidden: bool = False) -> list[list[tuple[np.ndarray, str]]]:
    """A render result's layers as full-size (rgba, blend) stacks, one per candidate (layer group), bottom to top:
    what `composite` takes. As the artist first sees them: the layers placed hidden left out, unless
    `with_hidden`."""
    stacks: dict[str, list] = {}
    for layer in layers:
        if not (layer.visible or with_hidden):
            stacks.setdefault(layer.group, [])
            continue
        canvas = np.zeros((height, width, 4), np.uint8)
        h, w = layer.rgba.shape[:2]
        canvas[layer.y:layer.y + h, layer.x:layer.x + w] = layer.rgba
        stacks.setdefault(layer.group, []).append((canvas, layer.blend))
    return list(stacks.values())
