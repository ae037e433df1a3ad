"""Stroke ends from the artist's input: the pen (stylus or mouse) lifted off the canvas, undo or redo.

Krita 5 has no per-stroke signal, so the controller polls a cheap fingerprint of the sketch layer: Krita's
cached 64 px thumbnail. That thumbnail is point-sampled (one pixel in 32 on a 2048 px layer), so a small
stroke can leave it unchanged; asking Krita for the layer's exact bounds as well would see it, but Krita
recomputes them after every stroke (20-75 ms of GUI thread on a 2048 px sketch). Instead, a release on the
canvas widget or an undo/redo tells the controller "a stroke may have ended": its next poll counts as a
change whatever the thumbnail says, and the update then compares the pixels it reads anyway with the last
ones sent. Changes with no input event (scripts, filters) are still seen by the thumbnail poll.
"""

from __future__ import annotations

from typing import Any

from .qt import QApplication, QEvent, QObject, QWidget, Signal

RELEASES = (QEvent.Type.MouseButtonRelease, QEvent.Type.TabletRelease)
PRESSES = (QEvent.Type.MouseButtonPress, QEvent.Type.TabletPress)
UNDO_ACTIONS = ("edit_undo", "edit_redo")  # their shortcuts, menu entries and toolbar buttons alike
CANVAS_CLASSES = ("KisOpenGLCanvas2", "KisQPainterCanvas")  # Krita 5's canvas widget, with and without OpenGL


def is_canvas(widget: Any) -> bool:
    meta = widget.metaObject() if isinstance(widget, QWidget) else None
    return meta is not None and meta.className() in CANVAS_CLASSES


class PenWatcher(QObject):
    """Emits `lifted` after each release on a canvas and each undo/redo, `pressed` when the pen goes down on
    a canvas (guidance will follow: the controller gets Krita's redraw ready). One application-wide event
    filter: it only looks at the event's type for everything else, and never consumes an event."""

    lifted = Signal()
    pressed = Signal()

    def __init__(self, krita: Any):
        super().__init__()
        self.events_seen = 0
        self._app = QApplication.instance()
        if self._app is not None:
            self._app.installEventFilter(self)
        self._actions = [action for action in map(krita.action, UNDO_ACTIONS) if action is not None]
        for action in self._actions:
            action.triggered.connect(self._on_undo)

    def _on_undo(self, *_: Any) -> None:
        self.lifted.emit()

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        self.events_seen += 1  # what the filter costs: about 1 us of GUI thread per event (e2e reports the rate)
        try:
            kind = event.type()
            if kind in RELEASES and is_canvas(watched):
                self.lifted.emit()
            elif kind in PRESSES and is_canvas(watched):
                self.pressed.emit()
        except Exception:  # noqa: BLE001 - an input filter must never break Krita's input
            pass
        return False

    def close(self) -> None:
        for action in self._actions:
            action.triggered.disconnect(self._on_undo)
        self._actions = []
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None
