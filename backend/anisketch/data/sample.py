"""One training sample from one seed: the portrait, its labels, and what a beginner would have drawn of it.

This is the single place where a seed becomes a sample, so the dataset writer (`anisketch data`), the
benchmark (`anisketch bench data`) and the on-the-fly training loader all see the same data.

How a beginner draws (artist or random order, how messy, pencil or pen) and how many colour hints they
give are drawn from the seed as well, from their own random streams: a sample is a pure function of
(seed, size, ENGINE_VERSION). The sketches at several fractions are snapshots of one drawing.

A sample is made in two steps: `render_seed` (the portrait and its pictures: most of the cost) and
`draw_sample` (the beginner's sketch and hints: cheap). Shards on disk (`shards.py`) keep the first step's
output, so training can reuse a portrait across epochs while `draw_sample(..., epoch)` draws it anew each
time; epoch 0 draws exactly what `make_sample` does.
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
    def from_seed(cls, seed: int, epoch: int = 0) -> "DrawingStyle":
        rng = stream(seed, STREAM_STYLE, epoch)
        order = "artist" if rng.random() < ARTIST_ORDER_CHANCE else "random"
        messiness = round(float(rng.uniform(*MESSINESS)), 4)
        texture = "pencil" if rng.random() < PENCIL_CHANCE else "pen"
        hint_count = hints.sample_hint_count(rng)
        # Guidance runs from the first strokes on: any stage of the drawing, and often a finished one.
        fraction = 1.0 if rng.random() < FINISHED_CHANCE else round(float(rng.uniform(0.05, 1.0)), 4)
        return cls(order, messiness, texture, hint_count, fraction)


@dataclass
class RenderedPortrait:
    """A seed's portrait before anyone draws it: what a shard keeps (see `shards.py`). A portrait read from a
    shard has only the pictures its reader asked for (the others None)."""

    seed: int
    size: int
    strokes: list                     # the clean strokes in the portrait's own order (the simulator's input)
    color: np.ndarray | None          # uint8[S, S, 3], line art inked in colour
    lineart: np.ndarray | None        # uint8[S, S] darkness
    parts: np.ndarray | None          # uint8[S, S] part labels
    meta: dict                        # seed, engine_version, size, source, attributes, params, vector
    fill: np.ndarray | None = None    # uint8[S, S, 3] the flat colours without lines (the colouriser's target)

    @property
    def vector(self) -> tuple[np.ndarray, np.ndarray]:
        """(floats float32[D], choices int64[C]), as `params.encode` gives them."""
        vector = self.meta["vector"]
        return np.array(vector["floats"], np.float32), np.array(vector["choices"], np.int64)


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


def stream(seed: int, which: int, epoch: int = 0) -> np.random.Generator:
    """An independent, platform-independent random stream of a sample; each epoch > 0 has its own."""
    key = [int(seed), int(which)] if epoch == 0 else [int(seed), int(which), int(epoch)]
    return np.random.default_rng(key)


def draw_sketches(strokes, size: int, seed: int, style: DrawingStyle, fractions=FRACTIONS, epoch: int = 0) -> dict:
    """The beginner's sketch at each fraction: same seed for each, so they are snapshots of one drawing."""
    out = {}
    for fraction in fractions:
        out[fraction] = sketch.sketch_darkness(strokes, size, stream(seed, STREAM_SKETCH, epoch), fraction,
                                               style.order, style.messiness, style.texture)
    return out


def make_sample(seed: int, size: int = 512, fractions=FRACTIONS, attributes: dict | None = None) -> Sample:
    """Everything about one seed. fractions: the sketches to draw; None draws one, at the style's own
    fraction (a training example: what the on-the-fly loader and `bench data` use)."""
    return draw_sample(render_seed(seed, size, attributes), fractions=fractions)


def render_seed(seed: int, size: int, attributes: dict | None = None, with_fill: bool = False) -> RenderedPortrait:
    """The portrait of a seed and its pictures; with_fill also keeps the flat colours (a copy: shards only)."""
    params = sample_params(seed, attributes)
    portrait = build_portrait(params)
    image = render(portrait, size, keep_fill=with_fill)
    floats, choices = encode(params)
    meta = {
        "seed": int(seed),
        "engine_version": ENGINE_VERSION,
        "size": int(size),
        "source": "engine",
        "attributes": attributes_of(params),
        "params": {name: _plain(value) for name, value in params.items()},
        "vector": {"floats": [float(v) for v in floats], "choices": [int(v) for v in choices]},
    }
    return RenderedPortrait(int(seed), int(size), portrait.strokes, image["color"], image["lineart"],
                            image["parts"], meta, image.get("fill"))


def draw_sample(portrait: RenderedPortrait, epoch: int = 0, fractions=FRACTIONS) -> Sample:
    """A beginner's drawing of a rendered portrait: style, sketch(es) and hints from the seed's streams of
    this epoch. Epoch 0 is `make_sample`'s own sample; each later epoch is a new drawing of the same face."""
    seed, size = portrait.seed, portrait.size
    assert portrait.color is not None and portrait.parts is not None and portrait.lineart is not None, \
        "a drawing needs the rendered portrait"
    style = DrawingStyle.from_seed(seed, epoch)
    fractions = (style.fraction,) if fractions is None else fractions
    sketches = draw_sketches(portrait.strokes, size, seed, style, fractions, epoch)
    hint_layer = hints.simulate_hints(None, portrait.color, portrait.parts, stream(seed, STREAM_HINTS, epoch),
                                      style.hint_count)
    drawing = {"order": style.order, "messiness": style.messiness, "texture": style.texture,
               "hint_count": style.hint_count, "fractions": list(fractions)}
    if epoch:
        drawing["epoch"] = int(epoch)
    strokes = sorted(portrait.strokes, key=lambda s: s.order)
    return Sample(seed, size, portrait.color, portrait.lineart, portrait.parts, strokes, sketches, hint_layer,
                  style, {**portrait.meta, "drawing": drawing})


def _plain(value):
    """Params values as JSON: floats, ints, [r, g, b]."""
    if type(value) in (float, int):  # nearly all of them: as they are
        return value
    if isinstance(value, (tuple, list, np.ndarray)):
        return [float(v) for v in value]
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)
