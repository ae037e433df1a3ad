"""Fuzzing: random and mutated messages get error replies (one each), and the server keeps serving.

The decoder alone first (tens of thousands of mutations, in process: only ProtocolError may come out), then
the real server process through a raw DEALER socket: every message gets exactly one well-formed reply, the
log shows no traceback, and a valid request still succeeds afterwards.
"""

from __future__ import annotations

import json
import random
import time

import numpy as np
import pytest
import zmq

from anisketch import protocol as P
from server_harness import ServerProcess

WEIRD_VALUES = [None, True, False, 0, -1, 1, 7, 2**31, 2**70, -(2**70), 0.5, -0.0, 1e308, float("nan"),
                float("inf"), float("-inf"), "", "x", "rough", "eyes", "rgba8", "gray8", "sketch", "x" * 5000,
                [], [1], ["eyes", "eyes"], ["eyes"], {}, {"eyes": 0.5}, {"a": {"b": {"c": []}}}, 4096, 4097, 16]


def valid_messages() -> list[list[bytes]]:
    """One valid message per op, small enough to send thousands of mutations quickly."""
    sketch = np.random.default_rng(1).integers(0, 256, (16, 16, 4), dtype=np.uint8).tobytes()
    gray = bytes(range(256))
    requests = [
        P.Request("info", "i"),
        P.Request("guide", "g", {"mode": "detail", "pins": ["eyes"], "faithfulness": {"hair": 0.2}, "state": None,
                                 "layer_format": "bgra8"}, [P.Image("sketch", "rgba8", 16, 16, sketch)], seq=3),
        P.Request("guide", "g2", {}, [P.Image("sketch", "gray8", 16, 16, gray)]),
        P.Request("render", "r", {"n": 2, "mode": "faithful", "style_seed": 3},
                  [P.Image("sketch", "bgra8", 16, 16, sketch), P.Image("hints", "rgba8", 16, 16, sketch)]),
        P.Request("generate", "n", {"attributes": {"hair_color": "blonde"}, "noise": 5}),
        P.Request("photo", "p", {"n": 1}, [P.Image("photo", "rgba8", 16, 16, sketch)]),
        P.Request("cancel", "c", {"target": "r"}),
    ]
    return [[bytes(part) for part in P.encode_request(request)] for request in requests]


def mutate(parts: list[bytes], rnd: random.Random) -> list[bytes]:
    parts = list(parts)
    kind = rnd.randrange(8)
    if kind == 0:  # flip, insert or delete bytes in the header
        header = bytearray(parts[0])
        for _ in range(rnd.randint(1, 4)):
            at = rnd.randrange(len(header))
            choice = rnd.randrange(3)
            if choice == 0:
                header[at] = rnd.randrange(256)
            elif choice == 1:
                header.insert(at, rnd.choice(b'{}[]",:0-9eE.\\ntruefalsnul'))
            else:
                del header[at]
        parts[0] = bytes(header)
    elif kind == 1:  # truncate the header
        parts[0] = parts[0][: rnd.randrange(len(parts[0]))]
    elif kind in (2, 3, 4):  # replace, delete or add a value somewhere in the header's JSON
        header = json.loads(parts[0])
        _mutate_json(header, rnd)
        parts[0] = json.dumps(header).encode()
    elif kind == 5 and len(parts) > 1:  # truncate, extend or empty a pixel frame
        at = rnd.randrange(1, len(parts))
        frame = parts[at]
        parts[at] = rnd.choice([frame[: rnd.randrange(len(frame) + 1)], frame + bytes(rnd.randint(1, 9)), b""])
    elif kind == 6:  # drop, duplicate or add frames
        choice = rnd.randrange(3)
        if choice == 0 and len(parts) > 1:
            del parts[rnd.randrange(1, len(parts))]
        elif choice == 1:
            parts.append(parts[rnd.randrange(len(parts))])
        else:
            parts.insert(rnd.randrange(len(parts) + 1), rnd.randbytes(rnd.randint(0, 64)))
    else:  # pure noise
        parts = [rnd.randbytes(rnd.randint(0, 300)) for _ in range(rnd.randint(1, 4))]
    return parts


def _mutate_json(node, rnd: random.Random, depth: int = 0) -> None:
    keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
    if not keys:
        if isinstance(node, dict):
            node[rnd.choice(["x", "n", "v", "id", "name"])] = rnd.choice(WEIRD_VALUES)
        return
    key = rnd.choice(keys)
    child = node[key]
    if isinstance(child, (dict, list)) and child and depth < 4 and rnd.random() < 0.6:
        _mutate_json(child, rnd, depth + 1)
        return
    action = rnd.randrange(3)
    if action == 0:
        node[key] = rnd.choice(WEIRD_VALUES)
    elif action == 1:
        del node[key]
    elif isinstance(node, dict):
        node[rnd.choice(["extra", "stride", "seq", "group", "frames", "params", "target"])] = rnd.choice(WEIRD_VALUES)
    else:
        node.append(rnd.choice(WEIRD_VALUES))


def fuzz_messages(count: int, seed: int) -> list[list[bytes]]:
    rnd = random.Random(seed)
    valid = valid_messages()
    return [mutate(rnd.choice(valid), rnd) for _ in range(count)]


def test_decoder_raises_only_protocol_errors():
    decoded = refused = 0
    for parts in fuzz_messages(20000, seed=1):
        try:
            P.decode_request(parts)
            decoded += 1
        except P.ProtocolError as error:
            assert error.code and error.message
            refused += 1
    assert refused > 15000 and decoded > 100, (refused, decoded)  # the mutations reach deep and shallow checks


def test_reply_decoder_raises_only_protocol_errors():
    """The plugin decodes replies with the same module: a broken reply must not raise anything else."""
    rnd = random.Random(3)
    layers = [P.Layer("Guidance: eyes", "bgra8", 3, 2, bytes(24), group="eyes", x=-5, y=9)]
    valid = [[bytes(p) for p in P.encode_reply(reply)] for reply in (
        P.Reply("g", "guide", True, {"confidence": {"eyes": 0.5}, "state": "s"}, layers, {"total": 1.5}),
        P.error_reply("g", "guide", P.SUPERSEDED, "newer", {"queue": 2.0}))]
    for _ in range(10000):
        try:
            P.decode_reply(mutate(rnd.choice(valid), rnd))
        except P.ProtocolError as error:
            assert error.code and error.message


@pytest.mark.timeout(90)
def test_server_survives_thousands_of_bad_messages():
    messages = fuzz_messages(3000, seed=2)
    with ServerProcess() as server:
        context = zmq.Context.instance()
        sock = context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(server.endpoint)
        started, sent, replies, codes = time.monotonic(), 0, 0, {}
        while replies < len(messages):
            while sent < len(messages) and sent - replies < 64:  # a window keeps both sides busy
                sock.send_multipart(messages[sent])
                sent += 1
            assert sock.poll(10_000), f"no reply after {replies} of {sent} messages:\n{server.log()[-3000:]}"
            frames = sock.recv_multipart()
            if frames[0] == b"" and len(frames) > 1:  # a message that began with an empty frame looked REQ-style
                frames = frames[1:]
            reply = P.decode_reply(frames)  # every reply is well formed
            status = reply.error_code or "ok"
            assert reply.ok or reply.error_message, reply
            codes[status] = codes.get(status, 0) + 1
            replies += 1
        elapsed = time.monotonic() - started
        sock.close()
        print(f"{len(messages)} messages in {elapsed:.1f} s: {dict(sorted(codes.items()))}")
        assert sock.closed and elapsed < 60
        assert codes.get("ok", 0) > 50 and codes.get("bad_frames", 0) > 100 and codes.get("bad_message", 0) > 100
        assert "internal" not in codes, codes
        with server.client() as client:
            sketch = np.zeros((32, 32, 4), np.uint8)
            assert client.guide(sketch).layers and client.info()["version"] == "fake"
        assert server.stop() == 0
        assert "Traceback" not in server.log(), server.log()[-3000:]
