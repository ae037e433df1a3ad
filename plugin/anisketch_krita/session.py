"""One document's guidance session: where the crop is, what the sketch looked like, what was sent.

The controller owns one GuidanceSession per document and hands it the document and the sketch layer; the
session decides the crop, reads it, and remembers the last look and the last send as named, frozen records
(never as positional tuples), so that "did anything change since?" reads as what it asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from . import canvas
from .region import Box, RegionTracker, selection_square
from .state import GuideMemory, LatestOnly, StrokeDetector

MAX_GROWTH_STEPS = 12  # of the crop towards a stroke that left it (each by a quarter of its side) before
# asking Krita for the sketch's exact bounds


@dataclass(frozen=True)
class Look:
    """The sketch as last looked at: all its ink lies inside `crop`."""

    sketch_id: str
    crop: Box
    pixels: Any  # canvas.read_raw's buffer (compared with ==: a memcmp of Krita's bytes)
    signature: Any  # canvas.signature: the layer's thumbnail checksum when it was read

    def shows(self, sketch_id: str, crop: Optional[Box], pixels: Any) -> bool:
        return self.sketch_id == sketch_id and self.crop == crop and bool(self.pixels == pixels)


@dataclass(frozen=True)
class Sent:
    """What the last guide request carried."""

    sketch_id: str
    crop: Box
    pixels: Any

    def shows(self, sketch_id: str, crop: Optional[Box], pixels: Any) -> bool:
        return self.sketch_id == sketch_id and self.crop == crop and bool(self.pixels == pixels)


class GuidanceSession:
    """A document's guidance memory: the crop (region), the backend's state (memory), the last look and send,
    the stroke detector and the newest-wins queue of guide jobs. A new document gets a new session."""

    def __init__(self) -> None:
        self.region = RegionTracker()
        self.memory = GuideMemory()
        self.guide_jobs: LatestOnly[str] = LatestOnly()
        self.detector = StrokeDetector()
        self.look: Optional[Look] = None
        self.sent: Optional[Sent] = None
        self.lifts_since_look = 0  # pen lifts told since the sketch was last looked at
        self.guide_mode = ""  # the mode the guidance group's layers were made in
        self.last_sketch_id: Optional[str] = None  # the paint layer last drawn on, for "Active layer"

    def start_over(self) -> None:
        """Another sketch layer: a new crop and state, and the next poll counts as a change."""
        self.last_sketch_id = None
        self.region.reset()
        self.memory = GuideMemory()
        self.forget_sketch()

    def forget_sketch(self) -> None:
        """The next poll counts as a change and the next guide is sent even if the pixels are the same
        (another layer or document, a reconnection)."""
        self.detector.forget()
        self.look, self.sent = None, None

    def pen_lifted(self) -> None:
        self.lifts_since_look += 1
        self.detector.forget()

    # ------------------------------------------------------------------------------------------ reading

    def read(self, document: Any, sketch: Any, reuse: bool = False) -> tuple[Optional[Box], Any]:
        """The crop and its pixels (read_raw's), or (None, None) for an empty sketch; remembered as the last
        look. With `reuse`, the last look's pixels when nothing happened since (no pen lift, the same
        thumbnail): a stroke checked while a guide was out is not read twice.

        Exact bounds decide where the lines around the crop cannot: a crop that reads blank (all erased, or
        the sketch now lies elsewhere), and a crop whose pixels are as last seen while the thumbnail is not
        (a stroke wholly outside the crop)."""
        selected = canvas.selection_box(document) is not None
        if reuse and not selected and self.look is not None and self.nothing_since_look(sketch):
            return self.look.crop, self.look.pixels
        sketch_id = canvas.node_id(sketch)
        paper = canvas.paper_of(document, sketch)  # an opaque layer (Background): ink is what differs from it
        crop = self.crop(document, sketch, paper)
        pixels = canvas.read_raw(sketch, crop) if crop is not None else None
        if crop is not None and not selected:
            if canvas.is_empty(pixels, paper):
                crop = self._crop_from_bounds(document, sketch)
                pixels = canvas.read_raw(sketch, crop) if crop is not None else None
            elif self.look is not None and self.look.shows(sketch_id, crop, pixels) and \
                    canvas.signature(sketch) != self.look.signature:
                grown = self._crop_from_bounds(document, sketch)
                if grown != crop:
                    crop, pixels = grown, canvas.read_raw(sketch, grown) if grown is not None else None
        self.look = Look(sketch_id, crop, pixels, canvas.signature(sketch)) if crop is not None else None
        self.lifts_since_look = 0
        return crop, pixels

    def crop(self, document: Any, sketch: Any, paper: Optional[bytes] = None) -> Optional[Box]:
        """The request's square: the selection if there is one, else around the sketch (kept steady).

        After one stroke, a stroke that left the crop is seen on the 1 px lines right outside it (a stroke
        is continuous), and the crop grows that way until no ink lies there (each step a few 1 px reads).
        Otherwise (the first crop; several strokes, or changes made without the pen, since the last guide)
        it comes from the sketch's exact bounds, which Krita recomputes after every change: 20-75 ms on a
        2048 px layer.
        """
        width, height = document.width(), document.height()
        selected = canvas.selection_box(document)
        if selected is not None:
            return selection_square(selected, width, height)
        if self.region.region is None or not self._one_stroke_since_look(sketch):
            return self._crop_from_bounds(document, sketch)
        for _ in range(MAX_GROWTH_STEPS):
            sides = canvas.ink_beyond(sketch, self.region.region, width, height, paper)
            if not sides:
                return self.region.region
            self.region.grow(sides, width, height)
        return self._crop_from_bounds(document, sketch)  # ink still beyond: a long way out, measure it

    def _crop_from_bounds(self, document: Any, sketch: Any) -> Optional[Box]:
        return self.region.update(canvas.sketch_bounds(document, sketch), document.width(), document.height())

    def nothing_since_look(self, sketch: Any) -> bool:
        return self.lifts_since_look == 0 and self.look is not None and \
            self.look.sketch_id == canvas.node_id(sketch) and canvas.signature(sketch) == self.look.signature

    def _one_stroke_since_look(self, sketch: Any) -> bool:
        """At most one stroke changed the sketch since it was last looked at in this crop: the pen lifted
        once, or not at all and the thumbnail is the same (an Update click, a setting). Several strokes may
        include one drawn wholly outside the crop, and a script or filter may change anything; after a look
        through a selection, strokes outside the crop were not followed: no line tells those."""
        looked_here = self.look is not None and self.look.sketch_id == canvas.node_id(sketch) and \
            self.look.crop == self.region.region
        return looked_here and (self.lifts_since_look == 1 or self.nothing_since_look(sketch))

    # ------------------------------------------------------------------------------------------ sending

    def already_sent(self, sketch: Any, crop: Box, pixels: Any) -> bool:
        """The guidance shown is for exactly these pixels (a click that painted nothing)."""
        return self.sent is not None and self.sent.shows(canvas.node_id(sketch), crop, pixels)

    def guide_params(self, crop: Box, mode: str, faithfulness: float, pins: list[str],
                     canvas_size: tuple[int, int]) -> dict[str, Any]:
        """A guide request's params: the state (valid across crops: it lives in canvas pixels, told by
        `origin`) and the pins go with every request once the backend has given a state. The canvas's size
        tells the backend where the drawing ends when the crop reaches past a small canvas."""
        params: dict[str, Any] = {"mode": mode, "faithfulness": float(faithfulness), "layer_format": "bgra8",
                                  "origin": [crop.x, crop.y], "canvas": [int(canvas_size[0]), int(canvas_size[1])]}
        if self.memory.state:
            params["state"] = self.memory.state
            if pins:
                params["pins"] = pins
        return params
