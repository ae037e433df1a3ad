"""Production layers: a colour render as an anime colourist hands it over, to sit beneath the artist's lines.

Per candidate, bottom to top, each with its Krita blending mode (`Layer.blend`):
- "Flat colours" (normal): one opaque colour per region, reaching under the lines (no white seams where a line
  ends and its neighbour's colour begins); transparent outside the figure unless the background was hinted;
- "Shadows" (multiply): cel shapes, each pixel the shadow tone divided by the base tone under it, so multiplying
  gives back exactly the tone the engine (or the colouriser) meant, and a repainted flat keeps its shadow;
- "Highlights" (screen): hair sheen and the eyes' catch-lights, the screen colour that turns the base into the
  highlight tone;
- refined mode only: "Line art" (normal), the engine's own lines in colour-traced ink, placed hidden
  (`Layer.visible` False): the artist's sketch stays on top of everything, and the engine's lines, a few pixels
  off the artist's, showed every line twice. An artist who hides their sketch switches it on for clean lines.

Refined mode decomposes the engine's own painting (`refined_production`, here): the engine knows which regions
are shading. Faithful mode decomposes the colouriser's predictions and snaps them to the artist's own lines
(`faithful_layers.faithful_productions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import Portrait
from ..engine.palette import line_colors, make_palette
from ..engine.raster import render_lines, render_regions

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
# The back hair is the hair in the head's shade (a tone between the hair and its shadow), a region with nothing
# of its own under it: a colourist fills it with the hair's flat and darkens it on the shadow layer, so
# repainting the hair flat recolours the back hair too.
SHADED_FILLS = {"hair_back": "hair"}
HIGHLIGHT_TONES = {"hair_sheen": "hair", "iris_light": "iris", "highlight": None}  # None: white on anything
EYES = (P.LABEL["eye_l"], P.LABEL["eye_r"])


def shading_kind(region, pal: dict) -> tuple[str, tuple] | None:
    """("shadow" | "highlight", base tone) for a region the engine paints as shading, else None (a flat)."""
    for tone, base in (SHADOW_TONES | SHADED_FILLS).items():
        if region.color == pal[tone] and region.color != pal[base]:
            return "shadow", pal[base]
    if not region.detail:  # the sclera, the teeth: white flats, not catch-lights
        return None
    for tone, lit in HIGHLIGHT_TONES.items():
        if region.color == pal[tone] and (lit is not None or region.label in EYES):
            return "highlight", pal[lit] if lit is not None else BLACK
    return None


def refined_production(portrait: Portrait, side: int, background_hinted: bool) -> dict[str, np.ndarray]:
    """The engine's portrait as production layers (name -> RGBA side x side)."""
    pal = make_palette(portrait.params)
    filled = {pal[tone] for tone in SHADED_FILLS}
    flats, shadows, highlights = [], [], []
    for region in portrait.regions:
        kind = shading_kind(region, pal)
        if kind is None or region.color in filled:
            flats.append(region if kind is None else recolored(region, kind[1]))
        else:
            flats.append(None)
        # In the shading passes every other region paints the blend's "no change" colour, so whatever the engine
        # paints over a shadow (front hair over the forehead's shadow) hides it there too.
        shadows.append(recolored(region, multiply_color(region.color, kind[1]) if kind and kind[0] == "shadow"
                                 else WHITE))
        highlights.append(recolored(region, screen_color(region.color, kind[1]) if kind and kind[0] == "highlight"
                                    else BLACK))
    painted = [r for r in flats if r is not None]
    color, parts = render_regions(painted, side)
    if background_hinted:  # opaque wherever the engine painted: the guidance window may not fill the request
        alpha = render_regions([recolored(r, WHITE) for r in painted], side)[0][..., 0]
    else:
        alpha = np.where(parts == P.LABEL["background"], 0, 255).astype(np.uint8)
    shadow_rgb, _ = render_regions(shadows, side)
    light_rgb, _ = render_regions(highlights, side)
    lines = render_lines(portrait.strokes, side, colors=line_colors(portrait.params))
    return {
        FLATS: as_layer_rgba(color, alpha),
        SHADOWS: as_layer_rgba(shadow_rgb, painted_where(shadow_rgb, WHITE, alpha)),
        HIGHLIGHTS: as_layer_rgba(light_rgb, painted_where(light_rgb, BLACK, alpha)),
        LINE_ART: lines,
    }


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
    shading: dict[tuple, str] = {("shadow", pal["skin"]): "skin_shadow", ("highlight", pal["hair"]): "hair_sheen"}
    eyes = {pal["sclera"]: "eye_whites", pal["sclera_shadow"]: "eye_whites", pal["pupil"]: "pupils",
            pal["highlight"]: "catch_lights"}

    def coded(region) -> tuple:
        name = eyes.get(region.color) if region.label in EYES else shading.get(shading_kind(region, pal) or ())
        return GUIDE_CODES[name] if name else BLACK

    # coded colours on black: beyond the portrait's window nothing is shaded
    rgb = render_regions([recolored(region, coded(region)) for region in portrait.regions], side)[0]
    lit = (rgb > 127).view(np.uint8)
    bits = lit[..., 0] | lit[..., 1] << 1 | lit[..., 2] << 2  # which channels each pixel lights, as one number
    return GuideShading(**{name: bits == (r > 0) | (g > 0) << 1 | (b > 0) << 2
                           for name, (r, g, b) in GUIDE_CODES.items()})


def painted_where(rgb: np.ndarray, none: tuple, alpha: np.ndarray) -> np.ndarray:
    """Alpha of a shading layer: 255 where `rgb` is not the blend's "no change" colour and the flats are opaque
    (cv2.inRange: numpy's any() over the channel axis cost 8 ms a layer at 512 px)."""
    unchanged = cv2.inRange(rgb, np.array(none, np.uint8), np.array(none, np.uint8))
    return cv2.bitwise_and(cv2.bitwise_not(unchanged), (alpha > 0).view(np.uint8) * np.uint8(255))


def recolored(region, rgb):
    from dataclasses import replace

    return replace(region, color=tuple(int(round(float(c))) for c in rgb))


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L 0..100) of RGB 0..255, float32, any [..., 3] shape (OpenCV's: fast at full resolution)."""
    flat = np.ascontiguousarray(np.asarray(rgb, np.float32).reshape(1, -1, 3)) * (1.0 / 255.0)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))


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
