"""`serve --workers N --device cuda` spreads its workers over the GPUs (no GPU needed: the rules are pure)."""

import pytest

from anisketch.server import gpus as G


def test_workers_take_the_gpus_in_turn():
    assert G.worker_gpus(5, "cuda", None, visible=2) == [0, 1, 0, 1, 0]
    assert G.worker_gpus(3, "auto", None, visible=4) == [0, 1, 2]
    assert G.worker_gpus(4, "cuda", [3, 1], visible=4) == [3, 1, 3, 1]


def test_cpu_workers_get_no_gpu():
    assert G.worker_gpus(3, "cpu", None, visible=2) == [None, None, None]
    assert G.worker_gpus(2, "auto", None, visible=0) == [None, None]


@pytest.mark.parametrize("device, gpus, visible, words", [
    ("cuda", None, 0, "shows none"),
    ("auto", [1], 0, "shows none"),
    ("cuda", [0, 2], 2, "names GPU 2"),
])
def test_impossible_assignments_are_refused_clearly(device, gpus, visible, words):
    with pytest.raises(G.GpuError, match=words):
        G.worker_gpus(2, device, gpus, visible)


def test_gpu_lists_parse_or_say_what_is_wrong():
    assert G.parse_gpus("0,2, 3") == [0, 2, 3] and G.parse_gpus(None) is None and G.parse_gpus("") is None
    for bad in ("0;1", "a", "-1"):
        with pytest.raises(G.GpuError, match="--gpus"):
            G.parse_gpus(bad)


def test_a_worker_sees_only_its_gpu_within_the_users_own_selection():
    assert G.gpu_environment(1, env={}) == {"CUDA_VISIBLE_DEVICES": "1"}
    assert G.gpu_environment(1, env={"CUDA_VISIBLE_DEVICES": "4, 6"}) == {"CUDA_VISIBLE_DEVICES": "6"}
    assert G.gpu_environment(None, env={}) == {}
    assert G.visible_gpu_count({"CUDA_VISIBLE_DEVICES": "4,6"}, count_devices=lambda: 8) == 2
    assert G.visible_gpu_count({"CUDA_VISIBLE_DEVICES": ""}, count_devices=lambda: 8) == 0
    assert G.visible_gpu_count({}, count_devices=lambda: 3) == 3


def test_the_broker_starts_each_worker_on_its_gpu(monkeypatch):
    """What `serve --workers 3 --device cuda` on a 2-GPU machine hands each worker process."""
    import argparse

    from anisketch.server import broker

    started = []
    monkeypatch.setattr(broker.subprocess, "Popen", lambda command, env: started.append(env) or object())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    args = argparse.Namespace(service="x:y", device="cuda", max_queued=4, max_batch=8, log_level="info", weights=None)
    for index, gpu in enumerate(G.worker_gpus(3, "cuda", None, visible=2)):
        broker._Worker(args, "ipc://backend", ("ipc://in", "ipc://out"), index, gpu)
    assert [env["CUDA_VISIBLE_DEVICES"] for env in started] == ["0", "1", "0"]
