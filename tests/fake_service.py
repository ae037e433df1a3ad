"""A FAKE model service for the server's tests: the real server process serves it through the real socket.

It stands in for anisketch.service.Service only where the model is irrelevant (protocol, scheduling,
fuzzing, security). Its answers are cheap functions of the request, so a test can check that each reply
belongs to its own request. ANISKETCH_FAKE_DELAY_S slows every model call down (supersession tests),
ANISKETCH_FAKE_PART_DELAY_S each later part of a progressive render; with ANISKETCH_FAKE_STARTED_DIR each model
call first leaves a file there (PID-N), so a test can wait until a worker has really started a request.
`generate(attributes={"__fail__": KIND})` raises on purpose: bad_request, internal, oom.
"""

from __future__ import annotations

import hashlib
import os
import time

import cv2
import numpy as np

from anisketch.engine.params import ATTRIBUTES
from anisketch.errors import BadRequest
from anisketch.layers import Layer, Result

GROUPS = ("face", "eyes", "brows", "nose", "mouth", "hair", "accessories")


def digest(array: np.ndarray) -> str:
    """What the test recomputes on its side to match a reply with its request."""
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


class FakeService:
    """Implements anisketch.service.ModelService (tests/test_contract.py checks it)."""

    def __init__(self, weights_dir=None, device="auto"):
        self.delay_s = float(os.environ.get("ANISKETCH_FAKE_DELAY_S", "0"))
        self.part_delay_s = float(os.environ.get("ANISKETCH_FAKE_PART_DELAY_S", "0"))
        self.calls = 0
        self.warmed_up = 0

    def _work(self) -> None:
        self.calls += 1
        started = os.environ.get("ANISKETCH_FAKE_STARTED_DIR")
        if started:
            open(os.path.join(started, f"{os.getpid()}-{self.calls}"), "w").close()
        if self.delay_s:
            time.sleep(self.delay_s)

    def warm_up(self) -> None:
        self.warmed_up += 1

    def info(self) -> dict:
        return {"warmed_up": self.warmed_up, "version": "fake", "device": "cpu", "groups": list(GROUPS), "attributes": {k: list(v) for k, v in ATTRIBUTES.items()},
                "models": {"fake": True}, "calls": self.calls}

    def guide(self, sketch_rgba, *, mode="rough", faithfulness=0.5, pins=(), state=None, origin=(0, 0), extent=None,
              canvas=None):
        self._work()
        inverted = sketch_rgba.copy()
        inverted[..., :3] = 255 - inverted[..., :3]
        if extent is not None:  # a crop sent shrunk: layers come back at the crop's size, as the real service draws
            inverted = cv2.resize(inverted, tuple(extent), interpolation=cv2.INTER_NEAREST)
        layers = [Layer("guide", None, inverted, x=-2, y=-3)]
        layers += [Layer(f"pin {group}", group, np.full((8, 8, 4), i * 30, np.uint8), x=i, y=0)
                   for i, group in enumerate(pins)]
        echo = {"mode": mode, "faithfulness": faithfulness, "pins": list(pins), "digest": digest(sketch_rgba),
                "shape": list(sketch_rgba.shape), "state_in": state, "origin": list(origin), "call": self.calls,
                "extent": None if extent is None else list(extent)}
        return Result(layers, {"confidence": {g: 0.5 for g in GROUPS}, "state": f"state-{digest(sketch_rgba)}",
                               "echo": echo}, {"fake_model": 0.5})

    def render(self, sketch_rgba, hints_rgba=None, *, n=4, mode="refined", style_seed=0, state=None, origin=(0, 0),
               progressive=False):
        self._work()
        # the render contract: per candidate, bottom to top, Flat colours / Shadows / Highlights with their blends,
        # and in refined mode the engine's own Line art, placed hidden
        names = [("Flat colours", "normal"), ("Shadows", "multiply"), ("Highlights", "screen")]
        names += [("Line art", "normal")] if mode == "refined" else []
        # a hinted background runs on past the request: the flats carry the colour the canvas is painted in
        hinted = hints_rgba is not None and bool(np.asarray(hints_rgba)[..., 3].any())
        candidates = [[Layer(name, f"Candidate {i + 1}", np.full(sketch_rgba.shape, (style_seed + i + k) % 256, np.uint8),
                             blend=blend, visible=name != "Line art",
                             backdrop=((style_seed + i) % 256,) * 3 if hinted and k == 0 else None)
                       for k, (name, blend) in enumerate(names)] for i in range(n)]
        echo = {"n": n, "mode": mode, "style_seed": style_seed, "digest": digest(sketch_rgba),
                "hints": None if hints_rgba is None else digest(hints_rgba), "call": self.calls}
        result = Result(candidates[0], {"mode": mode, "style_seeds": [[style_seed, i] for i in range(n)], "dabs": [],
                                        "echo": echo}, more=self._one_by_one(candidates[1:]))
        return result if progressive else result.whole()

    def _one_by_one(self, candidates):
        """A progressive render's later parts, each made (ANISKETCH_FAKE_PART_DELAY_S) when asked for."""
        for layers in candidates:
            time.sleep(self.part_delay_s)
            yield layers

    def generate(self, attributes, *, noise=None, mode="rough"):
        self._work()
        failure = attributes.get("__fail__")
        if failure == "bad_request":
            raise BadRequest("unknown hair colour 'plaid'; choose one of blonde, brown, black")
        if failure == "internal":
            raise RuntimeError("the fake model broke")
        if failure == "oom":
            raise MemoryError("CUDA out of memory (fake)")
        seed = noise % 2**32 if isinstance(noise, int) else int(hashlib.sha1(str(noise).encode()).hexdigest()[:8], 16)
        pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 4), dtype=np.uint8)
        return Result([Layer("portrait", None, pixels)], {"noise": f"noise-{seed}", "attributes": dict(attributes),
                                                          "state": f"state-{seed}", "size": 64})

    def photo(self, photo_rgba, *, n=4, mode="rough"):
        self._work()
        small = np.ascontiguousarray(photo_rgba[::2, ::2])
        return Result([Layer(f"anime {i + 1}", None, small) for i in range(n)],
                      {"faces_found": 1, "warnings": [], "noise": None, "attributes": {}, "state": None,
                       "echo": {"digest": digest(photo_rgba)}})


class BatchingFakeService(FakeService):
    """The same, with the optional batch entry point the server uses when several clients' guides wait."""

    batches: list[int] = []

    def info(self) -> dict:
        return {**super().info(), "batches": self.batches}

    def guide_batch(self, requests: list[dict]) -> list:
        self.batches.append(len(requests))
        return [self.guide(request.pop("sketch_rgba"), **request) for request in requests]
