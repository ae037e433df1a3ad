"""The portrait engine core: parameter vector contract, geometry, raster, attributes, isolation."""

import colorsys
import subprocess
import sys

import numpy as np
import pytest

from anisketch.engine import (ATTRIBUTES, GROUPS, PARAM_SPECS, PART_LABELS, attributes_of, build_portrait,
                              choice_drawn_mask, choice_groups, choice_sizes, decode, drawn_mask, encode,
                              float_groups, render, render_lines, sample_params)
from anisketch.engine.params import ALL_GROUPS, FLOAT_SPECS, SPEC, inactive
from anisketch.errors import BadRequest

L = {name: i for i, name in enumerate(PART_LABELS)}
SEEDS = range(12)


def test_part_labels_and_groups_are_the_contract():
    assert PART_LABELS == ("background", "skin", "eye_l", "eye_r", "brow_l", "brow_r", "nose", "mouth", "hair",
                           "ears", "neck", "accessory", "clothes")
    assert GROUPS == ("face", "eyes", "brows", "nose", "mouth", "hair", "accessories")
    assert {spec.group for spec in PARAM_SPECS} <= set(ALL_GROUPS)
    assert len(ATTRIBUTES["hair_color"]) == 13 and len(ATTRIBUTES["hair_style"]) == 5
    assert len(ATTRIBUTES["eye_color"]) == 10


def test_vector_layout_helpers_agree():
    floats, choices = encode(sample_params(0))
    assert floats.dtype == np.float32 and choices.dtype == np.int64
    assert float_groups().shape == floats.shape == drawn_mask().shape
    assert choice_groups().shape == choices.shape == choice_sizes().shape
    assert 60 <= floats.size <= 150 and 10 <= choices.size <= 16
    n_color_floats = 3 * sum(spec.kind == "color" for spec in FLOAT_SPECS)
    assert (~drawn_mask()).sum() == n_color_floats + 4  # colours, pupil and three catch-light floats
    assert choice_drawn_mask().shape == choices.shape and (~choice_drawn_mask()).sum() == 2
    assert set(float_groups().tolist()) == set(range(len(ALL_GROUPS)))  # every group, pose last
    assert ALL_GROUPS[-1] == "pose" and (choice_sizes() >= 2).all()
    # the hair colour's three floats belong to the hair group
    hair = [i for i, spec in enumerate(FLOAT_SPECS) if spec.name == "hair_color"]
    assert hair and float_groups()[sum(3 if s.kind == "color" else 1 for s in FLOAT_SPECS[:hair[0]])] == 5


def test_same_seed_same_bytes():
    a = render(build_portrait(sample_params(5)), 128)
    b = render(build_portrait(sample_params(5)), 128)
    for key in a:
        assert np.array_equal(a[key], b[key])
    c = render(build_portrait(sample_params(6)), 128)
    assert not np.array_equal(a["lineart"], c["lineart"])


def test_same_seed_same_bytes_across_processes():
    code = ("import hashlib;from anisketch.engine import *;"
            "o=render(build_portrait(sample_params(11)),96);"
            "print(hashlib.sha256(o['color'].tobytes()+o['lineart'].tobytes()+o['parts'].tobytes()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
               for _ in range(2)}
    assert len(digests) == 1


@pytest.mark.parametrize("seed", [0, 3, 8])
def test_encode_decode_round_trip(seed):
    params = sample_params(seed)
    floats, choices = encode(params)
    assert floats.min() >= 0.0 and floats.max() <= 1.0
    again = decode(floats, choices)
    assert again == params
    floats2, choices2 = encode(again)
    assert np.array_equal(floats, floats2) and np.array_equal(choices, choices2)
    assert np.array_equal(render_lines(build_portrait(again).strokes, 128),
                          render_lines(build_portrait(params).strokes, 128))


def test_decode_clips_and_canonicalises():
    floats, choices = encode(sample_params(1, {"hat": "off", "glasses": "off"}))
    rng = np.random.default_rng(0)
    params = decode(rng.uniform(-1, 2, floats.shape), choices * 0 + 10)
    assert all(0.0 <= v <= 1.0 for v in encode(params)[0])
    assert all(params[s.name] == len(s.options) - 1 for s in PARAM_SPECS if s.kind == "choice")
    off = decode(rng.uniform(0, 1, floats.shape), choices)  # hat and glasses off: their floats are canonical
    assert off["hat_tilt"] == 0.0 and off["hat_size"] == 0.5 and off["glasses_size"] == 0.5
    assert off["hat_color"] == (0.5, 0.5, 0.5)
    assert set(inactive(off)) >= {"hat_tilt", "hat_size", "hat_color", "glasses_size"}


def test_inactive_parameters_are_canonical():
    for seed in SEEDS:
        params = sample_params(seed)
        flips = params.copy()
        for name in inactive(params):
            spec = SPEC[name]
            if spec.kind == "float":
                flips[name] = spec.lo
        assert build_portrait(flips).strokes[0].points.shape == build_portrait(params).strokes[0].points.shape
        assert _strokes_equal(build_portrait(flips).strokes, build_portrait(params).strokes)


def test_parts_present_where_expected():
    for seed in SEEDS:
        out = render(build_portrait(sample_params(seed)), 192)
        present = set(np.unique(out["parts"]))
        for name in ("background", "skin", "eye_l", "eye_r", "mouth", "hair", "nose", "neck"):
            assert L[name] in present, (seed, name)
        # eye_l is the eye on the image's left
        ys, xs = np.nonzero(out["parts"] == L["eye_l"])
        ys2, xs2 = np.nonzero(out["parts"] == L["eye_r"])
        assert xs.mean() < xs2.mean()


def test_accessory_pixels_only_with_accessories():
    for seed in range(6):
        off = render(build_portrait(sample_params(seed, {"hat": "off", "ribbon": "off", "glasses": "off"})), 128)
        assert (off["parts"] == L["accessory"]).sum() == 0
        hat = render(build_portrait(sample_params(seed, {"hat": "on", "ribbon": "off", "glasses": "off"})), 128)
        assert (hat["parts"] == L["accessory"]).sum() > 100


def test_strokes_agree_with_lineart():
    portrait = build_portrait(sample_params(2))
    out = render(portrait, 256)
    assert np.array_equal(out["lineart"], render_lines(portrait.strokes, 256))
    ink = out["lineart"] > 60
    for stroke in portrait.strokes:  # every stroke point on the canvas lies on ink
        inside = (stroke.points > 0.01).all(axis=1) & (stroke.points < 0.99).all(axis=1)
        if inside.sum() < 3:
            continue
        ij = (stroke.points[inside] * 256).astype(int)
        near = np.zeros(len(ij), bool)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                near |= ink[np.clip(ij[:, 1] + dy, 0, 255), np.clip(ij[:, 0] + dx, 0, 255)]
        assert near.mean() > 0.9
    # and ink only where strokes are: rendering with no strokes leaves no ink
    assert render_lines([], 64).max() == 0


def test_outline_thinning_drops_flat_vertices_and_keeps_corners():
    from anisketch.engine import raster
    # an L: 101 points along x, then 100 down y, all 1 px apart, even width
    pts = np.concatenate([np.stack([np.arange(101.0), np.zeros(101)], axis=1),
                          np.stack([np.full(100, 100.0), np.arange(1.0, 101.0)], axis=1)])
    half = np.full(len(pts), 1.5)
    x, y, h, counts = raster._thin(pts, half, np.array([len(pts)]))
    assert counts.tolist() == [len(x)] and len(x) <= len(pts) // 2 ** raster.THIN_LEVELS + 4
    kept = set(zip(x.tolist(), y.tolist()))
    assert {(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)} <= kept  # both ends and the corner
    # a taper keeps the vertex where the width stops growing (a linear ramp needs no others), and a second
    # stroke keeps its own ends
    taper = np.minimum(0.5 + np.arange(len(pts)) * 0.05, 1.5)  # full width from vertex 20 on
    x2, y2, h2, counts2 = raster._thin(np.concatenate([pts, pts + 300]), np.concatenate([taper, half]),
                                       np.array([len(pts), len(pts)]))
    first = dict(zip(zip(x2[:counts2[0]].tolist(), y2[:counts2[0]].tolist()), h2[:counts2[0]].tolist()))
    assert first[(0.0, 0.0)] == 0.5 and first[(20.0, 0.0)] == 1.5 and (100.0, 100.0) in first
    assert (x2[counts2[0]], y2[counts2[0]]) == (300.0, 300.0) and (x2[-1], y2[-1]) == (400.0, 400.0)


def test_thinned_outlines_draw_the_same_lines(monkeypatch):
    """Thinning moves the outline by about TOLERANCE_PX at most: the line art barely changes."""
    from anisketch.engine import raster
    portrait = build_portrait(sample_params(7))
    thinned = render_lines(portrait.strokes, 384).astype(np.int64)
    monkeypatch.setattr(raster, "THIN_LEVELS", 0)
    full = render_lines(portrait.strokes, 384).astype(np.int64)
    ink = (thinned > 0) | (full > 0)
    assert abs(thinned.sum() / full.sum() - 1) < 0.03
    assert np.abs(thinned - full)[ink].mean() < 20 and (np.abs(thinned - full) > 128).mean() < 0.002


@pytest.mark.parametrize("size", [64, 100, 256, 333])
def test_gradient_background_strip_matches_full_bands(size):
    import cv2
    from anisketch.engine import raster
    seed = next(s for s in range(50) if sample_params(s).option("background") == "gradient")
    bands = [r for r in build_portrait(sample_params(seed)).regions if r.z < 0]
    assert len(bands) > 1
    full = np.zeros((size, size, 3), np.uint8)
    for band in bands:
        cv2.fillPoly(full, [raster._to_fixed(band.polygon.astype(np.float64), size)], band.color,
                     lineType=cv2.LINE_AA, shift=raster.SHIFT)
    color, parts = raster.render_regions(bands, size)
    assert np.array_equal(color, full) and parts.max() == 0


def test_stroke_fields_and_order():
    portrait = build_portrait(sample_params(4))
    orders = [s.order for s in portrait.strokes]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for s in portrait.strokes:
        assert s.points.dtype == np.float32 and s.points.ndim == 2 and s.points.shape[1] == 2
        assert s.widths.shape == (len(s.points),) and s.group in GROUPS
    first_group = [s.group for s in portrait.strokes]
    assert first_group[0] == "face" and first_group.index("hair") > first_group.index("eyes")


def test_rough_mode_colours_groups():
    portrait = build_portrait(sample_params(3))
    colors = {g: (40 * i, 255 - 30 * i, 100) for i, g in enumerate(GROUPS)}
    rgba = render_lines(portrait.strokes, 128, colors)
    assert rgba.shape == (128, 128, 4)
    assert np.array_equal(rgba[..., 3] > 0, render_lines(portrait.strokes, 128) > 0)


def _hue_of_region(color, mask):
    r, g, b = np.median(color[mask].astype(np.float64), axis=0) / 255.0  # median: ignores ink and shadows
    return colorsys.rgb_to_hsv(r, g, b)


def test_attributes_agree_with_params_and_pixels():
    for seed in range(4):
        blonde = sample_params(seed, {"hair_color": "blonde", "hat": "off"})
        assert attributes_of(blonde)["hair_color"] == "blonde"
        out = render(build_portrait(blonde), 128)
        h, s, v = _hue_of_region(out["color"], (out["parts"] == L["hair"]) & (out["lineart"] == 0))
        assert 0.08 < h < 0.18 and s > 0.25 and v > 0.75  # yellowish, bright
        blue = render(build_portrait(sample_params(seed, {"hair_color": "blue", "hat": "off"})), 128)
        h, s, v = _hue_of_region(blue["color"], (blue["parts"] == L["hair"]) & (blue["lineart"] == 0))
        assert 0.55 < h < 0.72
        dark = render(build_portrait(sample_params(seed, {"dark_skin": "on"})), 128)
        light = render(build_portrait(sample_params(seed, {"dark_skin": "off"})), 128)
        assert dark["color"][dark["parts"] == L["skin"]].mean() < light["color"][light["parts"] == L["skin"]].mean() - 40
    for name, values in ATTRIBUTES.items():
        for value in values:
            assert attributes_of(sample_params(7, {name: value}))[name] == value


def test_attribute_change_touches_only_that_attribute():
    base = sample_params(21, {"hair_color": "pink", "smile": "off"})
    other = sample_params(21, {"hair_color": "green", "smile": "off"})
    assert [k for k in base if base[k] != other[k]] == ["hair_color"]
    smiling = sample_params(21, {"hair_color": "pink", "smile": "on"})
    assert [k for k in base if base[k] != smiling[k]] == ["smile"]


def _strokes_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x.points, y.points) and np.array_equal(x.widths, y.widths)
                                    for x, y in zip(a, b))


def _by_group(portrait, group):
    return [s for s in portrait.strokes if s.group == group]


# Honest occlusion: the front hair hides parts of the face contour, ears and brows; the face, neck and clothes
# hide parts of the back hair; hats and ribbons hide hair. Nothing else leaks between groups.
OCCLUDERS = {"hair": {"face", "brows"}, "face": {"hair"}, "accessories": {"hair", "face", "brows"}}


@pytest.mark.parametrize("group", GROUPS)
def test_group_isolation(group):
    gi = GROUPS.index(group)
    for seed in range(3):
        params = sample_params(seed, {"hat": "on", "ribbon": "on", "glasses": "on"})
        floats, choices = encode(params)
        rng = np.random.default_rng(seed)
        mask = (float_groups() == gi) & drawn_mask()
        moved = floats.copy()
        moved[mask] = np.clip(moved[mask] + rng.uniform(-0.2, 0.2, mask.sum()), 0, 1)
        a, b = build_portrait(params), build_portrait(decode(moved, choices))
        assert not _strokes_equal(_by_group(a, group), _by_group(b, group))
        for other in GROUPS:
            if other == group or other in OCCLUDERS.get(group, ()):
                continue
            assert _strokes_equal(_by_group(a, other), _by_group(b, other)), (group, other)


@pytest.mark.parametrize("seed", [9, 10, 11])
def test_undrawn_parameters_never_change_strokes(seed):
    """Colours, pupil, catch-lights, background style: what drawn_mask/choice_drawn_mask call undrawn."""
    params = sample_params(seed)
    floats, choices = encode(params)
    moved, flipped = floats.copy(), choices.copy()
    moved[~drawn_mask()] = 1.0 - moved[~drawn_mask()]
    undrawn = ~choice_drawn_mask()
    flipped[undrawn] = (flipped[undrawn] + 1) % choice_sizes()[undrawn]
    other = decode(moved, flipped)
    assert not np.array_equal(render(build_portrait(other), 64)["color"], render(build_portrait(params), 64)["color"])
    assert _strokes_equal(build_portrait(params).strokes, build_portrait(other).strokes)


def test_invalid_attributes_list_valid_values():
    with pytest.raises(BadRequest, match="blonde"):
        sample_params(0, {"hair_color": "plaid"})
    with pytest.raises(BadRequest, match="hair_style"):
        sample_params(0, {"hairstyle": "long"})
    with pytest.raises(BadRequest):
        decode(np.zeros(3), np.zeros(2))


@pytest.mark.parametrize("size", [64, 256, 517])
def test_any_size(size):
    out = render(build_portrait(sample_params(1)), size)
    assert out["color"].shape == (size, size, 3) and out["lineart"].shape == out["parts"].shape == (size, size)
    assert out["lineart"].max() == 255


def test_column_reductions_are_numpy_s_own():
    """curves.column_min / column_max / row_lengths: the values of a.min(axis=0), a.max(axis=0) and
    np.sqrt((a ** 2).sum(axis=1)), computed column by column (numpy 2.4 is slow across narrow rows)."""
    from anisketch.engine.curves import column_max, column_min, row_lengths

    rng = np.random.default_rng(7)
    for dtype in (np.float64, np.float32, np.int32):
        a = (rng.normal(0, 50, (300, 2))).astype(dtype)
        assert np.array_equal(column_min(a), a.min(axis=0)) and column_min(a).dtype == dtype
        assert np.array_equal(column_max(a), a.max(axis=0))
    a = rng.normal(0, 3, (300, 2))
    assert np.array_equal(row_lengths(a), np.sqrt((a ** 2).sum(axis=1)))


def test_each_part_draws_the_stroke_group_build_parts_files_its_regions_under():
    """build_parts files each part's regions under PART_GROUPS' entry for it: the group its own lines carry."""
    from anisketch.engine import palette
    from anisketch.engine.builder import Builder
    from anisketch.engine.geometry import PART_GROUPS, PARTS
    from anisketch.engine.params import sample_params

    for seed in range(12):
        params = sample_params(seed)
        for part, group in zip(PARTS, PART_GROUPS):
            builder = Builder(params)
            part(builder, palette.make_palette(params))
            assert builder.lines and {line.group for line in builder.lines} == {group}, (part.__name__, seed)
