"""The plugin's plain-Python model and its canvas reading, against the stand-in `krita` module (fast). Writing our
layers (guidance, redraw marks, render candidates): test_plugin_layers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fake_krita"))
from plugin_fixtures import krita, plugin  # noqa: E402, F401  (pytest fixtures; skips without PyQt5)
from support import bgra, new_document, opaque_document  # noqa: E402


# ------------------------------------------------------------------------------------------------ state


def test_settings_round_trip_and_bad_values_keep_defaults(plugin):
    from anisketch_krita.state import Settings

    store: dict[str, str] = {}
    settings = Settings(mode="detail", opacity=35, faithfulness=0.8, auto_update=False, style_seed=7)
    settings.save(store.__setitem__)
    assert Settings.load(lambda k, d: store.get(k, d)) == settings
    broken = {"mode": "sketchy", "opacity": "250", "faithfulness": "lots", "auto_update": "maybe"}
    loaded = Settings.load(lambda k, d: broken.get(k, d))
    assert (loaded.mode, loaded.opacity, loaded.faithfulness, loaded.auto_update) == ("rough", 100, 1.0, True)


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


def test_read_bgra8_returns_krita_bytes_untouched(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita, depth="U16")
    sketch.setPixelData(bytes([0x10, 0xAB, 0x20, 0xCD, 0x30, 0xEF, 0xFF, 0xFF]), 0, 0, 1, 1)
    assert bytes(canvas.read_bgra8(sketch, Box(0, 0, 1, 1))) == bytes([0xAB, 0xCD, 0xEF, 0xFF])
    layer = protocol.Layer("g", "bgra8", 1, 1, bytes([1, 2, 3, 255]), x=3, y=4)
    target = document.createNode("out", "paintlayer")
    canvas.write_layer(target, layer, Box(10, 10, 8, 8))
    assert bytes(target.pixelData(13, 14, 1, 1)) == bytes([1, 1, 2, 2, 3, 3, 255, 255])


def test_other_colour_spaces_are_refused_with_a_clear_message(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    _, sketch = new_document(krita, model="GRAYA")
    with pytest.raises(canvas.CanvasError, match="Convert Image Color Space"):
        canvas.read_bgra8(sketch, Box(0, 0, 4, 4))


def test_an_opaque_layer_has_ink_where_it_differs_from_the_paper(plugin, krita):
    from anisketch_krita import canvas
    from anisketch_krita.region import Box

    document, background = opaque_document(krita)
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
    document2, sketch = new_document(krita)
    assert canvas.paper_of(document2, sketch) is None  # a transparent layer has no paper
