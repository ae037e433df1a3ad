"""The robustness evaluation's style conditions (eval/styles.py), on the shipped guidance model."""

import numpy as np
import pytest

from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.sketch_style import GUIDE_GROUP
from anisketch.eval import guidance as eval_guidance
from anisketch.eval import styles

SEED = 2_000_000_000  # no accessories (checked below)


def test_in_distribution_is_exactly_the_guidance_evaluations_sketch():
    sample = eval_guidance.drawn_sample(SEED)
    portrait = build_portrait(P.sample_params(SEED))
    strokes = styles.drawn_strokes(portrait, SEED, styles.CONDITIONS["in_distribution"])
    count = eval_guidance.strokes_at(sample, 50)
    assert np.array_equal(styles.sketch_pixels(strokes, SEED, count, "pencil"), eval_guidance.sketch_of(sample, count))


def test_held_out_conditions_draw_only_held_out_styles():
    assert styles.HELD_OUT_CONDITIONS
    for name, condition in styles.CONDITIONS.items():
        is_held = condition.style is not None and condition.style.held_out
        assert condition.held_out == is_held, name


def test_guides_condition_draws_guides_and_inks_read_as_ink():
    portrait = build_portrait(P.sample_params(SEED))
    guided = styles.drawn_strokes(portrait, SEED, styles.CONDITIONS["guides"])
    assert guided[0].group == GUIDE_GROUP
    plain = styles.drawn_strokes(portrait, SEED, styles.CONDITIONS["in_distribution"])
    pencil = styles.sketch_pixels(plain, SEED, len(plain), "pencil")
    blue = styles.sketch_pixels(plain, SEED, len(plain), "blue")
    light = styles.sketch_pixels(plain, SEED, len(plain), "light")
    thick = styles.sketch_pixels(plain, SEED, len(plain), "thick")
    assert (blue > 0).sum() == (pencil > 0).sum()  # a blue pencil holds ink where the grey one does
    assert 0 < light.max() <= 0.4 * pencil.max()  # a light touch: the same lines, fainter
    assert (thick > 0).sum() > 1.5 * (pencil > 0).sum()


@pytest.fixture(scope="module")
def model():
    from anisketch.guidance.predictor import GuidanceModel

    return GuidanceModel.load(device="cpu")


def test_evaluate_styles_reports_f1_gaps_and_invented_accessories(model):
    assert not styles.accessories_of(P.sample_params(SEED))
    metrics, rows = styles.evaluate_styles(model, [SEED], ("in_distribution", "guides"))
    for name in ("in_distribution", "guides"):
        for level in eval_guidance.LEVELS:
            assert 0.0 <= metrics[f"robustness.{name}.f1.{level}"] <= 1.0
        assert 0.0 <= metrics[f"robustness.{name}.invented_accessories"] <= 1.0
    assert metrics["robustness.in_distribution.gap.50"] == 0.0
    assert metrics["robustness.in_distribution.f1.100"] > 0.5  # the shipped model reads its own world
    assert metrics["robustness.bare_guides"] == 8  # 2 conditions x 4 levels, all of a bare portrait
    image = styles.report_image("guides", rows["guides"])
    assert image.ndim == 3 and image.shape[2] == 3 and (image < 128).any()
    with pytest.raises(ValueError, match="unknown"):
        styles.evaluate_styles(model, [SEED], ("sideways",))
