"""The plugin's plain-Python model and its canvas I/O, against the stand-in `krita` module (fast)."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("PyQt5") is None:  # a test extra: CI must have it, so there it is an error
    if os.environ.get("CI") == "true":
        raise RuntimeError("PyQt5 is missing: the plugin's tests need it (backend test extras)")
    pytest.skip("the plugin's unit tests need PyQt5 (backend test extras)", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parent / "fake_krita"))
from support import bgra, import_plugin, install_plugin_copy  # noqa: E402



@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    target = tmp_path_factory.mktemp("pykrita")
    install_plugin_copy(target)
    return import_plugin(target)


@pytest.fixture
def krita(plugin):
    import krita

    return krita.Krita.reset_for_tests()


# ------------------------------------------------------------------------------------------------ state


def test_settings_round_trip_and_bad_values_keep_defaults(plugin):
    from anisketch_krita.state import Settings

    store: dict[str, str] = {}
    settings = Settings(mode="detail", opacity=35, faithfulness=0.8, auto_update=False, style_seed=7)
    settings.save(store.__setitem__)
    assert Settings.load(lambda k, d: store.get(k, d)) == settings
    broken = {"mode": "sketchy", "opacity": "250", "faithfulness": "lots", "auto_update": "maybe"}
    loaded = Settings.load(lambda k, d: broken.get(k, d))
    assert (loaded.mode, loaded.opacity, loaded.faithfulness, loaded.auto_update) == ("rough", 100, 0.75, True)


def test_default_faithfulness_is_the_backends_tuned_one(plugin):
    from anisketch.guidance.faithfulness import DEFAULT_FAITHFULNESS

    from anisketch_krita.state import Settings

    assert Settings().faithfulness == DEFAULT_FAITHFULNESS


def test_photo_report(plugin):
    from anisketch_krita.state import photo_report

    fields = {"faces_found": 2, "warnings": ["the face is small"], "state": "s1"}
    assert photo_report(fields) == ("Found 2 faces: the portrait is of the largest one (select another face to "
                                     "choose it).\nNote: the face is small")
    assert photo_report({"faces_found": 1, "warnings": []}) == "Found 1 face."
    assert photo_report({}) == ""


def test_latest_only_keeps_one_in_flight_and_the_newest_wish(plugin):
    from anisketch_krita.state import LatestOnly

    jobs: LatestOnly[str] = LatestOnly()
    assert jobs.want("a") == "a"
    jobs.sent("1")
    assert jobs.want("b") is None and jobs.want("c") is None  # b is dropped: c is newer
    assert jobs.finished("stale") is None and jobs.busy
    assert jobs.finished("1") == "c"
    assert not jobs.busy and jobs.finished("1") is None


def test_stroke_detector_fires_once_after_the_debounce(plugin):
    from anisketch_krita.state import StrokeDetector

    now = [0.0]
    detector = StrokeDetector(debounce_s=0.25, clock=lambda: now[0])
    seen = []
    for t, signature in [(0.0, "a"), (0.1, "b"), (0.2, "c"), (0.3, "c"), (0.46, "c"), (0.5, "c"), (0.9, "c"),
                         (1.0, "d"), (1.1, "d"), (1.3, "d")]:
        now[0] = t
        seen.append(detector.observe(signature))
    assert seen == [False, False, False, False, True, False, False, False, False, True]


def test_pins_and_attribute_requests(plugin):
    from anisketch_krita.state import Pins, attribute_request, next_seed, vary_attributes

    pins = Pins()
    pins.toggle("hair", True)
    pins.toggle("eyes", True)
    pins.toggle("hair", False)
    assert pins.as_list() == ["eyes"]
    with pytest.raises(ValueError):
        pins.toggle("tail", True)
    assert attribute_request({"hair_color": "pink", "smile": "random", "hat": "off"}) == {"hair_color": "pink",
                                                                                      "hat": "off"}
    assert next_seed(5, True, lambda: 99) == 5 and next_seed(5, False, lambda: 99) == 99
    varied = vary_attributes({"hair_color": "pink"}, {"hair_color": ["a", "b"], "smile": ["on", "off"]}, lambda n: 1)
    assert varied == {"hair_color": "pink", "smile": "off"}


# ------------------------------------------------------------------------------------------------ region


def test_square_around_stays_inside_the_canvas_when_it_can(plugin):
    from anisketch_krita.region import Box, square_around

    box = square_around(Box(900, 100, 80, 200), 1000, 800)
    assert box.w == box.h == 300 and box.right <= 1000 and box.y >= 0 and box.contains(Box(900, 100, 80, 200))
    wide = square_around(Box(10, 10, 600, 90), 2000, 200)  # canvas lower than the square: centred, past edges
    assert wide.h == wide.w == 900 and wide.y == (200 - 900) // 2


def test_photo_square_is_the_selection_square_and_has_no_cap(plugin):
    from anisketch_krita.region import Box, photo_square, selection_square

    for box in (Box(10, 20, 40, 24), Box(0, 0, 96, 50), Box(900, 10, 300, 700)):
        assert photo_square(box, 1280, 960) == selection_square(box, 1280, 960)
    assert photo_square(Box(0, 0, 6000, 4000), 6000, 4000) == Box(0, -1000, 6000, 6000)


def test_region_tracker_is_steady_and_only_grows(plugin):
    from anisketch_krita.region import Box, RegionTracker

    tracker = RegionTracker()
    first = tracker.update(Box(400, 400, 100, 100), 2000, 2000)
    assert tracker.update(Box(420, 420, 50, 50), 2000, 2000) == first  # inside: unchanged
    grown = tracker.update(Box(400, 400, 500, 300), 2000, 2000)
    assert grown.contains(Box(400, 400, 500, 300)) and grown.contains(first)
    assert tracker.update(Box(0, 0, 0, 0), 2000, 2000) is None


# ------------------------------------------------------------------------------------------------ canvas


def test_region_grows_towards_the_sides_a_stroke_left_by(plugin):
    from anisketch_krita.region import Box, RegionTracker, grow_towards

    crop = Box(100, 100, 200, 200)
    right = grow_towards(crop, {"right"}, 1000, 800)
    assert right == Box(100, 75, 250, 250)  # pushed right, then square around that (up and down alike)
    corner = grow_towards(Box(0, 0, 200, 200), {"top", "left"}, 1000, 800)  # nothing beyond the canvas
    assert corner == Box(0, 0, 200, 200)
    tracker = RegionTracker()
    tracker.update(Box(140, 140, 120, 120), 1000, 800)
    before = tracker.region
    tracker.grow({"bottom"}, 1000, 800)
    assert tracker.region.contains(before) and tracker.region.bottom > before.bottom
    assert tracker.grow(set(), 1000, 800) == tracker.region
    small = RegionTracker()
    small.update(Box(100, 50, 60, 60), 300, 200)
    small.grow({"top", "bottom", "left", "right"}, 300, 200)  # the canvas caps it: a square as wide as the canvas
    assert small.region == Box(0, -50, 300, 300)


def _document(krita, size=64, model="RGBA", depth="U8"):
    document = krita.createDocument(size, size, "t", model, depth, "", 72.0)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    return document, sketch


def test_read_bgra8_returns_krita_bytes_untouched(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    sketch.setPixelData(bgra((10, 20, 30)) * 4, 5, 6, 2, 2)
    data = bytes(canvas.read_bgra8(sketch, Box(5, 6, 2, 2)))
    assert data == bgra((10, 20, 30)) * 4
    assert canvas.sketch_bounds(document, sketch) == Box(5, 6, 2, 2)


def test_ink_beyond_looks_only_at_alpha_on_the_lines_right_outside_the_crop(plugin, krita):
    """How the controller tells that a stroke left the crop without Node.bounds (which Krita recomputes
    after every stroke): four 1 px reads just outside the crop, inside the image; colour left by the eraser
    at alpha 0 is no ink."""
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    crop = Box(10, 10, 30, 30)
    sketch.setPixelData(bgra((20, 20, 20)) * 900, 10, 10, 30, 30)  # ink up to the crop's very edges
    assert not canvas.ink_beyond(sketch, crop, 64, 64)
    for x, y, side in [(9, 20, "left"), (40, 20, "right"), (20, 9, "top"), (20, 40, "bottom")]:
        sketch.setPixelData(bgra((20, 20, 20)), x, y, 1, 1)  # one pixel on the line outside
        assert canvas.ink_beyond(sketch, crop, 64, 64) == {side}
        sketch.setPixelData(bgra((255, 255, 255), 0), x, y, 1, 1)  # erased: colour stays, alpha 0
        assert not canvas.ink_beyond(sketch, crop, 64, 64), (x, y)
    sketch.setPixelData(bgra((20, 20, 20)), 70, 20, 1, 1)  # outside the image: never part of a crop
    assert not canvas.ink_beyond(sketch, Box(10, 10, 60, 30), 64, 64)
    assert canvas.is_blank(canvas.read_raw(sketch, Box(45, 45, 10, 10)))
    assert not canvas.is_blank(canvas.read_raw(sketch, Box(30, 30, 10, 10)))


def test_sixteen_bit_documents_are_narrowed_and_widened_exactly(plugin, krita):
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita, depth="U16")
    sketch.setPixelData(bytes([0x10, 0xAB, 0x20, 0xCD, 0x30, 0xEF, 0xFF, 0xFF]), 0, 0, 1, 1)
    assert bytes(canvas.read_bgra8(sketch, Box(0, 0, 1, 1))) == bytes([0xAB, 0xCD, 0xEF, 0xFF])
    layer = protocol.Layer("g", "bgra8", 1, 1, bytes([1, 2, 3, 255]), x=3, y=4)
    target = document.createNode("out", "paintlayer")
    canvas.write_layer(target, layer, Box(10, 10, 8, 8))
    assert bytes(target.pixelData(13, 14, 1, 1)) == bytes([1, 1, 2, 2, 3, 3, 255, 255])


def test_other_colour_spaces_are_refused_with_a_clear_message(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    _, sketch = _document(krita, model="GRAYA")
    with pytest.raises(canvas.CanvasError, match="Convert Image Color Space"):
        canvas.read_bgra8(sketch, Box(0, 0, 4, 4))


def test_guidance_layers_are_reused_placed_exactly_and_stale_ones_removed(plugin, krita):
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    assert [n.name() for n in document.topLevelNodes()] == ["Background", "Sketch", canvas.GUIDANCE_GROUP]
    eyes = protocol.Layer("Guidance: eyes", "bgra8", 2, 1, bgra((0, 0, 255)) * 2, group="eyes", x=-1, y=2)
    hair = protocol.Layer("Guidance: hair", "bgra8", 1, 1, bgra((255, 0, 0)), group="hair", x=0, y=0)
    canvas.update_guidance(document, group, [eyes, hair], Box(10, 20, 16, 16))
    first = {n.name(): n for n in group.childNodes()}
    assert bytes(first["Guidance: eyes"].pixelData(9, 22, 2, 1)) == bgra((0, 0, 255)) * 2
    moved = protocol.Layer("Guidance: eyes", "bgra8", 1, 1, bgra((0, 255, 0)), group="eyes", x=0, y=0)
    canvas.update_guidance(document, group, [moved], Box(10, 20, 16, 16))
    nodes = group.childNodes()
    assert [n.name() for n in nodes] == ["Guidance: eyes"] and nodes[0] == first["Guidance: eyes"]
    assert bytes(nodes[0].pixelData(9, 22, 2, 1)) == bytes(8)  # the old strokes are gone
    assert canvas.box_of(nodes[0].bounds()) == Box(10, 20, 1, 1)


def test_guidance_redraw_marks_only_the_changed_area_dirty_through_an_invisible_shape(plugin, krita):
    """Guidance is shown without refreshProjection: the written area (old and new extents) is marked dirty
    through one shape in an empty vector layer of the group, in points (300 dpi here: 72/300 pt a pixel)."""
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document = krita.createDocument(64, 64, "t", "RGBA", "U8", "", 300.0)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    eyes = protocol.Layer("Guidance: eyes", "bgra8", 2, 1, bgra((0, 0, 255)) * 2, group="eyes", x=-1, y=2)
    changed = canvas.update_guidance(document, group, [eyes], Box(10, 20, 16, 16))
    assert changed == Box(9, 22, 2, 1)
    refreshes = document.refresh_count
    canvas.redraw(document, group, changed)
    redraw_layers = [canvas.find_redraw_layer(group, k) for k in range(2)]
    # The first time, the layers join the document and Krita recomposites the slow way, once; their shapes
    # go in at the next redraw, once Krita has taken the layers in.
    assert [layer.name() for layer in redraw_layers] == ["AniSketch redraw", "AniSketch redraw 2"]
    assert all(layer.type() == "vectorlayer" and layer.shapes() == [] for layer in redraw_layers)
    assert document.refresh_count == refreshes + 1 and document.dirty_rects == []
    canvas.redraw(document, group, changed)
    assert [len(layer.shapes()) for layer in redraw_layers] == [1, 1]  # both: warm() only marks existing shapes
    assert document.refresh_count == refreshes + 2  # + one shape update
    assert all(bytes(layer.projectionPixelData(0, 0, 64, 64)) == bytes(64 * 64 * 4) for layer in redraw_layers)
    assert [n.name() for n in canvas.guidance_layers(group)] == ["Guidance: eyes"]
    assert len(document.dirty_rects) == 1
    assert _covers(document.dirty_rects[-1], (7, 20, 6, 5))  # grown by 2 px for the rounding to points

    moved = protocol.Layer("Guidance: eyes", "bgra8", 1, 1, bgra((0, 255, 0)), group="eyes", x=0, y=0)
    changed = canvas.update_guidance(document, group, [moved], Box(10, 20, 16, 16))
    assert changed == Box(9, 20, 2, 3)  # the old strokes' place too: they must disappear from the screen
    canvas.redraw(document, group, changed)
    assert len(group.childNodes()) == 3 and len(canvas.find_redraw_layer(group).shapes()) == 1  # reused
    assert _covers(document.dirty_rects[-1], (7, 18, 6, 7))

    changed = canvas.update_guidance(document, group, [], Box(10, 20, 16, 16))  # all parts stale: removed
    assert changed == Box(10, 20, 1, 1) and canvas.guidance_layers(group) == []
    assert canvas.find_redraw_layer(group) is not None  # the redraw layers are not parts: they stay
    canvas.redraw(document, group, Box(0, 0, 0, 0))
    assert document.refresh_count == refreshes + 3  # nothing changed, nothing redrawn


def test_redraw_layers_are_kept_warm_by_turns_and_a_write_marks_a_ready_one(plugin, krita, monkeypatch):
    """Krita repaints a mark on a vector layer whose repaint timer still runs at once, on a cold one 0.1-0.2 s
    later (redraw.py): warm() marks 1 px on the layer the clock says is due, and never adds a layer; redraw()
    marks the written area on the layer the clock says is ready."""
    from anisketch_krita import canvas, protocol, redraw
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    clock = redraw.RedrawClock()
    canvas.warm(document, group, clock)
    assert document.marks == [] and canvas.find_redraw_layer(group) is None  # nothing to warm yet, nothing added
    eyes = protocol.Layer("Guidance: eyes", "bgra8", 2, 1, bgra((0, 0, 255)) * 2, group="eyes", x=0, y=0)
    changed = canvas.update_guidance(document, group, [eyes], Box(10, 20, 16, 16))
    canvas.redraw(document, group, changed, clock)  # adds the redraw layers (the slow way, once)
    canvas.redraw(document, group, changed, clock)  # adds their shapes, marks the first (all cold)
    start = time.monotonic() + 10.0
    now = [start]
    monkeypatch.setattr(canvas.time, "monotonic", lambda: now[0])
    warmed = []
    for step in range(30):  # 1.2 s of the controller's 40 ms warm-up ticks
        now[0] = start + 0.04 * step
        before = len(document.marks)
        canvas.warm(document, group, clock)
        warmed += document.marks[before:]
    names = [name for name, _, _ in warmed]
    assert set(names) == {"AniSketch redraw", "AniSketch redraw 2"} and len(names) >= 5
    assert all((rect.width(), rect.height()) == (1, 1) for _, rect, _ in warmed)
    assert all(a != b for a, b in zip(names, names[1:]))  # by turns
    now[0] = start + 1.25
    ready = {canvas.redraw_layer_name(k) for k in range(clock.count) if clock.ready(k, now[0])}
    canvas.redraw(document, group, changed, clock)
    assert ready and document.marks[-1][0] in ready
    assert _covers(document.dirty_rects[-1], (8, 18, 6, 5))


def test_the_first_guidance_joins_the_document_in_one_addition(plugin, krita, monkeypatch):
    """Krita makes the GUI thread wait for each layer added to a group already in the document (about 0.15 s
    each on a 3000 px canvas): the first guidance assembles its group (part layers with their pixels, the
    redraw layers) before the group joins, then shows it once the slow way; later updates rewrite in place."""
    import krita as krita_module

    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    added = []  # (parent's name, child's name, whether the parent was in the document then)
    real_add = krita_module.Node.addChildNode
    monkeypatch.setattr(krita_module.Node, "addChildNode", lambda parent, child, above: added.append(
        (parent.name(), child.name(), _in_document(document, parent))) or real_add(parent, child, above))
    eyes = protocol.Layer("Guidance: eyes", "bgra8", 2, 1, bgra((0, 0, 255)) * 2, group="eyes", x=0, y=0)
    hair = protocol.Layer("Guidance: hair", "bgra8", 1, 1, bgra((255, 0, 0)), group="hair", x=3, y=3)
    refreshes = document.refresh_count
    group, changed = canvas.write_guidance(document, sketch, [eyes, hair], Box(10, 20, 16, 16), lambda g: g.setLocked(True))
    attached = [(parent, child) for parent, child, live in added if live]
    assert attached == [(sketch.parentNode().name(), canvas.GUIDANCE_GROUP)], added
    assert [n.name() for n in group.childNodes()] == ["Guidance: eyes", "Guidance: hair", "AniSketch redraw",
                                                     "AniSketch redraw 2"] and group.locked()
    assert changed.empty and document.refresh_count == refreshes + 1  # shown at once, the slow way, once
    assert bytes(group.childNodes()[0].pixelData(10, 20, 2, 1)) == bgra((0, 0, 255)) * 2
    added.clear()
    again, changed = canvas.write_guidance(document, sketch, [eyes], Box(10, 20, 16, 16), lambda g: None)
    assert again == group and added == [] and changed == Box(10, 20, 4, 4)  # rewritten in place, hair cleared


def _group(document, name, anchor):
    """One of our groups, in the document right above `anchor` (the plugin assembles its groups first)."""
    group = document.createGroupLayer(name)
    anchor.parentNode().addChildNode(group, anchor)
    return group


def _in_document(document, node):
    while node is not None:
        if node == document.rootNode():
            return True
        node = node.parentNode()
    return False


def test_rewriting_guidance_does_not_ask_krita_for_bounds(plugin, krita, monkeypatch):
    """Krita rescans a layer for Node.bounds after every write (1-5 ms a layer at 2048 px): where our own
    layers have pixels is remembered from the previous write instead."""
    import krita as krita_module

    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    hair = protocol.Layer("Guidance: hair", "bgra8", 3, 3, bgra((255, 0, 0)) * 9, group="hair", x=0, y=0)
    canvas.update_guidance(document, group, [hair], Box(10, 10, 16, 16))
    asked = []
    real_bounds = krita_module.Node.bounds
    monkeypatch.setattr(krita_module.Node, "bounds", lambda node: asked.append(node.name()) or real_bounds(node))
    smaller = protocol.Layer("Guidance: hair", "bgra8", 1, 1, bgra((0, 255, 0)), group="hair", x=2, y=2)
    changed = canvas.update_guidance(document, group, [smaller], Box(10, 10, 16, 16))
    canvas.redraw(document, group, changed)
    assert asked == [] and changed == Box(10, 10, 3, 3)
    monkeypatch.undo()
    node = canvas.guidance_layers(group)[0]
    assert canvas.box_of(node.bounds()) == Box(12, 12, 1, 1)  # the old 3 x 3 block is gone around the new pixel


def test_outside_is_exactly_the_old_pixels_the_new_place_does_not_cover(plugin):
    import random

    from anisketch_krita.canvas import outside
    from anisketch_krita.region import Box

    def cells(box):
        return {(x, y) for x in range(box.x, box.right) for y in range(box.y, box.bottom)}

    rng = random.Random(3)
    for _ in range(300):
        old = Box(rng.randrange(-5, 10), rng.randrange(-5, 10), rng.randrange(0, 12), rng.randrange(0, 12))
        place = Box(rng.randrange(-5, 10), rng.randrange(-5, 10), rng.randrange(0, 12), rng.randrange(0, 12))
        parts = outside(old, place)
        covered = [cells(part) for part in parts]
        assert len(parts) <= 4 and all(not part.empty for part in parts)
        assert set().union(*covered) == cells(old) - cells(place), (old, place, parts)
        assert sum(map(len, covered)) == len(set().union(*covered))  # no pixel cleared twice


def _covers(rect, box, slack=1):
    """`rect` (a QRect) holds `box` (x, y, w, h), with at most `slack` px to spare on each side."""
    x, y, w, h = box
    return (x - slack <= rect.x() <= x and y - slack <= rect.y() <= y
            and x + w <= rect.x() + rect.width() <= x + w + slack and y + h <= rect.y() + rect.height() <= y + h + slack)


def test_redraw_falls_back_to_a_full_refresh_without_a_shape(plugin, krita, monkeypatch):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    layer = document.createVectorLayer(canvas.REDRAW_LAYER)
    group.addChildNode(layer, None)
    monkeypatch.setattr(canvas, "INVISIBLE_SHAPE", "<svg/>")  # as if Krita had made no shape of it
    canvas.redraw(document, group, Box(0, 0, 4, 4))
    assert document.refresh_count == 1 and document.dirty_rects == []


def test_candidates_choose_and_keep(plugin, krita):
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    before = bytes(sketch.pixelData(0, 0, 64, 64))
    group = _group(document, canvas.RENDERS_GROUP, sketch)
    layers = [protocol.Layer(f"r{i}", "bgra8", 2, 2, bgra((i, i, i)) * 4) for i in range(3)]
    old = canvas.add_candidates(document, group, layers, Box(0, 0, 2, 2), "Render")
    nodes = canvas.add_candidates(document, group, layers, Box(0, 0, 2, 2), "Render")
    assert [n.name() for n in group.childNodes()] == ["Render 1", "Render 2", "Render 3"]
    assert not any(n in group.childNodes() for n in old)  # == compares the nodes themselves
    assert [n.visible() for n in nodes] == [True, False, False]
    canvas.choose(group, nodes[2])
    assert [n.visible() for n in nodes] == [False, False, True]
    kept = canvas.keep(document, group, nodes[2])
    assert canvas.find_group(document, canvas.RENDERS_GROUP) is None
    assert kept.name() == "AniSketch Render 3" and kept.visible()
    assert bytes(kept.pixelData(0, 0, 1, 1)) == bgra((2, 2, 2))
    assert bytes(sketch.pixelData(0, 0, 64, 64)) == before


def test_render_candidates_are_groups_beneath_the_sketch_with_their_blend_modes(plugin, krita):
    """Contract 3: per candidate, Flat colours (normal), Shadows (multiply), Highlights (screen) in a group
    named by the candidate; the renders group lies BENEATH the sketch, the guidance group stays above it."""
    from anisketch_krita import canvas, outputs, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    guidance = _group(document, canvas.GUIDANCE_GROUP, sketch)
    parts = [("Flat colours", "normal"), ("Shadows", "multiply"), ("Highlights", "screen")]
    layers = [protocol.Layer(name, "bgra8", 2, 2, bgra((i, i, i)) * 4, group=f"Candidate {i + 1}", blend=blend)
              for i in range(2) for name, blend in parts]
    placed = outputs.place_candidates(document, layers, Box(0, 0, 2, 2), sketch, "Render")
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    order = [n.name() for n in sketch.parentNode().childNodes()]  # bottom to top
    print("layer stack, bottom to top:", order)
    assert order.index(canvas.RENDERS_GROUP) < order.index(sketch.name()) < order.index(canvas.GUIDANCE_GROUP)
    assert guidance is not None and [c.name for c in placed] == ["Candidate 1", "Candidate 2"]
    first, second = renders.childNodes()
    assert [(n.name(), n.blendingMode()) for n in first.childNodes()] == parts
    assert first.visible() and not second.visible()
    canvas.choose(renders, second)
    assert not first.visible() and second.visible()


def _renders_group(document, sketch):
    from anisketch_krita import canvas

    group = document.createGroupLayer(canvas.RENDERS_GROUP)
    canvas.place_renders_group(document, group, sketch)
    return group


def test_a_new_render_takes_the_old_renders_groups_place_and_look(plugin, krita):
    """Each render's candidates come in a new renders group, assembled before it joins the document; it takes
    the old group's place, opacity and blending (the artist's), and the old group goes."""
    from anisketch_krita import canvas, outputs, protocol
    from anisketch_krita.region import Box

    document, sketch = _document(krita)
    layers = [protocol.Layer("Flat colours", "bgra8", 2, 2, bgra((i, i, i)) * 4, group=f"Candidate {i + 1}")
              for i in range(2)]
    outputs.place_candidates(document, layers, Box(0, 0, 2, 2), sketch, "Render")
    first = canvas.find_group(document, canvas.RENDERS_GROUP)
    first.setOpacity(128)
    first.setVisible(False)
    order = [n.name() for n in document.rootNode().childNodes()]
    placed = outputs.place_candidates(document, layers[:1], Box(0, 0, 2, 2), sketch, "Render")
    second = canvas.find_group(document, canvas.RENDERS_GROUP)
    assert second != first and first.parentNode() is None  # the old group is gone
    assert [n.name() for n in document.rootNode().childNodes()] == order
    assert second.opacity() == 128 and second.visible() and [c.name for c in placed] == ["Candidate 1"]
    assert [n.name() for n in second.childNodes()] == ["Candidate 1"]


def test_renders_multiply_over_a_sketch_with_nothing_visible_beneath(plugin, krita):
    """Beneath a lone or opaque sketch layer (the Background, a scan) colour would never show: there the
    renders group sits right above it and multiplies, so the lines still read through the colour."""
    from anisketch_krita import canvas

    def background_only(krita):
        document = krita.createDocument(64, 64, "t", "RGBA", "U8", "", 72.0)
        return document, document.nodeByName("Background")

    for make in (background_only, _opaque_document):
        document, sketch = make(krita)
        group = _renders_group(document, sketch)
        order = [n.name() for n in sketch.parentNode().childNodes()]
        assert order.index(group.name()) == order.index(sketch.name()) + 1 and group.blendingMode() == "multiply"


def test_renders_go_right_beneath_a_transparent_sketch_layer(plugin, krita):
    from anisketch_krita import canvas

    document, paper = _opaque_document(krita)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, paper)
    group = _renders_group(document, sketch)
    order = [n.name() for n in document.rootNode().childNodes()]
    assert order[-3:] == ["Paper", canvas.RENDERS_GROUP, "Sketch"] and group.blendingMode() == "normal"


def test_a_candidates_thumbnail_mixes_its_layers_as_krita_will(plugin, krita):
    """The thumbnail the artist chooses by is the candidate's stack, each layer blended by its mode (a shadow
    multiplied onto the flats, a highlight screened), not its bottom layer alone."""
    from anisketch_krita import outputs, protocol

    flats = protocol.Layer("Flat colours", "bgra8", 4, 4, bgra((200, 100, 40)) * 16, group="Candidate 1")
    shadow = protocol.Layer("Shadows", "bgra8", 2, 4, bgra((128, 128, 255)) * 8, group="Candidate 1",
                            blend="multiply")
    light = protocol.Layer("Highlights", "bgra8", 2, 4, bgra((0, 100, 0)) * 8, group="Candidate 1", x=2,
                           blend="screen")
    other = protocol.Layer("Flat colours", "bgra8", 4, 4, bgra((1, 2, 3)) * 16, group="Candidate 2")
    stacks = outputs.candidate_stacks([flats, shadow, light, other])
    assert [[layer.name for layer in stack] for stack in stacks] == [["Flat colours", "Shadows", "Highlights"],
                                                                     ["Flat colours"]]
    image = outputs.stack_thumbnail(stacks[0], size=4)
    shaded, lit = image.pixelColor(0, 0), image.pixelColor(3, 0)
    assert abs(shaded.red() - 100) <= 2 and abs(shaded.green() - 50) <= 2 and abs(shaded.blue() - 40) <= 2
    assert lit.red() == 200 and abs(lit.green() - 161) <= 2 and lit.blue() == 40  # 255 - 155 * 155 / 255


def _opaque_document(krita, width=300, height=200, paper=(255, 255, 255)):
    """A new document's one layer, filled with paper (as Krita's Background is), nothing drawn yet."""
    document = krita.createDocument(width, height, "t", "RGBA", "U8", "", 72.0)
    background = document.createNode("Paper", "paintlayer")
    document.rootNode().addChildNode(background, None)
    background.setPixelData(bgra(paper) * (width * height), 0, 0, width, height)
    return document, background


def test_an_opaque_layer_has_ink_where_it_differs_from_the_paper(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, background = _opaque_document(krita)
    paper = canvas.paper_of(document, background)
    assert paper == bgra((255, 255, 255))
    assert canvas.sketch_bounds(document, background).empty  # nothing drawn: no ink, not the whole canvas
    background.setPixelData(bgra((20, 20, 200)) * (30 * 12), 230, 150, 30, 12)  # blue ink, off-centre
    found = canvas.sketch_bounds(document, background)
    print("ink at (230, 150, 30, 12) found at", found)
    assert found.contains(Box(230, 150, 30, 12)) and found.w <= 30 + 6 and found.h <= 12 + 6
    assert canvas.is_empty(background.pixelData(0, 0, 50, 50), paper)
    assert not canvas.is_empty(background.pixelData(220, 140, 50, 50), paper)
    assert canvas.ink_beyond(background, Box(200, 130, 40, 30), 300, 200, paper) == {"right", "bottom"}
    document2, sketch = _document(krita)
    assert canvas.paper_of(document2, sketch) is None  # a transparent layer has no paper
