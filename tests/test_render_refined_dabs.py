"""Refined production layers under the artist's dabs (render/layered.py, render/refined.py): what the artist
dabbed is what they get, each property on an input where it can fail."""

import numpy as np

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render as render_portrait
from anisketch.render.dabs import Dab
from anisketch.render.layered import FLATS, HIGHLIGHTS, SHADOWS, composite, refined_production

RED = (220, 30, 40)

def test_a_dab_takes_away_the_shading_shape_it_covers_unless_it_lies_on_its_tone():
    from anisketch.render.layered import DABBED_SHARE, WHITE, DabbedTone, cleared, covered_shapes

    def without_dabbed_shapes(rgb, none, tones, dabs):  # the shading pass as refined_production clears it
        return cleared(rgb, covered_shapes(rgb, none, tones, dabs), none)

    lock, other_lock, sheen = (200, 180, 170), (200, 180, 170), (230, 200, 190)
    rgb = np.full((64, 64, 3), 255, np.uint8)
    rgb[10:20, 10:20], rgb[10:20, 40:50], rgb[30:34, 4:60] = lock, other_lock, sheen
    tones = {lock: "hair_shadow", sheen: "hair_sheen"}
    dab = np.zeros((64, 64), bool)
    dab[14:28, 14:24] = True  # over a third of the first lock, grazing the band below it
    assert (dab & np.all(rgb == sheen, axis=2)).sum() <= DABBED_SHARE * 4 * 56
    out = without_dabbed_shapes(rgb, WHITE, tones, [DabbedTone(dab, None)])
    assert (out[10:20, 10:20] == 255).all()  # the lock it covers is gone, its whole shape
    assert (out[10:20, 40:50] == lock).all()  # the other lock keeps its shade
    assert (out[30:34, 4:60] == sheen).all()  # a band the dab only grazes stays
    kept = without_dabbed_shapes(rgb, WHITE, tones, [DabbedTone(dab, "hair_shadow")])
    assert (kept == rgb).all()  # a dab on the shade asks for the shade
    assert without_dabbed_shapes(rgb, WHITE, tones, []) is rgb


def back_hair_portrait():
    from anisketch.engine.palette import make_palette

    params = P.sample_params(2_000_000_321, {"hair_style": "long"})
    portrait = build_portrait(params)
    truth = render_portrait(portrait, 256)
    back = np.all(truth["color"] == make_palette(params)["hair_back"], axis=2)
    import cv2

    depth = cv2.distanceTransform(back.view(np.uint8), cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    assert depth[y, x] >= 5, "this portrait should show its back hair"
    yy, xx = np.mgrid[:256, :256]
    return params, portrait, np.hypot(yy - y, xx - x) <= 4


def test_a_dab_on_the_back_hair_shows_its_colour_through_its_shade():
    """A dab in the back hair's shade reads as the shade (`tones_under`): the shade stays and the hair's base is
    the colour the shade turns into the dab's, so the dab's pixels show its colour. Read as the lit hair, the
    base is the dab's colour and the large shade it barely covers stays."""
    from anisketch.render.layered import DabbedTone, tones_under
    from anisketch.render.refined import dab_colors

    params, portrait, mask = back_hair_portrait()
    assert tones_under(portrait, [mask]) == ["hair_back"]
    color = (60, 150, 90)
    for tone in ("hair_back", None):
        styled = params.copy()
        styled.update(dab_colors(params, [Dab(color, "hair", mask)], [tone]))
        layers = refined_production(build_portrait(styled), 256, True, [DabbedTone(mask, tone, color)])
        assert (layers[SHADOWS][..., 3][mask] > 0).all()
        shown = composite([(layers[FLATS], "normal"), (layers[SHADOWS], "multiply"), (layers[HIGHLIGHTS], "screen")])
        assert np.abs((shown if tone else layers[FLATS][..., :3])[mask] - color).max() <= 4


def test_a_dab_on_a_collar_repaints_the_collar_and_leaves_the_clothes_colour():
    from anisketch.engine.palette import make_palette
    from anisketch.render.layered import FIXED_FLAT, DabbedTone, tones_under
    from anisketch.render.refined import dab_colors

    params = next(p for p in map(P.sample_params, range(2_000_000_000, 2_000_000_100)) if p.option("clothes") == "sailor")
    portrait = build_portrait(params)
    collar = np.all(render_portrait(portrait, 256)["color"] == make_palette(params)["collar"], axis=2)
    import cv2

    depth = cv2.distanceTransform(collar.view(np.uint8), cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    yy, xx = np.mgrid[:256, :256]
    mask = np.hypot(yy - y, xx - x) <= min(3, depth[y, x] - 1)
    assert tones_under(portrait, [mask]) == [FIXED_FLAT]
    assert dab_colors(params, [Dab(RED, "clothes", mask)], [FIXED_FLAT]) == {}  # the clothes keep their colour
    flats = refined_production(portrait, 256, True, [DabbedTone(mask, FIXED_FLAT, RED)])[FLATS]
    assert (flats[mask][:, :3] == RED).all()
    assert (np.all(flats[..., :3] == RED, axis=2) >= collar).all()  # all of the collar, not only the dab
    # a second, smaller dab of another colour on the collar: the colour most dabbed pixels ask for, in any order
    BLUE, small = (40, 60, 200), np.hypot(yy - y, xx - x) <= 1
    for order in ([(mask, RED), (small, BLUE)], [(small, BLUE), (mask, RED)]):
        dabs = [DabbedTone(m, FIXED_FLAT, c) for m, c in order]
        assert (refined_production(portrait, 256, True, dabs)[FLATS][collar][:, :3] == RED).all()


def test_of_two_disagreeing_dabs_on_the_clothes_the_one_showing_the_collar_colour_is_the_collars():
    """A white dab half on a white collar and an olive one on the dress: the artist dabbed the collar white and
    the dress olive (seed 2000000020 of the eval came back in a white dress). Alone, the white dab still sets
    the clothes' colour, and a dab of another colour in the same place still counts for the dress."""
    import cv2

    from anisketch.engine.palette import make_palette
    from anisketch.render.layered import FIXED_FLAT
    from anisketch.render.refined import dab_colors, read_dabs

    def dress_and_collar(seed):
        params = P.sample_params(seed)
        portrait = build_portrait(params)
        pal, color = make_palette(params), render_portrait(portrait, 256)["color"]
        return params, portrait, [np.all(color == pal[name], axis=2) for name in ("clothes", "collar")]

    params, portrait, (dress, collar) = next(
        found for found in map(dress_and_collar, range(2_000_000_000, 2_000_000_100))
        if found[0].option("clothes") != "sailor" and min(found[0]["clothes_color"]) < 0.6 and found[2][0].sum() > 3000)
    disc = (np.hypot(*np.mgrid[-6:7, -6:7]) <= 6).astype(np.float32)
    dress_share, collar_share = (cv2.filter2D(m.astype(np.float32), -1, disc / disc.sum()) for m in (dress, collar))
    y, x = np.unravel_index(np.argmin(np.abs(collar_share - 0.45) + np.abs(dress_share - 0.45)), dress.shape)
    yy, xx = np.mgrid[:256, :256]
    white_mask = np.hypot(yy - y, xx - x) <= 6  # across the line between the dress and the collar
    assert 0.2 < collar[white_mask].mean() < 0.75  # a good part on the collar (more under the line between)
    olive_mask = np.zeros_like(dress)
    oy, ox = np.argwhere(cv2.erode(dress.view(np.uint8), np.ones((9, 9), np.uint8)) > 0)[-1]
    olive_mask[oy - 2:oy + 3, ox - 2:ox + 3] = True
    white, olive, red = (250, 250, 250), (120, 115, 60), (220, 30, 40)

    def read(*dabs):
        dabs = [Dab(c, "clothes", m) for c, m in dabs]
        tones = read_dabs(params, dabs, portrait)
        return tones, dab_colors(params, dabs, tones).get("clothes_color")

    tones, clothes = read((white, white_mask), (olive, olive_mask))
    assert tones[0] == FIXED_FLAT and np.allclose(np.array(clothes) * 255, olive)
    tones, clothes = read((white, white_mask))
    assert tones == [None] and np.allclose(np.array(clothes) * 255, white)
    tones, _ = read((red, white_mask), (olive, olive_mask))
    assert tones == [None, None]


def test_a_white_dab_on_an_eye_colours_its_whites_and_leaves_the_iris():
    """A simulated artist's picker takes the sclera's white where little iris lies under the brush (seed 2000000087
    of the eval): such a dab set the iris white before, a blank stare. It sets no colour now, in both refined
    paths; a coloured dab on the same eye still sets the iris."""
    from anisketch.render.refined import color_param_for, dab_colors, hinted_colors

    params = P.sample_params(3)
    mask = np.zeros((64, 64), bool)
    mask[30:34, 30:34] = True
    white, pale_grey, blue = (255, 255, 249), (205, 205, 210), (40, 60, 200)
    for pale in (white, pale_grey):
        assert color_param_for("eye_l", params, pale) is None
        assert dab_colors(params, [Dab(pale, "eye_r", mask)], [None]) == {}
        assert hinted_colors(params, [Dab(pale, "eye_r", mask)]) == {}
        assert color_param_for("skin", params, pale) == "skin_color"  # pale elsewhere is a colour like any
    assert color_param_for("eye_l", params, blue) == "iris_color"
    asked = dab_colors(params, [Dab(white, "eye_l", mask), Dab(blue, "eye_r", mask)], [None, None])
    assert np.allclose(np.array(asked["iris_color"]) * 255, blue)


def test_a_dabbed_eye_keeps_its_pupil_catch_lights_and_gradient():
    from anisketch.engine.palette import make_palette
    from anisketch.render.layered import DabbedTone

    params = P.sample_params(3)
    portrait = build_portrait(params)
    parts = render_portrait(portrait, 256)["parts"]
    eyes = np.isin(parts, [P.LABEL["eye_l"], P.LABEL["eye_r"]])
    plain = refined_production(portrait, 256, True)
    dabbed = refined_production(portrait, 256, True, [DabbedTone(eyes, None, make_palette(params)["iris"])])
    for name in (SHADOWS, HIGHLIGHTS):
        assert (plain[name][eyes] == dabbed[name][eyes]).all()
        assert (plain[name][..., 3][eyes] > 0).any()


def test_agreed_colour_shows_the_most_dab_pixels():
    """Greys at L* 50 (500 px), 69 (450 px) and 32 (100 px): the mean of all three (L* 56) would show only the
    first; the mean of the first two shows 950 px."""
    from anisketch.render.dabs import AGREE, agreed_color
    from anisketch.render.lab import to_lab

    greys = np.array([[120] * 3, [168] * 3, [76] * 3], float)
    agreed = agreed_color(greys, np.array([500, 450, 100], float))
    distance = np.linalg.norm(to_lab(greys.astype(np.float32)) - to_lab(agreed[None].astype(np.float32)), axis=1)
    assert (distance[:2] <= AGREE).all() and distance[2] > AGREE


def test_two_dabs_in_the_hairs_shade_agree_on_the_base_that_shows_both():
    """Two dabs of near colours (dE76 10.6) in the back hair's shade (seed 2000000000 of the eval): the bases
    their shade asks for are further apart than the dabs, so judged as bases neither agreed and the smaller dab
    showed 10.6 off. Judged by what the shade shows at each dab, one base shows both."""
    from anisketch.render.dabs import AGREE
    from anisketch.render.lab import to_lab
    from anisketch.render.refined import dab_colors, tone_of

    params = P.sample_params(3)
    dark, warm = (106, 67, 32), (110, 84, 35)
    mask = np.zeros((64, 64), bool)
    dabs = [Dab(dark, "hair", mask.copy()), Dab(warm, "hair", mask.copy())]
    dabs[0].mask[:40, :40], dabs[1].mask[:30, :20] = True, True  # 1600 and 600 pixels
    base = np.array(dab_colors(params, dabs, ["hair_back", "hair_back"])["hair_color"]) * 255
    shade = np.array(tone_of(params, "hair_color", "hair_back", base), np.float32)
    for color in (dark, warm):
        assert np.linalg.norm(np.subtract(*to_lab(np.array([shade, color], np.float32)))) <= AGREE


def test_the_shapes_dabs_take_away_are_found_once_for_candidates_in_other_colours():
    """A request's candidates are one face in other colours: the shading shapes found under the dabs in one of
    them (`dabbed_shapes`) give each the layers it makes finding its own, but for a few anti-aliased rim pixels
    whose rounding to the blend's "no change" colour differs with the colours; and they are not nothing here (a
    dab over the largest shape of the Shadows pass, in portraits of other colours)."""
    import cv2

    from anisketch.render.layered import WHITE, DabbedTone, dabbed_shapes, decomposed, shading_pass
    from anisketch.render.refined import with_style

    params, portrait, _ = back_hair_portrait()
    shade = np.any(shading_pass(decomposed(portrait).shadows, WHITE, 256) != 255, axis=2)
    count, shapes, stats, _ = cv2.connectedComponentsWithStats(shade.view(np.uint8), connectivity=8)
    mask = shapes == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    dabs = [DabbedTone(mask, None, RED)]
    covered = dabbed_shapes(portrait, 256, dabs)
    assert covered.shadows is not None and covered.shadows[mask].mean() > 0.9
    for candidate in range(1, 3):
        other = build_portrait(with_style(params, 7, candidate, {}))
        own = refined_production(other, 256, False, dabs)
        shared = refined_production(other, 256, False, dabs, covered)
        assert own.keys() == shared.keys() and all(np.array_equal(own[k], shared[k]) for k in own if k != SHADOWS)
        rims = np.any(own[SHADOWS] != shared[SHADOWS], axis=2).sum()
        assert rims <= 0.01 * covered.shadows.sum()
        assert not np.array_equal(own[SHADOWS], refined_production(other, 256, False)[SHADOWS])


def test_the_candidates_share_their_strokes_and_each_has_its_own_colours():
    """portrait_maker's candidates take the first one's strokes (they differ in colours only, which strokes do
    not carry): every candidate's portrait is the one a whole build gives, placed in the request, with a hint
    fixing a colour and without, and the candidates' colours differ."""
    from anisketch.guidance.framing import Placement
    from anisketch.render.refined import built, portrait_maker, with_style

    placement = Placement(0.1, -0.05, 0.8)
    for seed in (2_000_000_005, 2_000_000_321):
        floats, choices = P.encode(P.sample_params(seed))
        hints = np.zeros((256, 256, 4), np.uint8)
        hints[120:126, 120:126] = (*RED, 255)
        for hinted in (None, hints):
            painter = portrait_maker(floats, choices, hinted, 256, 3, placement, matched=False)
            params = P.decode(floats, choices)
            regions = []
            for i in range(3):
                whole = placement.portrait(built(with_style(params, 3, i, painter.fixed)))
                shared = painter.portrait(i)
                assert len(shared.strokes) == len(whole.strokes) and all(
                    np.array_equal(a.points, b.points) and np.array_equal(a.widths, b.widths)
                    for a, b in zip(shared.strokes, whole.strokes))
                assert [(r.color, r.label) for r in shared.regions] == [(r.color, r.label) for r in whole.regions]
                assert all(np.array_equal(a.polygon, b.polygon) for a, b in zip(shared.regions, whole.regions))
                regions.append([r.color for r in shared.regions])
            assert regions[0] != regions[1] != regions[2]


def test_the_candidates_line_art_is_inked_once_in_each_ones_colours():
    """A request's candidates share their strokes and differ in the lines' colours (hair lines follow the hair):
    the ink by group (`ink_by_group`), coloured per candidate, is each candidate's own `render_lines` within a
    few levels of rounding where strokes of two groups cross; the candidates' line art differs; and the
    refined layers take it so."""
    from anisketch.engine.palette import line_colors
    from anisketch.engine.raster import ink_by_group, render_lines
    from anisketch.render.layered import LINE_ART, decomposed
    from anisketch.render.line_art import with_line_shapes
    from anisketch.render.refined import with_style

    params = P.sample_params(2_000_000_011)
    portrait = build_portrait(params)
    ink = ink_by_group(portrait.strokes, 256)
    seen = []
    for candidate in range(3):
        styled = with_style(params, 5, candidate, {})
        own = render_lines(portrait.strokes, 256, colors=line_colors(styled))
        shared = ink.colored(line_colors(styled))
        gap = np.abs(own.astype(int) - shared.astype(int))
        assert gap[..., 3].max() <= 4 and (gap[..., 3] > 1).mean() < 0.01
        assert gap[..., :3][own[..., 3] >= 128].max() <= 8
        layers = refined_production(build_portrait(styled), 256, False, ink=lambda: ink)
        # the shared strokes, and beneath them the candidate's brows and frames (line work, not flats)
        shapes = decomposed(build_portrait(styled)).line_shapes
        assert shapes and np.array_equal(layers[LINE_ART], with_line_shapes(shared, shapes, 256))
        seen.append(shared)
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[2])


def test_brows_and_glasses_frames_are_line_work_not_flats():
    """Refined mode leaves the engine's brows and glasses frames out of the flats (beneath the artist's own
    pencilled ones they drew them twice): there the flats are the skin they cross, and the hidden line art
    holds them, filled."""
    from anisketch.engine.palette import make_palette
    from anisketch.engine.raster import render_regions
    from anisketch.render.layered import LINE_ART, decomposed

    params = P.sample_params(2_000_000_266)
    params["glasses"] = 1  # on (the option's index)
    portrait = build_portrait(params)
    shapes = decomposed(portrait).line_shapes
    pal = make_palette(portrait.params)
    kinds = {shape.label for shape in shapes}
    assert P.LABEL["brow_l"] in kinds and P.LABEL["accessory"] in kinds, kinds
    layers = refined_production(portrait, 256, False)
    for shape in shapes:
        inside = render_regions([shape.recolored((255, 255, 255))], 256)[0][..., 0] == 255
        assert inside.sum() > 5
        flats = layers[FLATS][inside][:, :3].astype(int)
        line_color = np.asarray(pal["glasses"] if shape.label == P.LABEL["accessory"] else pal["brow"], int)
        assert (np.abs(flats - line_color).max(axis=1) > 20).mean() > 0.9  # the colour beneath, not the line's
        assert (layers[LINE_ART][inside][:, 3] == 255).all()  # the hidden line art has them, filled
