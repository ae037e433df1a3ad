"""Helpers for the plugin's unit tests: the plugin in its installed layout, importable beside the fake `krita`.

install.py copies backend/anisketch/protocol.py into the installed plugin; `installed_plugin` does the same
into a temporary folder, puts it and this folder (the fake `krita` module) first on sys.path, and imports
the package fresh, so every test sees the plugin exactly as Krita would load it.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAKE_KRITA = Path(__file__).resolve().parent


_APP = []  # the QApplication must outlive every widget: keep a reference for the whole test session


def qt_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtWidgets import QApplication

    if not _APP:
        _APP.append(QApplication.instance() or QApplication(["anisketch-tests"]))
    return _APP[0]


def install_plugin_copy(target: Path) -> Path:
    package = target / "anisketch_krita"
    shutil.copytree(REPO / "plugin" / "anisketch_krita", package,
                    ignore=shutil.ignore_patterns("__pycache__", "protocol.py", "vendor", "backend.json"))
    shutil.copy2(REPO / "backend" / "anisketch" / "protocol.py", package / "protocol.py")
    return package


def import_plugin(target: Path):
    """Import the copy in `target` as `anisketch_krita` (with the fake krita); returns the package."""
    for name in [n for n in sys.modules if n == "anisketch_krita" or n.startswith("anisketch_krita.")]:
        del sys.modules[name]
    for path in (str(FAKE_KRITA), str(target)):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
    importlib.invalidate_caches()
    qt_app()
    import krita  # noqa: F401  (the fake)

    krita.Krita.reset_for_tests()
    return importlib.import_module("anisketch_krita")


def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    """Run Qt's event loop until `predicate()` holds (the plugin never blocks; tests wait like Krita would)."""
    import time

    from PyQt5.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def bgra(rgb: tuple, alpha: int = 255) -> bytes:
    r, g, b = rgb
    return bytes((b, g, r, alpha))


def new_document(krita, size=64, model="RGBA", depth="U8"):
    """A square document with an empty "Sketch" paint layer: (document, sketch)."""
    document = krita.createDocument(size, size, "t", model, depth, "", 72.0)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    return document, sketch


def opaque_document(krita, width=300, height=200, paper=(255, 255, 255)):
    """A new document's one layer, filled with paper (as Krita's Background is), nothing drawn yet."""
    document = krita.createDocument(width, height, "t", "RGBA", "U8", "", 72.0)
    background = document.createNode("Paper", "paintlayer")
    document.rootNode().addChildNode(background, None)
    background.setPixelData(bgra(paper) * (width * height), 0, 0, width, height)
    return document, background
