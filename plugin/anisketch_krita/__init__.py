"""AniSketch for Krita: live guidance, colour renders and generation for anime portraits.

Krita imports this package at start-up (when enabled in kritarc). It registers the docker and the
extension that owns the "toggle guidance" action. pyzmq comes from the system Python or from the
`vendor/py3XX` folder that install.py fills for Krita's own Python version.
"""

import os
import sys
from typing import Any

_VENDOR = os.path.join(os.path.dirname(__file__), "vendor", "py%d%d" % sys.version_info[:2])
if os.path.isdir(_VENDOR) and _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)


_krita: Any
try:
    import krita as _krita
except ImportError:  # imported outside Krita (tests import the submodules directly)
    _krita = None

if _krita is not None and hasattr(_krita, "DockWidgetFactory"):
    from .extension import register

    register()
