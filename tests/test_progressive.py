"""Progressive render replies: candidate 1 first, the others as they are made (docs/protocol.md, "Progressive
replies"). The protocol's checks, the real server streaming the fake service's parts (and stopping at a cancel),
and the real render making the same bytes whether it is asked progressively or not."""

from __future__ import annotations

import time

import numpy as np
import pytest

from anisketch import protocol as P
from anisketch.server.client import to_result
from fake_service import digest
from server_harness import ServerProcess

SKETCH = np.random.default_rng(1).integers(0, 256, (24, 20, 4), dtype=np.uint8)


def _part(more: bool, result: dict | None = None) -> list:
    layer = P.Layer("Flat colours", "bgra8", 2, 1, bytes(8), group="Candidate 1")
    return P.encode_reply(P.Reply("7", "render", True, result=result or {}, layers=[layer], more=more))


def test_the_protocol_carries_more_on_ok_replies_only():
    assert P.decode_reply(_part(True)).more and not P.decode_reply(_part(False)).more
    assert b'"more"' not in bytes(_part(False)[0])  # a reply in one piece looks as before
    with pytest.raises(P.ProtocolError, match="more"):
        P.decode_reply([b'{"v":1,"id":"7","op":"render","ok":false,"more":true,"error":{"code":"internal"}}'])
    with pytest.raises(P.ProtocolError, match="more"):
        P.decode_reply([b'{"v":1,"id":"7","op":"render","ok":true,"more":1,"result":{},"layers":[]}'])
    with pytest.raises(P.ProtocolError, match="progressive"):
        P.encode_request(P.Request("render", "8", {"progressive": 1}, [P.Image("sketch", "rgba8", 2, 2, bytes(16))]))


def _parts(client, request_id: str) -> list[P.Reply]:
    """Every reply part of one request, up to the last (no `more`)."""
    parts = [client.receive()]
    while parts[-1].ok and parts[-1].more:
        parts.append(client.receive())
    assert {part.id for part in parts} == {request_id}
    return parts


@pytest.fixture(scope="module")
def server():
    with ServerProcess(env={"ANISKETCH_FAKE_PART_DELAY_S": "0.05"}) as process:
        yield process


def test_a_progressive_render_comes_one_candidate_a_part_then_an_empty_last_part(server):
    with server.client() as client:
        request_id = client.send("render", {"n": 3, "progressive": True, "style_seed": 9}, {"sketch": SKETCH})
        parts = _parts(client, request_id)
        whole = client.render(SKETCH, n=3, style_seed=9)  # asked without progressive: one reply, as before
    assert [part.more for part in parts] == [True, True, True, False]
    assert [{layer.group for layer in part.layers} for part in parts] == [
        {"Candidate 1"}, {"Candidate 2"}, {"Candidate 3"}, set()]
    first = to_result(parts[0])
    assert first["echo"]["digest"] == digest(SKETCH) and first["style_seeds"] == [[9, 0], [9, 1], [9, 2]]
    assert all(part.result == {} for part in parts[1:])  # the result fields come once, with candidate 1
    assert parts[-1].timing_ms["total"] >= parts[0].timing_ms["total"]
    streamed = [(layer.name, layer.group, layer.blend, bytes(layer.data)) for part in parts for layer in part.layers]
    assert streamed == [(layer.name, layer.group, layer.blend, layer.rgba.tobytes()) for layer in whole.layers]


def test_a_cancel_stops_a_progressive_render_between_parts():
    with ServerProcess(env={"ANISKETCH_FAKE_PART_DELAY_S": "0.3"}) as process, process.client() as client:
        asked = time.monotonic()
        request_id = client.send("render", {"n": 8, "progressive": True}, {"sketch": SKETCH})
        first = client.receive()
        assert first.ok and first.more
        assert time.monotonic() - asked < 0.25  # sent before the next part is made (0.3 s each), not after
        started = time.monotonic()
        client.send("cancel", {"target": request_id})
        replies = [client.receive() for _ in range(2)]  # the cancel's answer and the render's end, in any order
        while not any(r.id == request_id and not r.more for r in replies):
            replies.append(client.receive())
        end = next(r for r in replies if r.id == request_id and not r.more)
        assert end.error_code == P.CANCELLED and time.monotonic() - started < 2.0  # not after all 8 parts
        assert client.info()["server"]["running"] == 0


def test_the_real_render_makes_the_same_candidates_progressively():
    from anisketch.render.evaluate import truth_and_inputs
    from anisketch.engine.sketch import sketch_to_rgba
    from anisketch.service import Service

    service, case = Service(device="cpu"), truth_and_inputs(2_000_000_003)
    sketch, hints = sketch_to_rgba(case["sketch"]), case["hints"][5]
    whole = service.render(sketch, hints, n=3, mode="refined")
    lazy = service.render(sketch, hints, n=3, mode="refined", progressive=True)
    assert {layer.group for layer in lazy.layers} == {"Candidate 1"} and lazy.more is not None
    assert lazy.info == whole.info
    parts = [lazy.layers] + list(lazy.more)
    assert [len(part) for part in parts] == [4, 4, 4]
    assert [(l.name, l.group, l.x, l.y, l.blend, l.rgba.tobytes()) for part in parts for l in part] == \
           [(l.name, l.group, l.x, l.y, l.blend, l.rgba.tobytes()) for l in whole.layers]
    assert set(lazy.timing_ms) >= {"guidance", "portraits", "layers", "crop", "render"}
