"""Probe, run INSIDE the real Krita: what the first guidance update costs the GUI thread, by way of adding its
layers. The first update makes the guidance group, 7 part layers with their pixels and 2 redraw layers.
`python tests/krita_harness.py tests/krita_scenarios/first_update_probe.py runs/first-update-probe --setting guidance_on=false`

Ways, each on a fresh 3000 x 2000 document with a drawn sketch layer:
- "one by one": the group joins the document, then each part layer (pixels written first) joins the group;
- "assembled": the part layers join the group before the group joins the document, which then takes the
  whole group in one addition.
Recorded per way: each call's time, the total, whether the layers are there and shown, the undo entries.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling probe's helpers
from redraw_probe import _undo_text, sketch_document  # noqa: E402

PART = 300  # each part layer's pixels: a 300 px square


def scenario(t):
    krita = t.krita
    t.result["ways"] = []
    for way in ("one by one", "assembled", "one by one", "assembled"):
        doc, root, sketch = sketch_document(krita, f"probe {way}")
        sketch.setPixelData(bytes([0, 0, 0, 255]) * (400 * 400), 1300, 600, 400, 400)
        doc.refreshProjection()
        yield 1.5
        undo_before = _undo_text(krita)
        calls = []

        def timed(name, call):
            started = time.perf_counter()
            result = call()
            calls.append((name, round((time.perf_counter() - started) * 1e3, 1)))
            return result

        started = time.perf_counter()
        group = doc.createGroupLayer("Probe guidance")
        parts = []
        for k in range(7):
            layer = doc.createNode(f"part {k}", "paintlayer")
            colour = bytes([40 * k % 256, 200, 90, 255])
            layer.setPixelData(colour * (PART * PART), 1000 + 60 * k, 500 + 40 * k, PART, PART)
            parts.append(layer)
        vectors = [doc.createVectorLayer(f"AniSketch redraw {k + 1}") for k in range(2)]
        if way == "one by one":
            timed("group", lambda: root.addChildNode(group, sketch))
            for node in parts + vectors:
                timed(node.name(), lambda: group.addChildNode(node, None))
        else:
            for node in parts + vectors:
                timed(node.name(), lambda: group.addChildNode(node, None))
            timed("group", lambda: root.addChildNode(group, sketch))
        total_ms = (time.perf_counter() - started) * 1e3
        yield 1.0
        placed = next((n for n in root.childNodes() if n.name() == "Probe guidance"), None)
        children = [n.name() for n in placed.childNodes()] if placed is not None else None
        shown = bytes(doc.pixelData(1000 + 5, 500 + 5, 1, 1)).hex()
        doc.refreshProjection()
        t.result["ways"].append({"way": way, "total_ms": round(total_ms, 1), "calls": calls, "children": children,
                                 "shown": shown, "recomposited": bytes(doc.pixelData(1000 + 5, 500 + 5, 1, 1)).hex(),
                                 "undo_before": undo_before, "undo_after": _undo_text(krita)})
        doc.setModified(False)
        doc.close()
        yield 1.0
