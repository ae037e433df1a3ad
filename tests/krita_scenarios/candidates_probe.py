"""Probe, run INSIDE the real Krita: what placing render candidates costs the GUI thread, by way of adding them.
`python tests/krita_harness.py tests/krita_scenarios/candidates_probe.py runs/candidates-probe --setting guidance_on=false`

A 3000 x 2000 document with a sketch; 4 candidates of 3 layers each (1800 px square of pixels), twice (the
second render replaces the first):
- "into the group": each candidate group, assembled, joins the renders group already in the document; the old
  candidates are removed one by one;
- "group swapped": a new renders group, assembled with all 4 candidates, joins the document once beside the
  old one, which is then removed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling probe's helpers
from redraw_probe import sketch_document  # noqa: E402

SIDE, AT = 1800, 600


def scenario(t):
    krita = t.krita
    t.result["ways"] = []
    for way in ("into the group", "group swapped", "into the group", "group swapped"):
        doc, root, sketch = sketch_document(krita, f"probe {way}")
        renders = doc.createGroupLayer("Probe renders")
        root.addChildNode(renders, None)
        yield 1.0
        rounds = []
        for render in range(2):
            calls = []

            def timed(name, call):
                started = time.perf_counter()
                call()
                calls.append((name, round((time.perf_counter() - started) * 1e3, 1)))

            started = time.perf_counter()
            candidates = [_candidate(doc, k, render) for k in range(4)]
            made_ms = (time.perf_counter() - started) * 1e3
            if way == "into the group":
                old = renders.childNodes()
                for k, node in enumerate(candidates):
                    timed(f"add {k}", lambda: renders.addChildNode(node, candidates[k - 1] if k else None))
                for k, node in enumerate(old):
                    timed(f"remove {k}", node.remove)
            else:
                fresh = doc.createGroupLayer("Probe renders")
                for k, node in enumerate(candidates):
                    fresh.addChildNode(node, candidates[k - 1] if k else None)
                timed("add group", lambda: root.addChildNode(fresh, renders))
                timed("remove old group", renders.remove)
                renders = fresh
            timed("refresh", doc.refreshProjection)
            rounds.append({"total_ms": round((time.perf_counter() - started) * 1e3, 1), "made_ms": round(made_ms, 1),
                           "calls": calls})
            yield 0.5
        placed = next(n for n in root.childNodes() if n.name() == "Probe renders")
        t.result["ways"].append({"way": way, "rounds": rounds,
                                 "stack": [n.name() for n in root.childNodes()],
                                 "candidates": [[c.name() for c in n.childNodes()] for n in placed.childNodes()]})
        doc.setModified(False)
        doc.close()
        yield 1.0


def _candidate(doc, k, render):
    group = doc.createGroupLayer(f"Candidate {k + 1}")
    group.setVisible(k == 0)
    for j, name in enumerate(("Flat colours", "Shadows", "Highlights")):
        layer = doc.createNode(name, "paintlayer")
        layer.setPixelData(bytes([30 * k, 40 * j, 60 + render, 255 if j == 0 else 90]) * (SIDE * SIDE), AT, 100, SIDE, SIDE)
        children = group.childNodes()
        group.addChildNode(layer, children[-1] if children else None)
    return group
