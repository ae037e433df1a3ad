"""Refined colour renders: the guidance's cleaned-up face, painted by the engine in the artist's colours.

The artist's hint layer holds a few dabs of colour. Each dab lands on a part of the predicted portrait (its
hair, an iris, the skin, the clothes, the background); the dab's colour becomes that part's colour parameter.
Parts no dab touches take their colours from a *style donor*: the palette of another engine portrait drawn
from the style seed, one donor per candidate. So candidates differ exactly where the artist left the choice
open, every palette is one the engine would paint (plausible with no hints at all), and the same style seed
always gives the same candidate, byte for byte. The default first candidate (style seed 0) takes the *likely
palette* instead: the best single guess when the artist said nothing (`likely_palette`).

What you dab is what you get: the engine derives shadows, sheen and gradients from a part's base colour, and
a dab may land on a shadowed lock. The production layers read each dab where it lies (`tones_under`): on a
shadow or a tint, the base is the colour that tone turns into the dab's (`base_showing`); elsewhere it is the
dab's colour, and the shading the dab covers is left out of the layers (`layered.covered_shapes`). The
one-picture render (`paint_candidates`, for `anisketch eval`) instead corrects the base colours until the whole
painting, under each dab and inside its part, shows the dab's colour (`match_hints`: one or two cheap extra
renders at low resolution).
"""

from __future__ import annotations

from functools import cache
from typing import Callable, NamedTuple

import numpy as np

from ..engine import params as P
from ..engine.geometry import PartMemo, Portrait, build_parts
from ..guidance.framing import IDENTITY, Placement
from ..engine.palette import make_palette
from ..engine.raster import render, render_regions
from ..colour import delta_e2000, srgb_to_lab
from .dabs import AGREE, Dab, agreed_color, find_dabs, reads_as_blank_eye, region_color
from .lab import to_lab
from .layered import FIXED_FLAT, fixed_flat_colors, fixed_flats_under, tones_under, under_index

# Which colour parameter a dab sets, by the part-map label under it.
COLOR_OF_LABEL = {
    "skin": "skin_color", "ears": "skin_color", "neck": "skin_color",
    "hair": "hair_color", "eye_l": "iris_color", "eye_r": "iris_color",
    "clothes": "clothes_color", "background": "bg_color",
}
COLOR_NAMES = [s.name for s in P.PARAM_SPECS if s.kind == "color"]
MATCH_SIZE = 256  # hint matching renders at this size: colours do not depend on it
MATCH_ROUNDS = 2
MATCH_TOLERANCE = 1.5  # CIEDE2000 below which a hint counts as met


def color_param_for(label: str, params: P.Params, rgb) -> str | None:
    """The colour parameter a dab of colour `rgb` on part `label` sets, None if none. A white or pale grey dab on
    an eye means its whites, which are white already (`reads_as_blank_eye`): it sets no iris."""
    if label in ("eye_l", "eye_r") and reads_as_blank_eye(rgb):
        return None
    if label == "accessory":
        return "hat_color" if params["hat"] else "ribbon_color" if params["ribbon"] else None
    return COLOR_OF_LABEL.get(label)


def hinted_colors(params: P.Params, dabs: list[Dab]) -> dict[str, tuple[float, float, float]]:
    """Colour parameter -> the mean colour (floats in [0, 1]) of the dabs that landed on its part."""
    groups: dict[str, list] = {}
    for dab in dabs:
        name = color_param_for(dab.label, params, dab.color)
        if name:
            groups.setdefault(name, []).append(dab.color)
    means = {name: np.mean(colors, axis=0) / 255.0 for name, colors in groups.items()}
    return {name: (float(m[0]), float(m[1]), float(m[2])) for name, m in means.items()}


def donor_seed(style_seed: int, candidate: int) -> int:
    return (int(style_seed) * 1000 + candidate) % (1 << 62)


def donor_palette(style_seed: int, candidate: int) -> P.Params:
    """Where a candidate's unhinted colours come from. The default first candidate (style seed 0, candidate 0)
    bets on the likely palette: the artist who gives no colour gets the best guess first, and the other
    candidates (and every other style seed) offer engine palettes drawn from the seed."""
    if (style_seed, candidate) == (0, 0):
        return likely_palette()
    return P.sample_params(donor_seed(style_seed, candidate))


def with_style(params: P.Params, style_seed: int, candidate: int, fixed: dict) -> P.Params:
    """params with every colour from the candidate's donor palette, except those the hints fixed."""
    donor = donor_palette(style_seed, candidate)
    styled = params.copy()
    for name in COLOR_NAMES:
        styled[name] = tuple(fixed[name]) if name in fixed else donor[name]
    # A hinted background is painted flat in the hinted colour; otherwise the donor's kind of background.
    styled["background"] = SPEC_FLAT if "bg_color" in fixed else donor["background"]
    return styled


SPEC_FLAT = P.SPEC["background"].options.index("flat")
PRIOR_SEEDS = range(1_500_000_000, 1_500_000_500)  # engine portraits the likely palette was chosen from
# The likely palette, colour by colour: the seed of the engine portrait whose colour it is (`medoid_seed`).
LIKELY_COLOR_SEEDS = {
    "bg_color": 1_500_000_257,       # (221, 225, 212) a pale grey-green
    "clothes_color": 1_500_000_338,  # (129, 143, 136) grey-green
    "skin_color": 1_500_000_388,     # (250, 227, 208) light
    "iris_color": 1_500_000_132,     # (142, 93, 55) brown
    "hair_color": 1_500_000_356,     # (140, 140, 147) grey
    "hat_color": 1_500_000_427,      # (108, 134, 138) slate
    "ribbon_color": 1_500_000_006,   # (108, 181, 105) green
}


@cache
def likely_palette() -> P.Params:
    """The palette to bet on when the artist gave no colour: for each colour parameter, the engine's colour
    nearest (squared RGB distance, what PSNR counts) to all the others it draws (`medoid_seed`), and a flat
    background. Every colour is one the engine really paints (a plausible, if quiet, palette: grey hair,
    brown eyes), and on unseen portraits it beats a random engine palette by about 3 dB (ceilings.py)."""
    palette = P.Params({"background": SPEC_FLAT})
    for name, seed in LIKELY_COLOR_SEEDS.items():
        palette[name] = P.sample_params(seed)[name]
    return palette


def medoid_seed(name: str, seeds=PRIOR_SEEDS) -> int:
    """The seed whose colour `name` has the least mean squared RGB distance to that colour in all the other
    portraits where it shows (no hat: no hat colour). How LIKELY_COLOR_SEEDS was chosen (a test re-checks it)."""
    portraits = {seed: P.sample_params(seed) for seed in seeds}
    shown = [seed for seed, params in portraits.items() if name not in P.inactive(params)]
    colors = np.array([portraits[seed][name] for seed in shown])
    spread = ((colors[:, None] - colors[None]) ** 2).sum(axis=2).mean(axis=1)
    return shown[int(np.argmin(spread))]


def match_hints(params: P.Params, dabs: list[Dab], fixed: dict, placement: Placement = IDENTITY,
                memo: PartMemo | None = None) -> dict:
    """Base colours corrected so that the render under each dab shows the dab's colour (see the docstring).

    Each round renders at MATCH_SIZE, measures every hinted colour's error (CIEDE2000 between the mean dab
    colour and the mean shown colour), keeps the best colour seen per parameter, and steps by the difference
    (half-way back towards the best when a step made things worse: the engine's shading is not linear, and
    colours clip at the gamut's edge)."""
    if not fixed:
        return fixed
    import cv2

    side = dabs[0].mask.shape[0]
    size = min(side, MATCH_SIZE)
    masks = [d.mask if side == size else
             cv2.resize(d.mask.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST) > 0 for d in dabs]
    current = {name: np.asarray(rgb, np.float64) for name, rgb in fixed.items()}
    best = {name: (np.inf, rgb) for name, rgb in current.items()}
    for round_ in range(MATCH_ROUNDS + 1):
        styled = params.copy()
        styled.update({name: tuple(float(c) for c in rgb) for name, rgb in current.items()})
        if "bg_color" in current:
            styled["background"] = SPEC_FLAT
        layers = render(placement.portrait(built(styled, memo)), size)
        for name, (wanted, shown) in measured_colors(layers, dabs, masks, params).items():
            error = float(delta_e2000(srgb_to_lab(np.rint(wanted).astype(np.uint8)),
                                      srgb_to_lab(np.rint(shown).astype(np.uint8))))
            improved = error < best[name][0]
            if improved:
                best[name] = (error, current[name])
            if round_ < MATCH_ROUNDS:
                step = current[name] + (wanted - shown) / 255.0 if improved else (current[name] + best[name][1]) / 2
                current[name] = np.clip(step, 0.0, 1.0)
        if max(error for error, _ in best.values()) < MATCH_TOLERANCE:
            break
    return {name: tuple(float(c) for c in rgb) for name, (_, rgb) in best.items()}


def measured_colors(layers: dict, dabs: list[Dab], masks: list[np.ndarray], params: P.Params) -> dict:
    """Colour parameter -> (mean dab colour, mean colour the render shows under those dabs), RGB 0..255."""
    pairs: dict[str, list] = {}
    for dab, mask in zip(dabs, masks):
        name = color_param_for(dab.label, params, dab.color)
        if name is None:
            continue
        shown = region_color(layers["color"], layers["lineart"], layers["parts"], Dab(dab.color, dab.label, mask))
        if shown is not None:
            pairs.setdefault(name, []).append((np.asarray(dab.color, np.float64), shown))
    return {name: (np.mean([p[0] for p in ps], axis=0), np.mean([p[1] for p in ps], axis=0))
            for name, ps in pairs.items()}


def paint_candidates(floats: np.ndarray, choices: np.ndarray, hints_rgba: np.ndarray | None, side: int, n: int,
                     style_seed: int, placement: Placement = IDENTITY) -> tuple[list[dict], list[Dab], dict]:
    """The engine's layers (color, lineart, parts) of n candidates, the dabs found and the colours they fixed.

    hints_rgba: None or the hint layer already squared to side x side (`square`). placement: where the
    vector's canvas lies in the request (the guidance window)."""
    portraits, dabs, fixed = styled_portraits(floats, choices, hints_rgba, side, n, style_seed, placement)
    return [render(portrait, side) for portrait in portraits], dabs, fixed


def styled_portraits(floats: np.ndarray, choices: np.ndarray, hints_rgba: np.ndarray | None, side: int, n: int,
                     style_seed: int, placement: Placement = IDENTITY) -> tuple[list[Portrait], list[Dab], dict]:
    """The n candidates' portraits (placed in the request), the dabs found and the colours they fixed."""
    painter = portrait_maker(floats, choices, hints_rgba, side, style_seed, placement)
    return [painter.portrait(i) for i in range(n)], painter.dabs, painter.fixed


class Painter(NamedTuple):
    """What a request's candidates share: `portrait(i)`, candidate i's portrait placed in the request; the dabs
    found; the colours they fixed; and for production layers the shading tone each dab lies on (`tones_under`,
    None: the lit base; all None for the one-picture render)."""

    portrait: Callable[[int], Portrait]
    dabs: list[Dab]
    fixed: dict
    tones: list[str | None]


def portrait_maker(floats: np.ndarray, choices: np.ndarray, hints_rgba: np.ndarray | None, side: int,
                   style_seed: int, placement: Placement = IDENTITY, matched: bool = True) -> Painter:
    """What the candidates share (`Painter`): each candidate's own work can then run in a task of its own.

    matched: the base colours are corrected until the engine's whole painting, shading included, shows the
    dabs' colours (`match_hints`: the one-picture render); False: production layers, which leave out the
    shading dabs cover unless they lie on it, so each base is the colour that shows the dabs' where they lie
    (`dab_colors`)."""
    params = P.decode(floats, choices)
    memo = PartMemo()  # every portrait here is one face in other colours: its parts are built once
    # ... and its strokes made once: the candidates differ in colours, which strokes do not carry, and cutting the
    # lines against the occluders again cost each candidate more Python than painting its regions
    strokes: list[list] = []
    dabs: list[Dab] = []
    tones: list[str | None] = []
    if hints_rgba is not None and hints_rgba[..., 3].any():
        placed = placement.portrait(built(params, memo))
        strokes.append(placed.strokes)
        # the part map alone: the lines a full render inks over the colours never change it
        dabs = find_dabs(hints_rgba, render_regions(placed.regions, side)[1])
        tones = [None] * len(dabs) if matched else read_dabs(params, dabs, placed)
    if matched:
        fixed = match_hints(params, dabs, hinted_colors(params, dabs), placement, memo)
    else:
        fixed = dab_colors(params, dabs, tones)

    # Candidates' tasks share the memo: by now it holds every part but perhaps a donor's kind of background, and a
    # part two tasks build at once is built twice, the same (PartMemo is exact), never wrong; likewise the
    # strokes, when no hint made them above.
    def portrait(i: int) -> Portrait:
        styled = with_style(params, style_seed, i, fixed)
        if not strokes:
            whole = placement.portrait(built(styled, memo))
            strokes.append(whole.strokes)
            return whole
        regions = placement.portrait(Portrait([], build_parts(styled, memo).placed_regions(), styled)).regions
        return Portrait(strokes[0], regions, styled)

    return Painter(portrait, dabs, fixed, tones)


def small_masks(dabs: list[Dab]) -> list[np.ndarray]:
    """The dabs' masks at MATCH_SIZE (where the request is larger): where they lie needs no finer picture."""
    import cv2

    if not dabs or len(dabs[0].mask) <= MATCH_SIZE:
        return [dab.mask for dab in dabs]
    return [cv2.resize(d.mask.view(np.uint8), (MATCH_SIZE, MATCH_SIZE), interpolation=cv2.INTER_NEAREST) > 0
            for d in dabs]


# The colour parameter each tone a dab can keep shades or tints (layered.UNDER_CODES)
PARAM_OF_TONE = {"hair_back": "hair_color", "hair_shadow": "hair_color", "skin_shadow": "skin_color",
                 "blush": "skin_color", "hat_band": "hat_color"}
TONE_ROUNDS = 4  # base_showing's corrections: the palette's tones are smooth functions of the base


def own_tones(params: P.Params, dabs: list[Dab], tones: list[str | None]) -> list[str | None]:
    """Each dab's tone (`tones_under`) where it shades the colour the dab sets, else None: a dab on the hair
    lying on the skin's shadow under the fringe sets the hair's colour, and the shadow it touches goes.
    FIXED_FLAT stays: such a dab sets no colour."""

    def own(dab: Dab, tone: str | None) -> bool:
        sets = color_param_for(dab.label, params, dab.color)
        return tone == FIXED_FLAT or (tone is not None and PARAM_OF_TONE.get(tone) == sets)

    return [tone if own(dab, tone) else None for dab, tone in zip(dabs, tones)]


def read_dabs(params: P.Params, dabs: list[Dab], placed: Portrait) -> list[str | None]:
    """What each dab lies on for the production layers: its own tone (`own_tones`), or FIXED_FLAT where dabs on
    one part disagree and this one shows the colour of a flat that no parameter sets under a good share of it
    (`layered.fixed_flats_under`). Of a white dab half on a white collar and an olive one on the dress, the
    artist dabbed the collar white and the dress olive, not a white dress: the white one sets no colour."""
    masks = small_masks(dabs)
    index = under_index(placed, len(masks[0]))  # what lies where, read for the tones and for the fixed flats
    tones = own_tones(params, dabs, tones_under(placed, masks, index))
    labs = to_lab(np.array([dab.color for dab in dabs], np.float32))
    disputed = disputed_dabs(params, dabs, tones, labs)
    fixed = fixed_flat_colors(placed) if disputed else []  # most requests have no dispute: no look at the flats
    if not fixed:
        return tones
    fixed_labs = to_lab(np.array(fixed, np.float32))
    # only a dab near the colour of one of the portrait's fixed flats can be one's: the look under it is for those
    near = [i for i in disputed if np.linalg.norm(fixed_labs - labs[i], axis=1).min() <= AGREE]
    flats = fixed_flats_under(placed, [masks[i] for i in near], index)
    for i, flat in zip(near, flats):
        if flat is not None and np.linalg.norm(to_lab(np.array(flat, np.float32)) - labs[i]) <= AGREE:
            tones[i] = FIXED_FLAT
    return tones


def disputed_dabs(params: P.Params, dabs: list[Dab], tones: list[str | None], labs: np.ndarray) -> list[int]:
    """The dabs (indices) that set a colour another dab sets too, of a colour over AGREE from theirs (`labs`: the
    dabs' colours in CIELAB). A dab on the shade and one on the lit part may ask for one base in two colours: such
    a pair counts as disputed here, which at worst lets the one showing a fixed flat's colour keep to that flat."""
    names = [color_param_for(dab.label, params, dab.color) if tone != FIXED_FLAT else None
             for dab, tone in zip(dabs, tones)]
    far = np.linalg.norm(labs[:, None] - labs[None], axis=2) > AGREE
    return [i for i, name in enumerate(names)
            if name and any(far[i, j] and names[j] == name for j in range(len(dabs)) if j != i)]


def dab_colors(params: P.Params, dabs: list[Dab], tones: list[str | None]) -> dict[str, tuple[float, float, float]]:
    """Colour parameter -> the base colour most of the dab pixels on its part ask for, floats in [0, 1]: a dab on
    a shadow asks for the base that the shadow turns into the dab's colour (`base_showing`), of dabs that ask
    for different bases the one whose painting shows the most dab pixels, each where it lies, wins
    (`agreed_color`: a mean would show neither), and a dab on a flat that no parameter colours (a white collar
    on a green dress: FIXED_FLAT) sets no colour (it repaints that flat, `layered.fixed_flats_dabbed`)."""
    asks: dict[str, list[tuple[np.ndarray, str | None, tuple, int]]] = {}
    for dab, tone in zip(dabs, tones):
        name = color_param_for(dab.label, params, dab.color)
        if name and tone != FIXED_FLAT:
            asks.setdefault(name, []).append((base_showing(params, name, tone, dab.color), tone, dab.color,
                                              int(dab.mask.sum())))
    agreed = {name: agreed_base(params, name, ask) / 255.0 for name, ask in asks.items()}
    return {name: (float(c[0]), float(c[1]), float(c[2])) for name, c in agreed.items()}


def agreed_base(params: P.Params, name: str, asks: list[tuple[np.ndarray, str | None, tuple, int]]) -> np.ndarray:
    """The base (RGB 0..255) of colour `name` that shows the most pixels of its dabs, each (base asked, tone under
    it, its colour, its pixels) judged where it lies: a dab in the hair's shade by the shade the base gives."""
    bases, tones, colors, pixels = zip(*asks)
    if len(asks) == 1:
        return bases[0]
    if not any(tones):  # every dab on the lit base: each shows the base itself
        return agreed_color(np.array(bases), np.array(pixels, float))

    def shows(base: np.ndarray) -> np.ndarray:
        shown = {tone: tone_of(params, name, tone, base) for tone in set(tones) if tone is not None}
        return np.array([base if tone is None else shown[tone] for tone in tones])

    return agreed_color(np.array(bases), np.array(pixels, float), shows, np.array(colors, float))


def tone_of(params: P.Params, name: str, tone: str, base) -> tuple:
    """The palette's `tone` (RGB 0..255) when colour `name` is `base` (RGB 0..255)."""
    trial = params.copy()
    trial[name] = tuple(float(c) / 255.0 for c in base)
    return make_palette(trial)[tone]


def base_showing(params: P.Params, name: str, tone: str | None, rgb) -> np.ndarray:
    """The colour (RGB 0..255) of parameter `name` whose shading `tone` shows `rgb` (None: `rgb` itself)."""
    wanted = np.asarray(rgb, np.float64)
    base = wanted.copy()
    if tone is None:
        return wanted
    for _ in range(TONE_ROUNDS):
        base = np.clip(base + wanted - np.asarray(tone_of(params, name, tone, base), np.float64), 0.0, 255.0)
    return base


def built(params: P.Params, memo: PartMemo | None = None) -> Portrait:
    """build_portrait, taking the parts already built in `memo` (the same bytes: PartMemo is exact)."""
    strokes, regions = build_parts(params, memo).finish()
    return Portrait(strokes, regions, params)


def as_rgba(layers: dict, background_hinted: bool) -> np.ndarray:
    """A candidate layer: opaque, or transparent outside the portrait when the artist gave no background."""
    side = layers["color"].shape[0]
    rgba = np.empty((side, side, 4), np.uint8)
    rgba[..., :3] = layers["color"]
    rgba[..., 3] = 255
    if not background_hinted:  # the outline's outer half (anti-aliased) lies outside the part map: keep it
        portrait = np.where(layers["parts"] == P.LABEL["background"], 0, 255).astype(np.uint8)
        rgba[..., 3] = np.maximum(portrait, layers["lineart"])
    return rgba


def refined_candidates(floats: np.ndarray, choices: np.ndarray, hints_rgba: np.ndarray | None, side: int, n: int,
                       style_seed: int, placement: Placement = IDENTITY) -> tuple[list[np.ndarray], list[Dab]]:
    """n RGBA renders of side x side px (transparent outside the portrait unless the background was hinted)."""
    layers, dabs, fixed = paint_candidates(floats, choices, hints_rgba, side, n, style_seed, placement)
    return [as_rgba(layer, "bg_color" in fixed) for layer in layers], dabs


def square(image: np.ndarray, side: int) -> np.ndarray:
    """The request image padded at the bottom/right to side x side (the frame guidance draws in)."""
    h, w = image.shape[:2]
    if (h, w) == (side, side):
        return image
    out = np.zeros((side, side) + image.shape[2:], image.dtype)
    out[:h, :w] = image
    return out
