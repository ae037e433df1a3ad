"""Colour renders on CPU: hint parsing, both modes, candidates, determinism, the hint colour landing, bad input."""

import numpy as np
import pytest
import torch

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render as render_portrait
from anisketch.engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from anisketch.errors import BadRequest
from anisketch.colour import delta_e2000, srgb_to_lab
from anisketch.guidance.predictor import GuidanceModel
from anisketch.render.api import load_colorizer, render
from anisketch.render.dabs import Dab, find_dabs, region_color
from anisketch.render.faithful import ColorizerModel
from anisketch.render.layered import candidate_stacks, composite
from anisketch.render.model import Colorizer
from anisketch.render.refined import paint_candidates, square

SEED = 2_000_000_321
BLUE = (40, 90, 220)


@pytest.fixture(scope="module")
def guidance():
    return GuidanceModel.load(device="cpu")


@pytest.fixture(scope="module")
def sketch():
    """A complete, messy engine sketch as a 384 x 320 px RGBA layer (not square: the crop is a rectangle)."""
    rng = np.random.default_rng(SEED)
    portrait = build_portrait(P.sample_params(SEED))
    strokes = simulate_sketch(portrait, rng, fraction=1.0, order="random", messiness=0.5)
    return sketch_to_rgba(render_sketch(strokes, 384, rng=rng))[:, :320].copy()


@pytest.fixture(scope="module")
def tiny_colorizer():
    torch.manual_seed(0)
    return ColorizerModel(Colorizer(), input_size=256, device="cpu")  # untrained: shapes and plumbing only


def delta_e(a, b) -> float:
    return float(delta_e2000(srgb_to_lab(np.asarray(a, np.uint8)), srgb_to_lab(np.asarray(b, np.uint8))))


def dab_layer(shape, centre, radius, color, soft=False) -> np.ndarray:
    """A hint layer with one round dab (straight alpha); `soft` gives it an anti-aliased rim of low alpha."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    distance = np.hypot(xx - centre[0], yy - centre[1])
    layer = np.zeros((h, w, 4), np.uint8)
    inside = distance <= radius + (3 if soft else 0)
    layer[inside, :3] = color
    layer[..., 3] = np.clip((radius + 3 - distance) / 3 * 255, 0, 255).astype(np.uint8) if soft else inside * 255
    return layer


# ---------------------------------------------------------------------------------------------------------
# Hint parsing


def test_empty_hint_layer_has_no_dabs():
    assert find_dabs(np.zeros((64, 80, 4), np.uint8)) == []


def test_transparent_pixels_never_count_whatever_their_colour():
    layer = np.zeros((64, 64, 4), np.uint8)
    layer[..., :3] = (255, 0, 0)  # Krita keeps colour under zero alpha: it must be ignored
    layer[20:30, 20:30] = (0, 200, 0, 255)
    dabs = find_dabs(layer)
    assert len(dabs) == 1 and dabs[0].color == (0, 200, 0) and dabs[0].mask.sum() == 100


def test_soft_rim_keeps_the_dab_colour_and_specks_are_ignored():
    layer = dab_layer((64, 64), (30, 30), 8, (200, 120, 30), soft=True)
    layer[2, 60] = (0, 0, 255, 255)  # a one-pixel speck: a stray click, not a colour decision
    dabs = find_dabs(layer)
    assert len(dabs) == 1 and dabs[0].color == (200, 120, 30)


def test_dabs_at_the_edges_of_the_layer_are_found():
    layer = np.zeros((50, 90, 4), np.uint8)
    layer[0:4, 0:6] = (10, 20, 30, 255)  # top-left corner
    layer[44:50, 84:90] = (200, 100, 0, 255)  # bottom-right corner
    colors = sorted(d.color for d in find_dabs(layer))
    assert colors == [(10, 20, 30), (200, 100, 0)]
    # padded to the guidance's square frame, the right/bottom dabs keep their place
    padded = square(layer, 90)
    assert sorted(d.color for d in find_dabs(padded)) == colors


def test_two_dabs_of_different_colours_stay_apart_and_know_their_parts():
    parts = np.full((64, 64), P.LABEL["skin"], np.uint8)
    parts[:, 32:] = P.LABEL["hair"]
    layer = dab_layer((64, 64), (12, 30), 5, (250, 220, 200)) | dab_layer((64, 64), (50, 30), 5, BLUE)
    found = {d.label: d.color for d in find_dabs(layer, parts)}
    assert found == {"skin": (250, 220, 200), "hair": BLUE}


# ---------------------------------------------------------------------------------------------------------
# Refined mode


def test_candidates_are_production_layer_groups_that_differ_without_hints(guidance, sketch):
    result = render(guidance, sketch, None, n=3, mode="refined", style_seed=0)
    assert [(layer.group, layer.name, layer.blend, layer.visible) for layer in result.layers] == [
        (f"Candidate {i}", name, blend, visible) for i in (1, 2, 3) for name, blend, visible in
        (("Flat colours", "normal", True), ("Shadows", "multiply", True), ("Highlights", "screen", True),
         ("Line art", "normal", False))]  # the engine's lines come hidden: the artist's own are on top
    stacks = candidate_stacks(result.layers, *sketch.shape[:2])
    assert [len(stack) for stack in stacks] == [3] * 3  # as first shown: the hidden line art left out
    for stack in stacks:
        flats = stack[0][0]
        assert 0.2 < (flats[..., 3] == 255).mean() < 0.95  # the portrait opaque, the background transparent
        assert set(np.unique(flats[..., 3])) <= {0, 255}  # flats are solid: no half-transparent seams
    colors = [composite(stack).astype(int) for stack in stacks]
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.abs(colors[a] - colors[b]).mean() > 3
    assert result.info["dabs"] == [] and len(result.info["style_seeds"]) == 3
    assert set(result.timing_ms) >= {"guidance", "render"}


def test_same_style_seed_same_bytes_other_seed_other_palette(guidance, sketch):
    a = render(guidance, sketch, None, n=2, mode="refined", style_seed=7)
    b = render(guidance, sketch, None, n=2, mode="refined", style_seed=7)
    c = render(guidance, sketch, None, n=2, mode="refined", style_seed=8)
    assert all(x.rgba.tobytes() == y.rgba.tobytes() for x, y in zip(a.layers, b.layers))
    assert a.layers[0].rgba.tobytes() != c.layers[0].rgba.tobytes()


@pytest.mark.parametrize("mode", ["refined", "faithful"])
def test_candidates_made_on_several_threads_are_the_bytes_made_one_by_one(guidance, sketch, tiny_colorizer, mode):
    """Where the service has cores to spare (a GPU host), each candidate's layers are made on its own thread:
    the same layers, in the same order, as one thread gives; and the reply says where its time went."""
    hints, _ = hair_dab(guidance, sketch, BLUE)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        alone = render(guidance, sketch, hints, n=3, mode=mode, colorizer=tiny_colorizer)
        torch.set_num_threads(3)
        pooled = render(guidance, sketch, hints, n=3, mode=mode, colorizer=tiny_colorizer)
    finally:
        torch.set_num_threads(threads)
    assert [(x.group, x.name, x.x, x.y) for x in pooled.layers] == [(x.group, x.name, x.x, x.y) for x in alone.layers]
    assert all(x.rgba.tobytes() == y.rgba.tobytes() for x, y in zip(alone.layers, pooled.layers))
    stages = {"refined": "portraits", "faithful": "colouriser"}[mode]
    assert set(pooled.timing_ms) >= {"guidance", "render", "layers", "crop", stages}


def hair_dab(guidance, sketch, color, on_sheen=False):
    """A dab in the middle of the hair of the face the guidance predicts for this sketch (request frame), or
    (`on_sheen`) on the edge of its sheen, half on the sheen, half on the lit hair."""
    from anisketch.engine.palette import make_palette
    from anisketch.engine.sketch import rgba_to_darkness

    h, w = sketch.shape[:2]
    guide = guidance.guide(rgba_to_darkness(sketch))
    # the face as a render paints it (the guide's own portrait is line art: no regions)
    painted = render_portrait(guide.placement.portrait(build_portrait(P.decode(guide.floats, guide.choices))), max(h, w))
    parts = painted["parts"][:h, :w]
    import cv2

    depth = cv2.distanceTransform((parts == P.LABEL["hair"]).astype(np.uint8), cv2.DIST_L2, 3)
    if on_sheen:
        sheen = np.all(painted["color"][:h, :w] == make_palette(guide.portrait.params)["hair_sheen"], axis=2)
        edge = sheen & ~cv2.erode(sheen.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        depth = np.where(edge, depth, 0)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    assert depth[y, x] >= 4, "the predicted face should have some hair"
    return dab_layer((h, w), (x, y), min(8, int(depth[y, x]) - 1), color), guide


def test_a_dab_on_the_hair_sets_the_hair_colour_in_every_candidate(guidance, sketch):
    hints, guide = hair_dab(guidance, sketch, BLUE)
    result = render(guidance, sketch, hints, n=3, mode="refined", style_seed=0)
    assert [d["part"] for d in result.info["dabs"]] == ["hair"]
    side = max(sketch.shape[:2])
    layers, dabs, fixed = paint_candidates(guide.floats, guide.choices, square(hints, side), side, 3, 0, guide.placement)
    assert "hair_color" in fixed
    for candidate in layers:
        shown = region_color(candidate["color"], candidate["lineart"], candidate["parts"], dabs[0])
        assert delta_e(BLUE, np.rint(shown)) < 3.0
    # the whole hair follows, not just the pixels under the dab
    hair = layers[0]["parts"] == P.LABEL["hair"]
    whole = region_color(layers[0]["color"], layers[0]["lineart"], layers[0]["parts"],
                         Dab(BLUE, "hair", hair))
    assert delta_e(BLUE, np.rint(whole)) < 8.0


def test_the_production_layers_show_a_hair_dab_in_its_colour_in_every_candidate(guidance, sketch):
    """What the artist sees (the candidate's layers composed): a dab half on the hair's sheen band shows its colour
    on every pixel off the band, and the band it only grazes stays (a highlight over the dabbed colour)."""
    from anisketch.render.lab import to_lab

    hints, _ = hair_dab(guidance, sketch, BLUE, on_sheen=True)
    result = render(guidance, sketch, hints, n=3, mode="refined", style_seed=0)
    dab = find_dabs(hints)[0]
    for stack in candidate_stacks(result.layers, *sketch.shape[:2]):
        lit = stack[2][0][..., 3] > 0  # the Highlights layer paints there
        shown = to_lab(np.rint(composite(stack)).astype(np.uint8))
        distance = np.linalg.norm(shown[dab.mask & ~lit] - to_lab(np.asarray(BLUE, np.float32)[None])[0], axis=1)
        assert (distance <= 10).mean() > 0.95
        assert (dab.mask & lit).any()


def test_hints_are_honoured_on_a_shadowed_part():
    """A dab on a part the engine shades (back hair is darker than the base colour) still shows its colour."""
    from anisketch.render.refined import match_hints

    from anisketch.engine.palette import make_palette

    params = P.sample_params(SEED, {"hair_style": "long"})
    layers = render_portrait(build_portrait(params), 256)
    back_color = make_palette(params)["hair_back"]  # the back hair: a darker mix of the base colour
    back = (layers["parts"] == P.LABEL["hair"]) & np.all(layers["color"] == back_color, axis=2)
    assert back.any()
    mask = np.zeros_like(back)
    ys, xs = np.nonzero(back)
    mask[ys[len(ys) // 2], xs[len(xs) // 2]] = True
    import cv2

    mask = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & back
    dab = Dab((200, 60, 140), "hair", mask)
    naive = params.copy()
    naive["hair_color"] = (200 / 255, 60 / 255, 140 / 255)
    out = render_portrait(build_portrait(naive), 256)
    assert delta_e(dab.color, np.rint(region_color(out["color"], out["lineart"], out["parts"], dab))) > 5.0
    fixed = match_hints(params, [dab], {"hair_color": naive["hair_color"]})
    styled = params.copy()
    styled.update(fixed)
    out = render_portrait(build_portrait(styled), 256)
    assert delta_e(dab.color, np.rint(region_color(out["color"], out["lineart"], out["parts"], dab))) < 3.0


def test_the_likely_palette_is_real_engine_colours_and_beats_a_random_palette():
    from anisketch.eval.metrics import psnr
    from anisketch.render.refined import COLOR_NAMES, LIKELY_COLOR_SEEDS, likely_palette, medoid_seed, with_style

    palette = likely_palette()
    assert set(LIKELY_COLOR_SEEDS) == set(COLOR_NAMES) and palette.option("background") == "flat"
    for name, seed in LIKELY_COLOR_SEEDS.items():  # still the engine's medoid colour (an engine change trips this)
        assert medoid_seed(name) == seed, name
    likely, drawn = [], []
    for seed in range(2_000_000_100, 2_000_000_108):  # unseen portraits, repainted in their own geometry
        truth = P.sample_params(seed)
        color = render_portrait(build_portrait(truth), 128)["color"]
        repaint = truth.copy()
        repaint.update({name: palette[name] for name in COLOR_NAMES + ["background"]})
        likely.append(psnr(render_portrait(build_portrait(repaint), 128)["color"], color))
        drawn.append(psnr(render_portrait(build_portrait(with_style(truth, 5, 1, {})), 128)["color"], color))
    assert np.mean(likely) > np.mean(drawn) + 1.0


def test_first_default_candidate_bets_on_the_likely_palette_the_others_are_drawn(guidance, sketch):
    from anisketch.engine.sketch import rgba_to_darkness
    from anisketch.render.refined import donor_palette, likely_palette

    assert donor_palette(0, 0) is likely_palette()
    assert donor_palette(0, 1)["hair_color"] == P.sample_params(1)["hair_color"]  # donor seed 0 * 1000 + 1
    assert donor_palette(3, 0)["hair_color"] == P.sample_params(3000)["hair_color"]  # other style seeds: drawn
    result = render(guidance, sketch, None, n=3, mode="refined", style_seed=0)
    assert result.info["donor_seeds"] == [None, 1, 2]
    guide = guidance.guide(rgba_to_darkness(sketch))
    layers, _, _ = paint_candidates(guide.floats, guide.choices, None, max(sketch.shape[:2]), 2, 0, guide.placement)
    likely_hair = tuple(int(round(255 * c)) for c in likely_palette()["hair_color"])
    hair = Dab(likely_hair, "hair", layers[0]["parts"] == P.LABEL["hair"])
    shown = region_color(layers[0]["color"], layers[0]["lineart"], layers[0]["parts"], hair)
    assert delta_e(likely_hair, np.rint(shown)) < 8.0  # candidate 1 wears the likely hair colour
    other = region_color(layers[1]["color"], layers[1]["lineart"], layers[1]["parts"], hair)
    assert np.abs(other - shown).max() > 10  # candidate 2 another one


# ---------------------------------------------------------------------------------------------------------
# Faithful mode


def test_lines_are_inked_in_a_dark_tone_of_the_fill_under_them():
    from anisketch.render.faithful import ink_lines

    fill = np.zeros((8, 16, 3), np.uint8)
    fill[:, :8] = (60, 110, 230)  # blue hair
    fill[:, 8:] = (250, 225, 210)  # skin
    darkness = np.zeros((8, 16), np.uint8)
    darkness[4] = 255  # one full-strength line across both
    darkness[6] = 128  # and a half-strength one
    out = ink_lines(fill, darkness).astype(int)
    assert (out[:4] == fill[:4]).all()  # no line: the fill untouched
    blue_line, skin_line = out[4, 2], out[4, 12]
    assert blue_line.max() < 110 and blue_line[2] > blue_line[0] + 20  # dark, still blue
    assert skin_line.max() < 110 and skin_line[0] > skin_line[2]  # dark, still warm
    assert (out[6, 2] > blue_line).all() and (out[6, 2] < fill[6, 2]).all()  # half strength: half-way
    assert (ink_lines(fill, darkness, ink=(0, 0, 0))[4] == 0).all()  # one flat ink colour on request


def test_faithful_mode_colours_beneath_the_artists_lines_and_gives_n_candidates(guidance, sketch, tiny_colorizer):
    hints, _ = hair_dab(guidance, sketch, BLUE)
    result = render(guidance, sketch, hints, n=3, mode="faithful", style_seed=0, colorizer=tiny_colorizer)
    assert [(layer.group, layer.name, layer.blend) for layer in result.layers] == [
        (f"Candidate {i}", name, blend) for i in (1, 2, 3) for name, blend in
        (("Flat colours", "normal"), ("Shadows", "multiply"), ("Highlights", "screen"))]
    ink = sketch[..., 3] > 200
    for stack in candidate_stacks(result.layers, *sketch.shape[:2]):
        flats = stack[0][0]
        assert (flats[..., 3][ink] == 255).mean() > 0.5  # the colour reaches under the lines (the outline: half)
        assert 0.2 < (flats[..., 3] == 255).mean() < 0.95  # the outside is transparent (no background dab)
        assert composite(stack)[ink].mean() > 90  # the lines are not repainted: the artist's layer draws them
    again = render(guidance, sketch, hints, n=3, mode="faithful", style_seed=0, colorizer=tiny_colorizer)
    assert all(x.rgba.tobytes() == y.rgba.tobytes() for x, y in zip(result.layers, again.layers))


def ring_sketch(side=128, gap=False):
    """A circle of ink (the portrait's outline), optionally with a gap in it, and a guidance part map whose
    face is the same circle shifted by 3 px, as the guidance sits a few pixels off the artist's lines."""
    import cv2

    darkness = np.zeros((side, side), np.uint8)
    cv2.circle(darkness, (64, 64), 40, 255, 2, cv2.LINE_AA)
    if gap:
        darkness[20:30, 60:68] = 0  # a sketchy gap at the top of the outline
    parts = np.full((side, side), P.LABEL["background"], np.uint8)
    cv2.circle(parts, (67, 64), 40, P.LABEL["skin"], -1)
    return darkness, parts


@pytest.mark.parametrize("gap", [False, True])
def test_the_outside_follows_the_artists_lines_not_the_guidance(gap):
    from anisketch.render.faithful import outside

    darkness, parts = ring_sketch(gap=gap)
    out = outside(darkness, parts)
    assert out[2, 2] and out[64, 120] and not out[64, 64]
    # on the left, the guidance's face starts 3 px inside the artist's line: the artist's line wins
    assert not out[64, 27] and not out[64, 29]
    assert out[64, 21]


def test_faithful_outside_is_transparent_unless_the_background_is_hinted(tiny_colorizer):
    from anisketch.render.faithful import faithful_candidates

    darkness, parts = ring_sketch(256)
    params = P.sample_params(SEED)
    alpha = faithful_candidates(tiny_colorizer, darkness, None, parts, params, 2, 0)[1][..., 3]
    assert alpha[5, 5] == 0 and alpha[64, 64] == 255 and alpha[64, 24] == 255  # corner, face, outline
    hinted = dab_layer((256, 256), (10, 10), 6, (200, 230, 250))
    alpha = faithful_candidates(tiny_colorizer, darkness, hinted, parts, params, 2, 0)[1][..., 3]
    assert (alpha == 255).all()


def test_a_dab_on_one_iris_colours_both_in_faithful_mode():
    import cv2

    from anisketch.render.faithful import both_eyes

    parts = np.full((64, 64), P.LABEL["skin"], np.uint8)
    cv2.circle(parts, (20, 30), 6, P.LABEL["eye_l"], -1)
    cv2.circle(parts, (44, 30), 6, P.LABEL["eye_r"], -1)
    hints = dab_layer((64, 64), (20, 30), 2, BLUE)
    out = both_eyes(hints, parts)
    assert tuple(out[30, 44]) == (*BLUE, 255)  # the other iris gets the same colour
    assert (out[parts == P.LABEL["skin"]] == hints[parts == P.LABEL["skin"]]).all()  # nothing else changes
    assert both_eyes(out, parts) is out  # both hinted (maybe differently): the artist's choice stands
    empty = np.zeros_like(hints)
    assert both_eyes(empty, parts) is empty


def test_faithful_mode_without_a_colorizer_says_so(guidance, sketch):
    with pytest.raises(BadRequest, match="colouriser"):
        render(guidance, sketch, None, n=2, mode="faithful", colorizer=None)


def test_load_colorizer_is_none_until_shipped_and_round_trips_an_export(tmp_path):
    from anisketch.render.train import ColorCurriculum, ColorizerTask, export
    from anisketch.train.checkpoint import save_checkpoint

    assert load_colorizer(tmp_path / "nothing") is None
    task = ColorizerTask({}, ColorCurriculum())
    save_checkpoint(tmp_path / "run", task.model, torch.optim.AdamW(task.model.parameters()), {"step": 1})
    export(task, tmp_path / "run", tmp_path / "weights", config_path="backend/configs/colorizer.toml")
    assert (tmp_path / "weights" / "colorizer.safetensors").stat().st_size < 8 << 20
    loaded = load_colorizer(tmp_path / "weights")
    x = torch.rand(1, 5, 64, 64)
    task.model.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), task.model(x), atol=2e-2)  # fp16 weights, folded BatchNorm


def test_training_batches_have_the_contracted_shapes_and_some_have_no_hints():
    from anisketch.render.train import ColorCurriculum, ColorizerTask

    task = ColorizerTask({}, ColorCurriculum(size=128, samples_per_portrait=4))
    batch = task.make_batch(first_seed=5, batch_size=10)
    assert batch["lines"].shape == (10, 1, 128, 128) and batch["hints"].shape == (10, 4, 128, 128)
    assert batch["target"].shape == (10, 3, 128, 128)
    assert all(v.dtype == np.uint8 for v in batch.values())
    assert batch["lines"].max() > 200  # lines are there
    loss, parts = task.loss(task.model, {k: torch.from_numpy(v) for k, v in batch.items()})
    assert torch.isfinite(loss) and "l1" in parts


# ---------------------------------------------------------------------------------------------------------
# Ceilings


def test_ceilings_of_one_seed_without_the_guidance():
    from anisketch.render.ceilings import seed_ceilings, table
    from anisketch.render.evaluate import HINT_COUNTS

    rows = seed_ceilings(2_000_000_007)
    assert rows["TRUE geometry, TRUE palette"] == [99.0]  # the engine repaints the truth exactly
    painter = rows["refined, TRUE geometry"]
    assert len(painter) == len(HINT_COUNTS) and painter[-1] > painter[0] + 3  # 20 dabs fix most colours
    assert 25 < rows["faithful: TRUE fills + lines composited"][0] < 99  # only the lines' ink colours differ
    assert "refined, guidance geometry" not in rows
    text = table({name: values for name, values in rows.items()})
    assert ">= 99" in text and "(no hints)" in text and len(text.splitlines()) == len(rows) + 1


# ---------------------------------------------------------------------------------------------------------
# Bad requests


@pytest.mark.parametrize("change, message", [
    (dict(n=0), "number of candidates"),
    (dict(n=9), "number of candidates"),
    (dict(n=2.5), "number of candidates"),
    (dict(mode="sepia"), "unknown render mode"),
    (dict(style_seed=-1), "style seed"),
    (dict(hints=np.zeros((10, 10, 4), np.uint8)), "same region"),
    (dict(hints=np.zeros((384, 320, 3), np.uint8)), "hint layer must be"),
    (dict(sketch=np.zeros((384, 320, 4), np.float32)), "sketch must be"),
    (dict(sketch=np.zeros((8, 8, 4), np.uint8), hints=None), "between 16 and 4096"),
])
def test_bad_arguments_are_bad_requests(guidance, sketch, change, message):
    args = dict(sketch=sketch, hints=None, n=2, mode="refined", style_seed=0)
    args.update(change)
    with pytest.raises(BadRequest, match=message):
        render(guidance, args.pop("sketch"), args.pop("hints"), **args)


def test_shipped_colorizer_paints_the_artists_lines_and_follows_hints():
    """The trained faithful-mode colouriser on unseen seeds: hints make it clearly closer to the truth, and with
    ten dabs it lands near its evaluation figure (22.6 dB over 60 seeds), far from an untrained net (~12 dB)."""
    from anisketch.eval.metrics import psnr
    from anisketch.render.evaluate import truth_and_inputs
    from anisketch.service import Service

    service = Service(device="cpu")
    assert service.colorizer is not None, "weights/colorizer.safetensors is shipped"
    gains, with_hints = [], []
    for seed in (2_000_000_011, 2_000_000_012, 2_000_000_013):
        case = truth_and_inputs(seed)
        lineart = case["truth"]["lineart"]  # faithful mode colours the artist's own finished lines
        lines = np.dstack([np.zeros(lineart.shape + (3,), np.uint8), lineart])
        scores = {}
        for count in (0, 10):
            result = service.render(lines, case["hints"][count], n=1, mode="faithful")
            stack = candidate_stacks(result.layers, *lines.shape[:2])[0] + [(lines, "normal")]
            # as the artist sees it (the layers beneath the lines), judged inside the figure: the outside stays
            # transparent unless the background is hinted, so the truth's background shows through there
            shown = np.rint(composite(stack, under=case["truth"]["color"])).astype(np.uint8)
            scores[count] = psnr(shown, case["truth"]["color"])
        gains.append(scores[10] - scores[0])
        with_hints.append(scores[10])
    print("faithful composite PSNR with 10 dabs", np.round(with_hints, 2), "gains", np.round(gains, 2))
    assert np.mean(with_hints) > 19.0
    assert np.mean(gains) > 1.5  # the figure only: a background dab no longer counts (2.0 with it, before)
