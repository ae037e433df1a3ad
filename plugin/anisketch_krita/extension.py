"""Registration with Krita: the docker factory and the extension that owns the guidance action."""

from __future__ import annotations

import atexit
from typing import Any

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from . import launcher
from .shortcut import TOGGLE_ACTION
from .docker import DOCKER_ID, OPEN_DOCKERS, AniSketchDocker, toggle_guidance_everywhere



class AniSketchExtension(Extension):
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)

    def setup(self) -> None:
        Krita.instance().notifier().applicationClosing.connect(stop_all)

    def createActions(self, window: Any) -> None:
        action = window.createAction(TOGGLE_ACTION, "Toggle AniSketch guidance", "tools/scripts")
        action.triggered.connect(toggle_guidance_everywhere)


def stop_all() -> None:
    """Krita is closing: stop polling, close sockets, end every backend we started. Krita may destroy the
    dockers before it says it closes, so the backends are found in launcher.STARTED, not through them."""
    for docker in list(OPEN_DOCKERS):
        docker.controller.stop()
    launcher.stop_started()


def register() -> None:
    atexit.register(launcher.stop_started)  # a backstop, should Krita end without applicationClosing
    krita = Krita.instance()
    krita.addExtension(AniSketchExtension(krita))
    krita.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, AniSketchDocker))
