"""The plugin's controller and docker against a real `anisketch serve` (ZeroMQ, fake model) and the stand-in
`krita` module: requests, exact placement, pins, newest-wins, renders, generation, errors, reconnection,
the Krita action, and a mypy check of the whole plugin against tests/fake_krita/krita.pyi.

Why one file of this size: its tests share one served fake backend and one stand-in Krita, set up once.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("PyQt5") is None:  # a test extra: CI must have it, so there it is an error
    if os.environ.get("CI") == "true":
        raise RuntimeError("PyQt5 is missing: the plugin's tests need it (backend test extras)")
    pytest.skip("the plugin's unit tests need PyQt5 (backend test extras)", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parent / "fake_krita"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_harness import ServerProcess  # noqa: E402
from support import FAKE_KRITA, bgra, import_plugin, install_plugin_copy, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)
PHOTO_FAKE = f"{FAKE_KRITA / 'photo_service.py'}:PhotoFakeService"  # FakeService + a photo op shaped like the real one


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    target = tmp_path_factory.mktemp("pykrita")
    install_plugin_copy(target)
    import_plugin(target)
    return target


@pytest.fixture(scope="module")
def server(plugin_dir):
    process = ServerProcess(service=PHOTO_FAKE, env={"ANISKETCH_FAKE_DELAY_S": "0.2"})
    yield process
    process.stop()
    process.close()


@pytest.fixture
def app(plugin_dir, server):
    """A fake Krita with a window and a 96x96 document holding an artist's sketch layer."""
    import krita

    from anisketch_krita.extension import register

    instance = krita.Krita.reset_for_tests()
    register()  # what Krita does when it loads the plugin, before any window exists
    window = instance.openWindow()
    document = instance.createDocument(96, 96, "portrait", "RGBA", "U8", "", 72.0)
    window.addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    document.setActiveNode(sketch)
    return instance, document, sketch


@pytest.fixture
def controller(app, server):
    from anisketch_krita.connection import Connection
    from anisketch_krita.controller import Controller
    from anisketch_krita.state import Settings

    instance = app[0]
    connection = Connection(server.endpoint, may_start=lambda: False)
    control = Controller(connection, Settings(auto_update=False), lambda s: None, instance)
    control.start()
    wait_for(lambda: connection.connected, what="the connection")
    yield control
    control.stop()


def _spin(seconds):
    import time

    deadline = time.monotonic() + seconds
    wait_for(lambda: time.monotonic() > deadline, what="time to pass")


def _draw(sketch, x, y, w, h, rgb=(20, 20, 20)):
    sketch.setPixelData(bgra(rgb) * (w * h), x, y, w, h)


def _guidance(document):
    from anisketch_krita import canvas

    group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    return {n.name(): n for n in canvas.guidance_layers(group)} if group is not None else {}


def test_guidance_lands_exactly_where_the_backend_placed_it(app, controller):
    instance, document, sketch = app
    _draw(sketch, 40, 50, 3, 2, rgb=(30, 20, 10))
    before = bytes(sketch.pixelData(0, 0, 96, 96))
    controller.request_guidance()
    wait_for(lambda: "guide" in _guidance(document), what="the guidance layer")
    crop = controller.session.region.region
    node = _guidance(document)["guide"]
    # The fake model inverts the crop and places it at (-2, -3): the sketch pixel (40, 50) lands 2 left, 3 up.
    assert bytes(node.pixelData(40 - 2, 50 - 3, 1, 1)) == bgra((225, 235, 245))
    assert crop.w == crop.h and crop.contains(__import__("anisketch_krita.region").region.Box(40, 50, 3, 2))
    group = node.parentNode()
    assert group.locked() and group.opacity() == round(60 * 255 / 100)
    _spin(0.3)  # Krita activates added layers a moment later; the plugin hands the artist's layer back
    assert document.activeNode() == sketch  # the artist's brush stays on their layer
    assert bytes(sketch.pixelData(0, 0, 96, 96)) == before  # the artist's layer is untouched
    send_ms, apply_ms = controller.timings.send_ms, controller.timings.apply_ms
    assert 0 < send_ms < 1000 and 0 < apply_ms < 1000


def test_a_large_crop_is_sent_shrunk_and_its_guidance_lands_at_full_size(app, controller):
    """Past 1024 px the crop goes shrunk by a power of two, from a part aligned to it on the canvas, with its
    size; the guidance comes back at that size and lands where the backend placed it, as for a small crop."""
    from anisketch_krita import shrink

    instance, _, _ = app
    document = instance.createDocument(2400, 2000, "large", "RGBA", "U8", "", 72.0)
    instance.activeWindow().addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    document.setActiveNode(sketch)
    _draw(sketch, 301, 205, 40, 40, rgb=(30, 20, 10))
    _draw(sketch, 1300, 1100, 40, 40)
    sent = []
    send = controller.connection.request
    controller.connection.request = lambda op, params, images=(): sent.append((params, images)) or send(op, params, images)
    controller.request_guidance()
    wait_for(lambda: "guide" in _guidance(document), what="the guidance layer")
    crop = controller.session.region.region
    params, (image,) = sent[-1]
    factor = shrink.send_factor(crop)
    (x, y), (w, h) = params["origin"], params["extent"]
    assert params["canvas"] == [2400, 2000]  # where the drawing ends, should the crop reach past the canvas
    assert crop.w > shrink.SEND_SIDE and factor == 2 and x % 2 == y % 2 == w % 2 == h % 2 == 0
    assert crop.x <= x < crop.x + 2 and crop.y <= y < crop.y + 2 and x + w > crop.right - 2
    assert (image.width, image.height) == (w // 2, h // 2)
    # The fake model inverts the image, scales it to the extent and places it at (-2, -3): the block drawn at
    # (301, 205) is still in the guidance, 2 left and 3 up, in full-size canvas pixels.
    node = _guidance(document)["guide"]
    assert bytes(node.pixelData(321 - 2, 225 - 3, 1, 1)) == bgra((225, 235, 245))
    assert bytes(node.pixelData(1320 - 2, 1120 - 3, 1, 1)) == bgra((235, 235, 235))
    assert controller.timings.history[-1]["shrink_ms"] > 0 and not controller.session.guide_jobs.busy


def test_redraw_layers_stay_warm_while_the_artist_draws_and_rest_after(app, controller, monkeypatch):
    """From the pen's press until KEEP_WARM_S after the last stroke, guide or write, the guidance group's two
    redraw layers get 1 px warm-up marks by turns (redraw.py: a write's mark then shows at once); a write's
    mark goes to a layer that is ready; then the warm-up stops."""
    from anisketch_krita import canvas
    from anisketch_krita import controller as controller_module

    monkeypatch.setattr(controller_module, "KEEP_WARM_S", 1.0)
    instance, document, sketch = app
    ready_at_write = []  # per guidance write: whether a redraw layer was ready for its mark
    real = canvas.redraw
    monkeypatch.setattr(canvas, "redraw", lambda d, g, area, clock=None: ready_at_write.append(
        clock is not None and any(clock.ready(k, time.monotonic()) for k in range(clock.count)))
        or real(d, g, area, clock))
    for i in range(4):
        controller._pen.pressed.emit()
        _draw(sketch, 20 + 12 * i, 30, 6, 6)
        before = len(controller.timings.history)
        controller.request_guidance()
        wait_for(lambda: len(controller.timings.history) > before and not controller.session.guide_jobs.busy,
                 what="guidance")
        _spin(0.5)
    group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    assert [canvas.find_redraw_layer(group, k) is not None for k in range(2)] == [True, True]
    warm = [(name, t) for name, rect, t in document.marks if (rect.width(), rect.height()) == (1, 1)]
    assert {name for name, _ in warm} == {"AniSketch redraw", "AniSketch redraw 2"}
    assert len(ready_at_write) == 4 and all(ready_at_write[2:])  # the first two: layers and shapes being made
    _spin(1.3)
    assert not controller._warm.isActive()
    resting = len(document.marks)
    _spin(0.5)
    assert len(document.marks) == resting  # nothing marked while the artist rests


def test_a_selection_is_the_region_made_square(app, controller):
    import krita

    from anisketch_krita.region import Box

    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    selection = krita.Selection()
    selection.select(10, 20, 40, 24, 255)
    document.setSelection(selection)
    controller.request_guidance()
    wait_for(lambda: "guide" in _guidance(document), what="guidance for the selection")
    flight_origin = Box(10, 20 - 8, 40, 40)  # 40 x 24 made square around its centre
    node = _guidance(document)["guide"]
    # The fake model returns the whole crop, inverted, at (-2, -3): where its (transparent) pixels were
    # written tells where the crop was. Inside: white with alpha 0; just outside: never written.
    x0, y0, x1, y1 = flight_origin.x - 2, flight_origin.y - 3, flight_origin.right - 3, flight_origin.bottom - 4
    written = bgra((255, 255, 255), 0)
    assert bytes(node.pixelData(x0, y0, 1, 1)) == written and bytes(node.pixelData(x1, y1, 1, 1)) == written
    assert bytes(node.pixelData(x0 - 1, y0, 1, 1)) == bytes(4) and bytes(node.pixelData(x1 + 1, y1, 1, 1)) == bytes(4)


def test_results_wait_until_the_artist_lifts_the_pen(app, controller):
    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    document.stroke_running = True  # refreshProjection would wait for the stroke: nothing may be written now
    controller.request_guidance()
    wait_for(lambda: controller.connection._pending == {} or not controller.session.guide_jobs.busy, timeout=5,
             what="the reply to arrive")
    import time
    deadline = time.monotonic() + 0.5
    wait_for(lambda: time.monotonic() > deadline, what="a while")
    assert not _guidance(document) and document.refresh_count == 0
    document.stroke_running = False
    wait_for(lambda: bool(_guidance(document)), what="the deferred guidance")
    warm_ups = sum((rect.width(), rect.height()) == (1, 1) for _, rect, _ in document.marks)  # redraw.py's 1 px marks
    assert document.refresh_count - warm_ups == 1  # one recomposite per update


def test_pins_send_the_last_state_and_newest_wins(app, controller):
    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    controller.request_guidance()
    wait_for(lambda: controller.session.memory.state is not None, what="a first reply")
    first_state = controller.session.memory.state
    controller.set_pin("eyes", True)
    sent = len(controller.timings.history)
    for _ in range(4):  # the first is sent; the other three wait, and only the newest of them follows
        controller.request_guidance()
    wait_for(lambda: not controller.session.guide_jobs.busy and "pin eyes" in _guidance(document), what="pinned guidance")
    assert len(controller.timings.history) - sent == 2
    assert first_state.startswith("state-")


def test_stroke_ends_need_no_exact_bounds_and_tiny_strokes_still_get_guidance(app, controller, monkeypatch):
    """The crop is asked of Krita's exact bounds (recomputed after every stroke: 20-75 ms at 2048 px) only
    for a first crop and for strokes that leave it. A dab too small for the thumbnail the poll looks at is
    guided once the pen is lifted; a release that painted nothing sends nothing; a stroke drawn wholly
    outside the crop still grows it."""
    from anisketch_krita import canvas

    instance = app[0]
    document = instance.createDocument(600, 600, "large", "RGBA", "U8", "", 72.0)  # room for the crop to grow
    instance.activeWindow().addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    document.setActiveNode(sketch)
    asked = []
    exact = canvas.sketch_bounds
    monkeypatch.setattr(canvas, "sketch_bounds", lambda d, n: asked.append(1) or exact(d, n))
    controller.update_settings(auto_update=True)

    def stroke(x, y, w, h):
        before = len(controller.timings.history)
        _draw(sketch, x, y, w, h)
        controller.pen_lifted()  # what pen.py's event filter does on the release
        wait_for(lambda: len(controller.timings.history) > before and not controller.session.guide_jobs.busy,
                 what="guidance after the stroke")

    stroke(200, 200, 10, 4)
    assert len(asked) == 1  # the first crop
    first = controller.session.region.region
    thumbnail = canvas.signature(sketch)
    stroke(251, 251, 1, 1)  # inside the crop, between the thumbnail's samples (one pixel in 9.4)
    assert canvas.signature(sketch) == thumbnail and len(asked) == 1 and controller.session.region.region == first
    figures = controller.timings.history[-1]
    # the update's figures: its crop, the server's own time (its "total"), the polls that saw the stroke, and
    # from the pen lift: the wait for Krita to finish the stroke, ZeroMQ's share, the reply written
    assert figures["side"] == first.w and figures["server_ms"] > 0 and figures["detect_ms"] > 0
    assert figures["lift_wait_ms"] is not None and 0 <= figures["lift_wait_ms"] < 5000
    assert figures["transit_ms"] > -1 and figures["held_ms"] >= 0 and figures["apply_ms"] > 0
    assert figures["shrink_ms"] == 0  # a small crop goes as it is
    assert {"decode", "service", "encode"} <= set(figures["backend_stages"])  # the backend's own split
    before = len(controller.timings.history)
    controller.pen_lifted()  # a click that painted nothing: one read and compare, no bounds, nothing sent
    _spin(0.8)
    assert len(controller.timings.history) == before and not controller.session.guide_jobs.busy and len(asked) == 1
    stroke(first.right - 2, 210, 8, 2)  # across the crop's right edge: it grows that way, still no bounds
    grown = controller.session.region.region
    assert len(asked) == 1 and grown != first and grown.contains(first)
    assert grown.contains(exact(document, sketch))
    stroke(first.x - 150, 205, 152, 3)  # a long stroke out of the left edge: several steps, still no bounds
    assert len(asked) == 1 and controller.session.region.region.contains(exact(document, sketch))
    stroke(560, 560, 12, 12)  # wholly outside the crop: its pixels are the same, the thumbnail is not
    assert len(asked) == 2 and controller.session.region.region.contains(exact(document, sketch))
    import krita

    selection = krita.Selection()
    selection.select(0, 0, 100, 100, 255)
    document.setSelection(selection)
    stroke(300, 5, 3, 3)  # guided through the selection; the crop around the sketch does not follow it
    document.setSelection(krita.Selection())  # nothing selected
    stroke(40, 40, 2, 2)  # the next look without a selection measures the sketch: nothing was followed
    assert len(asked) == 3 and controller.session.region.region.contains(exact(document, sketch))
    crop = controller.session.region.region
    before = len(controller.timings.history)
    _draw(sketch, crop.x + 20, crop.y + 20, 3, 3)  # two strokes in one update, one wholly outside the crop:
    _draw(sketch, 2, 2, 2, 2)  # no line around the crop sees it, so the exact bounds are asked
    controller.pen_lifted()
    controller.pen_lifted()
    wait_for(lambda: len(controller.timings.history) > before and not controller.session.guide_jobs.busy, what="guidance")
    assert len(asked) == 4 and controller.session.region.region.contains(exact(document, sketch))


def test_strokes_while_a_guide_is_out_are_looked_at_one_by_one(app, controller, monkeypatch):
    """With the backend busy (0.3-5 s a guide on CPU), several strokes end before the next guide goes out.
    Each is looked at when it ends (lines around the crop, the crop's pixels), so the crop still follows a
    stroke drawn wholly outside it, exact bounds are asked only for that one, and the guide that follows
    sends the pixels already read (no second read)."""
    from anisketch_krita import canvas

    instance = app[0]
    document = instance.createDocument(600, 600, "large", "RGBA", "U8", "", 72.0)
    instance.activeWindow().addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    document.setActiveNode(sketch)
    _draw(sketch, 200, 200, 10, 4)
    controller.request_guidance()
    wait_for(lambda: len(controller.timings.history) > 0 and not controller.session.guide_jobs.busy, what="a first guide")
    first = controller.session.region.region
    asked, reads = [], []
    exact, read = canvas.sketch_bounds, canvas.read_raw
    monkeypatch.setattr(canvas, "sketch_bounds", lambda d, n: asked.append(1) or exact(d, n))
    monkeypatch.setattr(canvas, "read_raw", lambda n, box: reads.append(box) or read(n, box))

    def strokes_while_out(boxes):
        controller.session.guide_jobs.sent("a guide still out")
        for x, y, w, h in boxes:
            _draw(sketch, x, y, w, h)
            controller.pen_lifted()
            controller._stroke_ended()  # what the poll does 0.25 s after the stroke
        crop_reads = len([box for box in reads if box.w > 1 and box.h > 1])
        controller.session.guide_jobs.reset()
        before = len(controller.timings.history)
        controller._stroke_ended()  # the reply came: the pending guide goes out with the pixels already read
        wait_for(lambda: len(controller.timings.history) > before and not controller.session.guide_jobs.busy, what="the guide")
        assert len([box for box in reads if box.w > 1 and box.h > 1]) == crop_reads, "the crop was read twice"
        assert controller.session.region.region.contains(exact(document, sketch))

    strokes_while_out([(first.x + 30, first.y + 30, 5, 2), (first.right - 2, 220, 8, 2)])  # inside; across an edge
    assert not asked and controller.session.region.region != first
    strokes_while_out([(first.x + 40, first.y + 40, 5, 2), (560, 560, 12, 12)])  # inside; wholly outside
    assert len(asked) == 1, "exact bounds for the stroke wholly outside the crop only"


def test_pen_watcher_tells_releases_on_the_canvas_and_undo(app):
    """pen.py: a release on Krita's canvas widget (a stand-in of the same class name here) and the undo
    action each say "a stroke may have ended"; releases elsewhere (the docker's buttons) do not."""
    from PyQt5.QtCore import QEvent, QPointF, Qt
    from PyQt5.QtGui import QMouseEvent
    from PyQt5.QtWidgets import QApplication, QWidget

    from anisketch_krita.pen import PenWatcher

    class KisQPainterCanvas(QWidget):  # Krita's canvas class without OpenGL (metaObject names it so)
        pass

    instance = app[0]
    instance.activeWindow().createAction("edit_undo", "Undo")
    watcher = PenWatcher(instance)
    lifted = []
    watcher.lifted.connect(lambda: lifted.append(1))
    canvas_widget, button = KisQPainterCanvas(), QWidget()

    def release(widget):
        QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseButtonRelease, QPointF(5, 5), Qt.MouseButton.LeftButton,
                                                   Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))

    release(button)
    assert lifted == []
    release(canvas_widget)
    assert lifted == [1]
    instance.action("edit_undo").trigger()
    assert lifted == [1, 1]
    watcher.close()
    release(canvas_widget)
    instance.action("edit_undo").trigger()
    assert lifted == [1, 1]


def test_render_hints_candidates_choose_and_keep(app, controller):
    from anisketch_krita import canvas

    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    controller.create_hints_layer()
    hints = document.nodeByName(canvas.HINTS_LAYER)
    assert hints is not None and hints.parentNode() == sketch.parentNode()
    _draw(hints, 35, 35, 4, 4, rgb=(250, 120, 160))
    controller.update_settings(render_count=3, style_seed=7)
    controller.render()
    wait_for(lambda: len(controller.candidates) == 3, what="three candidates")
    group = canvas.find_group(document, canvas.RENDERS_GROUP)
    nodes = group.childNodes()
    assert [n.visible() for n in nodes] == [True, False, False]
    assert controller.candidates[0].thumbnail.width() == 96
    crop = controller.session.region.region
    # each candidate a group of the production layers, bottom to top, each with its blending mode; refined
    # mode's own line art comes hidden (the artist's lines are on top)
    assert [[(n.name(), n.blendingMode(), n.visible()) for n in node.childNodes()] for node in nodes] == [
        [("Flat colours", "normal", True), ("Shadows", "multiply", True), ("Highlights", "screen", True),
         ("Line art", "normal", False)]] * 3
    flats = nodes[1].childNodes()[0]
    assert bytes(flats.pixelData(crop.x, crop.y, 1, 1)) == bytes([8, 8, 8, 8])  # fake: (seed + i + k) grey
    _spin(0.3)
    assert document.activeNode() == hints  # new on request, so active; the candidates did not take over
    controller.choose_candidate(2)
    assert [n.visible() for n in nodes] == [False, False, True]
    controller.keep_candidate(2)
    assert canvas.find_group(document, canvas.RENDERS_GROUP) is None
    kept = document.nodeByName("AniSketch Candidate 3")
    assert kept is not None and [(n.name(), n.visible()) for n in kept.childNodes()] == [
        ("Flat colours", True), ("Shadows", True), ("Highlights", True), ("Line art", False)]  # there to switch on
    stack = [n.name() for n in sketch.parentNode().childNodes()]  # bottom to top
    assert stack.index(kept.name()) < stack.index(sketch.name())  # kept, and still beneath the artist's lines


def test_generation_scales_onto_the_canvas_and_errors_show_in_the_docker(app, controller):
    from anisketch_krita import canvas

    instance, document, sketch = app
    controller.attributes = {"__fail__": "bad_request"}
    controller.generate()
    wait_for(lambda: bool(controller.error), what="the error")
    assert "plaid" in controller.error and "Traceback" not in controller.error
    controller.attributes = {"hair_color": "random"}
    controller.generate("seed")
    wait_for(lambda: bool(controller.candidates), what="a portrait")
    node = canvas.find_group(document, canvas.RENDERS_GROUP).childNodes()[0]
    assert canvas.box_of(node.bounds()).w == 96  # the 64 px portrait, scaled onto the 96 px document
    assert controller.last_noise and controller.error == ""


def _photo_layer(document, flat=False):
    """A paint layer over the whole 96 px document holding a "photo": a gradient (or one flat colour)."""
    photo = document.createNode("Photo", "paintlayer")
    document.rootNode().addChildNode(photo, None)
    pixels = b"".join(bgra((90, 90, 90) if flat else (x * 2, y * 2, (x + y) % 256)) for y in range(96) for x in range(96))
    photo.setPixelData(pixels, 0, 0, 96, 96)
    _spin(0.05)  # Krita activates the added layer a moment later: let it, before the test picks the active one
    return photo


def _renders(document):
    from anisketch_krita import canvas

    group = canvas.find_group(document, canvas.RENDERS_GROUP)
    return {n.name(): n for n in group.childNodes()} if group is not None else {}


def test_from_photo_places_portraits_and_guidance_over_the_photo(app, controller):
    import krita

    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    instance, document, sketch = app
    photo = _photo_layer(document)
    document.setActiveNode(sketch)  # the artist keeps drawing on the sketch; the photo is chosen in the docker
    controller.choose_photo(canvas.node_id(photo))
    selection = krita.Selection()
    selection.select(10, 20, 40, 24, 255)  # the face
    document.setSelection(selection)
    photo_before = bytes(photo.pixelData(0, 0, 96, 96))
    controller.update_settings(render_count=3)
    controller.from_photo()
    assert controller.busy.get("photo")
    wait_for(lambda: len(controller.candidates) == 3, what="three photo portraits")
    square = Box(10, 12, 40, 40)  # the selection made square: what was sent, and where the results land
    renders = _renders(document)
    assert sorted(renders) == ["Portrait 1", "Portrait 2", "Portrait 3"] and controller.error == ""
    # The fake's candidate k is the photo crop it received, + 10 (k - 1): the crop, its bytes and the placement.
    assert canvas.box_of(renders["Portrait 1"].bounds()) == square
    assert bytes(renders["Portrait 1"].pixelData(*vars(square).values())) == bytes(photo.pixelData(*vars(square).values()))
    assert bytes(renders["Portrait 2"].pixelData(10, 12, 1, 1)) == bgra((30, 34, 32))  # photo (20, 24, 22) + 10
    guides = _guidance(document)
    assert sorted(guides) == ["Guidance: eyes", "Guidance: face"]  # named by part, as guidance updates name them
    assert canvas.box_of(guides["Guidance: eyes"].bounds()) == Box(10 + 40 // 4 + 1, 12 + 40 // 3, 4, 4)
    stack = [n.name() for n in document.rootNode().childNodes()]  # bottom to top
    assert stack.index(canvas.GUIDANCE_GROUP) == stack.index("Photo") + 1, stack  # first portrait: right above the photo
    assert controller.photo_note == "Found 1 face.\nNote: the face is small (fake)"
    assert controller.session.memory.state.startswith("photo-")
    _spin(0.3)
    assert document.activeNode() == sketch
    assert bytes(photo.pixelData(0, 0, 96, 96)) == photo_before  # the photo is only read
    # The pins work on the photo's portrait: its state goes back with the next guide over the same square.
    controller.set_pin("eyes", True)
    _draw(sketch, 30, 30, 10, 10)
    controller.request_guidance()
    wait_for(lambda: "pin eyes" in _guidance(document), what="guidance with the photo's pinned eyes")


def test_a_photo_larger_than_the_protocol_allows_is_shrunk_and_scaled_back(app, controller, monkeypatch):
    from anisketch_krita import canvas, outputs
    from anisketch_krita.region import Box

    instance, document, sketch = app
    photo = _photo_layer(document)
    document.setActiveNode(photo)
    monkeypatch.setattr(outputs, "PHOTO_MAX_SIDE", 48)  # the 96 px layer goes out at 48 px
    controller.from_photo()
    wait_for(lambda: bool(controller.candidates), what="the portraits")
    assert canvas.box_of(_renders(document)["Portrait 1"].bounds()) == Box(0, 0, 96, 96)
    assert canvas.box_of(_guidance(document)["Guidance: eyes"].bounds()) == Box(2 * (48 // 4 + 1), 2 * (48 // 3), 8, 8)


def test_unsupported_documents_are_refused_with_a_message(app, controller):
    import krita

    instance = app[0]
    document = instance.createDocument(64, 64, "grey", "GRAYA", "U8", "", 72.0)
    instance.activeWindow().addView(document)
    layer = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(layer, None)
    document.setActiveNode(layer)
    layer.setPixelData(b"\x10\xff" * 16, 10, 10, 4, 4)
    controller.request_guidance()
    assert "Convert Image Color Space" in controller.error
    assert isinstance(krita.Krita.instance(), krita.Krita)


def test_reconnects_after_the_backend_is_killed_and_restarted(plugin_dir, app):
    from anisketch_krita.connection import Connection
    from anisketch_krita.state import Status

    first = ServerProcess()
    connection = Connection(first.endpoint, may_start=lambda: False)
    connection.start()
    try:
        wait_for(lambda: connection.connected, what="the first connection")
        first.stop(sig=9)
        wait_for(lambda: connection.state.status is Status.DISCONNECTED, timeout=15, what="noticing the loss")
        assert first.endpoint in connection.state.reason
        second = ServerProcess(endpoint=first.endpoint)
        try:
            wait_for(lambda: connection.connected, timeout=20, what="the reconnection")
        finally:
            second.close()
    finally:
        connection.close()
        first.close()


def test_launcher_starts_a_backend_when_none_answers(plugin_dir, tmp_path):
    from server_harness import FAKE, free_port

    from anisketch_krita.connection import Connection
    from anisketch_krita.launcher import Launcher
    from anisketch_krita.state import Status

    script = tmp_path / "anisketch"  # stands in for .venv/bin/anisketch, serving the fake model
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m anisketch.cli \"$@\" --service {FAKE}\n")
    script.chmod(0o755)
    launcher = Launcher(str(script), log_path=tmp_path / "serve.log")
    connection = Connection(f"tcp://127.0.0.1:{free_port()}", launcher, may_start=lambda: True)
    seen = []
    connection.status_changed.connect(lambda: seen.append(connection.state.status))
    connection.start()
    try:
        wait_for(lambda: connection.connected, timeout=60, what="the launched backend")
        assert Status.STARTING in seen and launcher.running
    finally:
        connection.close()
    assert not launcher.running


def test_a_launched_backend_that_dies_is_restarted_and_stopped_when_krita_quits(plugin_dir, app, tmp_path,
                                                                                monkeypatch):
    """The backend the docker started is killed: the status says so and when it restarts, and it comes back
    by itself; Krita's applicationClosing stops it although no docker is left to ask (issue 15, item 5)."""
    import krita
    from server_harness import FAKE, free_port

    from anisketch_krita import extension, launcher as launcher_module
    from anisketch_krita.connection import Connection
    from anisketch_krita.launcher import Launcher
    from anisketch_krita.state import Status

    monkeypatch.setattr(launcher_module, "RESTART_DELAYS_S", (0.5, 1.0))
    script = tmp_path / "anisketch"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m anisketch.cli \"$@\" --service {FAKE}\n")
    script.chmod(0o755)
    launcher = Launcher(str(script), log_path=tmp_path / "serve.log")
    connection = Connection(f"tcp://127.0.0.1:{free_port()}", launcher, may_start=lambda: True)
    reasons = []
    connection.status_changed.connect(lambda: reasons.append((connection.state.status, connection.state.reason)))
    connection.start()
    try:
        wait_for(lambda: connection.connected, timeout=60, what="the launched backend")
        first = launcher.process
        first.kill()
        wait_for(lambda: connection.connected and launcher.process is not first, timeout=60,
                 what="the backend restarted by itself")
        said = [reason for status, reason in reasons if "SIGKILL" in reason]
        print("status lines after the kill:", said)
        assert any("restart" in reason for reason in said), reasons
        assert launcher.restarts == 0  # it answered again: a later death starts the count afresh
        # No docker holds this connection (as when Krita destroyed the dockers before closing): the
        # closing signal still finds the backend through launcher.STARTED.
        krita.Krita.instance().notifier().applicationClosing.connect(extension.stop_all)
        krita.Krita.instance().notifier().applicationClosing.emit()
        assert not launcher.running and launcher not in launcher_module.STARTED
    finally:
        connection.close()


def test_a_backend_started_by_hand_is_never_stopped(plugin_dir, app, server):
    from anisketch_krita import launcher as launcher_module
    from anisketch_krita.connection import Connection
    from anisketch_krita.launcher import Launcher

    connection = Connection(server.endpoint, Launcher("/nonexistent/anisketch"), may_start=lambda: True)
    connection.start()
    try:
        wait_for(lambda: connection.connected, what="the hand-started backend")
        launcher_module.stop_started()
        assert connection.launcher.process is None and server.process.poll() is None
    finally:
        connection.close()


def test_docker_action_and_settings_in_krita(plugin_dir, app, server):
    from anisketch_krita import canvas
    from anisketch_krita.docker import OPEN_DOCKERS

    instance, document, sketch = app
    instance.writeSetting("anisketch", "endpoint", server.endpoint)
    instance.writeSetting("anisketch", "opacity", "35")
    instance.writeSetting("anisketch", "start_backend", "false")
    docks = instance.dockers()
    docker = next(d for d in docks if d.objectName() == "anisketch_docker")
    try:
        assert docker in OPEN_DOCKERS and docker.controller.settings.opacity == 35
        wait_for(lambda: docker.controller.connection.connected, what="the docker's connection")
        assert docker.status_label.text().startswith("Connected")
        _draw(sketch, 30, 30, 20, 20)
        wait_for(lambda: bool(_guidance(document)), timeout=15, what="automatic guidance after the stroke")
        action = instance.action("anisketch_toggle_guidance")
        assert action is not None
        assert docker.sketch_combo.itemText(0) == "Active layer (reads 'Sketch')"
        # A guide in flight tints the status dot; the progress strip (which moves the layout) is for long work.
        busy, docker.controller.busy = docker.controller.busy, {"guide": "Updating guidance…"}
        docker.controller.guide_changed.emit()
        assert docker.progress_box.isHidden() and docker.status_dot.toolTip() == "Updating guidance…"
        docker.controller.busy = {"guide": "Updating guidance…", "render": "Rendering 4 candidates…"}
        docker.controller.guide_changed.emit()
        assert not docker.progress_box.isHidden() and docker.busy_label.text() == "Rendering 4 candidates…"
        docker.controller.busy = busy
        docker.refresh()
        # The shortcut: free, then taken by another action (the docker says so), then free again.
        from PyQt5.QtGui import QKeySequence
        from PyQt5.QtWidgets import QAction

        from anisketch_krita import docker as docker_module

        action.setShortcut(QKeySequence("Ctrl+Alt+A"))
        docker._refresh_shortcut()  # what the docker's shortcut timer runs
        assert docker.shortcut_label.text().startswith("Shortcut: Ctrl+Alt+A")
        other = QAction("&Quick Ungroup")
        other.setShortcut(QKeySequence("Ctrl+Alt+A"))
        instance._actions["quick_ungroup"] = other
        docker._refresh_shortcut()
        print("docker's shortcut line when taken:", docker.shortcut_label.text())
        assert "also Krita's 'Quick Ungroup'" in docker.shortcut_label.text()
        del instance._actions["quick_ungroup"]
        assert docker._shortcut_timer.isActive() and docker._shortcut_timer.interval() == docker_module.SHORTCUT_CHECK_MS
        action.trigger()
        group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
        assert not docker.controller.settings.guidance_on and not group.visible()
        assert instance.readSetting("anisketch", "guidance_on", "") == "false"
        action.trigger()
        assert group.visible()
        # Show guidance is the artist's setting, not a document's: another open document's guidance follows it
        # too, whichever document Krita has made active when the shortcut arrives.
        other_document = instance.createDocument(64, 64, "Other", "RGBA", "U8", "", 72.0)
        other_document.rootNode().addChildNode(other_document.createGroupLayer(canvas.GUIDANCE_GROUP), None)
        other_group = canvas.find_group(other_document, canvas.GUIDANCE_GROUP)
        action.trigger()
        assert not group.visible() and not other_group.visible()
        action.trigger()
        assert group.visible() and other_group.visible()
        docker.opacity_slider.setValue(80)
        assert group.opacity() == round(0.8 * 255) == other_group.opacity()
        assert set(docker.attribute_combos) == {"hair_color", "hair_style", "eye_color", "blush", "smile",
                                                "open_mouth", "hat", "ribbon", "glasses", "dark_skin"}
        # From photo on a layer without a face: the backend's message in the docker, no traceback, no note.
        photo = _photo_layer(document, flat=True)
        document.setActiveNode(photo)
        docker.photo_button.click()
        wait_for(lambda: "no face found" in docker.error_label.text(), what="the backend's error in the docker")
        assert "Traceback" not in docker.error_label.text() and not docker.controller.candidates
        assert docker.photo_label.text() == "" and docker.photo_button.isEnabled()
    finally:
        docker.controller.stop()


def test_plugin_type_checks_against_the_krita_stubs(tmp_path):
    install_plugin_copy(tmp_path)
    mypy = shutil.which("mypy") or str(Path(sys.executable).parent / "mypy")
    done = subprocess.run([mypy, "--python-version", "3.10", "--ignore-missing-imports", "--follow-imports=silent",
                           "--no-incremental", "anisketch_krita"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "MYPYPATH": str(FAKE_KRITA)}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _record_requests(controller, monkeypatch):
    sent = []
    original = controller.connection.request

    def recording(op, params, images):
        sent.append((op, dict(params)))
        return original(op, params, images)

    monkeypatch.setattr(controller.connection, "request", recording)
    return sent


def test_nothing_runs_inside_krita_s_nested_event_loops_while_results_are_placed(app, controller, monkeypatch):
    """Adding layers makes Krita spin nested event loops (waitForDone): a poll, a pen lift or another reply
    that fires in there waits until the render's layers are in, and the render stays busy until then."""
    from anisketch_krita import canvas

    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    controller.request_guidance()
    wait_for(lambda: not controller.session.guide_jobs.busy and bool(_guidance(document)), what="a first guide")
    sent = _record_requests(controller, monkeypatch)
    seen_inside = []
    place = canvas.add_candidates

    def placing_with_a_nested_loop(*args, **kwargs):
        nodes = place(*args, **kwargs)
        _draw(sketch, 60, 60, 10, 10)  # the artist's next stroke ends while Krita waits
        controller.settings.auto_update = True
        controller._on_poll()
        controller.pen_lifted()
        _spin(0.3)
        seen_inside.append(([op for op, _ in sent], dict(controller.busy), list(controller.candidates)))
        return nodes

    monkeypatch.setattr(canvas, "add_candidates", placing_with_a_nested_loop)
    controller.update_settings(render_count=2)
    controller.render()
    wait_for(lambda: len(controller.candidates) == 2, what="the candidates")
    assert seen_inside == [(["render"], {"render": "Rendering 2 candidates…"}, [])]
    wait_for(lambda: any(op == "guide" for op, _ in sent), what="the stroke's guide, after the placing")


def test_each_open_document_keeps_its_guidance_state_and_candidates(app, controller):
    """The artist (or Krita, activating another view) switches documents and back: nothing is lost, and a
    render that arrives meanwhile lands in its own document's candidates."""
    instance, document, sketch = app
    _draw(sketch, 30, 30, 20, 20)
    controller.request_guidance()
    wait_for(lambda: controller.session.memory.state is not None and not controller.session.guide_jobs.busy,
             what="a first guide")
    state = controller.session.memory.state
    controller.update_settings(render_count=2)
    controller.render()
    wait_for(lambda: len(controller.candidates) == 2, what="two candidates")
    first = [c.node_id for c in controller.candidates]
    other = instance.createDocument(64, 64, "Other", "RGBA", "U8", "", 72.0)
    instance.setActiveDocument(other)
    assert controller.document() == other and controller.candidates == [] and controller.session.memory.state is None
    instance.setActiveDocument(document)
    controller.document()
    assert [c.node_id for c in controller.candidates] == first and controller.session.memory.state == state
    controller.render()  # and the artist looks at the other document before it arrives
    instance.setActiveDocument(other)
    controller.document()
    wait_for(lambda: not controller.busy, what="the render's reply")
    assert controller.candidates == []
    instance.setActiveDocument(document)
    controller.document()
    assert len(controller.candidates) == 2 and [c.node_id for c in controller.candidates] != first


def test_state_and_pins_survive_a_crop_that_grows(app, controller, monkeypatch):
    """A stroke far from the first ones grows the crop: the next guide still carries the last state and the
    pins, and says where its crop lies on the canvas (`origin`), so the backend keeps them in place."""
    instance = app[0]
    document = instance.createDocument(1600, 1200, "big", "RGBA", "U8", "", 72.0)
    instance.activeWindow().addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    document.setActiveNode(sketch)
    sent = _record_requests(controller, monkeypatch)
    _draw(sketch, 900, 500, 40, 40)
    controller.request_guidance()
    wait_for(lambda: controller.session.memory.state is not None and not controller.session.guide_jobs.busy, what="a first reply")
    first_state, first_crop = controller.session.region.region and controller.session.memory.state, controller.session.region.region
    controller.set_pin("eyes", True)
    _draw(sketch, 1300, 900, 30, 20)  # far from the first stroke: the crop must grow
    controller.request_guidance()
    wait_for(lambda: controller.session.memory.state != first_state and not controller.session.guide_jobs.busy, what="a second reply")
    crop = controller.session.region.region
    assert crop != first_crop
    op, params = sent[-1]
    assert op == "guide" and params["state"] == first_state and params["pins"] == ["eyes"]
    assert params["origin"] == [crop.x, crop.y] and sent[0][1]["origin"] == [first_crop.x, first_crop.y]
    assert "pin eyes" in _guidance(document)  # the pin button's part is really pinned


def test_the_hint_layer_made_with_new_never_becomes_the_sketch(app, controller):
    """New makes the hint layer and Krita makes it the active layer: with Sketch on "Active layer" the sketch
    is still the layer the artist drew on, and a dab on the hint layer is not read as the drawing."""
    instance, document, sketch = app
    _draw(sketch, 30, 30, 12, 12)
    assert controller.sketch_layer(document).uniqueId() == sketch.uniqueId()
    controller.create_hints_layer()
    hints = controller.hints_layer(document)
    document.setActiveNode(hints)
    assert controller.sketch_layer(document).uniqueId() == sketch.uniqueId()
    other = document.createNode("Second sketch", "paintlayer")
    document.rootNode().addChildNode(other, None)
    document.setActiveNode(other)  # the artist moves on to another layer: that one is now the sketch
    assert controller.sketch_layer(document).uniqueId() == other.uniqueId()
    document.setActiveNode(hints)
    assert controller.sketch_layer(document).uniqueId() == other.uniqueId()


def test_sketching_on_the_background_layer(app, controller, monkeypatch):
    """A new document's one layer is opaque paper: no error before anything is drawn, and the crop is
    around the ink (pixels that differ from the paper), not the whole canvas (issue 15, item 2)."""
    from anisketch_krita import canvas
    from anisketch_krita.region import MIN_SIDE, Box

    instance, _, _ = app
    document = instance.createDocument(300, 200, "beginner", "RGBA", "U8", "", 72.0)
    instance.activeWindow().addView(document)
    instance.setActiveDocument(document)
    background = document.nodeByName("Background")
    asked = _record_requests(controller, monkeypatch)
    controller.request_guidance()
    _spin(0.3)
    assert controller.error == "" and not asked and not _guidance(document)  # a neutral start, no red line
    assert controller.sketch_layer(document) == background
    _draw(background, 220, 120, 40, 30, rgb=(30, 90, 220))  # a face drawn off-centre, in blue
    controller.request_guidance()
    wait_for(lambda: bool(_guidance(document)) and not controller.session.guide_jobs.busy, what="guidance")
    crop = controller.session.region.region
    print("Background layer: ink (220, 120, 40, 30), crop", crop, "of a 300x200 canvas")
    assert controller.error == "" and crop.contains(Box(220, 120, 40, 30)) and crop.w == MIN_SIDE  # not the canvas
    assert [op for op, _ in asked] == ["guide"] and asked[0][1]["origin"] == [crop.x, crop.y]
    assert canvas.paper_of(document, background) is not None


def test_a_pen_lift_starts_the_update_at_once_once_krita_has_applied_the_stroke(app, controller, monkeypatch):
    """No settling pause after a pen lift (the poll's 0.25 s is for changes without an input event): the
    update waits only for Krita's strokes queue to be idle. The poll is stopped here: the lift alone does it."""
    import time

    instance, document, sketch = app
    controller.update_settings(auto_update=True)
    controller._poll.stop()
    asked = _record_requests(controller, monkeypatch)
    _draw(sketch, 30, 30, 20, 20)
    document.stroke_running = True  # Krita still applies the stroke's last dabs
    lifted = time.perf_counter()
    controller.pen_lifted()
    _spin(0.2)
    assert not asked, "sent before Krita had applied the stroke"
    document.stroke_running = False
    idle = time.perf_counter()
    wait_for(lambda: bool(asked), what="the guide the lift started")
    print(f"pen lift -> guide sent: {(time.perf_counter() - idle) * 1e3:.1f} ms after Krita went idle "
          f"({(time.perf_counter() - lifted) * 1e3:.0f} ms after the lift, 200 of them held back on purpose)")
    wait_for(lambda: bool(_guidance(document)), what="guidance on the canvas")
    assert [op for op, _ in asked] == ["guide"]
