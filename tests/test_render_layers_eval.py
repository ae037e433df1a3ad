"""layers_eval, the issue-19 figures as the artist sees them, end to end on a few unseen portraits: every figure
the issue compares is reported, and the production layers keep the artist's hints better than the one-picture
render of before did on the same dabs (`old_dab_hit`, the baseline the issue's "hints are kept" asks about)."""

from anisketch.render.layers_eval import evaluate


def test_the_layers_keep_the_hints_better_than_the_render_of_before():
    metrics = evaluate(3, 2_000_000_000, "cpu", None)
    for mode in ("faithful", "refined"):
        for figure in ("composite_psnr", "old_psnr", "dab_hit", "old_dab_hit", "coverage", "flatness_part"):
            assert f"{mode}.{figure}" in metrics, (mode, figure, sorted(metrics))
        assert metrics[f"{mode}.dab_hit"] > metrics[f"{mode}.old_dab_hit"], metrics
        assert metrics[f"{mode}.coverage"] >= 0.98
    assert metrics["engine.dab_hit"] < metrics["faithful.dab_hit"]  # the engine shades its own dabs' parts
