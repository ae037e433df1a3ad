"""Probe, run INSIDE the real Krita (tests/krita_harness.py): which libkis call shows pixels that setPixelData
wrote, at what GUI-thread cost, and with what undo entries. Run it with
`python tests/krita_harness.py tests/krita_scenarios/redraw_probe.py runs/redraw-probe --setting guidance_on=false`.

A 2048 px document laid out like the plugin's (Background, Sketch, a locked "Probe guidance" group of 7
paint layers), plus a vector layer in the group holding one invisible shape. For each way of redrawing, a few
rounds of: rewrite the guidance layers over a 1700 px square (as an update does), call the redraw, then wait
with a 2 ms heartbeat until Document.pixelData (the image projection) shows the new colour at five places
spread over the square (its corners and centre), or 1.5 s pass. Recorded per round: the call's own time on
the GUI thread, when the pixels appeared, and the longest gap between heartbeats (the worst the GUI thread
was blocked meanwhile, Krita's own canvas repaint included, or another process had the CPU) and the GUI
thread's CPU time over the call and the window after it (time.thread_time: the call, Krita's repaint of the
canvas, and the heartbeat's own few ms); per method: the undo history before and after.
"""

import os
import time

try:
    from PyQt5.QtCore import QRectF
except ImportError:
    from PyQt6.QtCore import QRectF

SIDE, AT, SQUARE = 2048, 180, 1700
SPOTS = [(AT + 3, AT + 3), (AT + SQUARE - 4, AT + 3), (AT + 3, AT + SQUARE - 4), (AT + SQUARE - 4, AT + SQUARE - 4),
         (AT + SQUARE // 2, AT + SQUARE // 2)]
WINDOW_S = 0.6  # how long the heartbeat runs after each redraw call
ROUNDS = int(os.environ.get("ANISKETCH_PROBE_ROUNDS", "5"))
INVISIBLE_SHAPE = ('<svg xmlns="http://www.w3.org/2000/svg" width="2048px" height="2048px">'
                   '<rect x="0" y="0" width="1" height="1" fill="none" stroke="none"/></svg>')


def sketch_document(krita, name, width=3000, height=2000):
    """A new document in a view, a "Sketch" paint layer on its Background: (document, root, sketch)."""
    doc = krita.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    krita.activeWindow().addView(doc)
    root = doc.rootNode()
    sketch = doc.createNode("Sketch", "paintlayer")
    root.addChildNode(sketch, None)
    return doc, root, sketch


def probe_document(krita, redraw_layers=1):
    """A document laid out like the plugin's: Background, Sketch, a locked group of 7 part layers and
    `redraw_layers` vector layers holding one invisible shape each. Returns (document, part layers, the vector
    layers' shape lists); give Krita a moment before marking."""
    doc = krita.createDocument(SIDE, SIDE, "probe", "RGBA", "U8", "", 300.0)
    krita.activeWindow().addView(doc)
    root = doc.rootNode()
    sketch = doc.createNode("Sketch", "paintlayer")
    root.addChildNode(sketch, None)
    # Not named "AniSketch guidance": the plugin, loaded in this Krita too, would manage a group of that name.
    root.addChildNode(doc.createGroupLayer("Probe guidance"), sketch)
    group = next(n for n in root.childNodes() if n.name() == "Probe guidance")
    layers = []
    for k in range(7):
        layer = doc.createNode(f"part {k}", "paintlayer")
        group.addChildNode(layer, layers[-1] if layers else None)
        layers.append(layer)
    shapes = []
    for k in range(redraw_layers):
        vector = doc.createVectorLayer("AniSketch redraw" + (f" {k + 1}" if k else ""))
        group.addChildNode(vector, None)
        shapes.append(vector.addShapesFromSvg(INVISIBLE_SHAPE) or vector.shapes())
    group.setLocked(True)
    doc.refreshProjection()
    return doc, layers, shapes


def scenario(t):
    krita = t.krita
    doc, layers, (shapes,) = probe_document(krita)
    group = layers[0].parentNode()
    yield 2.0
    t.result["shapes"] = [(s.name(), s.type(), s.visible()) for s in shapes]
    t.result["xres"] = doc.xRes()
    shape = shapes[0]
    points = 72.0 / doc.xRes()
    square_pt = QRectF(AT * points, AT * points, SQUARE * points, SQUARE * points)

    def update_shape():
        shape.updateAbsolute(square_pt)

    def toggle_opacity():
        group.setOpacity(254)
        group.setOpacity(255)

    def toggle_visible():
        layers[0].setVisible(False)
        layers[0].setVisible(True)

    def move_layer():
        layers[0].move(1, 0)
        layers[0].move(0, 0)

    def blending_mode():
        layers[0].setBlendingMode(layers[0].blendingMode())

    def hide_group_then_update():
        group.setVisible(False)
        update_shape()

    def show_group_at_half_opacity_then_update():
        group.setVisible(True)
        group.setOpacity(128)
        update_shape()

    # (name, redraw, rounds, what the spots should show: "new" colour, "white", or None: only compare with a
    # full recomposite)
    methods = [("refreshProjection", doc.refreshProjection, ROUNDS, "new"),
               ("shape.updateAbsolute", update_shape, ROUNDS, "new"),
               ("group opacity 254/255", toggle_opacity, 2, "new"),
               ("layer hide/show", toggle_visible, 2, "new"),
               ("layer move +1/back", move_layer, 2, "new"),
               ("setBlendingMode(same)", blending_mode, 1, "new"),
               ("group hidden, shape.updateAbsolute", hide_group_then_update, 1, "white"),
               ("group shown at opacity 128, shape.updateAbsolute", show_group_at_half_opacity_then_update, 1, None),
               ("shape.updateAbsolute again", update_shape, ROUNDS, None)]
    report = t.result["methods"] = []
    colour = 0
    for name, redraw, rounds, expect in methods:
        undo_before = _undo_text(krita)
        rows = []
        for _ in range(rounds):
            colour += 1
            bgra = bytes(((40 + 7 * colour) % 256, (200 - 5 * colour) % 256, (90 + 11 * colour) % 256, 255))
            want = {"new": bgra, "white": b"\xff\xff\xff\xff", None: None}[expect]
            yield 0.3
            started = time.perf_counter()
            _write_guidance(layers, bgra)
            write_ms = (time.perf_counter() - started) * 1e3
            started, cpu_started = time.perf_counter(), time.thread_time()
            redraw()
            call_ms = (time.perf_counter() - started) * 1e3
            seen_at, longest_gap, last = None, 0.0, time.perf_counter()
            while time.perf_counter() - started < WINDOW_S:  # heartbeat: every 2 ms unless the GUI thread is busy
                if seen_at is None and want is not None and all(bytes(doc.pixelData(x, y, 1, 1)) == want
                                                                for x, y in SPOTS):
                    seen_at = (time.perf_counter() - started) * 1e3
                yield 0.002
                now = time.perf_counter()
                longest_gap, last = max(longest_gap, (now - last) * 1e3), now
            gui_cpu_ms = (time.thread_time() - cpu_started) * 1e3
            shown = [bytes(doc.pixelData(x, y, 1, 1)).hex() for x, y in SPOTS]
            doc.refreshProjection()
            recomposited = [bytes(doc.pixelData(x, y, 1, 1)).hex() for x, y in SPOTS]
            rows.append({"write_ms": round(write_ms, 1), "call_ms": round(call_ms, 2),
                         "visible_after_ms": None if seen_at is None else round(seen_at, 1),
                         "longest_gui_gap_ms": round(longest_gap, 1), "gui_cpu_ms": round(gui_cpu_ms, 1),
                         "same_as_full_recomposite": shown == recomposited, "shown": shown[0]})
        report.append({"method": name, "rounds": rows, "undo_before": undo_before, "undo_after": _undo_text(krita)})
    doc.setModified(False)


def _write_guidance(layers, bgra):
    """Each layer rewritten over the square (transparent), with the probe colour at the spots on layer 0."""
    blank = bytearray(SQUARE * SQUARE * 4)
    for layer in layers[1:]:
        layer.setPixelData(bytes(blank), AT, AT, SQUARE, SQUARE)
    for x, y in SPOTS:
        offset = ((y - AT) * SQUARE + (x - AT)) * 4
        blank[offset:offset + 4] = bgra
    layers[0].setPixelData(bytes(blank), AT, AT, SQUARE, SQUARE)


def _undo_text(krita):
    """The undo history's length and top entry, read from Krita's History docker (its list view)."""
    try:
        from PyQt5.QtWidgets import QAbstractItemView
    except ImportError:
        from PyQt6.QtWidgets import QAbstractItemView
    action = krita.action("edit_undo")
    for dock in krita.dockers():
        if dock.objectName() == "History":
            views = dock.findChildren(QAbstractItemView)
            if views and views[0].model() is not None:
                return [views[0].model().rowCount(), action.text() if action is not None else None]
    return [None, action.text() if action is not None else None]
