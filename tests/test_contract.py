"""One operation contract: protocol.OPS declares each op once (params, images, result fields); the Service
Protocol, the real service, every fake, the server's replies and the plugin's reply handling agree with it."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anisketch import protocol as P
from anisketch.layers import Result
from anisketch.server.server import UnavailableService
from anisketch.service import ModelService, Service

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "fake_krita"))
from fake_service import BatchingFakeService, FakeService  # noqa: E402
from photo_service import PhotoFakeService  # noqa: E402

IMPLEMENTATIONS = [Service, FakeService, BatchingFakeService, PhotoFakeService]


def _arguments(method) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(method).parameters.items() if name != "self"}


@pytest.mark.parametrize("op", P.MODEL_OPS)
def test_the_service_protocol_takes_exactly_what_the_op_declares(op):
    spec = P.OPS[op]
    wire = {P.image_argument(name) for name in spec.images} | (set(spec.params) - set(P.SERVER_PARAMS))
    assert set(_arguments(getattr(ModelService, op))) == wire
    for name, required in spec.images.items():  # a required image has no default, an optional one has
        default = _arguments(getattr(ModelService, op))[P.image_argument(name)].default
        assert (default is inspect.Parameter.empty) == required, (op, name)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("op", ("info",) + P.MODEL_OPS)
def test_every_service_implements_the_protocol(implementation, op):
    """Each argument of the Protocol is accepted by name; anything more an implementation takes has a default."""
    method = getattr(implementation, op, None)
    assert callable(method), f"{implementation.__name__} has no '{op}'"
    theirs, ours = _arguments(method), _arguments(getattr(ModelService, op))
    for name, parameter in ours.items():
        assert name in theirs and theirs[name].kind != inspect.Parameter.POSITIONAL_ONLY, (name, theirs)
        assert (theirs[name].default is inspect.Parameter.empty) == (parameter.default is inspect.Parameter.empty), name
    extra = [name for name, p in theirs.items() if name not in ours and p.default is inspect.Parameter.empty
             and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not extra, f"{implementation.__name__}.{op} needs {extra}, which no request carries"


def test_the_unavailable_service_answers_every_model_op_with_its_error():
    from anisketch.errors import ModelUnavailable

    service = UnavailableService(RuntimeError("weights missing"))
    for op in P.MODEL_OPS:
        with pytest.raises(ModelUnavailable, match="weights missing"):
            getattr(service, op)(np.zeros((16, 16, 4), np.uint8))


def _sample(name: str) -> np.ndarray:
    return np.asarray(Image.open(REPO / "backend" / "anisketch" / "assets" / name).convert("RGBA"))


@pytest.fixture(scope="module")
def service():
    return Service(device="cpu")


def _calls(sketch, hints):
    return {
        "guide": lambda s: s.guide(sketch, mode="rough", origin=(3, 4)),
        "render": lambda s: s.render(sketch, hints, n=2, mode="refined"),
        "generate": lambda s: s.generate({"hair_color": "blonde"}, noise=7, mode="detail"),
        "photo": lambda s: s.photo(_photo(), n=1),
    }


def _photo() -> np.ndarray:
    from anisketch.photo.bench import face_photos

    rgb = face_photos()["astronaut"]
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


@pytest.mark.parametrize("op", P.MODEL_OPS)
def test_the_real_service_returns_every_declared_result_field(service, op):
    sketch = _sample("sample_sketch.png")
    result = _calls(sketch, _sample("sample_hints.png"))[op](service)
    assert isinstance(result, Result) and result.layers
    assert set(P.OPS[op].result) <= set(result.info), f"missing: {set(P.OPS[op].result) - set(result.info)}"
    for layer in result.layers:
        assert layer.rgba.dtype == np.uint8 and layer.rgba.ndim == 3 and layer.rgba.shape[2] == 4
        assert layer.blend in P.BLEND_MODES and (layer.group is None or layer.group in P.GROUPS
                                                 or layer.group.startswith("Candidate "))  # a render's stack


@pytest.mark.parametrize("implementation", [FakeService, PhotoFakeService], ids=lambda c: c.__name__)
@pytest.mark.parametrize("op", P.MODEL_OPS)
def test_the_fakes_return_every_declared_result_field(implementation, op):
    sketch = np.full((32, 32, 4), 40, np.uint8)
    photo = np.random.default_rng(0).integers(0, 256, (32, 32, 4), dtype=np.uint8)
    calls = {**_calls(sketch, None), "photo": lambda s: s.photo(photo, n=1)}
    result = calls[op](implementation())
    assert isinstance(result, Result) and set(P.OPS[op].result) <= set(result.info)


def test_the_server_refuses_a_result_that_breaks_the_contract():
    """A service that forgets a promised field is an internal error, not a reply the plugin misreads."""
    from anisketch.server.server import _result_fields

    with pytest.raises(TypeError, match="lacks state"):
        _result_fields("guide", Result([], {"confidence": {}}))
    with pytest.raises(TypeError, match="not anisketch.layers.Result"):
        _result_fields("guide", {"confidence": {}, "state": "s"})
    assert _result_fields("guide", Result([], {"confidence": {"eyes": np.float32(0.5)}, "state": "s"})) == \
        {"confidence": {"eyes": 0.5}, "state": "s"}


def test_the_info_reply_has_every_declared_field():
    from server_harness import ServerProcess

    server = ServerProcess()
    try:
        with server.client() as client:
            info = client.info()
    finally:
        server.stop()
        server.close()
    assert set(P.OPS["info"].result) <= set(info), set(P.OPS["info"].result) - set(info)
    assert info["ops"] == list(P.OPS)


def test_the_real_service_info_gives_the_service_side_of_info(service):
    ours = {"protocol", "server", "ops", "limits"}  # the server adds these
    assert set(P.OPS["info"].result) - ours <= set(service.info())


# The plugin reads reply fields as `fields.get("x")`, `result["x"]`, `server.get("x")` (the info reply).
_READS = re.compile(r'\b(fields|result|server)(?:\.get\(|\[)"(\w+)"')


def test_the_plugin_reads_only_declared_result_fields():
    reads = [(path.name, kind, key) for path in sorted((REPO / "plugin" / "anisketch_krita").glob("*.py"))
             for kind, key in _READS.findall(path.read_text())]
    assert len(reads) >= 8, reads  # the pattern still finds what the plugin reads
    model_fields = {name for op in P.MODEL_OPS for name in P.OPS[op].result}
    for where, kind, key in reads:
        declared = P.OPS["info"].result if kind == "server" else model_fields
        assert key in declared, f"{where} reads '{key}' from a {'info' if kind == 'server' else 'model'} reply; " \
                                f"protocol.OPS does not declare it"
