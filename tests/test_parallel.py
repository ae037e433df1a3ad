"""parallel_map: the same answers as a plain loop, from worker processes that did not inherit torch by fork."""

import sys

from anisketch.parallel import parallel_map


def _square_and_torch_loaded(x: int) -> tuple[int, bool]:
    return x * x, "torch" in sys.modules


def test_workers_answer_in_order_and_start_clean():
    import torch  # noqa: F401  # the callers (training, evaluation) have torch loaded when they fan out

    items = list(range(300))
    out = parallel_map(_square_and_torch_loaded, items, workers=2)
    assert [value for value, _ in out] == [x * x for x in items]
    # A forked worker would have the parent's torch (and its thread pools' locks) in sys.modules.
    assert not any(loaded for _, loaded in out)
