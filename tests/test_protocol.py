"""The wire protocol: round trips, and a clear ProtocolError for every way a message can be wrong."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from anisketch import protocol as P

PROTOCOL_FILE = Path(P.__file__)


def sketch(width=4, height=3, fmt="rgba8", stride=0, name="sketch") -> P.Image:
    bpp = P.FORMATS[fmt]
    stride = stride or width * bpp
    return P.Image(name, fmt, width, height, bytes(stride * height), stride)


def guide_parts(**header_changes) -> list:
    parts = P.encode_request(P.Request("guide", "r1", {"mode": "rough"}, [sketch()]))
    header = json.loads(parts[0])
    header.update(header_changes)
    return [json.dumps(header).encode()] + parts[1:]


def error_of(parts) -> P.ProtocolError:
    with pytest.raises(P.ProtocolError) as caught:
        P.decode_request(parts)
    return caught.value


def test_request_round_trip_keeps_everything():
    images = [sketch(5, 2, "bgra8", stride=24), P.Image("hints", "rgba8", 2, 2, bytes(range(16)))]
    request = P.Request("render", "abc", {"n": 3, "mode": "faithful", "style_seed": 9, "layer_format": "bgra8"}, images)
    decoded = P.decode_request(P.encode_request(request))
    assert (decoded.op, decoded.id, decoded.params) == ("render", "abc", request.params)
    assert [(i.name, i.format, i.width, i.height, i.stride) for i in decoded.images] == \
        [("sketch", "bgra8", 5, 2, 24), ("hints", "rgba8", 2, 2, 8)]
    assert bytes(decoded.image("hints").data) == bytes(range(16))
    assert decoded.image("photo") is None


def test_guide_params_are_normalised():
    request = P.decode_request(P.encode_request(P.Request("guide", "g", {
        "pins": ["eyes", "mouth"], "faithfulness": {"eyes": 1, "hair": 0.25}, "state": None,
        "origin": [-12, 3000]}, [sketch(fmt="gray8")])))
    assert request.params == {"pins": ("eyes", "mouth"), "faithfulness": {"eyes": 1.0, "hair": 0.25},
                              "state": None, "origin": (-12, 3000)}


@pytest.mark.parametrize("origin", [[1], [1, 2, 3], [1.5, 2], [True, 0], "0,0", [0, P.MAX_CANVAS + 1], None])
def test_a_bad_origin_is_refused_by_name(origin):
    error = error_of(_raw_guide({"origin": origin}))
    assert error.code == P.BAD_PARAMS and "'origin'" in error.message


def _raw_guide(params):
    import json
    image = sketch()
    header = {"v": P.PROTOCOL_VERSION, "id": "g", "op": "guide", "params": params, "frames": [image.descriptor()]}
    return [json.dumps(header).encode(), image.data]


def test_reply_round_trip_with_layers_outside_the_crop():
    layers = [P.Layer("Guidance: eyes", "bgra8", 2, 1, b"\x01\x02\x03\x04" * 2, group="eyes", x=-40, y=700),
              P.Layer("Render 1", "rgba8", 1, 2, bytes(8), group=None)]
    reply = P.Reply("r", "guide", True, {"confidence": {"eyes": 0.9}, "state": "s"}, layers, {"total": 3.5})
    decoded = P.decode_reply(P.encode_reply(reply))
    assert decoded.ok and decoded.result == reply.result and decoded.timing_ms == {"total": 3.5}
    assert [(l.name, l.group, l.x, l.y, l.width, l.height, l.format) for l in decoded.layers] == \
        [("Guidance: eyes", "eyes", -40, 700, 2, 1, "bgra8"), ("Render 1", None, 0, 0, 1, 2, "rgba8")]
    assert [l.blend for l in decoded.layers] == ["normal", "normal"]


def test_layers_carry_their_blending_mode():
    layers = [P.Layer("Shadows", "rgba8", 1, 1, bytes(4), group="Candidate 1", blend=mode) for mode in P.BLEND_MODES]
    decoded = P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, layers)))
    assert [l.blend for l in decoded.layers] == list(P.BLEND_MODES)


def test_layers_say_whether_they_come_hidden():
    layers = [P.Layer("Line art", "rgba8", 1, 1, bytes(4), group="Candidate 1", visible=False),
              P.Layer("Flat colours", "rgba8", 1, 1, bytes(4), group="Candidate 1")]
    decoded = P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, layers)))
    assert [l.visible for l in decoded.layers] == [False, True]


def test_a_layer_may_say_what_colour_it_runs_on_with_past_the_request():
    layers = [P.Layer("Flat colours", "rgba8", 1, 1, bytes(4), group="Candidate 1", backdrop=[250, 240, 200]),
              P.Layer("Shadows", "rgba8", 1, 1, bytes(4), group="Candidate 1")]
    decoded = P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, layers)))
    assert [l.backdrop for l in decoded.layers] == [[250, 240, 200], None]


@pytest.mark.parametrize("backdrop", [[255, 0], [0, 0, 256], [0, 0, -1], "white", [0.5, 0, 0], [True, 0, 0]])
def test_a_backdrop_that_is_not_an_rgb_triple_is_refused(backdrop):
    layer = P.Layer("Flat colours", "rgba8", 1, 1, bytes(4), backdrop=backdrop)
    with pytest.raises(P.ProtocolError) as caught:
        P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, [layer])))
    assert caught.value.code == P.BAD_FRAMES and "backdrop" in caught.value.message


@pytest.mark.parametrize("visible", ["false", 0, None])
def test_a_visibility_that_is_not_true_or_false_is_refused(visible):
    layer = P.Layer("Line art", "rgba8", 1, 1, bytes(4), visible=visible)
    with pytest.raises(P.ProtocolError) as caught:
        P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, [layer])))
    assert caught.value.code == P.BAD_FRAMES and "visible" in caught.value.message


@pytest.mark.parametrize("blend", ["dissolve", "", 3, None])
def test_an_unknown_blending_mode_is_refused(blend):
    layer = P.Layer("Shadows", "rgba8", 1, 1, bytes(4), blend=blend)
    with pytest.raises(P.ProtocolError) as caught:
        P.decode_reply(P.encode_reply(P.Reply("r", "render", True, {}, [layer])))
    assert caught.value.code == P.BAD_FRAMES and "blend" in caught.value.message


def test_error_reply_round_trip():
    decoded = P.decode_reply(P.encode_reply(P.error_reply("r", "guide", P.SUPERSEDED, "newer guide", {"queue": 1.0})))
    assert (decoded.ok, decoded.id, decoded.error_code, decoded.error_message) == (False, "r", "superseded", "newer guide")


def test_encode_refuses_what_the_server_would_refuse():
    with pytest.raises(P.ProtocolError, match="pins"):
        P.encode_request(P.Request("guide", "x", {"pins": ["tail"]}, [sketch()]))
    with pytest.raises(P.ProtocolError, match="needs the image sketch"):
        P.encode_request(P.Request("guide", "x", {}, []))


@pytest.mark.parametrize("parts, code, words", [
    ([], P.BAD_MESSAGE, "empty message"),
    ([b"\xff\xfe"], P.BAD_MESSAGE, "not UTF-8"),
    ([b"{not json"], P.BAD_MESSAGE, "JSON header"),
    ([b"[1, 2]"], P.BAD_MESSAGE, "JSON object"),
    ([b"[" * 100000], P.BAD_MESSAGE, "JSON"),
    ([b" " * (P.MAX_HEADER_BYTES + 1)], P.TOO_LARGE, "header"),
    ([b'{"v": 2, "id": "a", "op": "info"}'], P.UNSUPPORTED_VERSION, "update the plugin"),
    ([b'{"v": true, "id": "a", "op": "info"}'], P.UNSUPPORTED_VERSION, "version"),
    ([b'{"v": 1, "op": "info"}'], P.BAD_MESSAGE, "lacks 'id'"),
    ([b'{"v": 1, "id": "", "op": "info"}'], P.BAD_MESSAGE, "'id'"),
    ([b'{"v": 1, "id": 5, "op": "info"}'], P.BAD_MESSAGE, "'id'"),
    ([b'{"v": 1, "id": "a", "op": "dance"}'], P.UNKNOWN_OP, "the ops are"),
    ([b'{"v": 1, "id": "a", "op": "info", "extra": 1}'], P.BAD_MESSAGE, "unknown field"),
    ([b'{"v": 1, "id": "a", "op": "info", "params": []}'], P.BAD_PARAMS, "object"),
    ([b'{"v": 1, "id": "a", "op": "info", "params": {"n": 1}}'], P.BAD_PARAMS, "unknown parameter"),
    ([b'{"v": 1, "id": "a", "op": "cancel"}'], P.BAD_PARAMS, "missing parameter 'target'"),
    ([b'{"v": 1, "id": "a", "op": "generate", "params": {"noise": 1.5}}'], P.BAD_PARAMS, "noise"),
    ([b'{"v": 1, "id": "a", "op": "generate", "params": {"attributes": {"hair": 3}}}'], P.BAD_PARAMS, "hair"),
    ([b'{"v": 1, "id": "a", "op": "info", "frames": [{}]}'], P.BAD_FRAMES, "1 image frames but 0"),
    ([b'{"v": 1, "id": "a", "op": "info"}', b"x"], P.BAD_FRAMES, "0 image frames but 1"),
])
def test_malformed_headers(parts, code, words):
    error = error_of(parts)
    assert error.code == code and words in error.message, error


@pytest.mark.parametrize("params, words", [
    ({"faithfulness": float("nan")}, "NaN"),
    ({"faithfulness": float("inf")}, "Infinity"),
    ({"faithfulness": {"eyes": float("-inf")}}, "faithfulness.eyes"),
    ({"faithfulness": 1.5}, "from 0.0 to 1.0"),
    ({"faithfulness": True}, "faithfulness"),
    ({"faithfulness": {"tail": 0.5}}, "unknown part groups"),
    ({"mode": "sloppy"}, "rough, detail"),
    ({"pins": "eyes"}, "list"),
    ({"pins": ["eyes", "eyes"]}, "twice"),
    ({"out_size": 512}, "unknown parameter"),
    ({"state": 3}, "string"),
    ({"layer_format": "argb"}, "rgba8, bgra8"),
    ({"canvas": [0, 600]}, "'canvas'"),
    ({"canvas": [800]}, "'canvas'"),
    ({"canvas": [800.5, 600]}, "'canvas'"),
])
def test_bad_guide_params_name_the_parameter_and_keep_the_id(params, words):
    header = json.loads(guide_parts()[0])
    header["params"] = params
    error = error_of([json.dumps(header).encode(), bytes(48)])  # json.dumps writes NaN/Infinity as Python does
    assert error.code == P.BAD_PARAMS and words in error.message, error
    assert (error.request_id, error.op) == ("r1", "guide")


def test_nan_written_by_hand_is_refused():
    raw = b'{"v":1,"id":"n","op":"render","params":{"n":NaN},"frames":[]}'
    error = error_of([raw])
    assert error.code == P.BAD_PARAMS and "'n'" in error.message and error.request_id == "n"


def descriptor(**changes) -> dict:
    return {"name": "sketch", "format": "rgba8", "width": 4, "height": 3, "stride": 16, **changes}


@pytest.mark.parametrize("desc, data, code, words", [
    (descriptor(), bytes(47), P.BAD_FRAMES, "needs 48 bytes, the frame has 47"),
    (descriptor(), bytes(49), P.BAD_FRAMES, "needs 48 bytes"),
    (descriptor(stride=12), bytes(36), P.BAD_FRAMES, "stride"),
    (descriptor(stride=20), bytes(60), None, None),  # padded rows are fine
    (descriptor(format="rgb8"), bytes(48), P.BAD_FRAMES, "format"),
    (descriptor(width=0), b"", P.BAD_FRAMES, "positive"),
    (descriptor(width=-4), bytes(48), P.BAD_FRAMES, "positive"),
    (descriptor(width=4.0), bytes(48), P.BAD_FRAMES, "whole number"),
    (descriptor(width=5000, height=5000, stride=20000), b"", P.TOO_LARGE, "selection"),
    (descriptor(height=10**30), b"", P.TOO_LARGE, "4096"),
    (descriptor(name="photo"), bytes(48), P.BAD_FRAMES, "unexpected image"),
    (descriptor(name=7), bytes(48), P.BAD_FRAMES, "name"),
    (descriptor(depth=8), bytes(48), P.BAD_FRAMES, "unknown field"),
    ({"name": "sketch", "format": "rgba8", "width": 4}, bytes(48), P.BAD_FRAMES, "lacks 'height'"),
    ("sketch", bytes(48), P.BAD_FRAMES, "object"),
])
def test_frame_descriptors_must_match_their_frames(desc, data, code, words):
    parts = [json.dumps({"v": 1, "id": "f", "op": "guide", "frames": [desc]}).encode(), data]
    if code is None:
        assert P.decode_request(parts).image("sketch").stride == desc["stride"]
        return
    error = error_of(parts)
    assert error.code == code and words in error.message, error


def test_an_image_may_not_be_sent_twice_and_required_images_must_come():
    two = [json.dumps({"v": 1, "id": "t", "op": "guide", "frames": [descriptor(), descriptor()]}).encode(),
           bytes(48), bytes(48)]
    assert "twice" in error_of(two).message
    none = [json.dumps({"v": 1, "id": "t", "op": "render", "frames": []}).encode()]
    assert "needs the image sketch" in error_of(none).message


def test_reply_validation():
    good = P.encode_reply(P.Reply("r", "guide", True, {}, [P.Layer("l", "rgba8", 1, 1, bytes(4))]))
    header = json.loads(good[0])
    with pytest.raises(P.ProtocolError, match="frames followed"):
        P.decode_reply([good[0]])
    header["layers"][0]["x"] = 10**9
    with pytest.raises(P.ProtocolError, match="within"):
        P.decode_reply([json.dumps(header).encode(), bytes(4)])
    with pytest.raises(P.ProtocolError, match="error"):
        P.decode_reply([b'{"v":1,"id":"r","op":"guide","ok":false}'])


def test_swap_red_blue():
    assert P.swap_red_blue(b"\x01\x02\x03\x04\x05\x06\x07\x08") == bytearray(b"\x03\x02\x01\x04\x07\x06\x05\x08")


def test_protocol_imports_only_the_standard_library():
    """The plugin runs this very file in Krita's Python, which has no numpy, torch or zmq."""
    tree = ast.parse(PROTOCOL_FILE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level], "no relative imports"
    assert imported - set(sys.stdlib_module_names) == set(), imported


def test_groups_match_the_engine():
    params = pytest.importorskip("anisketch.engine.params")
    assert P.GROUPS == tuple(params.GROUPS)


def test_seq_orders_a_clients_requests_and_is_checked():
    parts = P.encode_request(P.Request("info", "s", seq=41))
    assert P.decode_request(parts).seq == 41 and P.decode_request(guide_parts()).seq is None
    for bad in (-1, 1.5, "7", True):
        assert "'seq'" in error_of(guide_parts(seq=bad)).message
