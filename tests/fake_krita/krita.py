"""A stand-in for the part of Krita 5.1's `krita` module (libkis) that the AniSketch plugin uses.

Fast unit tests import this instead of the real module (tests/test_plugin_*.py put this folder first on
sys.path). It keeps real pixel buffers and a real layer tree so that the plugin's canvas code is exercised,
not mocked. Where Krita 5.1.5 behaves surprisingly, this does the same (checked against the real module
with kritarunner; see docs/plugin.md):

- pixel bytes of an RGBA/U8 layer are B,G,R,A; RGBA/U16 is B,G,R,A of little-endian uint16;
- paint devices are unbounded: pixels outside the image can be written and read back;
- `pixelData`/`projectionPixelData` return copies (QByteArray); reading where nothing was painted gives zeros;
- `setPixelData` with too few bytes prints a warning and writes nothing, and does nothing on group layers;
  it makes no undo entry;
- `Node.bounds()` is the exact extent of non-transparent pixels (an empty QRect for an empty layer);
- `addChildNode(child, None)` puts the child on top; `addChildNode(child, above)` right above `above`;
- adding to a locked group works (locks stop the artist, not the API);
- a node added with addChildNode becomes the document's active node, on the next turn of the event loop
  (Krita's layer manager does that through a queued signal);
- `createDocument` adds an opaque white "Background" layer; `Document.pixelData` is the composite.
- a vector layer has no paint device (setPixelData does nothing, pixelData reads zeros); its shapes come
  from `addShapesFromSvg` (one per drawing element here); `Shape.updateAbsolute(QRectF)` takes points
  (1/72 inch) and makes Krita recomposite that rect later, in its own threads.

Not in Krita, for the tests to observe: `Document.refresh_count` counts the recomposites asked for
(refreshProjection calls and shape updates), `Document.dirty_rects` the image rects (pixels) of the shape
updates, `Document.marks` the same with their layer's name and time, `Document.undo_entries` the undo history's
entries as Krita 5.1.5 records them (checked in the real Krita: addChildNode, remove and setBlendingMode are
undoable commands, also on a node not in the document yet; setChildNodes, duplicate, setPixelData and the other
property setters are not), and `Document.stroke_running` pretends the artist is mid-stroke.

Signatures follow the real bindings (positional ints, `str` for names); only the subset is implemented.

Why one file of this size: it stands in for Krita's single `krita` module, which the plugin imports exactly
as it imports the real one.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Iterable

try:  # Krita's module re-exports PyQt; the tests run with PyQt5 (PyQt6 works too)
    from PyQt5.QtCore import QByteArray, QObject, QPoint, QRect, QRectF, QTimer, QUuid, Qt, pyqtSignal
    from PyQt5.QtGui import QImage
    from PyQt5.QtWidgets import QAction, QDockWidget, QMainWindow
except ImportError:  # pragma: no cover - PyQt6 environments
    from PyQt6.QtCore import QByteArray, QObject, QPoint, QRect, QRectF, QTimer, QUuid, Qt, pyqtSignal  # type: ignore
    from PyQt6.QtGui import QAction, QImage  # type: ignore
    from PyQt6.QtWidgets import QDockWidget, QMainWindow  # type: ignore

TILE = 64

_PIXEL_SIZE = {("RGBA", "U8"): 4, ("RGBA", "U16"): 8, ("RGBA", "F16"): 8, ("RGBA", "F32"): 16,
               ("GRAYA", "U8"): 2, ("GRAYA", "U16"): 4, ("CMYKA", "U8"): 5}


# --------------------------------------------------------------------------------------------- pixels


class _TiledDevice:
    """An unbounded pixel store in TILE x TILE tiles, like Krita's KisPaintDevice (minus everything else)."""

    def __init__(self, pixel_size: int):
        self.pixel_size = pixel_size
        self.tiles: dict[tuple[int, int], bytearray] = {}

    def write(self, data: bytes, x: int, y: int, w: int, h: int) -> None:
        ps, row_bytes = self.pixel_size, w * self.pixel_size
        view = memoryview(bytes(data))
        for ty in range(y // TILE, (y + h - 1) // TILE + 1):
            for tx in range(x // TILE, (x + w - 1) // TILE + 1):
                x0, x1 = max(x, tx * TILE), min(x + w, (tx + 1) * TILE)
                y0, y1 = max(y, ty * TILE), min(y + h, (ty + 1) * TILE)
                tile = self.tiles.get((tx, ty))
                if tile is None:
                    tile = self.tiles[(tx, ty)] = bytearray(TILE * TILE * ps)
                for row in range(y0, y1):
                    src = (row - y) * row_bytes + (x0 - x) * ps
                    dst = ((row - ty * TILE) * TILE + (x0 - tx * TILE)) * ps
                    tile[dst:dst + (x1 - x0) * ps] = view[src:src + (x1 - x0) * ps]

    def read(self, x: int, y: int, w: int, h: int) -> bytearray:
        ps, row_bytes = self.pixel_size, w * self.pixel_size
        out = bytearray(w * h * ps)
        for (tx, ty), tile in self.tiles.items():
            x0, x1 = max(x, tx * TILE), min(x + w, (tx + 1) * TILE)
            y0, y1 = max(y, ty * TILE), min(y + h, (ty + 1) * TILE)
            if x0 >= x1 or y0 >= y1:
                continue
            for row in range(y0, y1):
                src = ((row - ty * TILE) * TILE + (x0 - tx * TILE)) * ps
                dst = (row - y) * row_bytes + (x0 - x) * ps
                out[dst:dst + (x1 - x0) * ps] = tile[src:src + (x1 - x0) * ps]
        return out

    def exact_bounds(self, alpha_offset: int, alpha_size: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) of pixels whose alpha is not zero, or None."""
        ps, box = self.pixel_size, None
        zero = bytes(alpha_size)
        for (tx, ty), tile in self.tiles.items():
            for row in range(TILE):
                line = tile[row * TILE * ps:(row + 1) * TILE * ps]
                xs = [i for i in range(TILE) if line[i * ps + alpha_offset:i * ps + alpha_offset + alpha_size] != zero]
                if xs:
                    px0, px1, py = tx * TILE + xs[0], tx * TILE + xs[-1] + 1, ty * TILE + row
                    box = (px0, py, px1, py + 1) if box is None else (
                        min(box[0], px0), min(box[1], py), max(box[2], px1), max(box[3], py + 1))
        return box


def _alpha_layout(model: str, depth: str) -> tuple[int, int]:
    ps = _PIXEL_SIZE[(model, depth)]
    channel = {"U8": 1, "U16": 2, "F16": 2, "F32": 4}[depth]
    return ps - channel, channel


# --------------------------------------------------------------------------------------------- nodes


class _NodeState:
    """What a node is; `Node` objects are handles to it, a new one per call, as Krita's wrappers are."""

    def __init__(self, document: "Document", name: str, node_type: str):
        self.document, self.name, self.type = document, name, node_type
        self.children: list[_NodeState] = []
        self.parent: _NodeState | None = None
        self.opacity, self.visible, self.locked, self.pass_through = 255, True, False, False
        self.collapsed = False
        self.blending_mode = "normal"
        self.uuid = QUuid(str(uuid.uuid4()))
        self.model, self.depth = document.colorModel(), document.colorDepth()
        self.device = _TiledDevice(_PIXEL_SIZE[(self.model, self.depth)])
        self.shapes: list[_ShapeState] = []  # vector layers only


def _handle(state: "_NodeState | None") -> "Node | None":
    if state is None:
        return None
    if state.type == "grouplayer":
        return GroupLayer(state=state)
    return VectorLayer(state=state) if state.type == "vectorlayer" else Node(state=state)


class Node(QObject):
    """Like libkis: each call that returns a node returns a NEW wrapper; compare nodes with ==, never `is`."""

    def __init__(self, document: "Document | None" = None, name: str = "", node_type: str = "paintlayer", *,
                 state: _NodeState | None = None):
        super().__init__()
        self._s = state if state is not None else _NodeState(document, name, node_type)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other._s is self._s

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return id(self._s)

    # identity and tree
    def name(self) -> str:
        return self._s.name

    def setName(self, name: str) -> None:
        self._s.name = name

    def type(self) -> str:
        return self._s.type

    def uniqueId(self) -> QUuid:
        return self._s.uuid

    def childNodes(self) -> list["Node"]:
        return [_handle(child) for child in self._s.children]  # type: ignore[misc]

    def parentNode(self) -> "Node | None":
        return _handle(self._s.parent)

    def addChildNode(self, child: "Node", above: "Node | None") -> bool:
        self._s.document.undo_entries.append("Add Layer")
        self._insert(child, above)
        # Like Krita: a layer added through the API becomes the active one, a moment later (queued signal).
        it = child._s
        QTimer.singleShot(0, lambda: setattr(it.document, "_active", it))
        return True

    def _insert(self, child: "Node", above: "Node | None") -> bool:
        me, it = self._s, child._s
        if it.parent is not None:
            it.parent.children.remove(it)
        siblings = me.children
        index = len(siblings) if above is None or above._s not in siblings else siblings.index(above._s) + 1
        siblings.insert(index, it)
        it.parent = me
        return True

    def removeChildNode(self, child: "Node") -> bool:
        if child._s not in self._s.children:
            return False
        self._s.children.remove(child._s)
        child._s.parent = None
        return True

    def remove(self) -> bool:
        parent = self.parentNode()
        if parent is None:
            return False
        self._s.document.undo_entries.append("Remove Layer")
        return parent.removeChildNode(self)

    def setChildNodes(self, nodes: Iterable["Node"]) -> None:
        """Krita 5.1.5 adds them straight to the image's node graph: no undo entry, no activation."""
        for child in self.childNodes():
            self.removeChildNode(child)
        for node in nodes:
            self._insert(node, None)

    def duplicate(self) -> "Node":
        copy = self._s.document.createNode(self._s.name, self._s.type)
        copy._s.device.tiles = {k: bytearray(v) for k, v in self._s.device.tiles.items()}
        copy._s.opacity, copy._s.visible = self._s.opacity, self._s.visible
        copy._s.blending_mode, copy._s.collapsed = self._s.blending_mode, self._s.collapsed
        for child in self.childNodes():
            copy._insert(child.duplicate(), None)
        return copy

    # properties
    def opacity(self) -> int:
        return self._s.opacity

    def setOpacity(self, value: int) -> None:
        self._s.opacity = max(0, min(255, int(value)))

    def visible(self) -> bool:
        return self._s.visible

    def setVisible(self, visible: bool) -> None:
        self._s.visible = bool(visible)

    def locked(self) -> bool:
        return self._s.locked

    def setLocked(self, value: bool) -> None:
        self._s.locked = bool(value)

    def collapsed(self) -> bool:
        return self._s.collapsed

    def setCollapsed(self, value: bool) -> None:
        self._s.collapsed = bool(value)

    def blendingMode(self) -> str:
        return self._s.blending_mode

    def setBlendingMode(self, value: str) -> None:
        """In Krita 5.1 this is an undoable command (an undo entry, even for the same mode)."""
        self._s.document.undo_entries.append("Composition Mode Change")
        self._s.blending_mode = value

    def colorModel(self) -> str:
        return self._s.model

    def colorDepth(self) -> str:
        return self._s.depth

    def colorProfile(self) -> str:
        return self._s.document.colorProfile()

    def position(self) -> QPoint:
        return QPoint(0, 0)

    # pixels
    def bounds(self) -> QRect:
        if self._s.type == "grouplayer":
            box = QRect()
            for child in self.childNodes():
                box = box.united(child.bounds())
            return box
        offset, size = _alpha_layout(self._s.model, self._s.depth)
        found = self._s.device.exact_bounds(offset, size)
        return QRect() if found is None else QRect(found[0], found[1], found[2] - found[0], found[3] - found[1])

    def pixelData(self, x: int, y: int, w: int, h: int) -> QByteArray:
        return QByteArray(bytes(self._s.device.read(x, y, w, h)))

    def projectionPixelData(self, x: int, y: int, w: int, h: int) -> QByteArray:
        if self._s.type != "grouplayer":
            return self.pixelData(x, y, w, h)
        return QByteArray(bytes(_composite(self.childNodes(), x, y, w, h)))

    def setPixelData(self, value: Any, x: int, y: int, w: int, h: int) -> None:
        if self._s.type in ("grouplayer", "vectorlayer"):  # no paint device of their own
            return
        data = bytes(value)
        if len(data) < w * h * self._s.device.pixel_size:
            print("Node::setPixelData: not enough data to write to the paint device")
            return
        self._s.device.write(data, x, y, w, h)

    def thumbnail(self, w: int, h: int) -> QImage:
        """The layer within the image bounds, scaled to fit w x h (RGBA/U8 layers). Point-sampled, like
        Krita's (KisPaintDevice::createThumbnailDevice copies one source pixel per thumbnail pixel): a small
        stroke between the sampled pixels leaves it unchanged. (Krita's maps the layer's tile extent, not the
        image, onto w x h: checked with kritarunner; the plugin only compares thumbnails' CRCs.)"""
        width, height = self._s.document.width(), self._s.document.height()
        data = bytes(self.projectionPixelData(0, 0, width, height))
        image = QImage(data, width, height, width * 4, QImage.Format.Format_ARGB32)
        return image.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)

    def __repr__(self) -> str:
        return f"<fake Node {self._s.type} {self._s.name!r}>"


class GroupLayer(Node):
    def __init__(self, document: "Document | None" = None, name: str = "", *, state: _NodeState | None = None):
        super().__init__(document, name, "grouplayer", state=state)

    def passThroughMode(self) -> bool:
        return self._s.pass_through

    def setPassThroughMode(self, value: bool) -> None:
        self._s.pass_through = bool(value)


class _ShapeState:
    def __init__(self, layer: _NodeState, kind: str):
        self.layer, self.kind, self.name, self.visible = layer, kind, "", True


class Shape(QObject):
    """A handle to one shape of a vector layer (a new one per call, like Krita's)."""

    def __init__(self, state: _ShapeState):
        super().__init__()
        self._s = state

    def name(self) -> str:
        return self._s.name

    def type(self) -> str:
        return self._s.kind

    def visible(self) -> bool:
        return self._s.visible

    def updateAbsolute(self, box: QRectF) -> None:
        """Krita repaints the shape layer in `box` (points) and recomposites that rect, later, in its worker
        threads; the fake's composite is always current, so only the request is recorded."""
        document = self._s.layer.document
        to_x, to_y = document.xRes() / 72.0, document.yRes() / 72.0
        document.refresh_count += 1
        rect = QRectF(box.x() * to_x, box.y() * to_y, box.width() * to_x, box.height() * to_y).toAlignedRect()
        document.dirty_rects.append(rect)
        document.marks.append((self._s.layer.name, rect, time.monotonic()))


class VectorLayer(Node):
    def __init__(self, document: "Document | None" = None, name: str = "", *, state: _NodeState | None = None):
        super().__init__(document, name, "vectorlayer", state=state)

    def shapes(self) -> list[Shape]:
        return [Shape(shape) for shape in self._s.shapes]

    def addShapesFromSvg(self, svg: str) -> list[Shape]:
        """An undoable command in Krita. Here: one path shape per rect/path/circle/ellipse element."""
        import re

        added = [_ShapeState(self._s, "KoPathShape") for _ in re.findall(r"<(?:rect|path|circle|ellipse)\b", svg)]
        self._s.shapes += added
        return [Shape(shape) for shape in added]


def _composite(nodes: list[Node], x: int, y: int, w: int, h: int) -> bytearray:
    """Source-over of visible RGBA/U8 layers, bottom to top (enough for 'what does the artist see')."""
    out = bytearray(w * h * 4)
    for node in nodes:
        if not node.visible() or node.colorDepth() != "U8":
            continue
        src = bytes(node.projectionPixelData(x, y, w, h))
        k = node.opacity() / 255.0
        for i in range(0, len(out), 4):
            a = src[i + 3] * k / 255.0
            if a <= 0:
                continue
            da = out[i + 3] / 255.0
            oa = a + da * (1 - a)
            for c in range(3):
                out[i + c] = round((src[i + c] * a + out[i + c] * da * (1 - a)) / oa)
            out[i + 3] = round(oa * 255)
    return out


# --------------------------------------------------------------------------------------------- selection


class Selection(QObject):
    """A pixel selection (one byte per pixel, 255 = selected)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._device = _TiledDevice(1)

    def select(self, x: int, y: int, w: int, h: int, value: int) -> None:
        self._device.write(bytes([value]) * (w * h), x, y, w, h)

    def clear(self) -> None:
        self._device = _TiledDevice(1)

    def _box(self) -> tuple[int, int, int, int]:
        box = self._device.exact_bounds(0, 1)
        return (0, 0, 0, 0) if box is None else (box[0], box[1], box[2] - box[0], box[3] - box[1])

    def x(self) -> int:
        return self._box()[0]

    def y(self) -> int:
        return self._box()[1]

    def width(self) -> int:
        return self._box()[2]

    def height(self) -> int:
        return self._box()[3]

    def pixelData(self, x: int, y: int, w: int, h: int) -> QByteArray:
        return QByteArray(bytes(self._device.read(x, y, w, h)))

    def setPixelData(self, value: Any, x: int, y: int, w: int, h: int) -> None:
        self._device.write(bytes(value), x, y, w, h)

    def duplicate(self) -> "Selection":
        copy = Selection()
        copy._device.tiles = {k: bytearray(v) for k, v in self._device.tiles.items()}
        return copy


# --------------------------------------------------------------------------------------------- document


class Document(QObject):
    """Like libkis, each call returning a document returns a NEW wrapper (sharing its state): compare with ==."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and other.__dict__ is self.__dict__

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return id(self.__dict__)

    def _wrapper(self) -> "Document":
        wrapper = Document.__new__(Document)
        QObject.__init__(wrapper)
        wrapper.__dict__ = self.__dict__
        return wrapper

    def __init__(self, width: int, height: int, name: str, model: str, depth: str, profile: str, resolution: float):
        super().__init__()
        self._width, self._height, self._name = width, height, name
        self._model, self._depth, self._profile = model, depth, profile or "sRGB-elle-V2-srgbtrc.icc"
        self._resolution = resolution
        self._root = GroupLayer(self, "root")._s
        self._active: _NodeState | None = None
        self._selection: Selection | None = None
        self._modified = False
        self._locked = False
        self.stroke_running = False  # not in Krita: lets a test pretend the artist is mid-stroke
        self.refresh_count = 0  # not in Krita: recomposites asked for (refreshProjection, shape updates)
        self.dirty_rects: list[QRect] = []  # not in Krita: image rects that shape updates marked dirty
        self.marks: list[tuple] = []  # not in Krita: (vector layer's name, rect, monotonic time) per shape update
        self.undo_entries: list[str] = []  # not in Krita's API: the History docker's entries, oldest first

    def width(self) -> int:
        return self._width

    def height(self) -> int:
        return self._height

    def bounds(self) -> QRect:
        return QRect(0, 0, self._width, self._height)

    def name(self) -> str:
        return self._name

    def colorModel(self) -> str:
        return self._model

    def colorDepth(self) -> str:
        return self._depth

    def colorProfile(self) -> str:
        return self._profile

    def rootNode(self) -> Node:
        return _handle(self._root)  # type: ignore[return-value]

    def topLevelNodes(self) -> list[Node]:
        return self.rootNode().childNodes()

    def createNode(self, name: str, node_type: str) -> Node:
        if node_type == "grouplayer":
            return GroupLayer(self, name)
        if node_type == "vectorlayer":
            return VectorLayer(self, name)
        return Node(self, name, node_type)

    def createGroupLayer(self, name: str) -> GroupLayer:
        return GroupLayer(self, name)

    def createVectorLayer(self, name: str) -> VectorLayer:
        return VectorLayer(self, name)

    def xRes(self) -> float:
        return float(self._resolution)

    def yRes(self) -> float:
        return float(self._resolution)

    def nodeByName(self, name: str) -> Node | None:
        def walk(node: Node) -> Node | None:
            for child in node.childNodes():
                if child.name() == name:
                    return child
                found = walk(child)
                if found is not None:
                    return found
            return None
        return walk(self.rootNode())

    def activeNode(self) -> Node | None:
        return _handle(self._active)

    def setActiveNode(self, node: Node) -> None:
        self._active = node._s

    def selection(self) -> Selection | None:
        return self._selection.duplicate() if self._selection is not None else None

    def setSelection(self, selection: Selection) -> None:
        self._selection = selection.duplicate()

    def pixelData(self, x: int, y: int, w: int, h: int) -> QByteArray:
        return self.rootNode().projectionPixelData(x, y, w, h)

    def refreshProjection(self) -> None:
        self.refresh_count += 1

    def waitForDone(self) -> None:
        pass

    def tryBarrierLock(self) -> bool:
        """False while a stroke runs (tests set `stroke_running`), like Krita's update scheduler."""
        if self.stroke_running or self._locked:
            return False
        self._locked = True
        return True

    def lock(self) -> None:
        self._locked = True

    def unlock(self) -> None:
        self._locked = False

    def modified(self) -> bool:
        return self._modified

    def setModified(self, modified: bool) -> None:
        self._modified = bool(modified)

    def close(self) -> bool:
        Krita.instance()._documents = [d for d in Krita.instance()._documents if d != self]
        return True


# --------------------------------------------------------------------------------------------- application


class Notifier(QObject):
    windowCreated = pyqtSignal()
    imageCreated = pyqtSignal(Document)
    imageClosed = pyqtSignal(str)
    applicationClosing = pyqtSignal()


class Canvas(QObject):
    def __init__(self, view: "View | None"):
        super().__init__()
        self._view = view

    def view(self) -> "View | None":
        return self._view


class View(QObject):
    def __init__(self, window: "Window", document: Document):
        super().__init__()
        self._window, self._document = window, document

    def document(self) -> Document:
        return self._document._wrapper()

    def window(self) -> "Window":
        return self._window

    def canvas(self) -> Canvas:
        return Canvas(self)


class Window(QObject):
    def __init__(self) -> None:
        super().__init__()
        self._qwindow = QMainWindow()
        self._views: list[View] = []
        self.actions: dict[str, QAction] = {}

    def qwindow(self) -> QMainWindow:
        return self._qwindow

    def views(self) -> list[View]:
        return list(self._views)

    def activeView(self) -> View | None:
        return self._views[-1] if self._views else None

    def addView(self, document: Document) -> View:
        view = View(self, document)
        self._views.append(view)
        Krita.instance()._active_document = document
        return view

    def createAction(self, id: str, text: str = "", menuLocation: str = "") -> QAction:
        action = QAction(text, self._qwindow)
        action.setObjectName(id)
        self.actions[id] = action
        Krita.instance()._actions[id] = action
        return action


class Extension(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)

    def setup(self) -> None:
        pass

    def createActions(self, window: Window) -> None:
        pass


class DockWidget(QDockWidget):
    def __init__(self) -> None:
        super().__init__()
        self._canvas: Canvas | None = None

    def canvas(self) -> Canvas | None:
        return self._canvas

    def canvasChanged(self, canvas: Canvas) -> None:
        pass


class DockWidgetFactoryBase:
    DockRight, DockLeft, DockTop, DockBottom, DockTornOff, DockMinimized = range(6)

    def __init__(self, id: str, position: int):
        self._id, self._position = id, position

    def id(self) -> str:
        return self._id


class DockWidgetFactory(DockWidgetFactoryBase):
    def __init__(self, id: str, position: int, klass: type):
        super().__init__(id, position)
        self._klass = klass

    def createDockWidget(self) -> QDockWidget:
        dock = self._klass()
        dock.setObjectName(self._id)
        return dock


class Krita(QObject):
    _instance: "Krita | None" = None

    def __init__(self) -> None:
        super().__init__()
        self._documents: list[Document] = []
        self._active_document: Document | None = None
        self._windows: list[Window] = []
        self._extensions: list[Extension] = []
        self._dock_factories: list[DockWidgetFactoryBase] = []
        self._dockers: list[QDockWidget] = []
        self._settings: dict[tuple[str, str], str] = {}
        self._actions: dict[str, QAction] = {}
        self._notifier = Notifier()

    @staticmethod
    def instance() -> "Krita":
        if Krita._instance is None:
            Krita._instance = Krita()
        return Krita._instance

    @staticmethod
    def reset_for_tests() -> "Krita":
        """Not in the real API: a fresh application for each test."""
        Krita._instance = Krita()
        return Krita._instance

    def version(self) -> str:
        return "5.1.5 (fake)"

    def createDocument(self, width: int, height: int, name: str, colorModel: str, colorDepth: str,
                       profile: str, resolution: float) -> Document:
        document = Document(width, height, name, colorModel, colorDepth, profile, resolution)
        background = document.createNode("Background", "paintlayer")
        if (colorModel, colorDepth) == ("RGBA", "U8"):
            background.setPixelData(b"\xff\xff\xff\xff" * (width * height), 0, 0, width, height)
        document.rootNode()._insert(background, None)  # made with the document: no undo entry
        document.setActiveNode(background)
        self._documents.append(document)
        return document

    def documents(self) -> list[Document]:
        return [document._wrapper() for document in self._documents]

    def activeDocument(self) -> Document | None:
        return self._active_document._wrapper() if self._active_document is not None else None

    def setActiveDocument(self, document: Document) -> None:
        self._active_document = document

    def openWindow(self) -> Window:
        window = Window()
        self._windows.append(window)
        for extension in self._extensions:
            extension.createActions(window)
        return window

    def windows(self) -> list[Window]:
        return list(self._windows)

    def activeWindow(self) -> Window | None:
        return self._windows[-1] if self._windows else None

    def addExtension(self, extension: Extension) -> None:
        self._extensions.append(extension)
        extension.setup()

    def extensions(self) -> list[Extension]:
        return list(self._extensions)

    def addDockWidgetFactory(self, factory: DockWidgetFactoryBase) -> None:
        self._dock_factories.append(factory)

    def dockers(self) -> list[QDockWidget]:
        """Creates the registered dockers on first call (Krita creates them with the main window)."""
        for factory in self._dock_factories[len(self._dockers):]:
            self._dockers.append(factory.createDockWidget())  # type: ignore[attr-defined]
        return list(self._dockers)

    def action(self, name: str) -> QAction | None:
        return self._actions.get(name)

    def actions(self) -> list[QAction]:
        return list(self._actions.values())

    def notifier(self) -> Notifier:
        return self._notifier

    def readSetting(self, group: str, name: str, defaultValue: str) -> str:
        return self._settings.get((group, name), defaultValue)

    def writeSetting(self, group: str, name: str, value: str) -> None:
        self._settings[(group, name)] = str(value)
