"""Render, generate and photo, without the controller: what each request carries and where its reply goes.

The controller's handlers stay thin (pick the layers, send, book the flight); these functions build the
request from named inputs and put the reply's layers on the canvas.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

from . import canvas, protocol
from .canvas import CanvasError
from .qt import QImage, QPainter, Qt
from .region import MAX_SIDE, Box, photo_square
from .state import attribute_request

PHOTO_MAX_SIDE = MAX_SIDE  # a larger photo region is shrunk to this for the request, its results scaled back


@dataclass(frozen=True)
class Candidate:
    node_id: str
    name: str
    thumbnail: QImage


# ---------------------------------------------------------------------------------------------- render

def render_request(crop: Box, sketch_bgra: bytes, hints_bgra: Optional[bytes], count: int, mode: str,
                   style_seed: int, state: Optional[str]) -> tuple[dict[str, Any], list[protocol.Image]]:
    """A render's params and images: the sketch crop, and the hints read through the same crop."""
    images = [protocol.Image("sketch", "bgra8", crop.w, crop.h, sketch_bgra)]
    if hints_bgra is not None:
        images.append(protocol.Image("hints", "bgra8", crop.w, crop.h, hints_bgra))
    # progressive: candidate 1 comes (and is shown) while the backend still paints the others
    params: dict[str, Any] = {"n": int(count), "mode": mode, "style_seed": int(style_seed),
                              "layer_format": "bgra8", "origin": [crop.x, crop.y], "progressive": True}
    if state:
        params["state"] = state
    return params, images


def place_candidates(document: Any, layers: list[protocol.Layer], origin: Box, anchor: Any,
                     label: str, later: int = 0, figures: Optional[dict] = None) -> tuple[list[Candidate], list[str]]:
    """The reply's colour layers as candidates in a new renders group, which takes the old one's place, or the
    first time goes BENEATH the sketch (`anchor`): a render is painted under the artist's lines and never hides
    the guidance group above them. Returns the candidates placed and the node ids of `later` empty, hidden
    candidates that a progressive reply's next parts fill (fill_candidates), in order. `figures` gets the GUI
    thread's ms: "assemble" (the layers made, out of the document), "swap" (the group in, the old one out),
    "refresh" (Krita's recomposite), "thumbnails"."""
    layers = [layer for layer in layers if layer.group not in protocol.GROUPS]
    if not layers:
        return [], []
    clock = _Stopwatch(figures)
    nodes = canvas.replace_renders(document, layers, origin, label, anchor, later, clock.lap)
    canvas.refresh(document)  # the first candidate shows now (the GUI thread waits for Krita's recomposite)
    clock.lap("refresh")
    stacks = candidate_stacks(layers)
    placed = [Candidate(canvas.node_id(node), node.name(), stack_thumbnail(stack)) for node, stack in zip(nodes, stacks)]
    clock.lap("thumbnails")
    return placed, [canvas.node_id(node) for node in nodes[len(stacks):]]


class _Stopwatch:
    """Laps of the GUI thread's time into a dict (ms), when one is given."""

    def __init__(self, figures: Optional[dict]):
        self.figures, self.last = figures, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.figures is not None:
            self.figures[name] = round((now - self.last) * 1e3, 1)
        self.last = now


def fill_candidates(document: Any, layers: list[protocol.Layer], origin: Box, empty: list[str]) -> list[Candidate]:
    """A progressive reply's later part: each candidate's layers written into the next empty candidate (`empty`,
    node ids in order; those used are taken off it). Hidden, so nothing is redrawn. Returns the candidates filled;
    one whose group the artist has since deleted (or undone) is skipped."""
    filled = []
    for stack in candidate_stacks(layers):
        node = canvas.find_node(document, empty.pop(0)) if empty else None
        if node is None:
            continue
        canvas.fill_candidate(document, node, stack, origin)
        filled.append(Candidate(canvas.node_id(node), node.name(), stack_thumbnail(stack)))
    return filled


def candidate_stacks(layers: list[protocol.Layer]) -> list[list[protocol.Layer]]:
    """The reply's layers per candidate, in reply order: a named group's layers together, a layer without a group
    alone (as canvas.replace_renders makes them)."""
    stacks: list[list[protocol.Layer]] = []
    index: dict[str, int] = {}
    for layer in layers:
        if layer.group and layer.group in index:
            stacks[index[layer.group]].append(layer)
            continue
        if layer.group:
            index[layer.group] = len(stacks)
        stacks.append([layer])
    return stacks


# ---------------------------------------------------------------------------------------------- generate

def generate_params(choices: dict[str, str], seed: int) -> dict[str, Any]:
    return {"attributes": attribute_request(choices), "noise": int(seed), "layer_format": "bgra8"}


def generation_square(document: Any, region: Optional[Box]) -> Box:
    """Where a generated portrait goes: the guidance crop, else the largest centred square."""
    if region is not None:
        return region
    side = min(document.width(), document.height())
    return Box((document.width() - side) // 2, (document.height() - side) // 2, side, side)


# ---------------------------------------------------------------------------------------------- photo

def photo_request(document: Any, photo: Any, count: int) -> tuple[Box, protocol.Image, dict[str, Any]]:
    """The photo's square (the selection's, else the layer's content), its image and the params."""
    area = canvas.selection_box(document) or canvas.layer_bounds(document, photo)
    if area.empty:
        raise CanvasError(f"'{photo.name()}' is empty here: put a photo on it, or select the face.")
    square = photo_square(area, document.width(), document.height())
    image = photo_image(canvas.read_bgra8(photo, square), square.w, PHOTO_MAX_SIDE)
    return square, image, {"n": int(count), "layer_format": "bgra8"}


def photo_image(bgra: Any, side: int, max_side: int) -> protocol.Image:
    """The photo crop as the request's image, shrunk to `max_side` when larger (the protocol's limit)."""
    if side <= max_side:
        return protocol.Image("photo", "bgra8", side, side, bgra)
    image = QImage(bytes(bgra), side, side, side * 4, QImage.Format.Format_ARGB32)
    small = image.scaled(max_side, max_side, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_ARGB32)
    bits = small.constBits()
    if bits is None:
        raise CanvasError(f"could not shrink the photo to {max_side} px (out of memory?)")
    return protocol.Image("photo", "bgra8", max_side, max_side, bits.asstring(small.sizeInBytes()),
                          stride=small.bytesPerLine())


# ---------------------------------------------------------------------------------------------- layers

# Krita's composite ops as Qt's: a candidate's thumbnail mixes its layers as Krita will
QT_MODES = {"normal": "CompositionMode_SourceOver", "multiply": "CompositionMode_Multiply",
            "screen": "CompositionMode_Screen", "add": "CompositionMode_Plus", "overlay": "CompositionMode_Overlay"}


def stack_thumbnail(stack: list[protocol.Layer], size: int = 96) -> QImage:
    """A candidate's thumbnail: its layers, bottom to top, each mixed as its blend field says, as Krita first shows
    them (a layer that comes hidden is left out)."""
    stack = [layer for layer in stack if getattr(layer, "visible", True)] or stack
    if len(stack) == 1:
        return thumbnail(stack[0], size)
    right = max(layer.x + layer.width for layer in stack)
    bottom = max(layer.y + layer.height for layer in stack)
    left, top = min(layer.x for layer in stack), min(layer.y for layer in stack)
    image = QImage(right - left, bottom - top, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    for layer in stack:
        mode = QT_MODES.get(getattr(layer, "blend", "normal") or "normal", QT_MODES["normal"])
        painter.setCompositionMode(getattr(QPainter.CompositionMode, mode))
        painter.drawImage(layer.x - left, layer.y - top, QImage(bytes(layer.data), layer.width, layer.height,
                                                                layer.stride, QImage.Format.Format_ARGB32))
    painter.end()
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).copy()


def thumbnail(layer: protocol.Layer, size: int = 96) -> QImage:
    """A thumbnail straight from the reply's bytes: bgra8 is QImage's ARGB32 on little-endian machines."""
    image = QImage(bytes(layer.data), layer.width, layer.height, layer.stride, QImage.Format.Format_ARGB32)
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).copy()


def fit_to_square(layers: list[protocol.Layer], size: Any, side: int) -> list[protocol.Layer]:
    """Scale layers drawn on a `size`-px square (a generation) onto our `side`-px square."""
    extent = size if isinstance(size, int) and size > 0 else max(
        [max(layer.x + layer.width, layer.y + layer.height) for layer in layers] or [side])
    if extent == side:
        return list(layers)
    return [scale_layer(layer, side / extent) for layer in layers]


def scale_layer(layer: protocol.Layer, factor: float) -> protocol.Layer:
    """One reply layer scaled by `factor` (smoothly), its place with it."""
    width, height = max(1, round(layer.width * factor)), max(1, round(layer.height * factor))
    image = QImage(bytes(layer.data), layer.width, layer.height, layer.stride, QImage.Format.Format_ARGB32)
    scaled = image.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                          Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_ARGB32)
    bits = scaled.constBits()
    if bits is None:
        raise CanvasError(f"could not scale '{layer.name}' to {width}x{height} px (out of memory?)")
    return protocol.Layer(name=layer.name, format="bgra8", width=width, height=height,
                          data=bits.asstring(scaled.sizeInBytes()), stride=scaled.bytesPerLine(),
                          group=layer.group, x=round(layer.x * factor), y=round(layer.y * factor),
                          blend=layer.blend, visible=layer.visible, backdrop=layer.backdrop)
