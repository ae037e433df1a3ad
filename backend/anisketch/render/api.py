"""The one colour-render call the Service makes: sketch + hint layer in, N candidate layers out.

    colorizer = load_colorizer(weights_dir, device)   # None until a colouriser is shipped
    result = render(guidance_model, sketch_rgba, hints_rgba, n=4, mode="refined", style_seed=0,
                    colorizer=colorizer, state=None)
    result.layers  # per candidate (group "Candidate i"), bottom to top: "Flat colours", "Shadows", "Highlights"
                   # (+ "Line art" in refined mode, placed hidden), each cut to its pixels, with its Krita blend
                   # (layered.py)

Modes:
- refined: the guidance's cleaned-up face (or exactly the face of `state`, the guidance the artist is looking
  at), painted by the engine in the hinted colours (`refined.py`);
- faithful: the artist's own lines, coloured by the colouriser network (`faithful.py`).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Iterator

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import ink_by_group, render as render_portrait, render_regions
from ..engine.sketch import rgba_to_darkness
from ..errors import BadRequest
from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
from ..guidance.framing import IDENTITY, Placement
from ..layers import Layer, Result, ink_box
from ..parallel import once, ordered_map
from ..protocol import MAX_CANDIDATES, MAX_SIDE
from .dabs import find_dabs
from .faithful import ColorizerModel, load_colorizer, network_inputs, portrait_outside
from .faithful_layers import candidate_tables, painted, shared_shapes
from .drawn import as_paper, drawn_box, portrait_as_paper, undrawn_body, where_labelled
from .layered import BLEND_OF, FLATS, HIDDEN, DabbedTone, GuideShading, dabbed_shapes, guide_shading, refined_production
from .refined import donor_seed, portrait_maker, square
from .snapping import line_regions

MODES = ("refined", "faithful")
MIN_SIDE = 16

__all__ = ["render", "load_colorizer", "MODES", "MAX_CANDIDATES"]


def check_request(sketch_rgba, hints_rgba, n, mode, style_seed) -> None:
    for name, image in (("sketch", sketch_rgba), ("hint layer", hints_rgba)):
        if image is None and name == "hint layer":
            continue
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
            shape = getattr(image, "shape", None)
            raise BadRequest(f"the {name} must be a uint8 RGBA image (height, width, 4), got {shape}")
    h, w = sketch_rgba.shape[:2]
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise BadRequest(f"the sketch is {w}x{h} px; each side must be between {MIN_SIDE} and {MAX_SIDE} px")
    if hints_rgba is not None and hints_rgba.shape != sketch_rgba.shape:
        hh, hw = hints_rgba.shape[:2]
        raise BadRequest(f"the hint layer ({hw}x{hh} px) must cover the same region as the sketch ({w}x{h} px)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_CANDIDATES:
        raise BadRequest(f"the number of candidates must be a whole number from 1 to {MAX_CANDIDATES} (got {n!r})")
    if mode not in MODES:
        raise BadRequest(f"unknown render mode {mode!r}: use 'refined' or 'faithful'")
    if isinstance(style_seed, bool) or not isinstance(style_seed, (int, np.integer)) or not 0 <= style_seed < 2**31:
        raise BadRequest(f"the style seed must be a whole number from 0 to 2147483647 (got {style_seed!r})")


def render(guidance_model, sketch_rgba: np.ndarray, hints_rgba: np.ndarray | None = None, *, n: int = 4,
           mode: str = "refined", style_seed: int = 0, colorizer: ColorizerModel | None = None,
           state: str | None = None, faithfulness: float | dict = DEFAULT_FAITHFULNESS,
           origin: tuple[int, int] = (0, 0), progressive: bool = False) -> Result:
    """N colour candidates of the sketch (see the module docstring). Bad arguments raise BadRequest.
    `origin`: the request's top-left pixel on the canvas, where a guidance state's window is placed.
    `progressive`: `layers` holds candidate 1 alone and `Result.more` makes the others one by one as it is
    iterated (a server sends each as it comes: the artist sees the first while the rest are painted)."""
    check_request(sketch_rgba, hints_rgba, n, mode, style_seed)
    if mode == "faithful" and colorizer is None:
        raise BadRequest("faithful mode needs the colouriser network, which is not installed in this version yet; "
                         "use refined mode")
    timing: dict[str, float] = {}
    t = time.perf_counter()
    h, w = sketch_rgba.shape[:2]
    side = max(h, w)
    darkness = rgba_to_darkness(sketch_rgba)
    floats, choices, placement = face_vector(guidance_model, darkness, state, faithfulness, origin, side)
    timing["guidance"] = ms_since(t)

    t = time.perf_counter()
    hints = square(hints_rgba, side) if hints_rgba is not None and hints_rgba[..., 3].any() else None
    workers = candidate_workers(n)
    if mode == "refined":
        painter = portrait_maker(floats, choices, hints, side, int(style_seed), placement, matched=False)
        dabs, background_hinted = painter.dabs, "bg_color" in painter.fixed
        on_tones = [DabbedTone(dab.mask, tone, dab.color) for dab, tone in zip(dabs, painter.tones)]
        # a neck or clothes the artist did not draw (a head drawn alone) is left to the background in every candidate
        first = painter.portrait(0)
        body = undrawn_body(render_regions(first.regions, BODY_MAP)[1], darkness)
        candidate = lambda i: portrait_as_paper(painter.portrait(i), body)  # noqa: E731
        first = portrait_as_paper(first, body)
        # the shading shapes the dabs take away, the same in every candidate: found once for several
        covered = dabbed_shapes(first, side, on_tones) if on_tones and n > 1 else None
        # ... and their strokes: the line art is inked once, by the first candidate to get there
        ink = once(lambda: ink_by_group(first.strokes, side)) if n > 1 else None
        timing["portraits"] = ms_since(t)  # what the candidates share; each one's own portrait is in "layers"
        drawn = drawn_box(darkness, side)
        candidates = candidate_parts(
            list(range(n)), lambda i: refined_production(first if i == 0 else candidate(i), side,
                                                         background_hinted, on_tones, covered, ink, drawn),
            workers, (h, w), timing, ms_since(t))
    else:
        assert colorizer is not None  # refused above
        portrait = placement.portrait(build_portrait(P.decode(floats, choices)))
        square_darkness = square(darkness, side)
        parts = render_portrait(portrait, colorizer.input_size)["parts"]
        body = undrawn_body(parts, square_darkness)  # a head drawn alone gets no body
        undrawn, parts = where_labelled(parts, body, side), as_paper(parts, body)
        network = time.perf_counter()
        lines, net_hints = network_inputs(colorizer.input_size, square_darkness, hints, parts, n, int(style_seed))
        with ThreadPoolExecutor(3) as helpers:
            # what needs only the artist's lines and the guidance's face is found while the network paints: OpenCV
            # and numpy let go of the interpreter lock, and much of the network's own time is launching kernels
            regions = helpers.submit(line_regions, square_darkness, (h, w))
            outside = helpers.submit(portrait_outside, square_darkness, net_hints[0], parts)
            dabs_and_guide = helpers.submit(dabs_and_shading, hints, parts, portrait, side)
            fills = colorizer.fills(lines, net_hints)
        timing["colouriser"] = ms_since(network)  # the network and its inputs, and what was found beside it
        dabs, guide = dabs_and_guide.result()
        before_layers = ms_since(t)
        layering = time.perf_counter()
        # the candidates share their shapes (faithful_layers.Shapes): found once, each candidate then only a look-up
        lines_drawn = regions.result() if undrawn is None else replace(regions.result(), undrawn=undrawn)
        shapes, under = shared_shapes(fills, square_darkness, outside.result(), dabs, parts, colorizer.shapes_device,
                                      guide, lines_drawn)
        timing["shapes"] = ms_since(layering)
        # each candidate's colours, one after another (small steps, all holding the interpreter lock), then its
        # layers painted on a thread of its own
        tables = [candidate_tables(shapes, centres, under) for centres in shapes.centres]
        timing["layers"] = ms_since(layering)
        candidates = candidate_parts(tables, lambda table: painted(shapes, table), workers, (h, w), timing,
                                     before_layers)
    info = {
        "mode": mode,
        "style_seeds": [[int(style_seed), i] for i in range(n)],
        # None: the likely palette (refined.donor_palette), not a drawn one
        "donor_seeds": [None if (int(style_seed), i) == (0, 0) else donor_seed(int(style_seed), i) for i in range(n)],
        "dabs": [d.info() for d in dabs],
    }
    result = Result(next(candidates), info, timing, more=candidates)
    return result if progressive else result.whole()


BODY_MAP = 128  # the part map's size on which refined mode judges whether the body was drawn (drawn.undrawn_body)


def dabs_and_shading(hints: np.ndarray | None, parts: np.ndarray, portrait, side: int) -> tuple[list, GuideShading]:
    """Faithful mode's hint dabs (each knowing its part) and the guidance's shading, at the request's size. The
    dabs' parts come from the part map at the network's size: a second engine render at full size cost more
    than all the layering."""
    parts_full = cv2.resize(parts, (side, side), interpolation=cv2.INTER_NEAREST) if side != len(parts) else parts
    return find_dabs(hints, parts_full) if hints is not None else [], guide_shading(portrait, side)


def candidate_parts(items: list, make, workers: int, size: tuple[int, int], timing: dict[str, float],
                    before_layers_ms: float) -> Iterator[list[Layer]]:
    """Each candidate's production layers (`make(item)`: name -> RGBA of the square), cut back to the request
    (`size`) and to their pixels, one list a candidate, in order, each made when asked for (on `workers` threads,
    ahead of the asking). `timing` adds up as they come: "layers" (making them), "crop" (cutting them), "render"
    (`before_layers_ms`, the portraits or the colouriser, plus the layers)."""
    h, w = size
    timing.setdefault("layers", 0.0)
    timing["crop"] = 0.0

    def one(numbered: tuple[int, object]) -> tuple[list[Layer], float, float]:
        k, item = numbered
        started = time.perf_counter()
        stack = make(item)
        made = time.perf_counter()
        return cropped_stack(stack, f"Candidate {k + 1}", h, w), (made - started) * 1e3, ms_since(made)

    for layers, layers_ms, crop_ms in ordered_map(one, enumerate(items), workers):
        timing["layers"] = round(timing["layers"] + layers_ms, 1)  # part of "render": the production layers alone
        timing["crop"] = round(timing["crop"] + crop_ms, 1)
        timing["render"] = round(before_layers_ms + timing["layers"], 1)
        yield layers


def candidate_workers(n: int) -> int:
    """Threads for a request's candidates, each painted and cut into layers on its own: as many as the service
    gives torch (half the cores, the rest stay Krita's; one on a 2-core machine, where they run one by one)."""
    import torch

    return max(1, min(n, torch.get_num_threads()))


def cropped_stack(stack: dict[str, np.ndarray], group: str, h: int, w: int) -> list[Layer]:
    """One candidate's layers (name -> RGBA of the square) cut back to the request (h x w) and to their pixels."""
    return [cropped(name, group, rgba[:h, :w]) for name, rgba in stack.items()]


def cropped(name: str, group: str, rgba: np.ndarray) -> Layer:
    """A production layer cut to where it has pixels (an empty one stays, one transparent pixel: every candidate
    has the same layers)."""
    box = ink_box(cv2.extractChannel(rgba, 3))  # the alpha copied out whole: faster than its strided view
    if box is None:
        pixels, x0, y0 = np.zeros((1, 1, 4), np.uint8), 0, 0
    else:
        y0, y1, x0, x1 = box
        pixels = np.ascontiguousarray(rgba[y0:y1, x0:x1])
    return Layer(name, group, pixels, x0, y0, BLEND_OF[name], visible=name not in HIDDEN,
                 backdrop=runs_on(rgba) if name == FLATS else None)


def runs_on(flats: np.ndarray) -> tuple[int, int, int] | None:
    """The colour a Flat colours layer (RGBA, the request) runs on with past the request, where it is opaque all
    round the request's edge (a hinted background fills it): the colour most of that edge has. An artist who
    dabbed the background means the canvas's, not the crop's. None where the edge shows paper."""
    edge = np.concatenate([flats[0], flats[-1], flats[1:-1, 0], flats[1:-1, -1]])
    if (edge[:, 3] < 255).any():
        return None
    rgb = edge[:, :3].astype(np.int32)
    keys, counts = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2], return_counts=True)  # 1-D: 50x faster
    key = int(keys[np.argmax(counts)])
    return key >> 16, key >> 8 & 255, key & 255


def face_vector(guidance_model, darkness: np.ndarray, state: str | None, faithfulness, origin: tuple[int, int],
                side: int) -> tuple[np.ndarray, np.ndarray, Placement]:
    """The face to paint and where it lies in the request: exactly the guidance the artist sees (its state,
    whose window is in canvas pixels), or a fresh guidance of the sketch."""
    if state is not None:
        from ..guidance.state import decode_state

        face = decode_state(state)
        placement = IDENTITY if face.window is None else Placement.of(face.window, origin, side)
        return face.floats, face.choices, placement
    guide = guidance_model.guide(darkness, faithfulness=faithfulness, origin=origin)
    return guide.floats, guide.choices, guide.placement


def ms_since(t: float) -> float:
    return round((time.perf_counter() - t) * 1000.0, 1)
