"""Writing our layers into the document, against the stand-in `krita` module (fast): the guidance group and its
part layers, the redraw layers' marks, render candidates and the renders group. Reading: test_plugin_model.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fake_krita"))
from plugin_fixtures import krita, plugin  # noqa: E402, F401  (pytest fixtures; skips without PyQt5)
from support import bgra, new_document, opaque_document  # noqa: E402


def test_guidance_layers_are_reused_placed_exactly_and_stale_ones_removed(plugin, krita):
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita)
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

    document, sketch = new_document(krita)
    group = _group(document, canvas.GUIDANCE_GROUP, sketch)
    layer = document.createVectorLayer(canvas.REDRAW_LAYER)
    group.addChildNode(layer, None)
    monkeypatch.setattr(canvas, "INVISIBLE_SHAPE", "<svg/>")  # as if Krita had made no shape of it
    canvas.redraw(document, group, Box(0, 0, 4, 4))
    assert document.refresh_count == 1 and document.dirty_rects == []


def test_candidates_choose_and_keep(plugin, krita):
    from anisketch_krita import canvas, protocol
    from anisketch_krita.region import Box

    document, sketch = new_document(krita)
    before = bytes(sketch.pixelData(0, 0, 64, 64))
    layers = [protocol.Layer(f"r{i}", "bgra8", 2, 2, bgra((i, i, i)) * 4) for i in range(3)]
    old = canvas.replace_renders(document, layers, Box(0, 0, 2, 2), "Render", sketch)
    nodes = canvas.replace_renders(document, layers, Box(0, 0, 2, 2), "Render", sketch)
    group = canvas.find_group(document, canvas.RENDERS_GROUP)
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

    document, sketch = new_document(krita)
    guidance = _group(document, canvas.GUIDANCE_GROUP, sketch)
    parts = [("Flat colours", "normal"), ("Shadows", "multiply"), ("Highlights", "screen")]
    layers = [protocol.Layer(name, "bgra8", 2, 2, bgra((i, i, i)) * 4, group=f"Candidate {i + 1}", blend=blend)
              for i in range(2) for name, blend in parts]
    placed, empty = outputs.place_candidates(document, layers, Box(0, 0, 2, 2), sketch, "Render")
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    order = [n.name() for n in sketch.parentNode().childNodes()]  # bottom to top
    print("layer stack, bottom to top:", order)
    assert order.index(canvas.RENDERS_GROUP) < order.index(sketch.name()) < order.index(canvas.GUIDANCE_GROUP)
    assert guidance is not None and [c.name for c in placed] == ["Candidate 1", "Candidate 2"] and empty == []
    first, second = renders.childNodes()
    assert [(n.name(), n.blendingMode()) for n in first.childNodes()] == parts
    assert first.visible() and not second.visible()
    canvas.choose(renders, second)
    assert not first.visible() and second.visible()


def test_a_backdrop_paints_the_rest_of_the_canvas_and_only_that_layer(plugin, krita):
    """A hinted background runs on past the crop: the Flat colours layer that says so (`backdrop`) covers the
    whole canvas in its colour around its own pixels, in candidate 1 and in a candidate filled later; the
    layers without a backdrop keep to their place."""
    from anisketch_krita import canvas, outputs, protocol
    from anisketch_krita.region import Box

    document, sketch = new_document(krita, size=64)
    lilac, face = (200, 170, 235), (250, 220, 200)

    def candidate(i):
        return [protocol.Layer("Flat colours", "bgra8", 2, 2, bgra(face) * 4, group=f"Candidate {i + 1}",
                               backdrop=list(lilac)),
                protocol.Layer("Shadows", "bgra8", 2, 2, bgra((90, 90, 90)) * 4, group=f"Candidate {i + 1}",
                               blend="multiply")]

    origin = Box(20, 30, 2, 2)
    placed, empty = outputs.place_candidates(document, candidate(0), origin, sketch, "Render", later=1)
    outputs.fill_candidates(document, candidate(1), origin, empty)
    for group in canvas.find_group(document, canvas.RENDERS_GROUP).childNodes():
        flats, shadows = group.childNodes()
        assert bytes(flats.pixelData(20, 30, 1, 1)) == bgra(face)  # its own pixels stay
        for x, y in ((0, 0), (63, 63), (21, 0), (0, 31), (22, 31), (21, 32)):  # every side of the crop
            assert bytes(flats.pixelData(x, y, 1, 1)) == bgra(lilac), (x, y)
        assert bytes(shadows.pixelData(0, 0, 1, 1)) == bytes(4)


def test_a_progressive_render_shows_candidate_1_and_fills_the_others_without_undo_steps(plugin, krita):
    """The first part of a progressive reply places candidate 1 with empty, hidden candidates shaped like it;
    later parts only write pixels into them. A whole render is 4 undo steps (the two blend templates, the group
    in, the old group out), where adding and blending each layer made about 40."""
    from anisketch_krita import canvas, outputs, protocol
    from anisketch_krita.region import Box

    document, sketch = new_document(krita)
    parts = [("Flat colours", "normal"), ("Shadows", "multiply"), ("Highlights", "screen"), ("Line art", "normal")]

    def candidate(i):
        return [protocol.Layer(name, "bgra8", 2, 2, bgra((i, k, 9)) * 4, group=f"Candidate {i + 1}", x=k, blend=blend,
                               visible=name != "Line art") for k, (name, blend) in enumerate(parts)]

    outputs.place_candidates(document, candidate(0), Box(0, 0, 2, 2), sketch, "Render")  # an earlier render
    before, refreshes = len(document.undo_entries), document.refresh_count
    placed, empty = outputs.place_candidates(document, candidate(0), Box(10, 10, 2, 2), sketch, "Render", later=3)
    assert [c.name for c in placed] == ["Candidate 1"] and len(empty) == 3 and document.refresh_count == refreshes + 1
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    assert [(n.name(), n.visible()) for n in renders.childNodes()] == [
        ("Candidate 1", True), ("Candidate 2", False), ("Candidate 3", False), ("Candidate 4", False)]
    assert all([(c.name(), c.blendingMode()) for c in n.childNodes()] == parts for n in renders.childNodes())
    # the reply's hidden layer (refined's own line art) comes hidden in every candidate, the empty ones too
    assert all([c.visible() for c in n.childNodes()] == [True, True, True, False] for n in renders.childNodes())
    assert renders.childNodes()[1].childNodes()[0].bounds().isEmpty()  # empty until its part comes
    filled = outputs.fill_candidates(document, candidate(1) + candidate(2), Box(10, 10, 2, 2), empty)
    assert [c.name for c in filled] == ["Candidate 2", "Candidate 3"] and len(empty) == 1
    shadows = renders.childNodes()[2].childNodes()[1]
    assert bytes(shadows.pixelData(11, 10, 1, 1)) == bgra((2, 1, 9)) and filled[1].thumbnail.width() == 96
    assert document.refresh_count == refreshes + 1  # hidden: nothing redrawn
    canvas.remove_empty(document, empty)  # the reply ended short
    assert [n.name() for n in renders.childNodes()] == ["Candidate 1", "Candidate 2", "Candidate 3"] and empty == []
    steps = document.undo_entries[before:]
    assert steps[:4] == ["Composition Mode Change", "Composition Mode Change", "Add Layer", "Remove Layer"], steps
    assert bytes(sketch.pixelData(0, 0, 1, 1)) == bytes(4)  # the artist's layer untouched


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

    document, sketch = new_document(krita)
    layers = [protocol.Layer("Flat colours", "bgra8", 2, 2, bgra((i, i, i)) * 4, group=f"Candidate {i + 1}")
              for i in range(2)]
    outputs.place_candidates(document, layers, Box(0, 0, 2, 2), sketch, "Render")
    first = canvas.find_group(document, canvas.RENDERS_GROUP)
    first.setOpacity(128)
    first.setVisible(False)
    order = [n.name() for n in document.rootNode().childNodes()]
    placed, _ = outputs.place_candidates(document, layers[:1], Box(0, 0, 2, 2), sketch, "Render")
    second = canvas.find_group(document, canvas.RENDERS_GROUP)
    assert second != first and first.parentNode() is None  # the old group is gone
    assert [n.name() for n in document.rootNode().childNodes()] == order
    assert second.opacity() == 128 and second.visible() and [c.name for c in placed] == ["Candidate 1"]
    assert second.collapsed() and second.childNodes()[0].collapsed()  # one row each in the Layers docker
    assert [n.name() for n in second.childNodes()] == ["Candidate 1"]


def test_renders_multiply_over_a_sketch_with_nothing_visible_beneath(plugin, krita):
    """Beneath a lone or opaque sketch layer (the Background, a scan) colour would never show: there the
    renders group sits right above it and multiplies, so the lines still read through the colour."""
    from anisketch_krita import canvas

    def background_only(krita):
        document = krita.createDocument(64, 64, "t", "RGBA", "U8", "", 72.0)
        return document, document.nodeByName("Background")

    for make in (background_only, opaque_document):
        document, sketch = make(krita)
        group = _renders_group(document, sketch)
        order = [n.name() for n in sketch.parentNode().childNodes()]
        assert order.index(group.name()) == order.index(sketch.name()) + 1 and group.blendingMode() == "multiply"


def test_renders_go_right_beneath_a_transparent_sketch_layer(plugin, krita):
    from anisketch_krita import canvas

    document, paper = opaque_document(krita)
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
    hidden_ink = protocol.Layer("Line art", "bgra8", 4, 4, bgra((0, 0, 0)) * 16, group="Candidate 1", visible=False)
    same = outputs.stack_thumbnail(stacks[0] + [hidden_ink], size=4)  # as Krita first shows it: without the ink
    assert same.pixelColor(0, 0) == shaded and same.pixelColor(3, 0) == lit
