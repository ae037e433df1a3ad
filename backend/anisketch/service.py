"""The one facade the server calls: numpy in, layers out, every argument checked.

`ModelService` is its contract, derived from protocol.OPS (each model op, its parameters, images and result
fields; tests/test_contract.py checks that they agree): the real `Service` and every test fake implement it.
Models load lazily on first use, so `info` answers at once and a missing weights file only fails the
operations that need it (with a message saying which file). Each operation returns a `Result` whose `layers`
are RGBA images placed in the request image's pixel coordinates (the server sends them as they are) and whose
`info` holds the op's result fields.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from . import __version__
from .engine import params as P
from .engine.sketch import rgba_to_darkness
from .errors import BadRequest
from .guidance.faithfulness import DEFAULT_FAITHFULNESS
from .layers import Result, guidance_layers
from .protocol import MAX_CANDIDATES, MAX_SIDE
from .weights import default_weights_dir

MIN_SIDE = 16
SAMPLE_SKETCH = Path(__file__).resolve().parent / "assets" / "sample_sketch.png"  # shipped: the demo's, the warm-up's


class ModelService(Protocol):
    """What the server calls for each model op of protocol.OPS: the op's params as keywords, its images as
    `<name>_rgba` (RGBA uint8 [H, W, 4]); the Result's info holds the op's result fields. Bad content raises
    errors.BadRequest; a missing model errors.ModelUnavailable. A service may also offer `warm_up()`, which the
    server calls once before its first request."""

    def info(self) -> dict[str, Any]: ...

    def guide(self, sketch_rgba: np.ndarray, *, mode: str = ..., faithfulness: float | dict[str, float] = ...,
              pins: Sequence[str] = ..., state: str | None = ..., origin: tuple[int, int] = ...,
              extent: tuple[int, int] | None = ..., canvas: tuple[int, int] | None = ...) -> Result: ...

    def render(self, sketch_rgba: np.ndarray, hints_rgba: np.ndarray | None = ..., *, n: int = ..., mode: str = ...,
               style_seed: int = ..., state: str | None = ..., origin: tuple[int, int] = ...,
               progressive: bool = ...) -> Result: ...

    def generate(self, attributes: dict[str, str] | None, *, noise: str | int | None = ..., mode: str = ...) -> Result: ...

    def photo(self, photo_rgba: np.ndarray, *, n: int = ..., mode: str = ...) -> Result: ...


def check_image(name: str, image, channels: int = 4) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise BadRequest(f"{name} must be a uint8 image")
    if image.ndim != 3 or image.shape[2] != channels:
        raise BadRequest(f"{name} must have shape (height, width, {channels}), got {tuple(image.shape)}")
    h, w = image.shape[:2]
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise BadRequest(f"{name} is {w}x{h} px; each side must be between {MIN_SIDE} and {MAX_SIDE} px")
    return image


def whole_pair(name: str, value) -> tuple[int, int]:
    """Two whole numbers (a point or a size on the canvas), else BadRequest."""
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        raise BadRequest(f"{name} must be two whole numbers on the canvas, got {value!r}")
    return int(value[0]), int(value[1])


def check_origin(origin) -> tuple[int, int]:
    return whole_pair("origin (x, y)", origin)


def check_canvas(canvas) -> tuple[int, int] | None:
    """The canvas's size [w, h] (None: not told), else BadRequest."""
    if canvas is None:
        return None
    w, h = whole_pair("canvas [w, h]", canvas)
    if w < 1 or h < 1:
        raise BadRequest(f"canvas [w, h] must be positive, got {w}x{h}")
    return w, h


MAX_SHRINK = 8  # a sketch sent shrunk covers at most this many canvas px per image px


def check_extent(extent, shape: tuple[int, ...]) -> float:
    """Canvas px per pixel of a sketch image that covers `extent` ([w, h] on the canvas; None: the image's own
    size). The image must be the extent shrunk evenly (each side rounded)."""
    h, w = shape[:2]
    if extent is None:
        return 1.0
    ew, eh = whole_pair("extent [w, h]", extent)
    if not (w <= ew <= MAX_SIDE and h <= eh <= MAX_SIDE):
        raise BadRequest(f"extent {ew}x{eh} must cover the {w}x{h} px sketch and be at most {MAX_SIDE} px a side")
    scale = max(ew, eh) / max(w, h)
    if scale > MAX_SHRINK or abs(ew / scale - w) > 1 or abs(eh / scale - h) > 1:
        raise BadRequest(f"a {w}x{h} px sketch is not the {ew}x{eh} px extent shrunk evenly "
                         f"(at most {MAX_SHRINK}x)")
    return scale


def drawn_side(shape: tuple[int, ...], extent) -> int:
    """The side (px) of the square the guidance layers are drawn on: the crop's, also when sent shrunk."""
    return max(extent) if extent is not None else max(shape[:2])


class Service:
    def __init__(self, weights_dir: Path | None = None, device: str = "auto", threads: int | None = None):
        self.weights_dir = Path(weights_dir) if weights_dir else default_weights_dir()
        self.device = self._pick_device(device)
        self._share_the_cpu(threads)
        self._guidance = None
        self._colorizer, self._colorizer_loaded = None, False

    @staticmethod
    def _pick_device(device: str) -> str:
        import torch

        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if device not in ("cpu", "cuda") or (device == "cuda" and not torch.cuda.is_available()):
            raise BadRequest(f"device {device!r} is not available here (cpu{', cuda' if torch.cuda.is_available() else ''})")
        return device

    @staticmethod
    def _share_the_cpu(threads: int | None) -> None:
        """Krita runs on the same machine and needs its cores while the artist draws. Torch's default of one
        thread per core makes every convolution wait on busy cores (on 2 busy cores a 30 ms guidance took
        300-800 ms with 2 threads): take half the cores at most, unless told otherwise. OpenCV's pool too (every
        core by default): a resize split over 2 threads waits for the busier core. On 2 cores, guide p95 53 -> 49
        ms calm, 57 -> 51 ms with a core busy; beside torch on 2 threads (still spinning after a convolution)
        1 guide in 20 took 700 ms instead of 40."""
        import cv2
        import torch

        from .parallel import cpu_workers

        count = threads or max(1, min(8, cpu_workers() // 2))
        torch.set_num_threads(count)
        cv2.setNumThreads(count)

    @property
    def guidance(self):
        if self._guidance is None:
            from .guidance.predictor import GuidanceModel

            self._guidance = GuidanceModel.load(self.weights_dir, self.device)
            # The models' many long-lived objects leave the collector's view, so the full collections that
            # a guide's allocations trigger now and then stay short (they made the slowest guides slower).
            gc.freeze()
        return self._guidance

    def warm_up(self) -> None:
        """Load the guidance model and guide the shipped sample sketch, before the artist's first stroke: that
        stroke would otherwise wait for the weights and the first inference's set-up (about 0.2 s on 2 cores)."""
        from PIL import Image

        with Image.open(SAMPLE_SKETCH) as sample:
            self.guide(np.asarray(sample.convert("RGBA")))

    def info(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "engine_version": P.ENGINE_VERSION,
            "device": self.device,
            "models_loaded": [name for name, m in (("guidance", self._guidance), ("colorizer", self._colorizer))
                              if m is not None],
            "groups": list(P.GROUPS),
            "attributes": {k: list(v) for k, v in P.ATTRIBUTES.items()},
            "limits": {"max_side": MAX_SIDE, "min_side": MIN_SIDE, "max_candidates": MAX_CANDIDATES},
        }

    def guide(self, sketch_rgba: np.ndarray, *, mode: str = "rough",
              faithfulness: float | dict[str, float] = DEFAULT_FAITHFULNESS, pins: Sequence[str] = (),
              state: str | None = None, origin: tuple[int, int] = (0, 0),
              extent: tuple[int, int] | None = None, canvas: tuple[int, int] | None = None) -> Result:
        """`origin`: the request crop's top-left pixel on the artist's canvas. The state records the face in
        canvas coordinates, so a state from an earlier, other crop still keeps pins and unchanged parts in place.
        `extent`: the crop's size on the canvas when the sketch is that crop shrunk; the layers are drawn at
        the crop's full size all the same. `canvas`: the canvas's size [w, h], where a crop reaches past it: a
        face whose ink runs off the canvas's edge is read as cut there (guidance/completion.py)."""
        t0 = time.perf_counter()
        check_image("sketch", sketch_rgba)
        if mode not in ("rough", "detail"):
            raise BadRequest(f"mode must be 'rough' or 'detail', got {mode!r}")
        scale = check_extent(extent, sketch_rgba.shape)
        darkness = rgba_to_darkness(sketch_rgba)
        t1 = time.perf_counter()
        guide = self.guidance.guide(darkness, faithfulness=faithfulness, pins=tuple(pins), state=state,
                                    origin=check_origin(origin), scale=scale, canvas=check_canvas(canvas))
        t2 = time.perf_counter()
        layers = guidance_layers(guide.portrait.strokes, drawn_side(sketch_rgba.shape, extent), mode)
        t3 = time.perf_counter()
        timing = {"prepare": (t1 - t0) * 1e3, "model": (t2 - t1) * 1e3, "draw": (t3 - t2) * 1e3}
        return Result(layers, {"confidence": guide.confidence, "state": guide.state},
                      {k: round(v, 2) for k, v in timing.items()})

    def guide_batch(self, requests: list[dict[str, Any]]) -> list[Result | BadRequest]:
        """Several clients' guides at once, each a dict of `guide`'s keyword arguments: the guidance encoder
        runs once over all of them (the server batches the guides that wait while the model is busy). Each
        request gets its Result, or the BadRequest that it alone raised."""
        t0 = time.perf_counter()
        outcomes: list[Result | BadRequest | None] = [None] * len(requests)
        ready = []
        for i, request in enumerate(requests):
            try:
                sketch = check_image("sketch", request["sketch_rgba"])
                if request.get("mode", "rough") not in ("rough", "detail"):
                    raise BadRequest(f"mode must be 'rough' or 'detail', got {request['mode']!r}")
                origin = check_origin(request.get("origin", (0, 0)))
                scale = check_extent(request.get("extent"), sketch.shape)
                ready.append((i, request, {"darkness": rgba_to_darkness(sketch), "origin": origin, "scale": scale,
                                           "canvas": check_canvas(request.get("canvas")),
                                           "faithfulness": request.get("faithfulness", DEFAULT_FAITHFULNESS),
                                           "pins": tuple(request.get("pins", ())), "state": request.get("state")}))
            except BadRequest as error:
                outcomes[i] = error
        t1 = time.perf_counter()
        guides = self.guidance.guide_batch([call for _, _, call in ready]) if ready else []
        t2 = time.perf_counter()
        shared = {"prepare": (t1 - t0) * 1e3, "model": (t2 - t1) * 1e3}  # the whole batch's
        for (i, request, _), guide in zip(ready, guides):
            if isinstance(guide, BadRequest):
                outcomes[i] = guide
                continue
            started = time.perf_counter()
            layers = guidance_layers(guide.portrait.strokes,
                                     drawn_side(request["sketch_rgba"].shape, request.get("extent")),
                                     request.get("mode", "rough"))
            timing = {**shared, "draw": (time.perf_counter() - started) * 1e3}
            outcomes[i] = Result(layers, {"confidence": guide.confidence, "state": guide.state},
                                 {k: round(v, 2) for k, v in timing.items()})
        return [outcome for outcome in outcomes if outcome is not None]

    @property
    def colorizer(self):
        """The faithful-mode colouriser, or None when this install ships none (refined mode still works)."""
        if not self._colorizer_loaded:
            from .render.api import load_colorizer

            self._colorizer, self._colorizer_loaded = load_colorizer(self.weights_dir, self.device), True
        return self._colorizer

    def render(self, sketch_rgba: np.ndarray, hints_rgba: np.ndarray | None = None, *, n: int = 4,
               mode: str = "refined", style_seed: int = 0, state: str | None = None,
               origin: tuple[int, int] = (0, 0), progressive: bool = False) -> Result:
        """progressive: candidate 1 in the Result's layers, the others made as its `more` is iterated."""
        from .render.api import render as render_colors

        return render_colors(self.guidance, sketch_rgba, hints_rgba, n=n, mode=mode, style_seed=style_seed,
                             colorizer=self.colorizer if mode == "faithful" else None, state=state,
                             origin=check_origin(origin), progressive=progressive)

    def generate(self, attributes: dict[str, str] | None, *, noise: str | int | None = None, mode: str = "rough",
                 size: int = 512, n: int = 1) -> Result:
        from .generate.api import generate

        return generate(attributes, noise, size=size, n=n, mode=mode)

    def photo(self, photo_rgba: np.ndarray, *, n: int = 4, mode: str = "rough", selection: Any = None) -> Result:
        """Anime portraits of the photo's face (the largest, or the one under `selection`): guidance line art
        and n colour candidates that differ in style where the photo says nothing, drawn in the photo's frame."""
        from .photo.api import photo

        check_image("photo", photo_rgba)
        return photo(photo_rgba, n=n, mode=mode, selection=selection)


def _implements_the_protocol(service: Service) -> ModelService:
    """Never called: mypy (tests/test_lint.py) checks here that Service matches ModelService."""
    return service
