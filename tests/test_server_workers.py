"""Several worker processes behind the broker (`anisketch serve --workers 2`), through the real client: clients,
supersession and cancels shared over the workers' bus, and a worker that dies replaced. The FAKE model service
(tests/fake_service.py) stands in for the models, as in test_server.py.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from anisketch import protocol as P
from anisketch.server.client import ServerTimeout
from server_harness import ServerProcess


@pytest.mark.timeout(120)
def test_workers_behind_the_broker_share_clients_supersession_and_cancel(tmp_path):
    started = tmp_path / "started"  # each worker leaves a file here as it starts a model call
    started.mkdir()
    env = {"ANISKETCH_FAKE_DELAY_S": "1.5", "ANISKETCH_FAKE_STARTED_DIR": str(started)}
    with ServerProcess("--workers", "2", env=env) as server:
        with server.client() as client, server.client() as other, server.client() as another:
            pids, deadline = set(), time.monotonic() + 20
            while len(pids) < 2 and time.monotonic() < deadline:  # until both workers have connected
                pids.add(client.info()["server"]["pid"])
            assert len(pids) == 2 and server.process.pid not in pids
            # Requests alternate between the workers. Two other clients' guides keep both busy (one client's
            # two guides would race: the second, announced on the bus, may supersede the first before it
            # starts). Of the client's three guides, the bus tells the worker holding the second that the
            # third is newer.
            sketches = [np.random.default_rng(i).integers(0, 256, (16, 16, 4), dtype=np.uint8) for i in range(5)]
            busy = [(c, c.send("guide", {}, {"sketch": s})) for c, s in zip((other, another), sketches[:2])]
            deadline = time.monotonic() + 20
            while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:  # both workers busy
                time.sleep(0.02)
            assert len(list(started.iterdir())) == 2
            ids = [client.send("guide", {}, {"sketch": s}) for s in sketches[2:]]
            replies = {r.id: r for r in (client.receive() for _ in ids)}
            statuses = [replies[i].error_code or "ok" for i in ids]
            assert statuses == ["superseded", "superseded", "ok"], statuses
            assert all(c.wait(i).ok for c, i in busy)
            # A cancel that reaches the other worker is forwarded over the bus.
            renders = [client.send("render", {"n": 1}, {"sketch": sketches[0]}) for _ in range(3)]
            answer = client.cancel(renders[2])
            assert answer["was"] in ("queued", "forwarded"), answer
            assert client.wait(renders[2]).error_code == P.CANCELLED
            assert client.wait(renders[0]).ok and client.wait(renders[1]).ok
        # A worker that dies is replaced; the pool serves on.
        os.kill(pids.pop(), signal.SIGKILL)
        with server.client(timeout=0.5) as client:
            seen, deadline = set(), time.monotonic() + 30
            while len(seen - pids) < 1 and time.monotonic() < deadline:
                try:
                    seen.add(client.info()["server"]["pid"])
                except ServerTimeout:  # a request handed to the dead worker before ZeroMQ noticed
                    pass
            assert len(seen - pids) == 1, (seen, pids)
        assert "restarting it" in server.log()
        assert server.stop() == 0
