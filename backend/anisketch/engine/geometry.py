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

from typing import NamedTuple

from anisketch.engine import palette
from anisketch.engine.params import Params
from anisketch.engine.builder import ANCHOR_Y, STEP, Builder, Portrait, Region, Stroke
from anisketch.engine.curves import split_rows
from anisketch.engine.parts.accessories import build_glasses, build_hat, build_ribbon
from anisketch.engine.parts.face import build_face
from anisketch.engine.parts.features import build_brows, build_eyes, build_mouth, build_nose
from anisketch.engine.parts.hair import build_hair

__all__ = ["ANCHOR_Y", "STEP", "Builder", "PartMemo", "Portrait", "Region", "Stroke", "build_parts", "build_portrait", "posed",
           "split_rows"]


def build_portrait(params: Params) -> Portrait:
    strokes, regions = build_parts(params).finish()
    return Portrait(strokes, regions, params)


def build_parts(params: Params, memo: "PartMemo | None" = None) -> Builder:
    """Every part of the portrait in face units, not yet placed: the parts read no pose, so the same parts serve
    any pose (`posed`). Guidance draws parts held where the artist left them with poses of their own.
    `memo`: parts whose values were built before are taken from it instead of being built again."""
    b = Builder(params)
    pal = palette.make_palette(params)
    build = memo.build if memo is not None else (lambda part, builder, colours: part(builder, colours))
    chosen = list(zip(PARTS, PART_GROUPS)) + [(part, "accessories") for name, part in ACCESSORY_PARTS if params[name]]
    for part, group in chosen:
        before = len(b.local_regions)
        build(part, b, pal)
        b.region_groups += [group] * (len(b.local_regions) - before)  # its regions go with its lines' group
    return b


PARTS = (build_face, build_eyes, build_brows, build_nose, build_mouth, build_hair)
PART_GROUPS = ("face", "eyes", "brows", "nose", "mouth", "hair")  # the stroke group each of PARTS draws
ACCESSORY_PARTS = (("hat", build_hat), ("ribbon", build_ribbon), ("glasses", build_glasses))


class PartMemo:
    """The lines and regions each part added for the last few values it read. A part reads only its own
    parameters (the face's, the eyes'...), so a face mixing the parts of two others (guidance holding the parts
    the artist did not touch) builds none of them again. Exact: every parameter a part read while it was built
    (recorded) must be equal for its lines to be reused; the colours of its regions are looked up again in the
    current palette (a held eye's white is shaded with the face's skin of now)."""

    def __init__(self, per_part: int = 8):
        self.per_part = per_part
        self.entries: dict = {}  # part -> [(params read, lines, regions with colour names)], newest first

    def build(self, part, b: Builder, pal: dict) -> None:
        entries = self.entries.setdefault(part, [])
        found = next((entry for entry in entries if all(b.p[k] == v for k, v in entry[0])), None)
        if found is None:
            found = self._record(part, b, pal)
            entries.insert(0, found)
            del entries[self.per_part:]
        b.lines.extend(found[1])
        b.local_regions.extend(_coloured(region, pal) for region in found[2])

    @staticmethod
    def _record(part, b: Builder, pal: dict) -> tuple:
        """Build the part on its own, reading the params through a record and the palette as colour names."""
        real, reading = b.lines, _Reading(b.p)
        b.p, b.lines, regions, b.local_regions = reading, [], b.local_regions, []
        try:
            part(b, _ColourNames(pal))
            return reading.read(), b.lines, b.local_regions
        finally:
            b.p, b.lines, b.local_regions = reading.source, real, regions


class _Reading(Params):
    """Params that record which entries are read, by `[]` or `option` (how parts read them); any other way of
    reading them would escape the record, so it is refused."""

    def __init__(self, source: Params):
        super().__init__(source)
        self.source, self.keys_read = source, set[str]()

    def __getitem__(self, key):
        self.keys_read.add(key)
        return super().__getitem__(key)

    def read(self) -> tuple:
        return tuple((key, dict.__getitem__(self, key)) for key in self.keys_read)

    def _refused(self, *args, **kwargs):
        raise TypeError("a part reads its parameters by p[name] or p.option(name) only (PartMemo records those)")

    get = keys = values = items = copy = __iter__ = __contains__ = _refused


class _ColourName(NamedTuple):
    name: str  # a palette entry, looked up when the region joins a portrait (a part only passes colours on)


class _ColourNames:
    def __init__(self, pal: dict):
        self.pal = pal

    def __getitem__(self, name: str) -> _ColourName:
        if name not in self.pal:
            raise KeyError(name)  # as the palette itself would, in the part
        return _ColourName(name)


def _coloured(region: tuple, pal: dict) -> tuple:
    """A recorded region with its colour looked up in `pal` (a colour the part gave as such stays)."""
    colour = region[2]
    return region if not isinstance(colour, _ColourName) else region[:2] + (pal[colour.name],) + region[3:]


def posed(parts: Builder, params: Params) -> Builder:
    """`parts` (build_parts of params that differ from `params` at most in the pose) placed by `params`' pose:
    what build_parts(params) would give, without building the parts again."""
    b = Builder(params)
    b.lines, b.local_regions, b.region_groups = parts.lines, parts.local_regions, parts.region_groups  # only read
    return b
