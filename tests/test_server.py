"""The real `anisketch serve` process on a free port, through the real client.

Most tests serve tests/fake_service.py (a FAKE model whose answers are functions of the request), because
they test the server: protocol, scheduling, security, lifecycle. test_real_service_* serve the real
anisketch.service.Service.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import zmq

from anisketch import protocol as P
from anisketch.server.client import ServerError, ServerTimeout, to_result
from anisketch.server.scheduler import Job, Scheduler
from fake_service import digest
from server_harness import BATCHING_FAKE, FAKE, REPO, ServerProcess, free_port

rng = np.random.default_rng(0)


def random_rgba(height: int, width: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 4), dtype=np.uint8)


@pytest.fixture(scope="module")
def server():
    with ServerProcess() as process:
        yield process
        assert process.stop() == 0


@pytest.fixture
def slow_server():
    with ServerProcess(env={"ANISKETCH_FAKE_DELAY_S": "0.3"}) as process:
        yield process


# --- every operation ---------------------------------------------------------------------------------------


def test_info_describes_server_and_service(server):
    with server.client() as client:
        info = client.info()
    assert info["protocol"] == P.PROTOCOL_VERSION and info["version"] == "fake"
    assert info["limits"]["max_side"] == P.MAX_SIDE and "bgra8" in info["limits"]["formats"]
    assert info["ops"] == ["info", "guide", "render", "generate", "photo", "cancel"]


def test_guide(server):
    sketch = random_rgba(48, 40)
    with server.client() as client:
        reply = client.guide(sketch, mode="detail", pins=("eyes", "mouth"), faithfulness={"eyes": 0.9}, state="s0",
                             origin=[5, -7])
    echo = reply["echo"]
    assert echo.pop("call") >= 1
    assert echo == {"mode": "detail", "faithfulness": {"eyes": 0.9}, "pins": ["eyes", "mouth"],
                    "digest": digest(sketch), "shape": [48, 40, 4], "state_in": "s0", "origin": [5, -7],
                    "extent": None}
    assert reply["state"] == f"state-{digest(sketch)}" and set(reply["confidence"]) >= {"eyes", "hair"}
    guide, eyes, mouth = reply.layers
    assert (guide.name, guide.group, guide.x, guide.y) == ("guide", None, -2, -3)
    np.testing.assert_array_equal(guide.rgba[..., :3], 255 - sketch[..., :3])
    assert (eyes.group, mouth.group, mouth.x) == ("eyes", "mouth", 1)
    assert {"queue", "decode", "service", "encode", "total", "fake_model"} <= set(reply.timing_ms)


def test_the_service_warms_up_once_before_its_first_request():
    """The server runs the service's warm_up() before any request, so the artist's first stroke does not wait
    for the model to load."""
    with ServerProcess() as server:
        with server.client() as client:
            deadline = time.monotonic() + 10
            while client.info()["warmed_up"] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert client.info()["warmed_up"] == 1
            reply = client.guide(random_rgba(32, 32))
            assert reply["echo"]["call"] == 1 and client.info()["warmed_up"] == 1  # the warm-up is no request


def test_guide_accepts_bgra_gray_and_padded_rows_and_answers_bgra(server):
    """Krita's pixel bytes are B,G,R,A: the plugin sends them as they are and asks for BGRA layers back."""
    sketch = random_rgba(20, 30)
    bgra = sketch[..., [2, 1, 0, 3]]
    padded = np.zeros((20, 30 * 4 + 8), np.uint8)
    padded[:, :120] = bgra.reshape(20, 120)
    with server.client() as client:
        request = P.Request("guide", "bgra", {"layer_format": "bgra8"},
                            [P.Image("sketch", "bgra8", 30, 20, padded.tobytes(), stride=128)])
        client.socket.send_multipart(P.encode_request(request))
        reply = client.wait("bgra")
        gray = client.guide(sketch[..., 0].copy())
    assert reply.ok and reply.layers[0].format == "bgra8"
    assert to_result(reply)["echo"]["digest"] == digest(sketch)
    returned = np.frombuffer(reply.layers[0].data, np.uint8).reshape(20, 30, 4)  # still BGRA on the wire
    np.testing.assert_array_equal(returned[..., [2, 1, 0]], 255 - sketch[..., :3])
    expected = np.dstack([sketch[..., 0]] * 3 + [np.full((20, 30), 255, np.uint8)])
    assert gray["echo"]["digest"] == digest(expected)


def test_a_received_bgra_image_becomes_a_plain_contiguous_rgba_array():
    """The service gets RGBA in plain row-major order (server/pixels.py): numpy's fancy-index swizzle gave a
    channel-major array, which every later step (the darkness of a 1446 px crop: 35 ms instead of 12) copied back."""
    from anisketch.server.pixels import to_rgba

    sketch = random_rgba(20, 30)
    padded = np.zeros((20, 30 * 4 + 8), np.uint8)
    padded[:, :120] = sketch[..., [2, 1, 0, 3]].reshape(20, 120)
    rgba = to_rgba(P.Image("sketch", "bgra8", 30, 20, padded.tobytes(), stride=128))
    np.testing.assert_array_equal(rgba, sketch)
    assert rgba.flags["C_CONTIGUOUS"] and rgba.flags["WRITEABLE"] and rgba.strides == (120, 4, 1)


def test_render_generate_photo(server):
    sketch, hints, photo = random_rgba(32, 32), random_rgba(32, 32), random_rgba(40, 60)
    with server.client() as client:
        render = client.render(sketch, hints, n=3, mode="faithful", style_seed=250)
        generated = client.generate({"hair_color": "blonde", "smile": "on"}, noise=7)
        again = client.generate({"hair_color": "blonde", "smile": "on"}, noise=generated["noise"])
        portraits = client.photo(photo, n=2)
    assert render["echo"].pop("call") >= 1
    assert render["echo"] == {"n": 3, "mode": "faithful", "style_seed": 250, "digest": digest(sketch),
                              "hints": digest(hints)}
    assert [layer.rgba[0, 0, 0] for layer in render.layers if layer.name == "Flat colours"] == [250, 251, 252]
    # the render contract crosses the wire: per candidate group, each layer's blending mode
    assert [(layer.group, layer.name, layer.blend) for layer in render.layers[:3]] == [
        ("Candidate 1", "Flat colours", "normal"), ("Candidate 1", "Shadows", "multiply"),
        ("Candidate 1", "Highlights", "screen")]
    assert generated["attributes"] == {"hair_color": "blonde", "smile": "on"} and generated["noise"] == "noise-7"
    assert generated.layers[0].rgba.shape == (64, 64, 4)
    assert again["noise"] != generated["noise"]  # a noise string is not the seed it came from, in the fake
    assert portraits["faces_found"] == 1 and [layer.rgba.shape for layer in portraits.layers] == [(20, 30, 4)] * 2


def test_service_errors_become_error_replies(server):
    with server.client() as client:
        for kind, code, words in [("bad_request", "bad_request", "plaid"), ("internal", "internal", "fake model broke"),
                                  ("oom", "out_of_memory", "smaller crop")]:
            with pytest.raises(ServerError) as caught:
                client.generate({"__fail__": kind})
            assert caught.value.code == code and words in caught.value.message
        assert client.info()["version"] == "fake"


def test_malformed_requests_get_readable_error_replies(server):
    with server.client() as client:
        for parts, code in [([b"hello"], P.BAD_MESSAGE), ([b'{"v":1,"id":"x","op":"fly"}'], P.UNKNOWN_OP),
                            ([b'{"v":1,"id":"y","op":"guide","params":{"faithfulness":NaN},"frames":[]}'], P.BAD_PARAMS),
                            ([b'{"v":1,"id":"z","op":"guide","frames":[{"name":"sketch","format":"rgba8",'
                              b'"width":2,"height":2}]}', b"short"], P.BAD_FRAMES)]:
            client.send_raw(parts)
            reply = client.receive()
            assert not reply.ok and reply.error_code == code and reply.error_message
        assert client.info()["version"] == "fake"


def test_a_frame_above_the_size_limit_drops_that_connection_only(server):
    """ZeroMQ refuses a frame above MAXMSGSIZE before our code sees it: that client times out, others go on."""
    with server.client(timeout=1.0) as client:
        client.send_raw([b'{"v":1,"id":"big","op":"info"}', bytes(P.MAX_FRAME_BYTES + P.MAX_HEADER_BYTES + 1)])
        with pytest.raises(ServerTimeout):
            client.receive()
        assert client.info()["version"] == "fake"  # the same client, reconnected


# --- scheduling --------------------------------------------------------------------------------------------


def test_newest_guide_wins(slow_server):
    sketches = [random_rgba(16, 16) for _ in range(5)]
    with slow_server.client() as client:
        ids = [client.send("guide", {}, {"sketch": sketches[0]})]
        while client.info()["server"]["running"] != 1:  # the first one runs: it cannot be interrupted, it answers
            time.sleep(0.01)
        ids += [client.send("guide", {}, {"sketch": sketch}) for sketch in sketches[1:]]
        replies = {reply.id: reply for reply in (client.receive() for _ in ids)}
    statuses = [replies[i].error_code or "ok" for i in ids]
    assert statuses == ["ok", "superseded", "superseded", "superseded", "ok"], statuses
    assert to_result(replies[ids[-1]])["echo"]["digest"] == digest(sketches[-1])


def test_renders_queue_and_cancel_by_id(slow_server):
    sketch = random_rgba(16, 16)
    with slow_server.client() as client:
        first, second, third = (client.send("render", {"n": 1}, {"sketch": sketch}) for _ in range(3))
        assert client.cancel(second) == {"target": second, "was": "queued"}
        assert client.wait(second).error_code == P.CANCELLED
        assert client.wait(first).ok
        while client.info()["server"]["running"] != 1:  # until the third runs (its 0.3 s have begun)
            time.sleep(0.01)
        assert client.cancel(third)["was"] == "running"
        assert client.wait(third).error_code == P.CANCELLED  # its result is dropped
        assert client.cancel("no-such-id")["was"] == "unknown"


def test_clients_take_fair_turns(slow_server):
    """A client with a backlog of renders does not starve another client's guide."""
    sketch = random_rgba(16, 16)
    with slow_server.client() as busy, slow_server.client() as artist:
        backlog = [busy.send("render", {"n": 1}, {"sketch": sketch}) for _ in range(4)]
        while artist.info()["server"]["queued"] != 3:  # until the first render runs
            time.sleep(0.01)
        guide = artist.send("guide", {}, {"sketch": sketch})
        guide_call = to_result(artist.wait(guide))["echo"]["call"]  # the fake counts its calls
        render_calls = [to_result(busy.wait(request))["echo"]["call"] for request in backlog]
    assert (guide_call, render_calls) == (2, [1, 3, 4, 5]), "the guide runs right after the render that was running"


def test_concurrent_clients_never_get_each_others_replies(server):
    errors = []

    def work(worker: int) -> None:
        local = np.random.default_rng(worker)
        with server.client(timeout=20) as client:
            for step in range(25):
                sketch = local.integers(0, 256, (8 + step, 8 + worker, 4), dtype=np.uint8)
                op = ("guide", "render", "generate")[step % 3]
                if op == "guide":
                    ok = client.guide(sketch)["echo"]["digest"] == digest(sketch)
                elif op == "render":
                    ok = client.render(sketch, n=1, style_seed=worker)["echo"]["style_seed"] == worker
                else:
                    ok = client.generate({"who": f"{worker}-{step}"})["attributes"] == {"who": f"{worker}-{step}"}
                if not ok:
                    errors.append((worker, step, op))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_guides_of_several_clients_run_as_one_batch_when_the_service_can():
    with ServerProcess(service=BATCHING_FAKE, env={"ANISKETCH_FAKE_DELAY_S": "0.4"}) as server:
        clients = [server.client() for _ in range(4)]
        sketches = [random_rgba(16, 16) for _ in clients]
        ids = [client.send("guide", {}, {"sketch": sketch}) for client, sketch in zip(clients, sketches)]
        for client, request, sketch in zip(clients, ids, sketches):
            assert to_result(client.wait(request))["echo"]["digest"] == digest(sketch)
        batches = clients[0].info()["batches"]
        for client in clients:
            client.close()
    # The first ran alone (no batch); the others, waiting for it, ran together (timing on a loaded machine
    # may split them, but never into single guides only).
    assert max(batches) >= 2 and sum(batches) <= 4, batches


def test_scheduler_rules_without_sockets():
    def job(client: bytes, op: str, request_id: str) -> Job:
        return Job(client=client, envelope=[client], request=P.Request(op, request_id))

    scheduler = Scheduler(max_queued_per_client=2)
    assert scheduler.submit(job(b"a", "render", "r1")) == []
    assert [(j.id, code) for j, code in scheduler.submit(job(b"a", "guide", "g1"))] == []
    assert [(j.id, code) for j, code in scheduler.submit(job(b"a", "guide", "g2"))] == [("g1", "superseded")]
    assert [(j.id, code) for j, code in scheduler.submit(job(b"a", "render", "r2"))] == [("r2", "busy")]
    scheduler.submit(job(b"b", "render", "b1"))
    assert [j.id for j in scheduler.next_batch()] == ["r1"]
    assert [j.id for j in scheduler.next_batch()] == ["b1"]  # b has not had a turn yet
    assert scheduler.cancel(b"b", "g2") == ("unknown", None)  # only a client's own jobs
    assert scheduler.cancel(b"a", "r1")[0] == "running"
    assert [j.id for j in scheduler.next_batch()] == ["g2"] and len(scheduler) == 0


def test_scheduler_remembers_turns_of_a_client_whose_requests_arrive_one_by_one():
    def job(client: bytes, request_id: str) -> Job:
        return Job(client=client, envelope=[client], request=P.Request("render", request_id))

    scheduler = Scheduler()
    scheduler.submit(job(b"busy", "r1"))
    assert [j.id for j in scheduler.next_batch()] == ["r1"]  # its queue is empty for a moment
    scheduler.submit(job(b"busy", "r2"))
    scheduler.submit(job(b"busy", "r3"))
    scheduler.submit(job(b"artist", "g"))
    assert [j.id for j in scheduler.next_batch()] == ["g"]  # busy had a turn, the artist had none


# --- security ----------------------------------------------------------------------------------------------


def anisketch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anisketch.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_refuses_a_non_loopback_address_without_keys(tmp_path):
    for endpoint in (f"tcp://0.0.0.0:{free_port()}", f"tcp://*:{free_port()}"):
        done = anisketch("serve", "--endpoint", endpoint, "--service", FAKE)
        assert done.returncode == 2 and "needs CURVE keys" in done.stderr and "anisketch keys" in done.stderr
    done = anisketch("serve", "--endpoint", f"tcp://0.0.0.0:{free_port()}", "--curve-keys", str(tmp_path))
    assert done.returncode == 2 and "anisketch keys --out" in done.stderr


def test_curve_round_trip_and_allow_list(tmp_path):
    keys, stranger = tmp_path / "keys", tmp_path / "stranger"
    assert anisketch("keys", "--out", str(keys)).returncode == 0
    assert anisketch("keys", "--out", str(stranger)).returncode == 0
    (stranger / "server.key").write_bytes((keys / "server.key").read_bytes())  # knows the server, not allowed
    port = free_port()
    with ServerProcess("--curve-keys", str(keys), endpoint=f"tcp://0.0.0.0:{port}", wait=False) as server:
        server.endpoint = f"tcp://127.0.0.1:{port}"
        server.wait_ready(curve_keys=str(keys))
        with server.client(curve_keys=str(keys)) as client:
            assert client.guide(random_rgba(16, 16)).layers
        for kwargs in ({}, {"curve_keys": str(stranger)}):
            with server.client(timeout=1.0, **kwargs) as client:
                with pytest.raises(ServerTimeout):
                    client.info()
        assert server.stop() == 0


# --- lifecycle ---------------------------------------------------------------------------------------------


def test_restart_while_a_client_waits():
    port = free_port()
    first = ServerProcess(port=port, env={"ANISKETCH_FAKE_DELAY_S": "5"})
    try:
        with first.client(timeout=1.5) as client:
            client.send("guide", {}, {"sketch": random_rgba(16, 16)})
            time.sleep(0.3)
            first.process.kill()  # dies while the client waits
            with pytest.raises(ServerTimeout):
                client.receive()
            with ServerProcess(port=port) as second:
                assert client.info()["server"]["pid"] == second.process.pid  # same client, reconnected
                assert second.stop() == 0
    finally:
        first.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly_and_answers_what_was_queued(sig):
    with ServerProcess(env={"ANISKETCH_FAKE_DELAY_S": "3"}) as server:
        with server.client() as client:
            ids = [client.send("render", {"n": 1}, {"sketch": random_rgba(16, 16)}) for _ in range(3)]
            while client.info()["server"]["queued"] != 2:  # the first runs (for 3 s), the others wait
                time.sleep(0.01)
            assert server.stop(sig) == 0
            codes = sorted(client.wait(i, timeout=2).error_code for i in ids)
        assert codes == ["shutting_down"] * 3
        assert "stopped after" in server.log()


def test_a_service_that_fails_to_load_answers_with_the_error():
    with ServerProcess(service="no_such_module:Service") as server:
        with server.client() as client:
            info = client.info()
            assert info["service_error"]["code"] == "model_unavailable"
            with pytest.raises(ServerError) as caught:
                client.guide(random_rgba(16, 16))
        assert caught.value.code == "model_unavailable" and "no_such_module" in caught.value.message
        assert server.stop() == 0


def test_ipc_endpoint(tmp_path):
    if not zmq.has("ipc"):
        pytest.skip("this platform has no ipc transport")
    with ServerProcess(endpoint=f"ipc://{tmp_path}/anisketch.sock") as server:
        with server.client() as client:
            assert client.guide(random_rgba(16, 16)).layers
        assert server.stop() == 0


# --- the command-line client -------------------------------------------------------------------------------


def test_command_line_client_writes_pngs(server, tmp_path):
    from PIL import Image
    sketch = random_rgba(24, 24)
    Image.fromarray(sketch, "RGBA").save(tmp_path / "sketch.png")
    base = ["client", "--endpoint", server.endpoint]
    done = anisketch(*base, "info")
    assert done.returncode == 0 and json.loads(done.stdout)["version"] == "fake"
    done = anisketch(*base, "guide", "--sketch", str(tmp_path / "sketch.png"), "--out", str(tmp_path / "g"),
                     "--mode", "detail", "--pins", "eyes,mouth", "--faithfulness", "eyes=0.9")
    assert done.returncode == 0, done.stderr
    reply = json.loads((tmp_path / "g" / "reply.json").read_text())
    assert reply["result"]["echo"]["pins"] == ["eyes", "mouth"] and reply["result"]["echo"]["digest"] == digest(sketch)
    assert [layer["file"] for layer in reply["layers"]] == ["00-guide.png", "01-pin-eyes.png", "02-pin-mouth.png"]
    assert (tmp_path / "g" / "preview.png").exists()
    done = anisketch(*base, "generate", "--attr", "hair_color=blonde", "--seed", "7", "--out", str(tmp_path / "n"))
    assert done.returncode == 0 and json.loads((tmp_path / "n" / "reply.json").read_text())["result"]["noise"] == "noise-7"
    done = anisketch(*base, "generate", "--attr", "__fail__=bad_request", "--out", str(tmp_path / "x"))
    assert done.returncode == 1 and "plaid" in done.stderr


# --- the real model service --------------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_real_service_through_the_real_server():
    """The default service, anisketch.service.Service, with the shipped weights: every operation it offers
    answers through the socket; an operation it does not offer yet answers model_unavailable."""
    from anisketch.service import Service
    sketch = np.zeros((256, 256, 4), np.uint8)
    sketch[60:200:6, 70:190, 3] = 255  # a few ink lines
    calls = {
        "guide": lambda c: c.guide(sketch, mode="rough"),
        "render": lambda c: c.render(sketch, None, n=2),
        "generate": lambda c: c.generate({"hair_color": "blonde"}, noise=7),
        "photo": lambda c: c.photo(np.full((256, 256, 4), 200, np.uint8), n=1),
    }
    with ServerProcess(service=None) as server:
        with server.client(timeout=120) as client:
            info = client.info()
            assert "service_error" not in info and "engine_version" in info, info
            deadline = time.monotonic() + 90
            while "guidance" not in client.info()["models_loaded"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "guidance" in client.info()["models_loaded"]  # warmed up before any request
            for op, call in calls.items():
                offered = callable(getattr(Service, op, None))
                assert (op in info["ops"]) == offered
                if not offered:
                    with pytest.raises(ServerError) as caught:
                        call(client)
                    assert caught.value.code == "model_unavailable" and "yet" in caught.value.message
                    continue
                try:
                    reply = call(client)
                except ServerError as error:  # photo may find no face in a flat grey image: a readable refusal
                    assert op == "photo" and error.code == "bad_request", error
                    continue
                assert reply.layers and all(layer.rgba.dtype == np.uint8 for layer in reply.layers), op
                if op == "guide":
                    assert {layer.group for layer in reply.layers} <= set(P.GROUPS)
                    assert set(reply["confidence"]) <= set(P.GROUPS) and isinstance(reply["state"], str)
                    again = client.guide(sketch, pins=["eyes"], state=reply["state"])
                    assert again.layers
                if op == "generate":  # op-specific fields at the top level of the result, as documented
                    assert reply["noise"].startswith("an-") and reply["attributes"]["hair_color"] == "blonde"
                    assert isinstance(reply["state"], str)
                if op == "render":
                    assert len(reply["style_seeds"]) == 2
        assert server.stop() == 0


@pytest.mark.timeout(120)
def test_real_service_without_weights_answers_model_unavailable(tmp_path):
    with ServerProcess("--weights", str(tmp_path), service=None) as server:
        with server.client(timeout=60) as client:
            assert "service_error" not in client.info()  # the models load lazily: info still works
            with pytest.raises(ServerError) as caught:
                client.guide(random_rgba(64, 64))
            assert caught.value.code == "model_unavailable" and "manifest" in caught.value.message
            assert client.info()["protocol"] == P.PROTOCOL_VERSION  # and the server goes on
        assert server.stop() == 0
