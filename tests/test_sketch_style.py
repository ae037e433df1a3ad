"""The drawing simulator's artist styles (engine/sketch_style.py): guides, beginner shapes, multi-pass lines,
hatching, artists' orders, and the training sampler that never draws the held-out variants."""

import numpy as np
import pytest

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.sketch import render_sketch
from anisketch.engine.sketch_style import (GUIDE_GROUP, HELD_OUT, ORDERS, SHADING_GROUP, SketchStyle, _Pose, classify,
                                           draw_styled, sample_style, styled_strokes)

SEEDS = range(2_000_000_000, 2_000_000_012)


def portrait(seed):
    return build_portrait(P.sample_params(seed))


def kinds_of(strokes, p):
    pose = _Pose.of(p.params)
    return [classify(s, pose) for s in strokes]


def test_engine_portraits_never_hold_a_guide_or_shading_group():
    for seed in SEEDS:
        assert {s.group for s in portrait(seed).strokes}.isdisjoint({GUIDE_GROUP, SHADING_GROUP})


def test_default_style_is_the_engine_drawing_in_the_engine_order():
    for seed in SEEDS:
        p = portrait(seed)
        drawn = styled_strokes(p, SketchStyle(), np.random.default_rng(0))
        assert len(drawn) == len([s for s in p.strokes if len(s.points) >= 2])
        for a, b in zip(drawn, sorted(p.strokes, key=lambda s: s.order)):
            assert np.array_equal(a.points, b.points) and a.group == b.group


def test_guides_come_first_are_flagged_and_follow_the_pose():
    for seed in SEEDS:
        p = portrait(seed)
        drawn = draw_styled(p, np.random.default_rng(seed), SketchStyle(guides=True), fraction=0.1)
        assert drawn and all(s.group == GUIDE_GROUP for s in drawn)  # the first tenth of the ink: guides only
        full = draw_styled(p, np.random.default_rng(seed), SketchStyle(guides=True), fraction=1.0)
        groups = [s.group for s in full]
        first_part = next(i for i, g in enumerate(groups) if g != GUIDE_GROUP)
        assert set(groups[:first_part]) == {GUIDE_GROUP} and GUIDE_GROUP not in groups[first_part:]
        # the cranium circle sits around the face's anchor, one face half-width in radius
        circle = styled_strokes(p, SketchStyle(guides=True), np.random.default_rng(seed))[0].points
        centre = _Pose.of(p.params).place(np.zeros((1, 2)))[0]
        radius = np.linalg.norm(circle - centre, axis=1)
        assert abs(np.median(radius) / p.params["scale"] - 1.0) < 0.1


def test_guides_left_in_or_erased_after_the_contour():
    p = portrait(SEEDS[0])
    kept = draw_styled(p, np.random.default_rng(1), SketchStyle(guides=True), fraction=1.0)
    erased = draw_styled(p, np.random.default_rng(1), SketchStyle(guides=True, erase_guides_at=0.6), fraction=1.0)
    early = draw_styled(p, np.random.default_rng(1), SketchStyle(guides=True, erase_guides_at=0.6), fraction=0.5)
    assert any(s.group == GUIDE_GROUP for s in kept) and any(s.group == GUIDE_GROUP for s in early)
    assert not any(s.group == GUIDE_GROUP for s in erased) and erased


@pytest.mark.parametrize("order", ["features", "contour", "hair"])
def test_artists_orders_are_respected(order):
    first = {"features": "eyes", "contour": "contour", "hair": "hair"}[order]
    for seed in SEEDS:
        p = portrait(seed)
        drawn = styled_strokes(p, SketchStyle(order=order), np.random.default_rng(seed))
        kinds = kinds_of(drawn, p)
        assert kinds[0] == first
        if order == "features":  # eyes, brows, nose, mouth before any contour; hair after the contour
            last_feature = max(i for i, k in enumerate(kinds) if k in ("eyes", "brows", "nose", "mouth"))
            assert last_feature < kinds.index("contour") < kinds.index("hair")
        if order == "hair":
            assert max(i for i, k in enumerate(kinds) if k == "hair") < kinds.index("eyes")


def test_left_first_order_goes_across_the_upright_face_after_the_guides():
    for seed in SEEDS:
        p = portrait(seed)
        drawn = styled_strokes(p, SketchStyle(order="left_first", guides=True), np.random.default_rng(seed))
        pose = _Pose.of(p.params)
        strokes = [s for s in drawn if s.group != GUIDE_GROUP]
        assert all(s.group == GUIDE_GROUP for s in drawn[:len(drawn) - len(strokes)])
        middles = [pose.unplace(s.points)[:, 0].mean() for s in strokes]
        assert middles == sorted(middles) and len(set(kinds_of(strokes[:12], p))) >= 2  # parts mixed, not by kind


def test_a_sweep_runs_down_or_up_the_face_never_sideways():
    """The training's sweeps grow the face from the top or the bottom; the held-out left-first order, a sweep from
    the side, stays unseen."""
    for seed in SEEDS:
        p = portrait(seed)
        pose = _Pose.of(p.params)
        for draw in range(6):
            drawn = styled_strokes(p, SketchStyle(order="sweep"), np.random.default_rng([seed, draw]))
            middles = np.array([pose.unplace(s.points).mean(axis=0) for s in drawn])
            steps = np.arange(len(middles))
            along_x, along_y = (abs(np.corrcoef(steps, middles[:, axis])[0, 1]) for axis in (0, 1))
            assert along_y > 0.5 and along_y > along_x, (seed, draw, along_x, along_y)
            assert len(set(kinds_of(drawn[:len(drawn) // 2], p))) >= 3  # parts mixed, not by kind


def test_random_order_shuffles_but_keeps_guides_first():
    p = portrait(SEEDS[1])
    drawn = styled_strokes(p, SketchStyle(order="random", guides=True), np.random.default_rng(3))
    groups = [s.group for s in drawn]
    n_guides = groups.count(GUIDE_GROUP)
    assert n_guides >= 4 and set(groups[:n_guides]) == {GUIDE_GROUP}
    engine = [s.group for s in sorted(p.strokes, key=lambda s: s.order)]
    assert groups[n_guides:] != engine and sorted(groups[n_guides:]) == sorted(engine)


def test_beginner_draws_circle_or_dot_eyes_zigzag_fringe_no_ears():
    for seed in SEEDS:
        p = portrait(seed)
        for eyes in ("circle", "dot"):
            drawn = styled_strokes(p, SketchStyle(beginner=True, eyes=eyes), np.random.default_rng(seed))
            kinds = kinds_of(drawn, p)
            assert "ears" not in kinds
            eye_strokes = [s for s in drawn if s.group == "eyes"]
            assert len(eye_strokes) == (4 if eyes == "circle" else 2)
            # a zigzag: one hair stroke whose direction flips many times
            zig = [s for s in drawn if s.group == "hair" and len(s.points) >= 11]
            assert any(np.count_nonzero(np.diff(np.sign(np.diff(s.points[:, 1])))) >= 8 for s in zig)


def test_multipass_and_hatching_add_strokes():
    p = portrait(SEEDS[2])
    base = styled_strokes(p, SketchStyle(), np.random.default_rng(0))
    triple = styled_strokes(p, SketchStyle(passes=3), np.random.default_rng(0))
    hatched = styled_strokes(p, SketchStyle(hatching=True), np.random.default_rng(0))
    assert 2.5 * len(base) < len(triple) <= 3 * len(base)
    shading = [s for s in hatched if s.group == SHADING_GROUP]
    assert len(shading) >= 8 and len(hatched) == len(base) + len(shading)


def test_training_sampler_never_draws_a_held_out_style_and_draws_every_other():
    rng = np.random.default_rng(0)
    styles = [sample_style(rng, {"order.hair": 0.15, "order.sweep": 0.15}) for _ in range(3000)]
    assert not any(s.held_out for s in styles)
    assert {s.order for s in styles} == set(ORDERS) - set(HELD_OUT["order"])
    assert {"hair", "sweep"}.isdisjoint({sample_style(rng).order for _ in range(500)})  # older legs' mixes
    # a new order's weight of 0 leaves the older mixes' draws as they were: their legs stay reproducible
    older = [sample_style(np.random.default_rng(7), {"order.hair": 0.2}) for _ in range(2)]
    assert older == [sample_style(np.random.default_rng(7), {"order.hair": 0.2, "order.sweep": 0.0})] * 2
    assert {s.eyes for s in styles if s.beginner} == {"circle"}
    for feature in ("guides", "beginner", "hatching"):
        share = np.mean([getattr(s, feature) for s in styles])
        assert 0.1 < share < 0.5, feature
    assert any(s.passes > 1 for s in styles) and any(s.erase_guides_at <= 1 for s in styles)
    with pytest.raises(ValueError, match="unknown"):
        sample_style(rng, {"glasses": 1.0})


def test_bad_style_is_a_clear_error():
    with pytest.raises(ValueError, match="order"):
        SketchStyle(order="sideways")
    with pytest.raises(ValueError, match="eyes"):
        SketchStyle(eyes="square")


def test_styled_snapshots_are_one_drawing():
    """25 % of a styled drawing is the start of the same drawing at 100 % (the same random numbers)."""
    p = portrait(SEEDS[3])
    style = SketchStyle(guides=True, beginner=True, passes=2, hatching=True, order="features")
    quarter = draw_styled(p, np.random.default_rng(9), style, fraction=0.25)
    full = draw_styled(p, np.random.default_rng(9), style, fraction=1.0)
    assert len(quarter) < len(full)
    for a, b in zip(quarter[:-4], full):  # (the boundary stroke, drawn in pieces, may be cut short)
        assert np.array_equal(a.points, b.points)
    assert render_sketch(full, 128).any()


def test_curriculum_styles_only_when_asked():
    from anisketch.guidance.train import SketchCurriculum

    plain = SketchCurriculum(size=64)
    styled = SketchCurriculum(size=64, style_share=1.0, style={"guides": 1.0})
    a = plain.draw(SEEDS[0])[0]
    assert np.array_equal(a, SketchCurriculum(size=64, style={"guides": 1.0}).draw(SEEDS[0])[0])
    assert not np.array_equal(a, styled.draw(SEEDS[0])[0])


def test_the_crop_cut_blanks_beyond_straight_edges_and_only_when_asked():
    """SketchCurriculum.cut_share: a sketch as a crop through the face shows it (blank beyond 1-4 straight edges);
    0 draws exactly the sketches of before."""
    from anisketch.guidance.train import SketchCurriculum

    plain = SketchCurriculum(size=64, teacher_share=0.0).draw(SEEDS[0])[0]
    assert np.array_equal(plain, SketchCurriculum(size=64, teacher_share=0.0, cut_share=0.0).draw(SEEDS[0])[0])
    cut = SketchCurriculum(size=64, teacher_share=0.0, cut_share=1.0).draw(SEEDS[0])[0]
    kept = cut > 0
    assert kept.sum() < (plain > 0).sum() and np.array_equal(cut[kept], plain[kept])  # ink only removed
    rows, cols = np.nonzero(plain * (cut == 0))  # what was blanked lies beyond a straight edge: whole rows or columns


def test_a_cut_reaches_as_far_into_the_face_as_asked():
    """SketchCurriculum.cut_reach: each edge lies that many face half-widths from the face's centre; past the
    centre (negative), more than half of the face is hidden. The default draws exactly the cuts of before."""
    from anisketch.guidance.train import cut_by_crop

    params = P.sample_params(SEEDS[0])
    sketch = np.full((128, 128), 255, np.uint8)
    for seed in range(20):
        _, before = cut_by_crop(sketch, params, np.random.default_rng(seed))
        _, same = cut_by_crop(sketch, params, np.random.default_rng(seed), (-0.5, 2.0))
        assert np.array_equal(before, same)
        _, deep = cut_by_crop(sketch, params, np.random.default_rng(seed), (-0.5, -0.4))
        centre = int(round(params["cx"] * 128)), int(round(params["cy"] * 128))
        assert deep[centre[1], centre[0]]  # every edge lies past the face's centre: the centre is hidden


def test_a_completed_cut_holds_faint_lines_only_beyond_the_cut_and_only_when_asked():
    """SketchCurriculum.completion_share: beyond the cut, the faint lines of a face near the true one (what a
    second reading of a cut face shows the encoder); the part the crop shows is the cut sketch itself, and 0 draws
    exactly the cut sketches of before."""
    from anisketch.guidance.train import SketchCurriculum

    cut = SketchCurriculum(size=128, teacher_share=0.0, cut_share=1.0).draw(SEEDS[0])[0]
    assert np.array_equal(cut, SketchCurriculum(size=128, teacher_share=0.0, cut_share=1.0,
                                                completion_share=0.0).draw(SEEDS[0])[0])
    completed = SketchCurriculum(size=128, teacher_share=0.0, cut_share=1.0, completion_share=1.0).draw(SEEDS[0])[0]
    added = completed.astype(int) - cut
    assert (added >= 0).all() and added.sum() > 0
    rows, cols = np.nonzero(added)  # the lines lie where the cut blanked: whole blank rows or columns of `cut`
    assert ((cut[rows, :] == 0).all(axis=1) | (cut[:, cols] == 0).all(axis=0)).all()
    assert completed[added > 0].max() <= 0.8 * 255 + 1  # faint: at most 0.8 of full ink
    assert ((cut[rows, :] == 0).all(axis=1) | (cut[:, cols] == 0).all(axis=0)).all()


def test_the_frame_finder_learns_artists_styles_only_when_asked():
    """FramingCurriculum.style_share: the frame finder's sketches in a sampled artist's style (here construction
    guides, drawn first and left in), placed and framed as before; 0 draws exactly the sketches of before."""
    from anisketch.guidance.frame_train import FramingCurriculum

    plain, weighted = FramingCurriculum(), FramingCurriculum(style={"guides": 1.0, "erase_guides": 0.0})
    styled = FramingCurriculum(style_share=1.0, style={"guides": 1.0, "erase_guides": 0.0})
    for seed in SEEDS[:2]:
        a, frame = plain.draw(seed)
        b, same_frame = weighted.draw(seed)
        assert np.array_equal(a, b) and np.array_equal(frame, same_frame)
        rng = np.random.default_rng(seed)
        strokes = styled.drawn_strokes(build_portrait(P.sample_params(seed)), rng)
        assert any(s.group == GUIDE_GROUP for s in strokes)
        assert not any(s.group == GUIDE_GROUP for s in plain.drawn_strokes(build_portrait(P.sample_params(seed)),
                                                                           np.random.default_rng(seed)))
