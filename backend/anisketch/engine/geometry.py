"""Params -> strokes and regions: the anime portrait as vector data, in normalised canvas coordinates.

Every part is built in *face units* (the face's half-width is 1, the cranium circle is centred at the origin,
y down; eyes near y = 0.25, chin near y = 1.45), then placed on the canvas by the pose: a gentle yaw warp (the
face turns: features slide, the far side narrows), roll, scale and translation.

Occlusion is honest and geometric: each stroke and each opaque region has a depth `z`; the parts of a stroke that
lie under a deeper-in-front region (bangs over the brows, side locks over the cheek contour, the chin over the
neck lines) are cut away here, so the strokes are exactly the visible line art. An artist sketching the face draws
those same visible lines. The cut is made on a fixed 512 x 512 depth map (size-free strokes), each cut end moved
halfway to the first hidden point, under the occluder's own outline. Which groups may hide which (all else is
independent): front hair hides face (contour, ears) and brows; face, neck and clothes hide back hair; hats and
ribbons hide hair. The eyes show through the fringe, as anime draws them.

Speed: parts only describe shapes; `Builder.finish` places, resamples, depth-tests and cuts every stroke of the
portrait in one batch of numpy operations.
Rows of 2-D arrays are picked with np.take / np.compress (numpy 2.4's fancy indexing of [N, 2] arrays is
10-15x slower, for the same values).

Where each piece lives: `curves.py` (splines, ellipses, arcs, taper profiles), `builder.py` (Stroke, Region,
Portrait, the depths, the Builder that places, resamples and cuts), `parts/` (face, features, hair,
accessories: each adds its strokes and regions to a Builder). This module puts them together and is the
import point for everything the engine's users need.
"""

from __future__ import annotations

from anisketch.engine import palette
from anisketch.engine.params import Params
from anisketch.engine.builder import ANCHOR_Y, STEP, Builder, Portrait, Region, Stroke
from anisketch.engine.curves import split_rows
from anisketch.engine.parts.accessories import build_glasses, build_hat, build_ribbon
from anisketch.engine.parts.face import build_face
from anisketch.engine.parts.features import build_brows, build_eyes, build_mouth, build_nose
from anisketch.engine.parts.hair import build_hair

__all__ = ["ANCHOR_Y", "STEP", "Builder", "Portrait", "Region", "Stroke", "build_parts", "build_portrait", "posed",
           "split_rows"]


def build_portrait(params: Params) -> Portrait:
    strokes, regions = build_parts(params).finish()
    return Portrait(strokes, regions, params)


def build_parts(params: Params) -> Builder:
    """Every part of the portrait in face units, not yet placed: the parts read no pose, so the same parts serve
    any pose (`posed`). Guidance draws parts held where the artist left them with poses of their own."""
    b = Builder(params)
    pal = palette.make_palette(params)
    b.canvas_regions.extend(palette.background_regions(params))
    build_face(b, pal)
    build_eyes(b, pal)
    build_brows(b, pal)
    build_nose(b, pal)
    build_mouth(b, pal)
    build_hair(b, pal)
    if params["hat"]:
        build_hat(b, pal)
    if params["ribbon"]:
        build_ribbon(b, pal)
    if params["glasses"]:
        build_glasses(b, pal)
    return b


def posed(parts: Builder, params: Params) -> Builder:
    """`parts` (build_parts of params that differ from `params` at most in the pose) placed by `params`' pose:
    what build_parts(params) would give, without building the parts again."""
    b = Builder(params)
    b.canvas_regions.extend(palette.background_regions(params))
    b.lines, b.local_regions = parts.lines, parts.local_regions  # finishing only reads them
    return b
