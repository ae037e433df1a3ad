"""When Krita shows what the plugin wrote, and how to make it show at once. Plain Python: no Krita, no Qt.

Pixels written with setPixelData appear once something marks their area changed. The plugin marks it on an
invisible shape in a vector layer of its guidance group (canvas.redraw), which costs the GUI thread nothing
and leaves no undo entry. Krita repaints a vector layer's marks through a signal compressor (Krita 5.1:
100 ms, "first inactive"), whose timer keeps ticking for five delays after each repaint:

- a mark on a layer whose timer has stopped ("cold") is repainted at one of the next two ticks, 100-200 ms on;
- a mark on a layer whose timer still runs and whose last repaint is at least one delay old is repainted at once;
- a mark on a layer repainted less than one delay ago waits for a tick.

Measured in the real Krita 5.1.5 (tests/krita_scenarios/compressor_probe.py, a 1700 px area): 188-248 ms
from a cold mark to Krita's image, 38-98 ms from a mark on a layer warmed 90-500 ms before.

So while the artist draws, the plugin keeps a few redraw layers warm with 1 px marks, one after the other
(RedrawClock.due), so that at any moment one of them is warm and quiet, and a write's mark goes to that one
(RedrawClock.pick). The clock only models the compressor from the plugin's own marks, with margins for the
timer's coarseness; a wrong guess costs at worst what a cold mark costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

DELAY_S = 0.100  # Krita's vector-layer repaint compressor
RUNS_ON_S = 5 * DELAY_S  # its timer stops at the first idle tick this long after the last repaint
MARGIN_S = 0.040  # the timer is coarse (a tick may come 5 % early or late) and our own ticks are late
REDRAW_LAYERS = 2
REWARM_S = 0.36  # a layer gets its next warm-up mark this long after its last mark, well before its timer stops
STAGGER_S = REWARM_S / REDRAW_LAYERS  # warm-ups spread evenly: while one layer is still quiet, another is ready


@dataclass
class _Compressor:
    """What the plugin knows of one redraw layer's compressor: its last mark, and between which two times
    that mark was (or will be) repainted."""

    marked: Optional[float] = None
    repainted: tuple[float, float] = (float("-inf"), float("-inf"))


class RedrawClock:
    """Which redraw layer to mark, and when to warm one, from the times of the plugin's own marks."""

    def __init__(self, layers: int = REDRAW_LAYERS):
        self._layers = [_Compressor() for _ in range(layers)]

    @property
    def count(self) -> int:
        return len(self._layers)

    def running(self, k: int, now: float) -> bool:
        """Layer k's timer surely still ticks: its last repaint is recent enough."""
        return now <= self._layers[k].repainted[0] + RUNS_ON_S - MARGIN_S

    def ready(self, k: int, now: float) -> bool:
        """A mark on layer k now is repainted at once."""
        return self.running(k, now) and now >= self._layers[k].repainted[1] + DELAY_S + MARGIN_S

    def pick(self, now: float) -> int:
        """The layer to mark for pixels just written: a ready one (the one whose timer runs longest yet),
        else one whose timer runs (repainted at its next tick), else the first (cold: one or two ticks)."""
        ready = [k for k in range(self.count) if self.ready(k, now)]
        if ready:
            return max(ready, key=lambda k: self._layers[k].repainted[0])
        running = [k for k in range(self.count) if self.running(k, now)]
        return min(running, key=lambda k: self._layers[k].repainted[1]) if running else 0

    def mark(self, k: int, now: float) -> None:
        """Layer k was marked at `now`: when will Krita repaint it?"""
        layer = self._layers[k]
        layer.repainted = (now, now) if self.ready(k, now) else (now, now + 2 * DELAY_S)
        layer.marked = now

    def due(self, now: float) -> Optional[int]:
        """The layer to warm now, or None. The layer marked longest ago is due REWARM_S after its last mark,
        and not within STAGGER_S of the newest mark on any layer (so the layers' quiet spells do not line up),
        unless its timer is about to stop: then at once. A layer never marked is due at once, staggered too."""
        never = float("-inf")
        marks = [never if layer.marked is None else layer.marked for layer in self._layers]
        staggered = now - max(marks) >= STAGGER_S
        oldest = min(range(self.count), key=lambda k: marks[k])
        if marks[oldest] == never:
            return oldest if staggered else None
        age = now - marks[oldest]
        if age >= RUNS_ON_S - 2 * MARGIN_S or (age >= REWARM_S and staggered):
            return oldest
        return None
