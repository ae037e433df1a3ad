"""The fixtures of the plugin's fast tests against the fake `krita`: import them into a test module.

    from plugin_fixtures import krita, plugin  # noqa: F401  (pytest fixtures)

Importing this module skips the test module where PyQt5 is missing, except in CI, where the test extras must be
installed and its absence is an error.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

if importlib.util.find_spec("PyQt5") is None:  # a test extra: CI must have it, so there it is an error
    if os.environ.get("CI") == "true":
        raise RuntimeError("PyQt5 is missing: the plugin's tests need it (backend test extras)")
    pytest.skip("the plugin's unit tests need PyQt5 (backend test extras)", allow_module_level=True)

from support import import_plugin, install_plugin_copy  # noqa: E402


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The plugin installed in a temporary pykrita folder and imported fresh, as Krita loads it."""
    target = tmp_path_factory.mktemp("pykrita")
    install_plugin_copy(target)
    return import_plugin(target)


@pytest.fixture
def krita(plugin):
    """The fake Krita, reset for each test."""
    import krita

    return krita.Krita.reset_for_tests()
