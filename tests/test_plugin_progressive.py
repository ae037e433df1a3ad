"""The docker and a progressive render, against the real server serving the fake model (each later candidate
0.3 s after the one before): candidate 1 is in the document while the others are painted, they fill empty
candidates without changing the layer stack, and a new render cancels one still coming in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_plugin_live import PHOTO_FAKE, _draw, app, controller, plugin_dir  # noqa: E402,F401
from server_harness import ServerProcess  # noqa: E402
from support import wait_for  # noqa: E402  (tests/fake_krita, on the path test_plugin_live puts it)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server(plugin_dir):  # noqa: F811 - this module's server: later parts come slowly
    process = ServerProcess(service=PHOTO_FAKE, env={"ANISKETCH_FAKE_PART_DELAY_S": "0.3"})
    yield process
    process.stop()
    process.close()


def _record_requests(controller, monkeypatch):
    sent = []
    original = controller.connection.request

    def recording(op, params, images=()):
        sent.append((op, dict(params)))
        return original(op, params, images)

    monkeypatch.setattr(controller.connection, "request", recording)
    return sent


def _renders(document):
    from anisketch_krita import canvas

    return canvas.find_group(document, canvas.RENDERS_GROUP)


def test_the_first_candidate_is_in_the_document_while_the_others_are_painted(app, controller, monkeypatch):
    instance, document, sketch = app
    sent = _record_requests(controller, monkeypatch)
    _draw(sketch, 30, 30, 20, 20)
    before, undo = bytes(sketch.pixelData(0, 0, 96, 96)), len(document.undo_entries)
    controller.update_settings(render_count=3, style_seed=7)
    controller.render()
    wait_for(lambda: len(controller.candidates) >= 1, what="the first candidate")
    assert sent[-1][1]["progressive"] is True
    nodes = _renders(document).childNodes()
    assert [(n.name(), n.visible()) for n in nodes] == [("Candidate 1", True), ("Candidate 2", False),
                                                        ("Candidate 3", False)]
    if len(controller.candidates) == 1:  # the others still on their way (0.3 s each)
        assert "render" in controller.busy and nodes[2].childNodes()[0].bounds().isEmpty()
    wait_for(lambda: "render" not in controller.busy, what="the last candidate")
    assert [c.name for c in controller.candidates] == ["Candidate 1", "Candidate 2", "Candidate 3"]
    assert [n.name() for n in _renders(document).childNodes()] == ["Candidate 1", "Candidate 2", "Candidate 3"]
    crop = controller.session.region.region
    flats = nodes[2].childNodes()[0]
    assert bytes(flats.pixelData(crop.x, crop.y, 1, 1)) == bytes([9, 9, 9, 9])  # fake: (seed 7 + candidate 2) grey
    assert all(c.thumbnail.width() == 96 for c in controller.candidates)
    assert document.undo_entries[undo:] == ["Composition Mode Change", "Composition Mode Change", "Add Layer"]
    figures = controller.timings.render
    assert 0 < figures["click_to_first_shown_ms"] < figures["click_to_placed_ms"] and figures["candidates"] == 3
    controller.choose_candidate(2)
    assert [n.visible() for n in nodes] == [False, False, True]
    assert bytes(sketch.pixelData(0, 0, 96, 96)) == before


def test_a_new_render_cancels_the_one_still_coming_in(app, controller, monkeypatch):
    instance, document, sketch = app
    sent = _record_requests(controller, monkeypatch)
    _draw(sketch, 30, 30, 20, 20)
    controller.update_settings(render_count=4, style_seed=1)
    controller.render()
    wait_for(lambda: len(controller.candidates) >= 1, what="the first render's first candidate")
    first = _renders(document)
    controller.update_settings(style_seed=2)
    controller.render()
    wait_for(lambda: "render" not in controller.busy and len(controller.candidates) == 4, what="the second render")
    assert [op for op, _ in sent] == ["render", "render", "cancel"]  # the cancel names the first
    group = _renders(document)
    assert group != first and first.parentNode() is None
    crop = controller.session.region.region
    greys = [bytes(n.childNodes()[0].pixelData(crop.x, crop.y, 1, 1))[0] for n in group.childNodes()]
    assert greys == [2, 3, 4, 5] and controller.error == ""  # every candidate the second render's, none empty
