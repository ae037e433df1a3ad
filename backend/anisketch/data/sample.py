"""One training sample from one seed: the portrait, its labels, and what a beginner would have drawn of it.

This is the single place where a seed becomes a sample, so the dataset writer (`anisketch data`), the
benchmark (`anisketch bench data`) and the on-the-fly training loader all see the same data.

How a beginner draws (artist or random order, how messy, pencil or pen) and how many colour hints they
give are drawn from the seed as well, from their own random streams: a sample is a pure function of
(seed, size, ENGINE_VERSION). The sketches at several fractions are snapshots of one drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anisketch.engine import hints, sketch
from anisketch.engine.geometry import build_portrait
from anisketch.engine.params import ENGINE_VERSION, attributes_of, encode, sample_params
from anisketch.engine.raster import render

FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # the sketches written per sample: "_sketch25" ... "_sketch100"

# Random streams of a sample besides the engine's own (which sample_params keeps inside itself).
STREAM_STYLE, STREAM_SKETCH, STREAM_HINTS = 1, 2, 3

ARTIST_ORDER_CHANCE = 0.6  # otherwise strokes come in random order
MESSINESS = (0.15, 0.9)
PENCIL_CHANCE = 0.7        # otherwise pen
FINISHED_CHANCE = 0.2      # a training example shows the whole drawing


@dataclass
class DrawingStyle:
    """How the simulated beginner draws this sample (written to _meta.json)."""

    order: str
    messiness: float
    texture: str
    hint_count: int
    fraction: float  # how far the drawing is, for a training example with one sketch

    @classmethod
    def from_seed(cls, seed: int) -> "DrawingStyle":
        rng = stream(seed, STREAM_STYLE)
        order = "artist" if rng.random() < ARTIST_ORDER_CHANCE else "random"
        messiness = round(float(rng.uniform(*MESSINESS)), 4)
        texture = "pencil" if rng.random() < PENCIL_CHANCE else "pen"
        hint_count = hints.sample_hint_count(rng)
        # Guidance runs from the first strokes on: any stage of the drawing, and often a finished one.
        fraction = 1.0 if rng.random() < FINISHED_CHANCE else round(float(rng.uniform(0.05, 1.0)), 4)
        return cls(order, messiness, texture, hint_count, fraction)


@dataclass
class Sample:
    seed: int
    size: int
    color: np.ndarray                 # uint8[S, S, 3]
    lineart: np.ndarray               # uint8[S, S] darkness
    parts: np.ndarray | None          # uint8[S, S] part labels (None for user images)
    strokes: list                     # the clean strokes (engine.geometry.Stroke)
    sketches: dict                    # fraction -> uint8[S, S] darkness
    hints: np.ndarray                 # uint8[S, S, 4] RGBA hint layer
    style: DrawingStyle
    meta: dict = field(default_factory=dict)


def stream(seed: int, which: int) -> np.random.Generator:
    """An independent, platform-independent random stream of a sample."""
    return np.random.default_rng([int(seed), int(which)])


def draw_sketches(strokes, size: int, seed: int, style: DrawingStyle, fractions=FRACTIONS) -> dict:
    """The beginner's sketch at each fraction: same seed for each, so they are snapshots of one drawing."""
    out = {}
    for fraction in fractions:
        out[fraction] = sketch.sketch_darkness(strokes, size, stream(seed, STREAM_SKETCH), fraction, style.order,
                                               style.messiness, style.texture)
    return out


def make_sample(seed: int, size: int = 512, fractions=FRACTIONS, attributes: dict | None = None) -> Sample:
    """Everything about one seed. fractions: the sketches to draw; None draws one, at the style's own
    fraction (a training example: what the on-the-fly loader and `bench data` use)."""
    params = sample_params(seed, attributes)
    portrait = build_portrait(params)
    image = render(portrait, size)
    style = DrawingStyle.from_seed(seed)
    fractions = (style.fraction,) if fractions is None else fractions
    sketches = draw_sketches(portrait, size, seed, style, fractions)
    hint_layer = hints.simulate_hints(portrait, image["color"], image["parts"], stream(seed, STREAM_HINTS),
                                      style.hint_count)
    floats, choices = encode(params)
    meta = {
        "seed": int(seed),
        "engine_version": ENGINE_VERSION,
        "size": int(size),
        "source": "engine",
        "attributes": attributes_of(params),
        "params": {name: _plain(value) for name, value in params.items()},
        "vector": {"floats": [float(v) for v in floats], "choices": [int(v) for v in choices]},
        "drawing": {"order": style.order, "messiness": style.messiness, "texture": style.texture,
                    "hint_count": style.hint_count, "fractions": list(fractions)},
    }
    strokes = sorted(portrait.strokes, key=lambda s: s.order)
    return Sample(seed, size, image["color"], image["lineart"], image["parts"], strokes, sketches,
                  hint_layer, style, meta)


def _plain(value):
    """Params values as JSON: floats, ints, [r, g, b]."""
    if type(value) in (float, int):  # nearly all of them: as they are
        return value
    if isinstance(value, (tuple, list, np.ndarray)):
        return [float(v) for v in value]
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)
