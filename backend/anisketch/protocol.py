"""The wire protocol between the Krita plugin and `anisketch serve` (documented in docs/protocol.md).

STANDARD LIBRARY ONLY: install.py copies this very file into the Krita plugin, whose Python has no numpy.

A message is a list of ZeroMQ frames: frame 0 is a UTF-8 JSON header, then one raw pixel frame per image
descriptor in the header, in the same order. Pixels never go through base64 or PNG.

    request: {"v": 1, "id": "42", "op": "guide", "params": {...},
              "frames": [{"name": "sketch", "format": "bgra8", "width": 512, "height": 512, "stride": 2048}]}
    reply:   {"v": 1, "id": "42", "op": "guide", "ok": true, "result": {...}, "timing_ms": {...},
              "layers": [{"name", "group", "x", "y", "width", "height", "format", "stride"}]}
             (a render asked with "progressive": true answers in parts, each a reply of its own: "more": true on
              all but the last; the first part holds the result fields)
          or {"v": 1, "id": "42", "op": "guide", "ok": false, "error": {"code": "superseded", "message": "..."}}

Four pure functions do all the work: `encode_request`, `decode_request`, `encode_reply`, `decode_reply`.
Decoding validates everything (types, ranges, sizes, frame counts, NaN) and raises `ProtocolError` with a
code and a message a person can act on; encoding validates by decoding what it built, so a client learns
about a bad request before it leaves.

Why one file of this size: install.py copies this single file into the plugin, and both sides must run the
very same checks; split, the plugin would need the same set of files kept in step.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

PROTOCOL_VERSION = 1

# Limits. A frame above MAX_FRAME_BYTES never reaches the server's code: ZeroMQ drops the connection
# (zmq.MAXMSGSIZE), so the client times out. Everything below it is checked here and answered.
MAX_SIDE = 4096
MAX_FRAME_BYTES = MAX_SIDE * MAX_SIDE * 4
MAX_HEADER_BYTES = 256 * 1024
MAX_IMAGES = 4
MAX_LAYERS = 64
MAX_ID_CHARS = 128
MAX_STATE_CHARS = 64 * 1024
MAX_CANDIDATES = 8  # render, photo and generate candidates per request: the one limit, models import it
MAX_OFFSET = 4 * MAX_SIDE  # layers may reach beyond the crop (guidance draws the whole face), not arbitrarily far
MAX_CANVAS = 1 << 20  # a crop's origin on the canvas (px); Krita's own canvases stay far below

# Bytes per pixel. Krita hands layer pixels over as B,G,R,A: the plugin may send them as they are
# ("bgra8") and ask for "bgra8" layers back; the server swizzles with numpy, off the GUI thread.
FORMATS = {"rgba8": 4, "bgra8": 4, "gray8": 1}
LAYER_FORMATS = ("rgba8", "bgra8")

# Krita composite-op ids a result layer may ask for (Node.setBlendingMode); absent means "normal".
BLEND_MODES = ("normal", "multiply", "screen", "add", "overlay")

# The part groups of docs/architecture.md (engine.params.GROUPS); a test keeps the two equal.
GROUPS = ("face", "eyes", "brows", "nose", "mouth", "hair", "accessories")

# Error codes. The first group comes from this module, the second from the server.
BAD_MESSAGE = "bad_message"  # not a header we can read: not UTF-8 JSON, not an object, too large
UNSUPPORTED_VERSION = "unsupported_version"
UNKNOWN_OP = "unknown_op"
BAD_PARAMS = "bad_params"
BAD_FRAMES = "bad_frames"  # descriptors and pixel frames disagree
TOO_LARGE = "too_large"
BAD_REQUEST = "bad_request"  # the model service refused the content (message meant for the artist)
MODEL_UNAVAILABLE = "model_unavailable"
OUT_OF_MEMORY = "out_of_memory"
INTERNAL = "internal"
SUPERSEDED = "superseded"  # a newer guide from the same client replaced this one before it ran
CANCELLED = "cancelled"
BUSY = "busy"  # this client already has too many requests queued
SHUTTING_DOWN = "shutting_down"


class ProtocolError(ValueError):
    """A message that breaks the protocol. `request_id` is set when the header got far enough to have one."""

    def __init__(self, code: str, message: str, request_id: str | None = None, op: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.op = op

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# ---------------------------------------------------------------------------------------------------------
# Messages


@dataclass
class Image:
    """Pixels with their layout: `stride` bytes per row, rows top to bottom, `len(data) == stride * height`."""

    name: str
    format: str
    width: int
    height: int
    data: Any  # bytes, bytearray or memoryview
    stride: int = 0  # 0: tightly packed, width * bytes per pixel

    def __post_init__(self) -> None:
        if not self.stride and self.format in FORMATS and isinstance(self.width, int):
            self.stride = self.width * FORMATS[self.format]

    def descriptor(self) -> dict:
        return {"name": self.name, "format": self.format, "width": self.width, "height": self.height,
                "stride": self.stride}


@dataclass
class Layer(Image):
    """A result layer: an image placed at (x, y) in the request crop's pixel coordinates (may be negative)."""

    group: str | None = None
    x: int = 0
    y: int = 0
    blend: str = "normal"  # Krita composite-op id (BLEND_MODES): how the layer mixes with those below
    visible: bool = True  # False: the client places the layer hidden (it is there for the artist to switch on)
    # [r, g, b]: the layer's colour beyond the request (a hinted background runs on past the crop): the client
    # paints the rest of the canvas in it. None: nothing beyond the layer's own pixels.
    backdrop: list | None = None

    def descriptor(self) -> dict:
        return {**super().descriptor(), "group": self.group, "x": self.x, "y": self.y, "blend": self.blend,
                "visible": self.visible, "backdrop": self.backdrop}


@dataclass
class Request:
    op: str
    id: str
    params: dict = field(default_factory=dict)
    images: list[Image] = field(default_factory=list)
    # Optional, increasing with each request a client sends: orders one client's requests even where they
    # reach different worker processes (serve --workers N), so the newest guide wins there too.
    seq: int | None = None

    def image(self, name: str) -> Image | None:
        return next((image for image in self.images if image.name == name), None)


@dataclass
class Reply:
    id: str | None
    op: str | None
    ok: bool
    result: dict = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    timing_ms: dict = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    # A part of a progressive reply that more parts follow (the request asked "progressive": true): the client
    # keeps waiting for the same id. The last part says False; an error reply ends the reply too.
    more: bool = False


def error_reply(request_id: str | None, op: str | None, code: str, message: str, timing_ms: dict | None = None) -> Reply:
    return Reply(id=request_id, op=op, ok=False, error_code=code, error_message=message, timing_ms=timing_ms or {})


# ---------------------------------------------------------------------------------------------------------
# Parameter checks: each takes (name, value) and returns the value to use, or raises ProtocolError.

Check = Callable[[str, Any], Any]


def _bad(message: str) -> ProtocolError:
    return ProtocolError(BAD_PARAMS, message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def choice(*options: str) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise _bad(f"'{name}' must be one of {', '.join(options)}, not {_show(value)}")
        return value
    return check


def integer(lo: int, hi: int) -> Check:
    def check(name: str, value: Any) -> int:
        if not _is_int(value) or not lo <= value <= hi:
            raise _bad(f"'{name}' must be a whole number from {lo} to {hi}, not {_show(value)}")
        return value
    return check


def number(lo: float, hi: float) -> Check:
    def check(name: str, value: Any) -> float:
        if not _is_number(value) or not lo <= value <= hi:
            raise _bad(f"'{name}' must be a number from {lo} to {hi}, not {_show(value)}")
        return float(value)
    return check


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(f"'{name}' must be true or false, not {_show(value)}")
    return value


def text(max_chars: int) -> Check:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or len(value) > max_chars:
            raise _bad(f"'{name}' must be a string of at most {max_chars} characters, not {_show(value)}")
        return value
    return check


def optional(inner: Check) -> Check:
    def check(name: str, value: Any) -> Any:
        return None if value is None else inner(name, value)
    return check


def faithfulness(name: str, value: Any) -> float | dict[str, float]:
    """One number for the whole face, or one per part group: {"eyes": 0.9, "hair": 0.2}."""
    in_range = number(0.0, 1.0)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(GROUPS))
        if unknown:
            raise _bad(f"'{name}' has unknown part groups {unknown}; the groups are {', '.join(GROUPS)}")
        return {group: in_range(f"{name}.{group}", v) for group, v in value.items()}
    return in_range(name, value)


def groups(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > len(GROUPS):
        raise _bad(f"'{name}' must be a list of part groups ({', '.join(GROUPS)}), not {_show(value)}")
    unknown = [g for g in value if g not in GROUPS or not isinstance(g, str)]
    if unknown:
        raise _bad(f"'{name}' has unknown part groups {_show(unknown)}; the groups are {', '.join(GROUPS)}")
    if len(set(value)) != len(value):
        raise _bad(f"'{name}' names a group twice: {_show(value)}")
    return tuple(value)


def point(lo: int, hi: int) -> Check:
    """Two whole numbers [x, y], each from lo to hi."""
    def check(name: str, value: Any) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2 or not all(_is_int(v) and lo <= v <= hi for v in value):
            raise _bad(f"'{name}' must be two whole numbers [x, y] from {lo} to {hi}, not {_show(value)}")
        return value[0], value[1]
    return check


def attributes(name: str, value: Any) -> dict[str, str]:
    """MakeGirlsMoe-style attributes, {"hair_color": "blonde", "smile": "on"}; the model checks the vocabulary."""
    if not isinstance(value, dict) or len(value) > 64:
        raise _bad(f"'{name}' must be an object of at most 64 attribute: value strings, not {_show(value)}")
    for key, v in value.items():
        if not isinstance(v, str) or len(key) > 64 or len(v) > 64:
            raise _bad(f"'{name}.{key[:64]}' must be a string of at most 64 characters, not {_show(v)}")
    return dict(value)


def noise(name: str, value: Any) -> int | str | None:
    """A noise seed (integer) or an exported noise string; null draws a fresh one."""
    if value is None or (isinstance(value, str) and len(value) <= MAX_STATE_CHARS):
        return value
    if _is_int(value) and -(2**63) <= value < 2**63:
        return value
    raise _bad(f"'{name}' must be an integer seed, a noise string or null, not {_show(value)}")


@dataclass(frozen=True)
class OpSpec:
    """One operation, declared once: what a request carries and what its reply's `result` holds.

    A model op is answered by the model service's method of the same name (service.ModelService), called
    with the checked params (less SERVER_PARAMS) as keywords and each image as `<name>_rgba` (image_argument);
    the result fields are the keys of the `info` of the Result it returns, which the server checks. The other
    ops the server answers itself. tests/test_contract.py holds the service, the fakes and the plugin to this.
    """

    params: dict[str, Check]
    images: dict[str, bool]  # image name -> required
    required_params: tuple[str, ...] = ()
    result: tuple[str, ...] = ()  # fields every ok reply's `result` has (more may follow)
    model: bool = True


def image_argument(name: str) -> str:
    """The service's keyword argument for a request image: "sketch" -> "sketch_rgba" (a numpy RGBA array)."""
    return f"{name}_rgba"


# Parameters every image-returning op accepts; the server handles them, the model never sees them.
SERVER_PARAMS: dict[str, Check] = {"layer_format": choice(*LAYER_FORMATS)}

OPS: dict[str, OpSpec] = {
    "info": OpSpec(params={}, images={}, model=False,
                   # the server's own (protocol, server, ops, limits) and the service's (the rest)
                   result=("protocol", "server", "ops", "limits", "version", "device", "groups", "attributes")),
    "guide": OpSpec(
        params={
            "mode": choice("rough", "detail"),
            "faithfulness": faithfulness,
            "pins": groups,
            "state": optional(text(MAX_STATE_CHARS)),
            # Where the crop's top-left pixel lies on the canvas: the state then follows the face in canvas
            # coordinates, so a later request with another crop keeps pins and unchanged parts in place.
            "origin": point(-MAX_CANVAS, MAX_CANVAS),
            # The crop's size on the canvas [w, h] when the sketch image is that crop shrunk (a large crop: the
            # model reads a 256 px window, so the client may send less); the layers come back at this size.
            "extent": point(1, MAX_SIDE),
            # The artist's canvas size [w, h]: where a crop reaches past a small canvas, its edge is where the
            # drawing ends, and a face whose ink runs off it is read as cut there.
            "canvas": point(1, MAX_CANVAS),
            **SERVER_PARAMS,
        },
        images={"sketch": True},
        result=("confidence", "state"),  # {group: 0..1} how much of each part is drawn; the face, for the next call
    ),
    "render": OpSpec(
        params={
            "n": integer(1, MAX_CANDIDATES),
            "mode": choice("refined", "faithful"),
            "style_seed": integer(0, 2**31 - 1),
            "state": optional(text(MAX_STATE_CHARS)),
            "origin": point(-MAX_CANVAS, MAX_CANVAS),  # as for guide: places the state's face in this crop
            # The candidates as they are made, one reply part each (Reply.more): the first can be shown while the
            # others are still being painted.
            "progressive": boolean,
            **SERVER_PARAMS,
        },
        images={"sketch": True, "hints": False},
        result=("mode", "style_seeds", "dabs"),
    ),
    "generate": OpSpec(
        params={"attributes": attributes, "noise": noise, "mode": choice("rough", "detail"), **SERVER_PARAMS},
        images={},
        # size: the square (px) the layers are drawn on; state: guidance state of the portrait's face
        result=("noise", "attributes", "state", "size"),
    ),
    "photo": OpSpec(params={"n": integer(1, MAX_CANDIDATES), "mode": choice("rough", "detail"), **SERVER_PARAMS},
                    images={"photo": True}, result=("faces_found", "warnings", "noise", "attributes", "state")),
    "cancel": OpSpec(params={"target": text(MAX_ID_CHARS)}, images={}, required_params=("target",), model=False,
                     result=("target", "was")),
}
MODEL_OPS = tuple(op for op, spec in OPS.items() if spec.model)


# ---------------------------------------------------------------------------------------------------------
# Requests


def encode_request(request: Request) -> list:
    """The frames to send. Raises ProtocolError for a request the server would refuse."""
    header = {"v": PROTOCOL_VERSION, "id": request.id, "op": request.op, "params": request.params,
              "frames": [image.descriptor() for image in request.images]}
    if request.seq is not None:
        header["seq"] = request.seq
    parts = [_dump(header)] + [image.data for image in request.images]
    decode_request(parts)
    return parts


def decode_request(parts: Sequence) -> Request:
    """Validate and decode a received request. Image data stays a view on the received frames (no copy)."""
    header = _load_header(parts)
    request_id = header.get("id")
    request_id = request_id if isinstance(request_id, str) and 0 < len(request_id) <= MAX_ID_CHARS else None
    op = header.get("op") if isinstance(header.get("op"), str) else None
    try:
        return _decode_request(header, parts, request_id)
    except ProtocolError as error:
        error.request_id, error.op = request_id, op if op in OPS else None
        raise


def _decode_request(header: dict, parts: Sequence, request_id: str | None) -> Request:
    _check_envelope(header, required=("v", "id", "op"), optional=("params", "frames", "seq"))
    seq = header.get("seq")
    if seq is not None and (not _is_int(seq) or not 0 <= seq < 2**63):
        raise ProtocolError(BAD_MESSAGE, f"'seq' must be a whole number from 0 to 2**63-1, not {_show(seq)}")
    if request_id is None:
        raise ProtocolError(BAD_MESSAGE, f"'id' must be a non-empty string of at most {MAX_ID_CHARS} characters, "
                                         f"not {_show(header['id'])}")
    op = header["op"]
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(UNKNOWN_OP, f"unknown op {_show(op)}; the ops are {', '.join(OPS)}")
    spec = OPS[op]
    params = _check_params(header.get("params", {}), spec)
    images = [Image(name=d["name"], format=d["format"], width=d["width"], height=d["height"], stride=d["stride"],
                    data=data) for d, data in _check_frames(header.get("frames", []), parts, spec.images)]
    missing = [name for name, required in spec.images.items() if required and name not in {i.name for i in images}]
    if missing:
        raise ProtocolError(BAD_FRAMES, f"'{op}' needs the image {', '.join(missing)}")
    return Request(op=op, id=request_id, params=params, images=images, seq=seq)


def _check_params(params: Any, spec: OpSpec) -> dict:
    if not isinstance(params, dict):
        raise _bad(f"'params' must be an object, not {_show(params)}")
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        known = ", ".join(spec.params) or "none"
        raise _bad(f"unknown parameter {_show(unknown[0])}; this op takes: {known}")
    missing = [name for name in spec.required_params if name not in params]
    if missing:
        raise _bad(f"missing parameter '{missing[0]}'")
    return {name: spec.params[name](name, value) for name, value in params.items()}


def _check_frames(descriptors: Any, parts: Sequence, allowed: dict[str, bool]) -> list[tuple[dict, Any]]:
    if not isinstance(descriptors, list):
        raise ProtocolError(BAD_FRAMES, f"'frames' must be a list of image descriptors, not {_show(descriptors)}")
    if len(descriptors) != len(parts) - 1:
        raise ProtocolError(BAD_FRAMES, f"the header describes {len(descriptors)} image frames but "
                                        f"{len(parts) - 1} followed it")
    if len(descriptors) > MAX_IMAGES:
        raise ProtocolError(TOO_LARGE, f"at most {MAX_IMAGES} images per request, not {len(descriptors)}")
    names = [d.get("name") if isinstance(d, dict) else None for d in descriptors]
    checked = []
    for descriptor, data in zip(descriptors, parts[1:]):
        descriptor = _check_image(descriptor, data, ("name", "format", "width", "height"), ("stride",))
        if descriptor["name"] not in allowed:
            raise ProtocolError(BAD_FRAMES, f"unexpected image {_show(descriptor['name'])}; this op takes: "
                                            f"{', '.join(allowed) or 'none'}")
        if names.count(descriptor["name"]) > 1:
            raise ProtocolError(BAD_FRAMES, f"the image {_show(descriptor['name'])} is sent twice")
        checked.append((descriptor, data))
    return checked


def _check_image(descriptor: Any, data: Any, required: tuple, optional: tuple, formats: Sequence = tuple(FORMATS)) -> dict:
    """Check one image descriptor against its frame; returns the descriptor with `stride` filled in."""
    if not isinstance(descriptor, dict):
        raise ProtocolError(BAD_FRAMES, f"an image descriptor must be an object, not {_show(descriptor)}")
    _check_envelope(descriptor, required, optional, what="image descriptor", code=BAD_FRAMES)
    name, fmt, width, height = (descriptor[k] for k in ("name", "format", "width", "height"))
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise ProtocolError(BAD_FRAMES, f"an image name must be a string of 1 to 64 characters, not {_show(name)}")
    if fmt not in formats or not isinstance(fmt, str):
        raise ProtocolError(BAD_FRAMES, f"image '{name}': format must be one of {', '.join(formats)}, not {_show(fmt)}")
    for key, value in (("width", width), ("height", height)):
        if not _is_int(value) or value < 1:
            raise ProtocolError(BAD_FRAMES, f"image '{name}': {key} must be a positive whole number, not {_show(value)}")
        if value > MAX_SIDE:
            raise ProtocolError(TOO_LARGE, f"image '{name}' is {width}x{height} px; the most is {MAX_SIDE}x{MAX_SIDE}: "
                                           f"work on a selection or scale the crop down")
    row = width * FORMATS[fmt]
    stride = descriptor.get("stride", row)
    if not _is_int(stride) or not row <= stride <= row + 64:
        raise ProtocolError(BAD_FRAMES, f"image '{name}': stride must be from {row} (width x {FORMATS[fmt]} bytes) "
                                        f"to {row + 64}, not {_show(stride)}")
    size = _nbytes(data)
    if size != stride * height:
        raise ProtocolError(BAD_FRAMES, f"image '{name}': {width}x{height} {fmt} with stride {stride} needs "
                                        f"{stride * height} bytes, the frame has {size}")
    return {**descriptor, "stride": stride}


# ---------------------------------------------------------------------------------------------------------
# Replies


def encode_reply(reply: Reply) -> list:
    header: dict[str, Any] = {"v": PROTOCOL_VERSION, "id": reply.id, "op": reply.op, "ok": reply.ok,
                              "timing_ms": reply.timing_ms}
    if reply.ok:
        header["result"] = reply.result
        header["layers"] = [layer.descriptor() for layer in reply.layers]
        if reply.more:
            header["more"] = True
        parts = [_dump(header)] + [layer.data for layer in reply.layers]
    else:
        header["error"] = {"code": reply.error_code, "message": reply.error_message or ""}
        parts = [_dump(header)]
    decode_reply(parts)
    return parts


def decode_reply(parts: Sequence) -> Reply:
    header = _load_header(parts)
    _check_envelope(header, required=("v", "id", "op", "ok"), optional=("result", "layers", "timing_ms", "error", "more"))
    request_id, op, ok = header["id"], header["op"], header["ok"]
    if not isinstance(ok, bool) or not isinstance(request_id, (str, type(None))) or not isinstance(op, (str, type(None))):
        raise ProtocolError(BAD_MESSAGE, "a reply needs 'ok' (true or false), 'id' and 'op' (strings or null)")
    timing = header.get("timing_ms", {})
    if not isinstance(timing, dict) or not all(_is_number(v) for v in timing.values()):
        raise ProtocolError(BAD_MESSAGE, f"'timing_ms' must map names to numbers, not {_show(timing)}")
    more = header.get("more", False)
    if not isinstance(more, bool) or (more and not ok):
        raise ProtocolError(BAD_MESSAGE, f"'more' must be true or false, and only an ok reply has more parts, "
                                         f"not {_show(more)}")
    if not ok:
        error = header.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            raise ProtocolError(BAD_MESSAGE, f"an error reply needs 'error': {{'code', 'message'}}, not {_show(error)}")
        if len(parts) != 1:
            raise ProtocolError(BAD_FRAMES, f"an error reply carries no frames, this one has {len(parts) - 1}")
        return error_reply(request_id, op, error["code"], str(error.get("message", "")), timing)
    result, descriptors = header.get("result", {}), header.get("layers", [])
    if not isinstance(result, dict):
        raise ProtocolError(BAD_MESSAGE, f"'result' must be an object, not {_show(result)}")
    if not isinstance(descriptors, list) or len(descriptors) != len(parts) - 1 or len(descriptors) > MAX_LAYERS:
        raise ProtocolError(BAD_FRAMES, f"the reply describes {_show(descriptors)} layers but {len(parts) - 1} "
                                        f"frames followed (at most {MAX_LAYERS})")
    return Reply(id=request_id, op=op, ok=True, result=result, timing_ms=timing, more=more,
                 layers=[_decode_layer(d, data) for d, data in zip(descriptors, parts[1:])])


def _decode_layer(descriptor: Any, data: Any) -> Layer:
    d = _check_image(descriptor, data, ("name", "format", "width", "height", "group", "x", "y"),
                     ("stride", "blend", "visible", "backdrop"), formats=LAYER_FORMATS)
    if not isinstance(d["group"], (str, type(None))):
        raise ProtocolError(BAD_FRAMES, f"layer '{d['name']}': group must be a string or null")
    blend = d.get("blend", "normal")
    if blend not in BLEND_MODES or not isinstance(blend, str):
        raise ProtocolError(BAD_FRAMES, f"layer '{d['name']}': blend must be one of {', '.join(BLEND_MODES)}, "
                                        f"not {_show(blend)}")
    visible = d.get("visible", True)
    if not isinstance(visible, bool):
        raise ProtocolError(BAD_FRAMES, f"layer '{d['name']}': visible must be true or false, not {_show(visible)}")
    for key in ("x", "y"):
        if not _is_int(d[key]) or abs(d[key]) > MAX_OFFSET:
            raise ProtocolError(BAD_FRAMES, f"layer '{d['name']}': {key} must be a whole number within "
                                            f"±{MAX_OFFSET}, not {_show(d[key])}")
    backdrop = d.get("backdrop")
    if backdrop is not None and not (isinstance(backdrop, list) and len(backdrop) == 3
                                     and all(_is_int(c) and 0 <= c <= 255 for c in backdrop)):
        raise ProtocolError(BAD_FRAMES, f"layer '{d['name']}': backdrop must be null or [r, g, b] (0-255), "
                                        f"not {_show(backdrop)}")
    return Layer(name=d["name"], format=d["format"], width=d["width"], height=d["height"], stride=d["stride"],
                 data=data, group=d["group"], x=d["x"], y=d["y"], blend=blend, visible=visible, backdrop=backdrop)


# ---------------------------------------------------------------------------------------------------------
# Helpers


def swap_red_blue(pixels: bytes | bytearray | memoryview) -> bytearray:
    """RGBA <-> BGRA for tightly packed 4-byte pixels, in C speed without numpy (extended slice assignment)."""
    out = bytearray(pixels)
    out[0::4], out[2::4] = out[2::4], out[0::4]
    return out


def _dump(header: dict) -> bytes:
    try:
        data = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ProtocolError(BAD_PARAMS, f"the header cannot be sent as JSON: {error}") from None
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError(TOO_LARGE, f"the header is {len(data)} bytes; the most is {MAX_HEADER_BYTES}")
    return data


def _load_header(parts: Sequence) -> dict:
    if not parts:
        raise ProtocolError(BAD_MESSAGE, "empty message: frame 0 must be the JSON header")
    size = _nbytes(parts[0])
    if size > MAX_HEADER_BYTES:
        raise ProtocolError(TOO_LARGE, f"the header is {size} bytes; the most is {MAX_HEADER_BYTES}")
    try:
        # NaN and Infinity parse (as Python's json allows) so that the parameter checks, which all demand
        # finite numbers, can name the offending parameter and answer with the request's id.
        header = json.loads(bytes(parts[0]).decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(BAD_MESSAGE, "frame 0 must be a UTF-8 JSON header; it is not UTF-8") from None
    except (ValueError, RecursionError) as error:
        raise ProtocolError(BAD_MESSAGE, f"frame 0 must be a JSON header: {str(error)[:200]}") from None
    if not isinstance(header, dict):
        raise ProtocolError(BAD_MESSAGE, f"the header must be a JSON object, not {_show(header)}")
    version = header.get("v")
    if version != PROTOCOL_VERSION or not _is_int(version):
        raise ProtocolError(UNSUPPORTED_VERSION, f"protocol version {_show(version)} is not supported; this side "
                                                 f"speaks version {PROTOCOL_VERSION}: update the plugin or the backend")
    return header


def _check_envelope(obj: dict, required: tuple, optional: tuple, what: str = "header", code: str = BAD_MESSAGE) -> None:
    missing = [key for key in required if key not in obj]
    if missing:
        raise ProtocolError(code, f"the {what} lacks '{missing[0]}'")
    unknown = sorted(str(key) for key in set(obj) - set(required) - set(optional))
    if unknown:
        raise ProtocolError(code, f"the {what} has an unknown field {_show(unknown[0])}")


def _nbytes(data: Any) -> int:
    return data.nbytes if isinstance(data, memoryview) else len(data)


def _show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of a received value for an error message."""
    try:
        shown = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        shown = repr(type(value).__name__)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
