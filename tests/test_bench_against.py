"""`anisketch bench against REV`: this tree's guide time against a git revision's, each in its own worker
process, stroke by stroke in turns (guidance/bench_against.py)."""

from __future__ import annotations

import re

from anisketch.guidance import bench_against


def test_this_tree_is_timed_against_a_revision_stroke_by_stroke(capsys):
    assert bench_against.main(["HEAD", "--count", "1"]) == 0
    out = capsys.readouterr().out
    guides = int(re.search(r"(\d+) guides each", out).group(1))
    assert guides > 10  # 50-100 % of one drawing, the first guide untimed
    head = re.search(r"HEAD\s+p50\s+([\d.]+) ms", out)
    ours = re.search(r"this tree\s+p50\s+([\d.]+) ms .* less HEAD, stroke by stroke: median ([-+][\d.]+) ms", out)
    assert head and ours, out
    assert float(head.group(1)) > 0 and float(ours.group(1)) > 0


def test_a_revision_git_does_not_know_is_refused_clearly(capsys):
    assert bench_against.main(["no-such-revision-anywhere", "--count", "1"]) == 2
    assert "cannot check out 'no-such-revision-anywhere'" in capsys.readouterr().err
