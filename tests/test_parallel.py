"""parallel_map: the same answers as a plain loop, from worker processes that did not inherit torch by fork;
thread_map: the same answers, in order, from a few threads."""

import sys

import threading

from anisketch.parallel import parallel_map, thread_map


def _square_and_torch_loaded(x: int) -> tuple[int, bool]:
    return x * x, "torch" in sys.modules


def test_workers_answer_in_order_and_start_clean():
    import torch  # noqa: F401  # the callers (training, evaluation) have torch loaded when they fan out

    items = list(range(300))
    out = parallel_map(_square_and_torch_loaded, items, workers=2)
    assert [value for value, _ in out] == [x * x for x in items]
    # A forked worker would have the parent's torch (and its thread pools' locks) in sys.modules.
    assert not any(loaded for _, loaded in out)


def test_thread_map_answers_in_order_on_the_threads_asked_for():
    ready = threading.Barrier(3, timeout=10)  # three items can only pass together on three threads

    def square_when_all_started(x: int) -> int:
        ready.wait()
        return x * x

    assert thread_map(square_when_all_started, [3, 1, 2], workers=3) == [9, 1, 4]
    assert thread_map(lambda x: threading.current_thread() is threading.main_thread(), [1, 2], workers=1) == [True, True]


def test_once_makes_its_value_once_for_all_threads():
    from anisketch.parallel import once

    calls = []
    barrier = threading.Barrier(4)

    def make():
        calls.append(threading.get_ident())
        return object()

    get = once(make)

    def ask(_):
        barrier.wait()  # all four ask at once
        return get()

    values = thread_map(ask, range(4), workers=4)
    assert len(calls) == 1 and all(v is values[0] for v in values)


def test_no_backend_pool_is_a_fork_of_its_caller():
    """Every process pool starts through parallel.process_context. A fork of a caller that has run OpenCV's or
    torch's threads can hang on a lock that no thread is left to release: `anisketch bench data` forked its pool
    after its own single-process repeats, and the pool's exit then waited on such a worker until the suite's
    timeout."""
    from pathlib import Path

    import anisketch

    forking = []
    for path in Path(anisketch.__file__).parent.rglob("*.py"):
        text = path.read_text()
        pools = text.count(".Pool(")
        if 'get_context("fork")' in text or pools != text.count("process_context().Pool("):
            forking.append(path.name)
    assert forking == []
