"""Reading and writing the Krita document: the only module that touches layers and pixels.

Rules kept here, in one place:
- The artist's layers are only ever read. Everything we write lives in our two groups ("AniSketch
  guidance", "AniSketch renders") or in a layer the artist asked us to create ("Color hints"). Krita
  makes each layer added here the active one; the controller hands the artist's layer back
  (Controller._keep_active_layer).
- Pixels cross as Krita holds them: B,G,R,A bytes. RGBA/U8 documents are sent without any conversion;
  RGBA/U16 ones are narrowed to 8 bits for the request (and widened for the results); other colour
  spaces are refused with a message saying what to do.
- Guidance layers are reused between updates and rewritten with setPixelData, which makes no undo entry:
  Ctrl+Z after a stroke undoes the stroke, not the guidance that followed it (see docs/plugin.md, Undo).
  Reusing also keeps the GUI thread free: creating a layer costs Krita about 200 ms (layer docker,
  thumbnails), rewriting one a few milliseconds.
- setPixelData shows nothing by itself, and Document.refreshProjection, which does, recomposites the whole
  image while the GUI thread waits (45-80 ms on a 2048 px canvas). Guidance is shown instead by marking
  only the written area dirty, through an invisible shape in an empty vector layer of the guidance group
  ("AniSketch redraw"): Shape.updateAbsolute(rect) makes Krita repaint that shape layer in `rect` and
  recomposite the group there, in its own worker threads, with no undo entry; the call returns in about
  0.1 ms. Krita repaints a vector layer's marks through a timer: a mark on a cold layer shows 0.2-0.25 s
  later, one on a layer kept warm 0.04-0.1 s later, so there are two such layers, kept warm by turns while
  the artist draws (redraw.py says how). Visibility and opacity changes show the same way. In Krita
  5.1.5, setOpacity, setVisible and move change nothing on screen by themselves, and setBlendingMode (the
  usual trick) adds an undo entry (tests/krita_scenarios/redraw_probe.py measures them all).
  Writing still waits until no stroke runs (`is_idle`): never mid-stroke.
- A node we add is made ready (visibility, opacity, blending, lock, pixels) BEFORE it joins the document,
  and left alone for the rest of that event-loop turn. Krita 5.1 learns of an added node from a queued
  signal; a property change that comes first trips a SAFE ASSERT ("dummy" in kis_dummies_facade_base.cpp,
  "shape" in kis_node_manager.cpp) and Krita then crashes now and then, the more often the busier the
  machine. A redraw layer's shape is added on the turn after its layer (`redraw_shape`).
"""
# Why one file of this size: it is the plugin's only module that touches Krita's layers and pixels, so the
# rule that the artist's layers are only ever read can be checked in one place.


from __future__ import annotations

import importlib
import time
import zlib
from typing import Any, Callable, Iterable, Optional

from .qt import QT_BINDING, QBitmap, QColor, QImage, QRegion, Qt, QTimer
from .redraw import REDRAW_LAYERS, RedrawClock
from .region import Box

QRectF = importlib.import_module(f"{QT_BINDING}.QtCore").QRectF

GUIDANCE_GROUP = "AniSketch guidance"
RENDERS_GROUP = "AniSketch renders"
HINTS_LAYER = "Color hints"
OUR_GROUPS = (GUIDANCE_GROUP, RENDERS_GROUP)
KEPT_PREFIX = "AniSketch"
REDRAW_LAYER = "AniSketch redraw"  # empty vector layers in the guidance group ("AniSketch redraw 2"...); see redraw()
# One shape that paints nothing: its layer stays transparent, and updateAbsolute on it redraws any rect.
INVISIBLE_SHAPE = ('<svg xmlns="http://www.w3.org/2000/svg" width="1px" height="1px">'
                   '<rect x="0" y="0" width="1" height="1" fill="none" stroke="none"/></svg>')

# (colour model, depth) -> bytes per pixel, for the spaces we can read and write.
SUPPORTED = {("RGBA", "U8"): 4, ("RGBA", "U16"): 8}


class CanvasError(Exception):
    """Something about the document stops the request; the message is shown to the artist as is."""


# ------------------------------------------------------------------------------------------------ reading


def check_supported(node: Any) -> None:
    space = (node.colorModel(), node.colorDepth())
    if space not in SUPPORTED:
        raise CanvasError(
            f"AniSketch reads RGB/Alpha layers of 8 or 16 bits; '{node.name()}' is {space[0]}/{space[1]}. "
            "Convert it with Image ▸ Convert Image Color Space (RGB/Alpha, 8-bit integer)."
        )


def box_of(rect: Any) -> Box:
    return Box(rect.x(), rect.y(), rect.width(), rect.height())


def sketch_bounds(document: Any, node: Any) -> Box:
    """Where the sketch has ink, within the image: on a transparent layer its bounds; on an opaque one (the
    Background layer, a scan) where its pixels differ from the paper (its bounds are the whole canvas)."""
    box = layer_bounds(document, node)
    paper = paper_of(document, node)
    return box if paper is None or box.empty else ink_bounds(node, box, paper)


def layer_bounds(document: Any, node: Any) -> Box:
    """Where the layer has pixels, within the image (a photo's plain background is content too)."""
    return box_of(node.bounds()).intersect(Box(0, 0, document.width(), document.height()))


def paper_of(document: Any, node: Any) -> Optional[bytes]:
    """An opaque layer's paper: the pixel (B,G,R,A in the node's depth) that at least three of the image's
    four corners share, when it is not transparent; None for a transparent layer. Four 1 px reads."""
    right, bottom = document.width() - 1, document.height() - 1
    corners = [bytes(read_raw(node, Box(x, y, 1, 1))) for x, y in ((0, 0), (right, 0), (0, bottom), (right, bottom))]
    common = max(corners, key=corners.count)
    return common if corners.count(common) >= 3 and has_alpha(common, node) else None


INK_SCAN_SIDE = 768  # an opaque layer is looked at this small (smoothly: any ink changes its pixel) for bounds


def ink_bounds(node: Any, box: Box, paper: bytes) -> Box:
    """The box around the pixels of `box` that differ from `paper`, found on a smooth downscale in Qt's C++
    (no Python loop over pixels); one scaled pixel of margin for the rounding."""
    image = QImage(bytes(read_bgra8(node, box)), box.w, box.h, box.w * 4, QImage.Format.Format_ARGB32)
    scale = max(1.0, max(box.w, box.h) / INK_SCAN_SIDE)
    small = image.scaled(max(1, round(box.w / scale)), max(1, round(box.h / scale)),
                         Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    b, g, r, a = (bytes(as_bgra8(paper, node)) + bytes(4))[:4]
    # The paper's pixels set in the mask; as a bitmap, QRegion then covers the other pixels: the ink.
    mask = small.createMaskFromColor(QColor(r, g, b, a).rgba(), Qt.MaskMode.MaskInColor)
    found = QRegion(QBitmap.fromImage(mask)).boundingRect()
    if found.isEmpty():
        return Box(box.x, box.y, 0, 0)
    sx, sy = box.w / small.width(), box.h / small.height()
    left, top = int((found.x() - 1) * sx), int((found.y() - 1) * sy)
    right, bottom = int((found.x() + found.width() + 1) * sx) + 1, int((found.y() + found.height() + 1) * sy) + 1
    return Box(box.x + left, box.y + top, right - left, bottom - top).intersect(box)


def selection_box(document: Any) -> Optional[Box]:
    selection = document.selection()
    if selection is None or selection.width() <= 0 or selection.height() <= 0:
        return None
    return Box(selection.x(), selection.y(), selection.width(), selection.height())


def read_bgra8(node: Any, box: Box) -> Any:
    """The node's pixels in `box` as tightly packed B,G,R,A bytes (a buffer the request can send as is)."""
    return as_bgra8(read_raw(node, box), node)


def read_raw(node: Any, box: Box) -> Any:
    """The node's pixels in `box` as Krita returns them (a QByteArray: == compares them at memcmp speed)."""
    check_supported(node)
    return node.pixelData(box.x, box.y, box.w, box.h)


def as_bgra8(data: Any, node: Any) -> Any:
    if node.colorDepth() == "U16":
        return bytes(data)[1::2]  # the high byte of each little-endian channel: exact for 8-bit content
    return memoryview(data)  # no copy: ZeroMQ sends straight from Krita's buffer


BLANK_CHUNK = bytes(1 << 16)


def is_empty(data: Any, paper: Optional[bytes]) -> bool:
    """No ink in `data` (read_raw's): all transparent, or all paper on an opaque layer."""
    if paper is None:
        return is_blank(data)
    return bytes(data) == paper * (len(data) // len(paper))


def is_blank(data: Any) -> bool:
    """No pixel in `data` (read_raw's result) holds anything: a transparent layer reads as zeros. Compared
    64 KB at a time, so a sketch costs only the bytes before its first ink (no 16 MB zero buffer to make)."""
    view = memoryview(data)
    for start in range(0, len(view), len(BLANK_CHUNK)):
        piece = view[start:start + len(BLANK_CHUNK)].tobytes()
        if piece != (BLANK_CHUNK if len(piece) == len(BLANK_CHUNK) else bytes(len(piece))):
            return False
    return True


def ink_beyond(node: Any, box: Box, width: int, height: int, paper: Optional[bytes] = None) -> set:
    """The sides of `box` ("top", "bottom", "left", "right") where the layer has pixels on the 1 px line
    right outside it (within the image); empty when there are none.

    A stroke that leaves the crop crosses one of them, so this tells whether and where the crop must grow
    without asking Krita for the layer's exact bounds, which it recomputes after every stroke (20-75 ms of
    GUI thread on a 2048 px sketch; four 1 px reads cost well under a millisecond). A stroke drawn entirely
    outside the crop crosses none: the controller notices it because the crop's pixels did not change.
    """
    image = Box(0, 0, width, height)
    lines = {"top": Box(box.x, box.y - 1, box.w, 1), "bottom": Box(box.x, box.bottom, box.w, 1),
             "left": Box(box.x - 1, box.y, 1, box.h), "right": Box(box.right, box.y, 1, box.h)}
    inside = {side: line.intersect(image) for side, line in lines.items()}
    return {side for side, line in inside.items()
            if not line.empty and (has_alpha(read_raw(node, line), node) if paper is None
                                   else not is_empty(read_raw(node, line), paper))}


def has_alpha(data: Any, node: Any) -> bool:
    """Whether any pixel of `data` (a few, read_raw's) is not fully transparent. Only alpha counts: Krita's
    eraser leaves the colour of the pixels it clears, and its exact bounds ignore them too."""
    if is_blank(data):
        return False
    size = SUPPORTED[(node.colorModel(), node.colorDepth())]
    raw, channel = bytes(data), size // 4
    return any(raw[offset::size] != bytes(len(raw) // size) for offset in range(size - channel, size))


def to_node_bytes(bgra8: Any, node: Any) -> bytes:
    """B,G,R,A bytes in the node's own depth."""
    if node.colorDepth() == "U16":
        wide = bytearray(len(bgra8) * 2)
        wide[0::2] = bgra8  # v * 257: 8-bit 0..255 maps onto 16-bit 0..65535
        wide[1::2] = bgra8
        return bytes(wide)
    return bgra8 if isinstance(bgra8, bytes) else bytes(bgra8)


def signature(node: Any) -> int:
    """A cheap fingerprint of a layer's pixels, to notice that a stroke happened: the CRC of Krita's
    cached 64 px thumbnail, which it renews when pixels change (about 1 ms after a change on a 2048 px
    canvas; 128 and 256 px thumbnails cost about 20 ms, reading and hashing the layer 50 ms).

    The thumbnail is point-sampled (from the layer's tile extent), so a small stroke may not change it: stroke ends are also told by the
    artist's input (pen.py). The layer's exact bounds would see any stroke, but Krita recomputes them after
    each one (20-75 ms on a 2048 px sketch), which alone is over the 20 ms budget of an update.
    """
    image = node.thumbnail(64, 64)
    bits = image.constBits()
    if bits is None:
        return 0
    bits.setsize(image.sizeInBytes() if hasattr(image, "sizeInBytes") else image.byteCount())
    return zlib.crc32(bits)


def _rect_tuple(rect: Any) -> tuple:
    return (rect.x(), rect.y(), rect.width(), rect.height())


# ------------------------------------------------------------------------------------------------ the layer tree


def walk(node: Any) -> Iterable[Any]:
    for child in node.childNodes():
        yield child
        yield from walk(child)


def paint_layers(document: Any) -> list[Any]:
    """The artist's paint layers, top of the stack first (ours excluded), for the layer choosers.

    Krita hands out a new Python wrapper for a node on every call: nodes are told apart by uniqueId.
    """
    ours = {node_id(node) for group in our_groups(document) for node in walk(group)}
    layers = [node for node in walk(document.rootNode())
              if node.type() == "paintlayer" and node_id(node) not in ours]
    return list(reversed(layers))


def our_groups(document: Any) -> list[Any]:
    return [node for node in walk(document.rootNode()) if node.type() == "grouplayer" and node.name() in OUR_GROUPS]


def node_id(node: Any) -> str:
    return node.uniqueId().toString()


def find_node(document: Any, uid: str) -> Optional[Any]:
    return next((node for node in walk(document.rootNode()) if node_id(node) == uid), None)


def find_group(document: Any, name: str) -> Optional[Any]:
    return next((node for node in walk(document.rootNode())
                 if node.type() == "grouplayer" and node.name() == name), None)


def _placed(node: Any) -> bool:
    return node is not None and node.parentNode() is not None


def _add_above(document: Any, node: Any, anchor: Any) -> None:
    """`node` right above `anchor` among its siblings; on top of the image when there is no anchor."""
    if _placed(anchor):
        anchor.parentNode().addChildNode(node, anchor)
    else:
        document.rootNode().addChildNode(node, None)


def ensure_hints_layer(document: Any, anchor: Any) -> Any:
    """The colour-hint layer: an existing layer named "Color hints", or a new one above the sketch.

    A new one becomes the active layer (Krita's doing, and what the artist wants: they dab hints next)."""
    existing = next((n for n in paint_layers(document) if n.name() == HINTS_LAYER), None)
    if existing is not None:
        return existing
    layer = document.createNode(HINTS_LAYER, "paintlayer")
    _add_above(document, layer, anchor)
    return layer


# ------------------------------------------------------------------------------------------------ writing


# Where each layer written here has pixels (by node id): what the next rewrite must clear. Asking Krita
# instead (Node.bounds) costs 1-5 ms a layer on a 2048 px canvas, as each write makes it rescan the layer.
# Our layers sit in a locked group, and setPixelData has no undo: nothing else changes their pixels.
_written: dict[str, Box] = {}


def write_layer(node: Any, layer: Any, origin: Box, replace: bool = False) -> Box:
    """Write one result layer (protocol.Layer, bgra8) at its place on the canvas; returns the area that
    changed.

    replace: the node's old pixels go too: those outside the new place are cleared with up to four
    transparent strips (the new pixels go in as they came, without being copied into a padded buffer).
    """
    if layer.format != "bgra8":
        raise CanvasError(f"the backend sent '{layer.name}' as {layer.format}; the plugin asks for bgra8")
    place = Box(origin.x + layer.x, origin.y + layer.y, layer.width, layer.height)
    view = memoryview(layer.data)
    rows = [view[r * layer.stride:r * layer.stride + layer.width * 4] for r in range(layer.height)] \
        if layer.stride != layer.width * 4 else None
    data = to_node_bytes(b"".join(rows) if rows is not None else layer.data, node)
    old = written_box(node) if replace else Box(0, 0, 0, 0)
    node.setPixelData(data, place.x, place.y, place.w, place.h)
    for strip in outside(old, place):
        _clear(node, strip)
    _written[node_id(node)] = place
    return place.union(old)


def written_box(node: Any) -> Box:
    """Where the layer has pixels: remembered if we wrote it, else Krita's exact bounds."""
    known = _written.get(node_id(node))
    return known if known is not None else box_of(node.bounds())


def outside(old: Box, place: Box) -> list[Box]:
    """The parts of `old` that `place` does not cover, as at most four boxes (above, below, left, right)."""
    if old.empty:
        return []
    top, bottom = max(old.y, place.y), min(old.bottom, place.bottom)  # the rows both share
    if top >= bottom:
        return [old]
    parts = [Box(old.x, old.y, old.w, top - old.y), Box(old.x, bottom, old.w, old.bottom - bottom),
             Box(old.x, top, min(place.x, old.right) - old.x, bottom - top),
             Box(max(place.right, old.x), top, old.right - max(place.right, old.x), bottom - top)]
    return [part for part in parts if not part.empty]


def _clear(node: Any, box: Box) -> None:
    pixel_size = SUPPORTED.get((node.colorModel(), node.colorDepth()), 4)
    node.setPixelData(bytes(box.w * box.h * pixel_size), box.x, box.y, box.w, box.h)


def clear_layer(node: Any) -> Box:
    """Make a layer transparent again without removing it (no undo entry, no layer-stack change); returns
    the area cleared."""
    box = written_box(node)
    if not box.empty:
        _clear(node, box)
    _written[node_id(node)] = Box(0, 0, 0, 0)
    return box


def remove_layer(node: Any) -> Box:
    """Remove one of our layers (an undoable command in Krita); returns where its pixels were."""
    box = written_box(node)
    _written.pop(node_id(node), None)
    node.remove()
    return box


def is_idle(document: Any) -> bool:
    """No stroke is running: writing now cannot make the GUI thread wait for the artist's pen."""
    if document.tryBarrierLock():
        document.unlock()
        return True
    return False


def refresh(document: Any) -> None:
    """Show what setPixelData wrote anywhere: Krita recomposites the whole image and the GUI thread waits
    (renders and generations, which add layers anyway; guidance uses redraw)."""
    document.refreshProjection()


def redraw(document: Any, group: Any, area: Box, clock: Optional[RedrawClock] = None) -> None:
    """Show what changed inside `area` of our group (pixels written, the group's opacity or visibility):
    Krita recomposites that area in its worker threads; the GUI thread does not wait, and the undo history
    is untouched (see the module's docstring). The mark goes to the redraw layer that `clock` says Krita
    repaints soonest (without a clock: the first)."""
    if area.empty:
        return
    now = time.monotonic()
    k = clock.pick(now) if clock is not None else 0
    shape = redraw_shape(document, group, k)
    if shape is None or not hasattr(shape, "updateAbsolute"):  # no shape yet, or a Krita before 5.1: the slow way
        refresh(document)
        QTimer.singleShot(0, lambda: redraw_shape(document, group, k))  # the shape, once Krita has the layer
        return
    _mark(document, shape, Box(area.x - 2, area.y - 2, area.w + 4, area.h + 4))  # antialiased edges of the points
    if clock is not None:
        clock.mark(k, now)


def warm(document: Any, group: Any, clock: RedrawClock) -> None:
    """Keep the redraw layers' repaint timers running while the artist draws: a 1 px mark on the layer that
    `clock` says is due, if any. Never adds a layer (the artist may be mid-stroke); costs about 0.1 ms."""
    now = time.monotonic()
    k = clock.due(now)
    if k is None:
        return
    layer = find_redraw_layer(group, k)
    shapes = layer.shapes() if layer is not None else []
    if shapes and hasattr(shapes[0], "updateAbsolute"):
        _mark(document, shapes[0], Box(0, 0, 1, 1))
        clock.mark(k, now)


def _mark(document: Any, shape: Any, box: Box) -> None:
    to_x, to_y = 72.0 / document.xRes(), 72.0 / document.yRes()  # pixels -> points, the shapes' unit
    shape.updateAbsolute(QRectF(box.x * to_x, box.y * to_y, box.w * to_x, box.h * to_y))


def redraw_shape(document: Any, group: Any, k: int = 0) -> Optional[Any]:
    """The invisible shape of redraw layer k, which redraw() marks dirty (made with the group's layers and,
    like them, undoable once). A call that finds redraw layers missing adds them all and returns None; the
    shape goes in on a later call, once Krita has taken its layer in."""
    found = redraw_layers(group)
    layers = [layer for layer in found if layer is not None]
    if len(layers) < len(found):
        for i, layer in enumerate(found):
            if layer is None:
                group.addChildNode(document.createVectorLayer(redraw_layer_name(i)), None)
        return None
    shapes = [layer.shapes() or layer.addShapesFromSvg(INVISIBLE_SHAPE) for layer in layers]  # all: warm() needs them
    return shapes[k][0] if shapes[k] else None


def redraw_layer_name(k: int) -> str:
    return REDRAW_LAYER if k == 0 else f"{REDRAW_LAYER} {k + 1}"


def redraw_layers(group: Any) -> list[Optional[Any]]:
    """The group's redraw layers in order, None where one is missing, from one look at its children."""
    by_name = {child.name(): child for child in group.childNodes() if is_redraw_layer(child)}
    return [by_name.get(redraw_layer_name(k)) for k in range(REDRAW_LAYERS)]


def find_redraw_layer(group: Any, k: int = 0) -> Optional[Any]:
    return redraw_layers(group)[k]


def is_redraw_layer(node: Any) -> bool:
    name = node.name()
    return node.type() == "vectorlayer" and (name == REDRAW_LAYER or name.startswith(REDRAW_LAYER + " "))


def guidance_layers(group: Any) -> list[Any]:
    """The group's part layers (the redraw layer is not one)."""
    return [child for child in group.childNodes() if not is_redraw_layer(child)]


def content_box(group: Any) -> Box:
    """Where the group's layers have pixels: what a change of the group's opacity or visibility redraws."""
    area = Box(0, 0, 0, 0)
    for child in guidance_layers(group):
        area = area.union(written_box(child))
    return area


def write_guidance(document: Any, anchor: Any, layers: list, origin: Box, prepare: Callable[[Any], Any],
                   remove_stale: bool = True) -> tuple[Any, Box]:
    """The guidance group made to show exactly `layers` (update_guidance); returns it and the area to redraw.

    The first time, the group is assembled with its part layers and redraw layers before it joins the
    document, right above `anchor`, in one addition: Krita takes about 0.2 s for that on a 3000 x 2000 canvas,
    against 1.3 s for the same layers added one by one to a group already in the document, the GUI thread
    waiting all along (tests/krita_scenarios/first_update_probe.py). `prepare` sets the new group's looks. It
    is then shown the slow way, once (its redraw layers get their shapes on the next turn), and the area
    returned is empty."""
    group = find_group(document, GUIDANCE_GROUP)
    if group is not None:
        return group, update_guidance(document, group, layers, origin, remove_stale)
    group = document.createGroupLayer(GUIDANCE_GROUP)
    prepare(group)
    update_guidance(document, group, layers, origin)
    for k in range(REDRAW_LAYERS):
        group.addChildNode(document.createVectorLayer(redraw_layer_name(k)), None)
    _add_above(document, group, anchor)
    refresh(document)
    QTimer.singleShot(0, lambda: redraw_shape(document, group))
    return group, Box(0, 0, 0, 0)


def update_guidance(document: Any, group: Any, layers: list, origin: Box, remove_stale: bool = True) -> Box:
    """Make the guidance group show exactly `layers`: reuse same-named layers, add new ones; returns the
    area whose pixels changed (for redraw).

    Layers the reply does not name are removed, or with remove_stale=False only emptied: a part that
    comes and goes between strokes (a hat, the nose) then costs no layer creation and removal (about
    0.1 s each in Krita, and a flicker in the Layers docker).
    """
    existing = {child.name(): child for child in guidance_layers(group)}
    changed = Box(0, 0, 0, 0)
    for layer in layers:
        node = existing.pop(layer.name, None)
        fresh = node is None
        if fresh:
            node = document.createNode(layer.name, "paintlayer")
        changed = changed.union(write_layer(node, layer, origin, replace=True))
        if fresh:  # written before it joins the document (see the module's docstring)
            group.addChildNode(node, None)
    for stale in existing.values():
        changed = changed.union(remove_layer(stale) if remove_stale else clear_layer(stale))
    return changed


def replace_renders(document: Any, layers: list, origin: Box, label: str, anchor: Any, later: int = 0,
                    lap: Callable[[str], None] = lambda stage: None) -> list[Any]:
    """The reply's candidates in a new renders group, assembled before it joins the document in the old one's
    place (place_renders_group); returns one node per candidate, in reply order, then `later` hidden, empty
    candidates to be filled as they arrive (fill_candidate). `lap(stage)` is called after "assemble" and
    "swap" (the caller's timing)."""
    group = document.createGroupLayer(RENDERS_GROUP)
    nodes = add_candidates(document, group, layers, origin, label, later)
    lap("assemble")
    place_renders_group(document, group, anchor)
    lap("swap")
    return nodes


def add_candidates(document: Any, group: Any, layers: list, origin: Box, label: str, later: int = 0) -> list[Any]:
    """Fill `group`, a renders group not yet in the document, with the candidates.

    Layers that name a group (the render contract: "Candidate 1" with Flat colours, Shadows, Highlights,
    Line art, bottom to top) become one group layer per candidate; a layer without a group is a candidate
    by itself. Each layer mixes as its `blend` says (Krita composite op). Only the first candidate stays
    visible: the artist chooses with the thumbnails. `later` more candidates of a progressive reply get an
    empty group each, shaped like the first (every candidate of a render has the same layers), named
    "Candidate k", hidden: their pixels are written when they arrive, without another layer-stack change.
    Returns one node per candidate, in reply order, the empty ones last.

    Everything is assembled out of the document, with `setChildNodes` (no undo entry, where each addChildNode
    is one) and blends taken from duplicated templates (each setBlendingMode is an undo entry, even on a node not
    in the document): a render is then 4 undo steps in all, where it was about 40, and the whole group joins
    in one addition (Krita's GUI thread waits for each layer added to a group already in the document).
    """
    blends = BlendTemplates(document)
    nodes: list[Any] = []
    candidates = _candidates_of(layers)
    for name, members in candidates:
        if name is None:
            node = _result_node(document, blends, members[0], origin, f"{label} {len(nodes) + 1}")
        else:
            node = _candidate_group(document, name, [_result_node(document, blends, member, origin, member.name)
                                                     for member in members])
        node.setVisible(not nodes)
        nodes.append(node)
    shape = candidates[0][1] if candidates and candidates[0][0] is not None else []
    for k in range(len(nodes) + 1, len(nodes) + 1 + (later if shape else 0)):
        node = _candidate_group(document, f"Candidate {k}", [_empty_node(blends, member) for member in shape])
        node.setVisible(False)
        nodes.append(node)
    group.setChildNodes(nodes)
    return nodes


def fill_candidate(document: Any, node: Any, layers: list, origin: Box) -> None:
    """Write a later candidate's layers into its empty group (add_candidates' `later`), matched by name: pixels
    only, so no undo entry and nothing to redraw (it is hidden until chosen). A layer the group lacks (a reply
    that breaks the render contract) is added on top, one undo step."""
    children = {child.name(): child for child in node.childNodes()}
    for layer in layers:
        child = children.get(layer.name)
        if child is None:
            child = _result_node(document, BlendTemplates(document), layer, origin, layer.name)
            node.addChildNode(child, node.childNodes()[-1] if node.childNodes() else None)
        elif child.blendingMode() != (layer.blend or "normal"):
            child.setBlendingMode(layer.blend or "normal")
        write_layer(child, layer, origin)
        paint_backdrop(document, child, layer, origin)


def remove_empty(document: Any, empty: list) -> None:
    """Remove the empty candidates (node ids) a progressive reply did not fill (it ended with an error, or
    short): one undo step each, only then."""
    for uid in empty:
        node = find_node(document, uid)
        if node is not None:
            remove_layer(node)
    empty.clear()


class BlendTemplates:
    """Empty paint layers with a blending mode, one per mode, made on first use and duplicated for each layer
    of that mode: a duplicate keeps the mode without the undo entry a setBlendingMode makes (Krita 5.1)."""

    def __init__(self, document: Any):
        self.document = document
        self._templates: dict[str, Any] = {}

    def layer(self, name: str, blend: Optional[str]) -> Any:
        blend = blend or "normal"
        if blend == "normal":  # a new layer's mode
            node = self.document.createNode(name, "paintlayer")
        else:
            if blend not in self._templates:
                template = self.document.createNode(name, "paintlayer")
                template.setBlendingMode(blend)
                self._templates[blend] = template
            node = self._templates[blend].duplicate()
            node.setName(name)
        return node


def _candidate_group(document: Any, name: str, children: list) -> Any:
    node = document.createGroupLayer(name)
    node.setCollapsed(True)  # one row each in the Layers docker; the artist opens the one to paint on
    node.setChildNodes(children)  # bottom to top, as the reply lists them
    return node


def _candidates_of(layers: list) -> list[tuple[Optional[str], list]]:
    """The reply's layers as candidates, in order: (group name, its layers) or (None, [a lone layer])."""
    candidates: list[tuple[Optional[str], list]] = []
    for layer in layers:
        if layer.group and candidates and candidates[-1][0] == layer.group:
            candidates[-1][1].append(layer)
        else:
            candidates.append((layer.group or None, [layer]))
    return candidates


def _result_node(document: Any, blends: BlendTemplates, layer: Any, origin: Box, name: str) -> Any:
    node = _empty_node(blends, layer, name)
    write_layer(node, layer, origin)
    paint_backdrop(document, node, layer, origin)
    return node


def paint_backdrop(document: Any, node: Any, layer: Any, origin: Box) -> None:
    """A layer that runs on past the request (its `backdrop`, a hinted background: the artist dabbed the canvas's
    background, not the crop's) painted in that colour over the rest of the canvas: up to four strips round
    the layer's place."""
    backdrop = getattr(layer, "backdrop", None)
    if not backdrop:
        return
    place = Box(origin.x + layer.x, origin.y + layer.y, layer.width, layer.height)
    pixel = bytes((backdrop[2], backdrop[1], backdrop[0], 255))  # bgra8
    whole = Box(0, 0, document.width(), document.height())
    for strip in outside(whole, place):
        node.setPixelData(to_node_bytes(pixel * (strip.w * strip.h), node), strip.x, strip.y, strip.w, strip.h)
    _written[node_id(node)] = whole.union(place)


def _empty_node(blends: BlendTemplates, layer: Any, name: Optional[str] = None) -> Any:
    """A paint layer for a reply's layer, not yet in the document: its blending and, where the reply says it comes
    hidden (refined mode's own line art, beside the artist's lines), hidden."""
    node = blends.layer(name or layer.name, getattr(layer, "blend", "normal"))
    if not getattr(layer, "visible", True):
        node.setVisible(False)
    return node


def place_renders_group(document: Any, group: Any, anchor: Any) -> None:
    """Put `group`, a new renders group assembled with its candidates, into the document: in the place of the
    existing one (right above it, with its opacity, blending and folding: the artist's choice stays; the old
    one then goes), else the first time right BELOW the sketch (`anchor`): colour is painted under the artist's lines
    and the guidance, never over them. Under an opaque sketch (the Background layer, a scan) or a bottom layer
    nothing would show, so there the group goes right above the sketch and multiplies, as colourists lay colour
    over scanned line art: paper times colour is the colour, ink stays ink.

    One group in and one out costs Krita's GUI thread about a third of adding each candidate to a group
    already in the document and removing the old ones one by one (tests/krita_scenarios/candidates_probe.py)."""
    old = find_group(document, RENDERS_GROUP)
    group.setCollapsed(old.collapsed() if old is not None else True)
    if old is not None:
        group.setOpacity(old.opacity())
        if old.blendingMode() != group.blendingMode():  # an undo entry each time: only when it changes
            group.setBlendingMode(old.blendingMode())
        _add_above(document, group, old)
        old.remove()
        return
    below = _layer_below(anchor) if _placed(anchor) else None
    if below is not None and paper_of(document, anchor) is None:
        _add_above(document, group, below)  # right beneath the sketch
        return
    if _placed(anchor):
        group.setBlendingMode("multiply")
    _add_above(document, group, anchor)


def _layer_below(node: Any) -> Optional[Any]:
    siblings = node.parentNode().childNodes()  # bottom to top
    index = next((i for i, sibling in enumerate(siblings) if node_id(sibling) == node_id(node)), 0)
    return siblings[index - 1] if index > 0 else None


def choose(group: Any, chosen: Any) -> None:
    for node in group.childNodes():
        set_visible(node, node_id(node) == node_id(chosen))


def keep(document: Any, group: Any, chosen: Any) -> Any:
    """Turn the chosen candidate into an ordinary layer above the renders group; the other candidates go."""
    kept = chosen.duplicate()
    kept.setName(f"{KEPT_PREFIX} {chosen.name()}")
    kept.setVisible(True)  # a new node: adding it makes Krita draw it
    parent = group.parentNode() or document.rootNode()
    parent.addChildNode(kept, group)
    group.remove()
    return kept


def set_visible(node: Any, visible: bool) -> bool:
    """Returns whether anything changed (the caller refreshes once for all its changes)."""
    if node.visible() == visible:
        return False
    node.setVisible(visible)
    return True


def set_opacity(node: Any, opacity: int) -> bool:
    if node.opacity() == opacity:
        return False
    node.setOpacity(opacity)
    return True
