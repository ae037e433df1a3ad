"""Generation from attributes: MakeGirlsMoe's controls over our portrait space.

    result = generate({"hair_color": "blonde", "hair_style": "twin_tail", "smile": "on"}, noise="an-...")
    result.layers   # the colour portrait, then the guidance line art (rough: one layer per part; detail: one)
    result.info     # {"noise": "an-...", "attributes": what the portrait shows, "state": guidance pin state,
                    #  "size": the square the layers are drawn on}

The noise is an engine seed: `sample_params(seed, attributes)` draws every group of parameters and every
attribute from its own random stream, so with the noise fixed, changing one attribute redraws that attribute
alone, and with the attributes fixed, each noise is a different face. The `state` is the guidance model's
vector for the portrait: sent back with pins, the artist keeps the generated eyes (say) and draws the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..colour import linear_to_srgb, srgb_to_linear
from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render
from ..errors import BadRequest
from ..layers import Layer, Result, color_layer, guidance_layers
from ..protocol import MAX_CANDIDATES
from . import attributes as A
from . import noise as N

MODES = ("rough", "detail")
MIN_SIZE, MAX_SIZE = 64, 2048


@dataclass
class Generated:
    """One portrait: its parameters and where they came from."""

    params: P.Params
    noise: str | None  # None for an interpolated portrait (it has no seed of its own)

    @property
    def state(self) -> str:
        from ..guidance.state import encode_state

        return encode_state(*P.encode(self.params))

    def info(self) -> dict:
        return {"noise": self.noise, "attributes": P.attributes_of(self.params), "state": self.state}


def params_for(request: dict | None, seed: int) -> P.Params:
    """The engine parameters of a request (already normalised or not) and a seed."""
    return P.sample_params(seed, A.fixed_for_seed(A.normalize(request), seed))


def _check(size, n, mode) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise BadRequest(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} px, got {size!r}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CANDIDATES:
        raise BadRequest(f"n must be an integer from 1 to {MAX_CANDIDATES}, got {n!r}")
    if mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def draw(portrait: Generated, size: int, mode: str, transparent: bool = False, suffix: str = "") -> tuple[list[Layer], dict]:
    """The colour layer and the guidance layers of one portrait, with timings."""
    t0 = time.perf_counter()
    geometry = build_portrait(portrait.params)
    t1 = time.perf_counter()
    images = render(geometry, size)
    t2 = time.perf_counter()
    layers = [color_layer(images["color"], images["parts"], "Portrait" + suffix, transparent)]
    for layer in guidance_layers(geometry.strokes, size, mode):
        layer.name += suffix
        layers.append(layer)
    t3 = time.perf_counter()
    return layers, {"geometry": (t1 - t0) * 1e3, "render": (t2 - t1) * 1e3, "guidance": (t3 - t2) * 1e3}


def generate(attributes: dict | None, noise: str | int | None = None, *, size: int = 512, n: int = 1,
             mode: str = "rough", transparent: bool = False) -> Result:
    """Portraits with these attributes (missing ones random) from this noise (None: a fresh random one).

    With n > 1 the first candidate is the noise itself and the others are its neighbours; `info` describes the
    first and `info["candidates"]` all of them, each with its own noise string to come back to.
    """
    t0 = time.perf_counter()
    request = A.normalize(attributes)
    _check(size, n, mode)
    seed = N.resolve(noise)
    portraits = []
    for i in range(n):
        s = N.candidate(seed, i)
        portraits.append(Generated(params_for(request, s), N.to_string(s)))
    timing = {"sample": (time.perf_counter() - t0) * 1e3}
    layers: list[Layer] = []
    for i, portrait in enumerate(portraits):
        drawn, times = draw(portrait, size, mode, transparent, suffix="" if n == 1 else f" #{i + 1}")
        layers += drawn
        for key, ms in times.items():
            timing[key] = timing.get(key, 0.0) + ms
    infos = [p.info() for p in portraits]
    info = {**infos[0], "size": size, "requested": request, "candidates": infos}
    timing["total"] = (time.perf_counter() - t0) * 1e3
    return Result(layers, info, timing)


# ----------------------------------------------------------------------------------------------------------------
# Interpolation (MakeGirlsMoe's transition)

_COLOR_SLOTS = np.array([spec.kind == "color" for spec in P.FLOAT_SPECS for _ in range(3 if spec.kind == "color" else 1)])


def _vector_of(x) -> tuple[np.ndarray, np.ndarray]:
    """(floats, choices) of a Result from `generate`, a Generated, a guidance state string or Params."""
    from ..guidance.state import decode_state

    if isinstance(x, Result):
        x = x.info.get("state")
    if isinstance(x, Generated):
        x = x.params
    if isinstance(x, P.Params):
        return P.encode(x)
    if isinstance(x, str):
        state = decode_state(x)
        return state.floats, state.choices
    raise BadRequest("interpolate between two generated results (or their state strings)")


def _switch_points(choices_a: np.ndarray, choices_b: np.ndarray) -> np.ndarray:
    """Where along t each differing choice switches from a to b.

    Switching them all at t = 0.5 would pile every jump (hair style, hat, mouth...) into one frame; spreading
    the switches over [0.3, 0.7] in layout order keeps each step of the sequence to one jump at most.
    """
    differ = np.flatnonzero(choices_a != choices_b)
    points = np.full(len(choices_a), 0.5)
    if len(differ) > 1:
        points[differ] = np.linspace(0.3, 0.7, len(differ))
    return points


def blend(a, b, t: float) -> P.Params:
    """The portrait a fraction t of the way from a to b: shapes linearly, colours in linear RGB."""
    fa, ca = _vector_of(a)
    fb, cb = _vector_of(b)
    if t <= 0.0 or t >= 1.0:  # the ends are the portraits themselves, bit for bit
        return P.decode(*((fa, ca) if t <= 0.0 else (fb, cb)))
    floats = (1 - t) * fa + t * fb
    colors = linear_to_srgb((1 - t) * srgb_to_linear(fa) + t * srgb_to_linear(fb))
    floats[_COLOR_SLOTS] = colors[_COLOR_SLOTS]
    choices = np.where(t >= _switch_points(ca, cb), cb, ca)
    return P.decode(floats.astype(np.float32), choices)


def interpolate(a, b, steps: int = 8, *, size: int = 512, mode: str = "rough",
                transparent: bool = False) -> list[Result]:
    """`steps` portraits from a to b inclusive; each result's info has its state and t (and a, b's noise)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 64:
        raise BadRequest(f"steps must be an integer from 2 to 64, got {steps!r}")
    _check(size, 1, mode)
    noise_of = [x.info.get("noise") if isinstance(x, Result) else None for x in (a, b)]
    results = []
    for i, t in enumerate(np.linspace(0.0, 1.0, steps)):
        t0 = time.perf_counter()
        portrait = Generated(blend(a, b, float(t)), noise_of[0] if i == 0 else noise_of[1] if i == steps - 1 else None)
        layers, timing = draw(portrait, size, mode, transparent)
        timing["total"] = (time.perf_counter() - t0) * 1e3
        results.append(Result(layers, {**portrait.info(), "t": float(t)}, timing))
    return results
