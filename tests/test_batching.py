"""Guides of several clients through the real GuidanceModel as one encoder batch: the same answers as one by
one, each request's own error kept to itself, and the real server batching them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from anisketch.engine.geometry import build_portrait
from anisketch.engine import params as P
from anisketch.engine.params import sample_params
from anisketch.engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from anisketch.errors import BadRequest
from anisketch.guidance.state import decode_state
from anisketch.service import Service

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_harness import ServerProcess  # noqa: E402


def sketch(seed: int, size: int, fraction: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    strokes = simulate_sketch(build_portrait(sample_params(seed)), rng, fraction=fraction)
    return sketch_to_rgba(render_sketch(strokes, size, rng))


@pytest.fixture(scope="module")
def service():
    return Service(device="cpu")


def _same_guide(batched, single):
    a, b = decode_state(batched.info["state"]), decode_state(single.info["state"])
    # One batch and one image may take different convolution kernels: equal up to float rounding. The refined
    # pose floats a little less so: the pose refiner reads the line art of each reading, where a reading 1e-6
    # apart shades a few edge pixels one level apart; 1e-3 is 0.08 px of a 512 px guide.
    pose = P.PLACING_SLOTS
    np.testing.assert_allclose(np.delete(a[0], pose), np.delete(b[0], pose), atol=1e-4)
    np.testing.assert_allclose(a[0][pose], b[0][pose], atol=1e-3)
    assert np.array_equal(a[1], b[1])
    assert [layer.name for layer in batched.layers] == [layer.name for layer in single.layers]
    assert batched.info["confidence"].keys() == single.info["confidence"].keys()


def test_a_batch_answers_what_single_guides_answer(service):
    first = service.guide(sketch(11, 300))
    requests = [
        {"sketch_rgba": sketch(11, 300), "mode": "rough"},
        {"sketch_rgba": sketch(12, 512), "mode": "detail", "faithfulness": {"eyes": 0.2}},
        {"sketch_rgba": sketch(11, 300, 0.9), "mode": "rough", "pins": ["eyes"], "state": first.info["state"],
         "origin": [40, 8]},
    ]
    refiner = service.guidance.refiner
    asked = []
    ask = refiner.refine
    refiner.refine = lambda images, *reading: asked.append(len(images)) or ask(images, *reading)
    try:
        batched = service.guide_batch([dict(r) for r in requests])
    finally:
        del refiner.refine
    assert len(batched) == 3
    # The pose refiner too reads the batch at once: the two fresh guides, and the one whose reading moved from
    # the reading its state's refiner was shown (more strokes drawn), are asked in one call.
    assert asked == [3]
    for request, result in zip(requests, batched):
        single = service.guide(**request)
        _same_guide(result, single)


def test_each_request_keeps_its_own_error(service):
    good = sketch(13, 256)
    outcomes = service.guide_batch([
        {"sketch_rgba": np.zeros((64, 64, 4), np.uint8)},  # nothing drawn
        {"sketch_rgba": good},
        {"sketch_rgba": good, "mode": "sparkly"},
        {"sketch_rgba": good, "pins": ["eyes"]},  # pins without a state
    ])
    assert isinstance(outcomes[0], BadRequest) and "empty" in str(outcomes[0])
    assert not isinstance(outcomes[1], Exception) and outcomes[1].layers
    assert isinstance(outcomes[2], BadRequest) and "mode" in str(outcomes[2])
    assert isinstance(outcomes[3], BadRequest) and "state" in str(outcomes[3])


@pytest.mark.timeout(240)
def test_the_real_server_batches_waiting_guides():
    """Six clients at once: while the first guide runs, the others wait and then go through the encoder
    together. Every reply is its own sketch's guidance, and the server's log shows the batches."""
    sketches = [sketch(20 + i, 256) for i in range(6)]
    with ServerProcess(service=None, env={"OMP_NUM_THREADS": "1"}) as server:
        with server.client(timeout=120) as client:
            singles = [client.guide(s)["state"] for s in sketches[:1]]  # loads the model
        clients = [server.client(timeout=120) for _ in sketches]
        try:
            ids = [c.send("guide", {}, {"sketch": s}) for c, s in zip(clients, sketches)]
            states = [c.wait(i).result["state"] for c, i in zip(clients, ids)]
        finally:
            for c in clients:
                c.close()
        log = server.log()
    batches = [int(part.split("=")[1]) for line in log.splitlines() for part in line.split() if part.startswith("batch=")]
    assert batches and max(batches) >= 2, log[-2000:]
    np.testing.assert_allclose(decode_state(states[0])[0], decode_state(singles[0])[0], atol=1e-4)
    assert len(set(states)) == len(sketches)  # each reply is its own sketch's
