"""Probe, run INSIDE the real Krita: redraw layers kept warm in turn vs one layer warmed at pen lift.

"cycle": 3 vector layers; every 200 ms one of them (in turn) gets a 1 px warm-up mark, so each is marked every
600 ms; the write's mark goes to the layer whose warm-up was 300-600 ms ago (its compressor's timer still runs
and its last repaint is at least 100 ms old: it repaints at once). "lift": one layer, warmed once, the write
90-180 ms later (a guide's usual round trip after pen lift). Writes land at random times.
`python tests/krita_harness.py tests/krita_scenarios/compressor_cycle_probe.py runs/cycle-probe --setting guidance_on=false`
"""

import os
import random
import sys
import time

try:
    from PyQt5.QtCore import QRectF
except ImportError:
    from PyQt6.QtCore import QRectF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling probe's layout
from redraw_probe import AT, SPOTS, SQUARE, _write_guidance, probe_document  # noqa: E402

ROUNDS = int(os.environ.get("ANISKETCH_PROBE_ROUNDS", "16"))
WINDOW_S = 0.6


def scenario(t):
    krita = t.krita
    doc, layers, shape_lists = probe_document(krita, redraw_layers=3)
    shapes = [found[0] for found in shape_lists]
    yield 2.0
    points = 72.0 / doc.xRes()
    square_pt = QRectF(AT * points, AT * points, SQUARE * points, SQUARE * points)
    corner_pt = QRectF(0, 0, points, points)
    rng = random.Random(5)
    rows = t.result["rows"] = []
    colour = 0

    warmed_at = [None, None, None]
    state = {"next": 0, "turn": 0}

    def keep_warm(now):
        if now >= state["next"]:
            k = state["turn"] % 3
            shapes[k].updateAbsolute(corner_pt)
            warmed_at[k] = now
            state["turn"] += 1
            state["next"] = now + 0.2

    def ready_layer(now):
        ages = [(abs((now - w) - 0.45), k) for k, w in enumerate(warmed_at) if w is not None and 0.3 <= now - w < 0.6]
        return min(ages)[1] if ages else 0

    for mode in ("cycle", "lift"):
        for _ in range(ROUNDS):
            colour += 1
            bgra = bytes(((40 + 7 * colour) % 256, (200 - 5 * colour) % 256, (90 + 11 * colour) % 256, 255))
            if mode == "cycle":
                until = time.perf_counter() + 1.0 + rng.random()
                while time.perf_counter() < until:
                    keep_warm(time.perf_counter())
                    yield 0.002
                now = time.perf_counter()
                k = ready_layer(now)
                age = now - warmed_at[k]
            else:
                yield 1.2
                shapes[0].updateAbsolute(corner_pt)
                warmed = time.perf_counter()
                lead = 0.09 + 0.09 * rng.random()
                while time.perf_counter() - warmed < lead:
                    yield 0.002
                k, age = 0, time.perf_counter() - warmed
            _write_guidance(layers, bgra)
            marked = time.perf_counter()
            shapes[k].updateAbsolute(square_pt)
            call_ms = (time.perf_counter() - marked) * 1e3
            seen = None
            while time.perf_counter() - marked < WINDOW_S:
                if mode == "cycle":
                    keep_warm(time.perf_counter())
                if all(bytes(doc.pixelData(x, y, 1, 1)) == bgra for x, y in SPOTS):
                    seen = (time.perf_counter() - marked) * 1e3
                    break
                yield 0.002
            rows.append({"mode": mode, "layer": k, "age_ms": round(age * 1e3), "call_ms": round(call_ms, 2),
                         "shown_after_ms": None if seen is None else round(seen, 1)})
    doc.setModified(False)
