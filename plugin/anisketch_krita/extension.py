"""Registration with Krita: the docker factory and the extension that owns the guidance action."""

from __future__ import annotations

from typing import Any

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .docker import DOCKER_ID, OPEN_DOCKERS, AniSketchDocker, toggle_guidance_everywhere

TOGGLE_ACTION = "anisketch_toggle_guidance"  # declared with its shortcut in anisketch_krita.action


class AniSketchExtension(Extension):
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)

    def setup(self) -> None:
        Krita.instance().notifier().applicationClosing.connect(stop_all)

    def createActions(self, window: Any) -> None:
        action = window.createAction(TOGGLE_ACTION, "Toggle AniSketch guidance", "tools/scripts")
        action.triggered.connect(toggle_guidance_everywhere)


def stop_all() -> None:
    """Krita is closing: stop polling, close sockets, end a backend we started."""
    for docker in list(OPEN_DOCKERS):
        docker.controller.stop()


def register() -> None:
    krita = Krita.instance()
    krita.addExtension(AniSketchExtension(krita))
    krita.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, AniSketchDocker))
