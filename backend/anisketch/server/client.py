"""A Python client for `anisketch serve`: numpy arrays in, numpy arrays out.

    with Client("tcp://127.0.0.1:5557", timeout=10) as client:
        print(client.info())
        guide = client.guide(sketch_rgba, mode="rough", pins=["eyes"])
        for layer in guide.layers: ...   # layer.rgba uint8[h, w, 4], placed at (layer.x, layer.y)

One Client per thread (a ZeroMQ socket belongs to one thread). A call that gets no reply within the timeout
raises ServerTimeout and recreates the socket, so the next call starts clean (no stale reply, nothing
queued for a dead server); an error reply raises ServerError with the server's code and message.
`send` / `receive` let a caller keep several requests in flight (as the plugin does).
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zmq

from anisketch import protocol
from anisketch.server.pixels import swap_red_blue

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5557"


class ServerError(RuntimeError):
    def __init__(self, reply: protocol.Reply):
        super().__init__(f"{reply.error_code}: {reply.error_message}")
        self.code = reply.error_code
        self.message = reply.error_message
        self.reply = reply


class ServerTimeout(TimeoutError):
    pass


@dataclass
class ResultLayer:
    name: str
    group: str | None
    x: int
    y: int
    rgba: np.ndarray  # uint8[h, w, 4]
    blend: str = "normal"  # Krita composite-op id


@dataclass
class Result:
    id: str | None
    op: str | None
    result: dict
    layers: list[ResultLayer] = field(default_factory=list)
    timing_ms: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:  # result["confidence"], result["state"], result["noise"]...
        return self.result[key]


class Client:
    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 30.0, *, curve_keys: str | None = None,
                 curve_client: str = "client", context: zmq.Context | None = None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.curve = (curve_keys, curve_client) if curve_keys else None
        self.context = context or zmq.Context.instance()
        self._prefix = secrets.token_hex(3)
        self._seq = itertools.count(1)
        self._stash: dict[str, protocol.Reply] = {}  # replies that arrived while waiting for another id
        self.socket = self._connect()

    # --- one method per op -------------------------------------------------------------------------------

    def info(self) -> dict:
        return self.call("info").result

    def guide(self, sketch: np.ndarray, **params: Any) -> Result:
        """params: mode, faithfulness, pins, state, origin (see docs/protocol.md)."""
        return self.call("guide", params, {"sketch": sketch})

    def render(self, sketch: np.ndarray, hints: np.ndarray | None = None, **params: Any) -> Result:
        """params: n, mode, style_seed, state."""
        return self.call("render", params, {"sketch": sketch, "hints": hints})

    def generate(self, attributes: dict[str, str] | None = None, **params: Any) -> Result:
        """params: noise (an int seed or a noise string from an earlier reply), mode (rough | detail)."""
        return self.call("generate", {"attributes": attributes or {}, **params})

    def photo(self, photo: np.ndarray, **params: Any) -> Result:
        """params: n (candidates), mode (rough | detail)."""
        return self.call("photo", params, {"photo": photo})

    def cancel(self, target: str) -> dict:
        """Cancel one of this client's requests by id; the cancelled request answers "cancelled"."""
        return self.call("cancel", {"target": target}).result

    # --- requests ----------------------------------------------------------------------------------------

    def call(self, op: str, params: dict | None = None, images: dict[str, np.ndarray | None] | None = None,
             timeout: float | None = None) -> Result:
        """Send one request and wait for its reply; raises ServerError for an error reply."""
        reply = self.wait(self.send(op, params, images), timeout)
        if not reply.ok:
            raise ServerError(reply)
        return to_result(reply)

    def send(self, op: str, params: dict | None = None, images: dict[str, np.ndarray | None] | None = None,
             request_id: str | None = None) -> str:
        """Send a request without waiting; returns its id. Raises ProtocolError for a request the server
        would refuse."""
        seq = next(self._seq)
        request = protocol.Request(op=op, id=request_id or f"{self._prefix}-{seq}", params=_plain(params or {}),
                                   images=[to_image(name, array) for name, array in (images or {}).items()
                                           if array is not None], seq=seq)
        self.socket.send_multipart(protocol.encode_request(request), copy=False)
        return request.id

    def send_raw(self, parts: list) -> None:
        """Send frames as they are (tests and fuzzing)."""
        self.socket.send_multipart(parts)

    def receive(self, timeout: float | None = None) -> protocol.Reply:
        """The next reply, whichever request it answers."""
        if self._stash:
            return self._stash.pop(next(iter(self._stash)))
        return self._receive_from_socket(self.timeout if timeout is None else timeout)

    def _receive_from_socket(self, timeout: float) -> protocol.Reply:
        if not self.socket.poll(int(timeout * 1000), zmq.POLLIN):
            self.reconnect()
            raise ServerTimeout(f"no reply from {self.endpoint} within {timeout:.1f} s; the connection was reset, "
                                f"requests in flight are dropped")
        return protocol.decode_reply(self.socket.recv_multipart())

    def wait(self, request_id: str, timeout: float | None = None) -> protocol.Reply:
        """The reply to `request_id`; replies to other requests are kept for `receive`."""
        if request_id in self._stash:
            return self._stash.pop(request_id)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            reply = self._receive_from_socket(max(0.0, deadline - time.monotonic()))
            if reply.id == request_id:
                return reply
            if reply.id is not None:
                self._stash[reply.id] = reply

    # --- connection --------------------------------------------------------------------------------------

    def reconnect(self) -> None:
        """Drop the socket (and whatever it had queued) and connect afresh."""
        self.socket.close(linger=0)
        self._stash.clear()
        self.socket = self._connect()

    def _connect(self) -> zmq.Socket:
        sock = self.context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVHWM, 0)  # never drop a reply for want of buffer space
        if self.curve:
            from anisketch.server.security import apply_client_curve
            apply_client_curve(sock, *self.curve)
        sock.connect(self.endpoint)
        return sock

    def close(self) -> None:
        self.socket.close(linger=0)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def to_image(name: str, array: np.ndarray) -> protocol.Image:
    """uint8[H, W, 4] RGBA or uint8[H, W] gray as a protocol image (no copy when already contiguous)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 4):
        raise ValueError(f"image {name!r} must be uint8 [H, W, 4] RGBA or [H, W] gray, not {array.dtype} {array.shape}")
    height, width = array.shape[:2]
    return protocol.Image(name=name, format="rgba8" if array.ndim == 3 else "gray8", width=width, height=height,
                          data=array.reshape(-1).data)


def to_result(reply: protocol.Reply) -> Result:
    return Result(id=reply.id, op=reply.op, result=reply.result, timing_ms=reply.timing_ms,
                  layers=[ResultLayer(layer.name, layer.group, layer.x, layer.y, layer_pixels(layer), layer.blend)
                          for layer in reply.layers])


def layer_pixels(layer: protocol.Layer) -> np.ndarray:
    rows = np.frombuffer(layer.data, np.uint8).reshape(layer.height, layer.stride)[:, : layer.width * 4]
    rgba = rows.reshape(layer.height, layer.width, 4)
    return swap_red_blue(rgba) if layer.format == "bgra8" else rgba.copy()


def _plain(params: dict) -> dict:
    """numpy scalars and tuples as JSON types (pins=("eyes",) is natural in Python)."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return {k: plain(v) for k, v in params.items()}
