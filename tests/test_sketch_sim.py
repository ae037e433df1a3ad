"""The drawing simulator, the sketch raster, the sketch-layer reading and the colour hints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anisketch.engine import hints, sketch
from anisketch.engine.geometry import Stroke, build_portrait
from anisketch.engine.params import LABEL, sample_params
from anisketch.engine.raster import render, render_lines

SIZE = 256


@pytest.fixture(scope="module")
def portrait():
    return build_portrait(sample_params(11))


@pytest.fixture(scope="module")
def rendered(portrait):
    return render(portrait, SIZE)


def ink_length(strokes) -> float:
    return float(sum(np.hypot(*np.diff(np.asarray(s.points, np.float64), axis=0).T).sum() for s in strokes))


def clean_length(portrait) -> float:
    closed = [np.vstack([s.points, s.points[:1]]) if s.closed else s.points for s in portrait.strokes]
    return float(sum(np.hypot(*np.diff(np.asarray(p, np.float64), axis=0).T).sum() for p in closed))


def f1_within(a: np.ndarray, b: np.ndarray, tolerance_px: int) -> float:
    """F1 of two ink masks, a pixel counting as matched if the other mask has ink within tolerance."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1,) * 2)
    near_a, near_b = cv2.dilate(a.astype(np.uint8), kernel) > 0, cv2.dilate(b.astype(np.uint8), kernel) > 0
    precision = (a & near_b).sum() / max(a.sum(), 1)
    recall = (b & near_a).sum() / max(b.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


def simulate(portrait, seed=0, **kwargs):
    return sketch.simulate_sketch(portrait, np.random.default_rng(seed), **kwargs)


# --- which strokes, in which order ----------------------------------------------------------------


def test_fraction_zero_draws_nothing_and_one_draws_everything(portrait):
    assert simulate(portrait, fraction=0.0) == []
    everything = simulate(portrait, fraction=1.0, messiness=0.0)
    assert len(everything) == len(portrait.strokes)  # clean: no gaps, no retraces
    assert ink_length(everything) == pytest.approx(clean_length(portrait), rel=0.01)
    assert {s.group for s in everything} == {s.group for s in portrait.strokes}


def test_artist_order_follows_stroke_order(portrait):
    drawn = simulate(portrait, fraction=1.0, order="artist", messiness=0.0)
    expected = sorted(portrait.strokes, key=lambda s: s.order)
    assert [s.group for s in drawn] == [s.group for s in expected]
    for got, want in zip(drawn, expected):
        np.testing.assert_allclose(got.points[0], want.points[0], atol=1e-5)
    assert [s.order for s in drawn] == list(range(len(drawn)))  # order = position in the drawing


def test_random_order_depends_on_the_seed_and_is_reproducible(portrait):
    def firsts(seed):
        return np.array([s.points[0] for s in simulate(portrait, seed, fraction=1.0, order="random", messiness=0.0)])

    assert not np.allclose(firsts(1), firsts(2))
    np.testing.assert_array_equal(firsts(3), firsts(3))
    artist = np.array([s.points[0] for s in simulate(portrait, fraction=1.0, order="artist", messiness=0.0)])
    assert not np.allclose(firsts(1), artist)


def test_fraction_is_a_share_of_the_ink_and_the_sketches_are_one_drawing(portrait):
    total = clean_length(portrait)
    longest = max(ink_length([s]) for s in portrait.strokes) + 0.01
    for seed in range(4):
        for fraction in (0.25, 0.5, 0.75):
            drawn = simulate(portrait, seed, fraction=fraction, order="random", messiness=0.0)
            assert fraction * total - longest <= ink_length(drawn) <= fraction * total + longest
    # Same seed, growing fraction: each sketch continues the previous one (a prefix, the last stroke partial).
    half = simulate(portrait, 5, fraction=0.5, messiness=0.7)
    full = simulate(portrait, 5, fraction=1.0, messiness=0.7)
    for a, b in zip(half[:-1], full):
        np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(a.widths, b.widths)
    last = half[-1]
    np.testing.assert_array_equal(last.points[:len(last.points) // 2], full[len(half) - 1].points[:len(last.points) // 2])


def test_simulation_is_deterministic_by_seed(portrait):
    a = simulate(portrait, 9, fraction=0.8, order="random", messiness=0.6)
    b = simulate(portrait, 9, fraction=0.8, order="random", messiness=0.6)
    c = simulate(portrait, 10, fraction=0.8, order="random", messiness=0.6)
    assert len(a) == len(b) and all(np.array_equal(x.points, y.points) and np.array_equal(x.widths, y.widths)
                                    for x, y in zip(a, b))
    assert len(a) != len(c) or not all(np.array_equal(x.points, y.points) for x, y in zip(a, c))


def test_bad_arguments_are_refused(portrait):
    with pytest.raises(ValueError, match="order"):
        simulate(portrait, order="backwards")
    with pytest.raises(ValueError, match="fraction"):
        simulate(portrait, fraction=float("nan"))
    assert simulate([], fraction=1.0) == []
    assert len(simulate(portrait, fraction=7.0, messiness=-1.0)) == len(portrait.strokes)  # clipped to 1 and 0


# --- how messy ----------------------------------------------------------------------------------------------


def test_clean_simulation_reproduces_the_line_art(portrait):
    clean = sketch.render_sketch(simulate(portrait, messiness=0.0), SIZE, texture="pen") > 64
    reference = render_lines(portrait.strokes, SIZE) > 64
    assert f1_within(clean, reference, 1) > 0.95


def test_messy_sketch_differs_but_stays_near_the_face(portrait):
    reference = render_lines(portrait.strokes, SIZE) > 64
    scores = []
    for messiness in (0.3, 1.0):
        messy = sketch.render_sketch(simulate(portrait, 4, messiness=messiness), SIZE, texture="pen") > 64
        assert f1_within(messy, reference, 0) < 0.9  # it really is messy
        scores.append(f1_within(messy, reference, 5))
    assert scores[0] > 0.8 and scores[1] > 0.6  # but it is still this face
    assert scores[0] > scores[1]


def test_messiness_adds_pieces_and_pressure(portrait):
    clean = simulate(portrait, 2, messiness=0.0)
    messy = simulate(portrait, 2, messiness=1.0)
    assert len(messy) > len(clean)  # gaps and retraces
    def pressure_variation(strokes):  # how much the width changes along a stroke
        return np.mean([s.widths.std() / s.widths.mean() for s in strokes if len(s.widths) > 10])

    assert pressure_variation(messy) > pressure_variation(clean) + 0.05
    assert {s.group for s in messy} == {s.group for s in clean}  # provenance kept


def test_simulator_takes_plain_stroke_lists():
    circle = np.stack([0.5 + 0.2 * np.cos(np.linspace(0, 6.2, 50)), 0.5 + 0.2 * np.sin(np.linspace(0, 6.2, 50))], 1)
    strokes = [Stroke(circle.astype(np.float32), np.full(50, 0.005, np.float32), "face", 0, True),
               Stroke(np.array([[0.4, 0.4]] * 3, np.float32), np.full(3, 0.005, np.float32), "eyes", 1)]  # a dot
    drawn = sketch.simulate_sketch(strokes, np.random.default_rng(0), messiness=0.5)
    assert {s.group for s in drawn} == {"face", "eyes"}
    assert sketch.render_sketch(drawn, 64).max() > 0


# --- raster ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction, order, texture", [(0.0, "artist", "pencil"), (0.4, "random", "pencil"),
                                                       (1.0, "artist", "pen"), (0.7, "artist", None)])
def test_sketch_darkness_is_simulate_then_render(portrait, fraction, order, texture):
    """The shortcut the training examples take draws the very same pixels."""
    rng = np.random.default_rng(5)
    strokes = sketch.simulate_sketch(portrait, rng, fraction, order, 0.7)
    expected = sketch.render_sketch(strokes, 160, rng, texture)
    got = sketch.sketch_darkness(portrait, 160, np.random.default_rng(5), fraction, order, 0.7, texture)
    assert np.array_equal(got, expected) and (got.any() or fraction == 0.0)
    with pytest.raises(ValueError, match="texture"):
        sketch.sketch_darkness(portrait, 64, rng, texture="crayon")


def test_render_sketch_pen_and_pencil(portrait):
    drawn = simulate(portrait, messiness=0.5)
    pen = sketch.render_sketch(drawn, SIZE, texture="pen")
    pencil = sketch.render_sketch(drawn, SIZE, np.random.default_rng(1), texture="pencil")
    assert pen.dtype == np.uint8 and pen.shape == (SIZE, SIZE)
    assert pen.max() == 255
    ink = pen > 64
    assert pencil[ink].mean() < pen[ink].mean() * 0.9  # pencil is lighter
    assert np.unique(pen).size > 10  # anti-aliased
    again = sketch.render_sketch(drawn, SIZE, np.random.default_rng(1), texture="pencil")
    np.testing.assert_array_equal(pencil, again)
    assert sketch.render_sketch([], SIZE).max() == 0
    with pytest.raises(ValueError):
        sketch.render_sketch(drawn, SIZE, texture="crayon")


def test_render_sketch_any_size(portrait):
    drawn = simulate(portrait, messiness=0.5)
    for size in (64, 512, 1100):
        out = sketch.render_sketch(drawn, size, texture="pen")
        assert out.shape == (size, size) and out.max() > 200


# --- sketch layer <-> darkness ------------------------------------------------------------------------------


def strokes_mask(size=64):
    mask = np.zeros((size, size), np.uint8)
    cv2.line(mask, (8, 8), (56, 50), 255, 3)
    cv2.circle(mask, (32, 32), 12, 255, 2)
    return mask


def test_darkness_round_trips_through_the_layer():
    darkness = strokes_mask()
    np.testing.assert_array_equal(sketch.rgba_to_darkness(sketch.sketch_to_rgba(darkness)), darkness)
    layer = sketch.sketch_to_rgba(darkness, color=(0, 0, 0))
    assert layer.shape == (64, 64, 4) and (layer[..., 3] == darkness).all()


def test_darkness_of_a_transparent_layer_with_transparent_garbage():
    mask = strokes_mask()
    layer = np.zeros((64, 64, 4), np.uint8)
    layer[..., :3] = 255  # transparent white pixels (Krita keeps colour under zero alpha)
    layer[mask > 0] = (20, 20, 20, 255)
    darkness = sketch.rgba_to_darkness(layer)
    assert (darkness[mask == 0] == 0).all() and (darkness[mask > 0] == 255).all()
    assert sketch.rgba_to_darkness(np.zeros((32, 32, 4), np.uint8)).max() == 0


def test_darkness_on_an_opaque_white_layer():
    mask = strokes_mask()
    layer = np.full((64, 64, 4), 255, np.uint8)
    layer[mask > 0, :3] = 0
    darkness = sketch.rgba_to_darkness(layer)
    assert (darkness[mask == 0] == 0).all() and (darkness[mask > 0] == 255).all()
    grey_paper = np.full((64, 64, 3), 200, np.uint8)  # an RGB scan on grey paper, dark pencil
    grey_paper[mask > 0] = 40
    darkness = sketch.rgba_to_darkness(grey_paper)
    assert darkness[mask == 0].max() == 0 and darkness[mask > 0].min() > 150


def test_darkness_of_coloured_and_white_pencils():
    mask = strokes_mask()
    for color in [(220, 30, 30), (250, 220, 0), (60, 120, 255)]:  # red, yellow, blue on transparency
        layer = np.zeros((64, 64, 4), np.uint8)
        layer[mask > 0] = (*color, 255)
        darkness = sketch.rgba_to_darkness(layer)
        assert darkness[mask > 0].min() > 200, color
        assert darkness[mask == 0].max() == 0
    white = np.zeros((64, 64, 4), np.uint8)
    white[..., 3] = mask
    white[..., :3] = 255  # white strokes on transparency: the alpha is the drawing
    np.testing.assert_array_equal(sketch.rgba_to_darkness(white), mask)
    on_white_paper = np.full((64, 64, 4), 255, np.uint8)
    on_white_paper[mask > 0, :3] = (250, 220, 0)  # yellow pencil on a white paint layer
    assert sketch.rgba_to_darkness(on_white_paper)[mask > 0].min() > 200


def test_darkness_refuses_what_is_not_a_picture():
    with pytest.raises(ValueError):
        sketch.rgba_to_darkness(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ValueError):
        sketch.rgba_to_darkness(np.zeros((8, 8, 4), np.float32))


# --- colour hints ------------------------------------------------------------------------------------------------


def test_no_hints_is_an_empty_layer(portrait, rendered):
    layer = hints.simulate_hints(portrait, rendered["color"], rendered["parts"], np.random.default_rng(0), 0)
    assert layer.shape == (SIZE, SIZE, 4) and layer.dtype == np.uint8 and layer.max() == 0
    assert not hints.hints_to_mask(layer).any()


def test_hint_dabs_lie_inside_regions_with_the_regions_colour(rendered):
    color, parts = rendered["color"], rendered["parts"]
    dabs = []
    for seed in range(6):
        dabs += hints.sample_dabs(color, parts, np.random.default_rng(seed), 8)
    assert len(dabs) >= 40
    assert len({d.label for d in dabs}) >= 4  # hair, skin, clothes, background, eyes...
    assert all(hints.RADIUS[0] * 0.3 <= d.radius <= hints.RADIUS[1] for d in dabs)
    for dab in dabs:
        alone = hints.paint_hints([dab], SIZE)
        painted = alone[..., 3] >= 128
        assert (parts[painted] == dab.label).mean() > 0.85, f"dab outside its region {dab}"
        # The colour is one the image has under the dab, up to the picking noise (an iris is a gradient).
        under = color[painted & (parts == dab.label)].astype(float)
        assert np.abs(under - np.asarray(dab.color, float)).max(axis=1).min() < 30, dab
        assert (alone[painted][:, :3] == dab.color).all()


def test_hint_layer_and_mask(portrait, rendered):
    layer = hints.simulate_hints(portrait, rendered["color"], rendered["parts"], np.random.default_rng(3), 10)
    mask = hints.hints_to_mask(layer)
    assert 0.002 < mask.mean() < 0.4
    # the colouriser's input (what production feeds it) marks exactly these pixels, with their colours
    import torch

    from anisketch.render.model import make_input

    lines = torch.zeros(1, 1, SIZE, SIZE, dtype=torch.uint8)
    model_input = make_input(lines, torch.from_numpy(layer).permute(2, 0, 1)[None])[0].numpy()
    assert model_input.shape == (5, SIZE, SIZE)
    np.testing.assert_array_equal(model_input[4] > 0, mask)
    np.testing.assert_allclose(model_input[1:4].transpose(1, 2, 0)[mask], layer[mask][:, :3] / 255.0, atol=1e-6)
    again = hints.simulate_hints(portrait, rendered["color"], rendered["parts"], np.random.default_rng(3), 10)
    np.testing.assert_array_equal(layer, again)


def test_hint_count_is_geometric():
    rng = np.random.default_rng(0)
    counts = np.array([hints.sample_hint_count(rng) for _ in range(2000)])
    assert counts.min() == 0 and 5 < counts.mean() < 9 and counts.max() <= 40


def test_hints_with_a_generic_region_map(rendered):
    regions = rendered["parts"].astype(np.int32) + 100  # labels that are not engine parts
    dabs = hints.sample_dabs(rendered["color"], regions, np.random.default_rng(0), 6, weights=None)
    assert dabs and all(d.label >= 100 for d in dabs)
    assert LABEL["skin"] == 1  # the part vocabulary the default weights use


def test_many_portraits_simulate_without_surprises():
    """Across the engine's variety (styles, hats, glasses...) every drawing stays finite and near its face."""
    for seed in range(30):
        portrait = build_portrait(sample_params(1000 + seed))
        rng = np.random.default_rng(seed)
        drawn = sketch.simulate_sketch(portrait, rng, fraction=rng.uniform(0.05, 1.0),
                                       order=("artist", "random")[seed % 2], messiness=rng.uniform(0, 1))
        points = np.concatenate([s.points for s in drawn])
        widths = np.concatenate([s.widths for s in drawn])
        assert np.isfinite(points).all() and np.isfinite(widths).all()
        clean = np.concatenate([s.points for s in portrait.strokes])
        assert (points.min(axis=0) > clean.min(axis=0) - 0.08).all()  # near the face it draws
        assert (points.max(axis=0) < clean.max(axis=0) + 0.08).all() and widths.min() > 0
        assert all(len(s.points) >= 2 for s in drawn)
        assert sketch.render_sketch(drawn, 128, rng).max() > 0
