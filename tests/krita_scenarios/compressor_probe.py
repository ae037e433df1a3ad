"""Probe, run INSIDE the real Krita (tests/krita_harness.py): how soon a mark on a vector layer's invisible
shape (the way the plugin shows written guidance) reaches Krita's image, depending on what was marked before.

Krita's vector layers repaint through a signal compressor (100 ms, "first inactive"): a mark on a cold layer
waits one or two of its timer's ticks. While the timer still runs after a repaint, a new mark may repaint at
once. This probe measures it: for each lead time D, a 1 px "warm-up" mark D ms before the real write (or none),
then the guidance layers are rewritten over a 1700 px square and the square marked; recorded is the time from
that mark until Document.pixelData shows the new colour at five places. Run it with
`python tests/krita_harness.py tests/krita_scenarios/compressor_probe.py runs/compressor-probe --setting guidance_on=false`.
"""

import os
import sys
import time

try:
    from PyQt5.QtCore import QRectF
except ImportError:
    from PyQt6.QtCore import QRectF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling probe's layout
from redraw_probe import AT, SPOTS, SQUARE, _write_guidance, probe_document  # noqa: E402

LEADS_MS = [None, 30, 60, 90, 120, 150, 200, 250, 300, 400, 500, 700]
ROUNDS = int(os.environ.get("ANISKETCH_PROBE_ROUNDS", "4"))
COLD_S = 1.2  # long enough for the compressor's timer to stop (it runs on 5 delays after the last repaint)
WINDOW_S = 0.6


def scenario(t):
    krita = t.krita
    doc, layers, (shapes,) = probe_document(krita)
    yield 2.0
    shape = shapes[0]
    points = 72.0 / doc.xRes()
    square_pt = QRectF(AT * points, AT * points, SQUARE * points, SQUARE * points)
    corner_pt = QRectF(0, 0, points, points)

    rows = t.result["rows"] = []
    colour = 0
    for _ in range(ROUNDS):
        for lead in LEADS_MS:
            colour += 1
            bgra = bytes(((40 + 7 * colour) % 256, (200 - 5 * colour) % 256, (90 + 11 * colour) % 256, 255))
            yield COLD_S
            if lead is not None:
                warmed = time.perf_counter()
                shape.updateAbsolute(corner_pt)
                while (time.perf_counter() - warmed) * 1e3 < lead:
                    yield 0.002
            _write_guidance(layers, bgra)
            marked = time.perf_counter()
            shape.updateAbsolute(square_pt)
            seen = None
            while time.perf_counter() - marked < WINDOW_S:
                if all(bytes(doc.pixelData(x, y, 1, 1)) == bgra for x, y in SPOTS):
                    seen = (time.perf_counter() - marked) * 1e3
                    break
                yield 0.002
            actual_lead = None if lead is None else round((marked - warmed) * 1e3, 1)
            rows.append({"lead_ms": lead, "actual_lead_ms": actual_lead,
                         "shown_after_ms": None if seen is None else round(seen, 1)})
    doc.setModified(False)
