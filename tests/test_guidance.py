"""The guidance model with the shipped weights, on CPU: what the server relies on."""

import numpy as np
import pytest

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render_lines
from anisketch.engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from anisketch.errors import BadRequest, ModelUnavailable
from anisketch.guidance.predictor import GuidanceModel
from anisketch.guidance.state import decode_state
from anisketch.guidance.projection import ManifoldProjector, affine_weights
from anisketch.service import Service


@pytest.fixture(scope="module")
def model():
    return GuidanceModel.load(device="cpu")


def beginner_sketch(seed: int, fraction: float, size: int = 384) -> np.ndarray:
    rng = np.random.default_rng(seed)
    portrait = build_portrait(P.sample_params(seed))
    strokes = simulate_sketch(portrait, rng, fraction=fraction, order="random", messiness=0.6)
    return render_sketch(strokes, size, rng=rng)


def group_lines(guide, group: str, size: int = 256) -> np.ndarray:
    return render_lines([s for s in guide.portrait.strokes if s.group == group], size)


def test_guide_is_deterministic_and_shaped(model):
    sketch = beginner_sketch(2_000_000_101, 0.6)
    a = model.guide(sketch)
    b = model.guide(sketch)
    assert a.floats.shape == (P.FLOAT_DIM,) and a.choices.shape == (P.CHOICE_DIM,)
    assert np.array_equal(a.floats, b.floats) and np.array_equal(a.choices, b.choices)
    assert a.state == b.state
    assert {"face", "eyes", "mouth"} <= set(a.confidence) <= set(P.GROUPS)
    assert all(0.0 <= v <= 1.0 for v in a.confidence.values())


def test_guidance_follows_the_sketch(model):
    """On a complete messy sketch the guidance lands much closer to the truth than a random portrait does."""
    from anisketch.eval.metrics import line_f1

    seed = 2_000_000_202
    truth = render_lines(build_portrait(P.sample_params(seed)).strokes, 384)
    guided = render_lines(model.guide(beginner_sketch(seed, 1.0)).portrait.strokes, 384)
    stranger = render_lines(build_portrait(P.sample_params(seed + 1)).strokes, 384)
    assert line_f1(guided, truth) > line_f1(stranger, truth) + 0.15


def test_pinning_keeps_pinned_parts_exactly(model):
    """A pinned part keeps its parameters bit for bit, and so its lines, except where hair in front of it now
    hides or reveals a little of them (pinning the hair too makes the lines identical)."""
    first = model.guide(beginner_sketch(2_000_000_303, 0.4))
    other_sketch = beginner_sketch(2_000_000_404, 0.9)
    free = model.guide(other_sketch)
    pinned = model.guide(other_sketch, pins=("eyes", "mouth"), state=first.state)
    groups = np.array(P.ALL_GROUPS)[P.float_groups()]
    held = decode_state(pinned.state)
    for group in ("eyes", "mouth"):  # drawn with the pose they had: in place on the canvas, whatever the face does
        assert np.array_equal(pinned.floats[groups == group], first.floats[groups == group])
        pose = held.poses.get(group, pinned.floats[groups == "pose"])
        assert np.array_equal(pose, first.floats[groups == "pose"])
    for group in ("eyes", "mouth"):
        changed = (group_lines(pinned, group) != group_lines(first, group)).sum()
        assert changed <= 0.03 * (group_lines(first, group) > 0).sum()
    assert not np.array_equal(group_lines(pinned, "eyes"), group_lines(free, "eyes"))
    with_hair = model.guide(other_sketch, pins=("eyes", "mouth", "hair"), state=first.state)
    for group in ("eyes", "mouth"):
        assert np.array_equal(group_lines(with_hair, group), group_lines(first, group))


def test_state_round_trips(model):
    guide = model.guide(beginner_sketch(2_000_000_505, 0.5))
    floats, choices, *_ = decode_state(guide.state)
    assert np.allclose(floats, guide.floats, atol=1e-5) and np.array_equal(choices, guide.choices)


def test_projection_weights_sum_to_one():
    rng = np.random.default_rng(0)
    bank = rng.random((500, P.FLOAT_DIM)).astype(np.float32)
    projector = ManifoldProjector(bank, P.float_groups(), P.ALL_GROUPS, k=10)
    x = rng.random(P.FLOAT_DIM).astype(np.float32)
    for group in P.GROUPS:
        _, info = projector.project_group(x, group)
        assert info.weights.shape == (10,)
        assert abs(info.weights.sum() - 1.0) < 1e-9
    assert abs(affine_weights(x[:5].astype(np.float64), bank[:7, :5].astype(np.float64)).sum() - 1) < 1e-9


def test_faithfulness_one_keeps_what_was_read(model):
    sketch = beginner_sketch(2_000_000_606, 0.7)
    faithful = model.guide(sketch, faithfulness=1.0)
    assert np.allclose(faithful.floats, faithful.read_floats)
    plausible = model.guide(sketch, faithfulness=0.0)
    assert not np.allclose(plausible.floats, plausible.read_floats)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.guide(np.zeros((256, 256), np.uint8)), "empty"),
        (lambda m: m.guide(np.zeros((8, 8), np.uint8)), "too small"),
        (lambda m: m.guide(np.zeros((64, 64, 3), np.uint8)), "2-D"),
        (lambda m: m.guide(beginner_sketch(1, 0.5), faithfulness=float("nan")), "between 0 and 1"),
        (lambda m: m.guide(beginner_sketch(1, 0.5), faithfulness={"tail": 0.3}), "unknown part"),
        (lambda m: m.guide(beginner_sketch(1, 0.5), pins=("eyes",)), "previous guidance"),
        (lambda m: m.guide(beginner_sketch(1, 0.5), pins=("elbow",), state="x"), "unknown part"),
        (lambda m: m.guide(beginner_sketch(1, 0.5), pins=("eyes",), state="not-a-state"), "state"),
    ],
)
def test_bad_inputs_give_clear_errors(model, call, message):
    with pytest.raises(BadRequest, match=message):
        call(model)


def test_service_guide_layers_in_request_coordinates():
    service = Service(device="cpu")
    darkness = beginner_sketch(2_000_000_707, 0.8, size=300)
    sketch = np.zeros((300, 420, 4), np.uint8)  # a wide crop: the sketch sits at its left
    sketch[:, :300] = sketch_to_rgba(darkness)
    rough = service.guide(sketch, mode="rough")
    assert {layer.group for layer in rough.layers} <= set(P.GROUPS) and len(rough.layers) >= 4
    for layer in rough.layers:
        h, w = layer.rgba.shape[:2]
        assert 0 <= layer.x and 0 <= layer.y and layer.x + w <= 420 and layer.y + h <= 420
    detail = service.guide(sketch, mode="detail")
    assert len(detail.layers) == 1 and detail.layers[0].group is None
    with pytest.raises(BadRequest, match="mode"):
        service.guide(sketch, mode="sparkly")
    with pytest.raises(BadRequest, match="uint8"):
        service.guide(sketch.astype(np.float32))


def test_corrupt_weights_fail_clearly(tmp_path):
    import shutil

    from anisketch.weights import default_weights_dir

    for f in default_weights_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    target = tmp_path / "guidance.safetensors"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="corrupt"):
        GuidanceModel.load(tmp_path)
    target.unlink()
    with pytest.raises(ModelUnavailable, match="missing"):
        GuidanceModel.load(tmp_path)


def test_weights_with_the_bank_inside_the_encoders_file_still_load(tmp_path):
    """Folders exported before the projection bank had its own file (guidance_bank.safetensors) keep it inside
    guidance.safetensors: they load with the same bank."""
    import shutil

    from safetensors import safe_open
    from safetensors.torch import save_file

    from anisketch.weights import default_weights_dir, read_manifest, register, write_manifest

    for f in default_weights_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    tensors, metadata = {}, {}
    for name in ("guidance", "guidance_bank"):
        with safe_open(str(tmp_path / f"{name}.safetensors"), "pt") as f:
            tensors.update({k: f.get_tensor(k) for k in f.keys()})
            metadata = metadata or f.metadata()
    save_file(tensors, str(tmp_path / "guidance.safetensors"), metadata=metadata)
    (tmp_path / "guidance_bank.safetensors").unlink()
    entries = read_manifest(tmp_path)
    del entries["guidance_bank"]
    write_manifest(tmp_path, entries)
    register(tmp_path, "guidance", tmp_path / "guidance.safetensors")
    old_format = GuidanceModel.load(tmp_path).projector.bank
    assert np.array_equal(old_format, GuidanceModel.load().projector.bank) and len(old_format) == 20000


@pytest.mark.parametrize("network", ["encoder", "refiner"])
def test_inference_folds_the_coordinate_channels_and_computes_the_same(network):
    """for_inference folds BatchNorm and the CoordConv channels' share of the first convolution (FoldedCoords):
    the shipped networks answer as the trained ones do, at any batch size."""
    import copy

    import torch

    from anisketch.blocks import for_inference
    from anisketch.guidance.model import FoldedCoords
    from anisketch.guidance.predictor import load_encoder
    from anisketch.guidance.refine import load_refiner_network

    trained = load_encoder()[0] if network == "encoder" else load_refiner_network()
    trained.eval()
    folded = for_inference(copy.deepcopy(trained), "cpu")
    assert isinstance(folded.stem[0], FoldedCoords)
    size, channels = trained.config.in_size, trained.config.in_channels
    for batch in (1, 3):
        sketch = torch.rand(batch, channels, size, size, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            (want, want_logits), (got, got_logits) = trained(sketch), folded(sketch)
        assert torch.allclose(got, want, atol=1e-5)
        assert all(torch.allclose(g, w, atol=1e-4) for g, w in zip(got_logits, want_logits))


def test_a_linear_layer_reading_only_its_non_zero_features_answers_as_the_dense_one():
    """SparseInputLinear (the encoder's head on the CPU) reads the weight rows of the non-zero features only: the
    same answer for a mostly-zero batch (one sample all zeros), and through the dense product for a dense one."""
    import torch

    from anisketch.blocks import SparseInputLinear

    torch.manual_seed(0)
    dense = torch.nn.Linear(300, 40)
    sparse = SparseInputLinear(dense)
    features = torch.relu(torch.randn(3, 300) - 1.5)  # about 93 % zeros, as after the encoder's ReLUs
    features[1] = 0.0
    for x in (features, torch.rand(2, 300)):
        with torch.no_grad():
            assert torch.allclose(sparse(x), dense(x), atol=1e-5)
    assert torch.equal(sparse(features)[1], dense.bias.detach())
