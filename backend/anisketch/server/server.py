"""`anisketch serve`: a ZeroMQ ROUTER in front of the model service.

Two threads. The socket thread owns the ZeroMQ socket: it receives and validates every message, answers
protocol errors, `info` and `cancel` at once, and keeps the other requests in the Scheduler until the
model is free, so that a newer guide can still supersede a queued one. The compute thread runs the model,
one job (or one batch of guides) at a time, builds the reply frames and hands them back through a queue,
waking the socket thread with a byte on a socketpair (not a ZeroMQ socket: the compute thread may be
inside a long model call at shutdown, and must not hold the context open).

The same class serves as a worker behind `serve --workers N` (see broker.py): there its socket is a DEALER
connected to the broker, and every message still starts with the client's routing identity.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import zmq

from anisketch import __version__, protocol
from anisketch.errors import BadRequest, ModelUnavailable
from anisketch.layers import Result
from anisketch.server.pixels import layer_frame, to_rgba
from anisketch.server.scheduler import Job, Scheduler

if TYPE_CHECKING:  # the real service drags the models in; the server only needs its shape
    from anisketch.server.broker import Bus
    from anisketch.service import ModelService

log = logging.getLogger("anisketch.serve")

# Ops the socket thread answers itself; the others go through the scheduler to the model.
IMMEDIATE_OPS = frozenset({"info", "cancel"})


@dataclass
class Outcome:
    job: Job
    parts: list
    status: str  # "ok" or an error code
    timing_ms: dict = field(default_factory=dict)
    layers: int = 0
    batch: int = 1  # how many requests ran through the model together with this one
    final: bool = True  # False: a part of a progressive reply; more parts (or an error) follow


class Server:
    def __init__(self, service: "ModelService", socket: zmq.Socket, *, context: zmq.Context, max_queued_per_client: int = 32,
                 max_batch: int = 8, bus: "Bus | None" = None):
        self.service = service
        self.socket = socket
        self.context = context
        self.scheduler = Scheduler(max_queued_per_client)
        self.bus = bus
        # A service may offer `guide_batch(list of guide kwargs) -> list of Result or Exception, one per
        # request` to run several clients' guides as one GPU batch; without it guides run one by one.
        self.batchable = frozenset({"guide"}) if callable(getattr(service, "guide_batch", None)) else frozenset()
        self.max_batch = max_batch
        self.stop_event = threading.Event()
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_recv, self._wake_send = _socketpair()
        self._busy = False
        self._compute = threading.Thread(target=self._compute_loop, name="anisketch-compute", daemon=True)
        self.served = 0  # replies to model work (guide, render, generate, photo), for the shutdown log

    # --- the socket thread -------------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until `stop()` (or a signal handler calling it). Returns after answering what was queued."""
        self._compute.start()
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self._wake_recv.fileno(), zmq.POLLIN)
        if self.bus:
            poller.register(self.bus.sub, zmq.POLLIN)
        while not self.stop_event.is_set():
            ready = dict(poller.poll(100))
            if self.socket in ready:
                self._receive_all()
            if self._wake_recv.fileno() in ready:
                self._collect_outcomes()
            if self.bus and self.bus.sub in ready:
                self._receive_bus()
            self._dispatch()
        self._shut_down()

    def stop(self) -> None:
        self.stop_event.set()

    def _receive_all(self, at_most: int = 256) -> None:
        # Bounded, so that a flood of requests cannot keep finished results from being sent.
        for _ in range(at_most):
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            try:
                self._handle(frames)
            except Exception:  # a bug of ours on a strange message: answer it, log it, keep serving
                log.exception("unexpected error while handling a message")
                self._send(frames[:1] and [frames[0].bytes], protocol.error_reply(
                    None, None, protocol.INTERNAL, "internal error while reading this message"))

    def _handle(self, frames: list) -> None:
        arrived = time.monotonic()
        envelope, parts = _split_envelope(frames)
        client = envelope[0]
        try:
            request = protocol.decode_request([part.buffer for part in parts])
        except protocol.ProtocolError as error:
            self._send(envelope, protocol.error_reply(error.request_id, error.op, error.code, error.message))
            self._log(error.request_id, error.op, client, error.code, {}, detail=error.message)
            return
        job = Job(client=client, envelope=envelope, request=request, frames=parts, arrived=arrived)
        if request.op == "info":
            self._answer_info(job)
        elif request.op == "cancel":
            self._answer_cancel(job)
        else:
            if self.bus and request.op == "guide" and request.seq is not None:
                self.bus.announce_guide(client, request.seq)
            for old, code in self.scheduler.submit(job):
                self._reply_status(old, code)

    def _answer_info(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            info, ours = _jsonable(self.service.info()), self._server_info()
            # The service's limits are the stricter ones (it knows its models); the protocol's fill the rest.
            limits = {**ours["limits"], **(info.get("limits") or {})}
            reply = protocol.Reply(job.id, "info", True, result={**info, **ours, "limits": limits})
            status = "ok"
        except Exception as error:  # noqa: BLE001 - the service failed to describe itself: still say who we are
            code, message = classify(error)
            reply = protocol.Reply(job.id, "info", True, result={"service_error": {"code": code, "message": message},
                                                                 **self._server_info()})
            status = code
        reply.timing_ms = {"total": _ms_since(started)}
        self._send(job.envelope, reply)
        self._log(job.id, "info", job.client, status, reply.timing_ms)

    def _server_info(self) -> dict:
        return {
            "protocol": protocol.PROTOCOL_VERSION,
            "server": {"version": __version__, "pid": os.getpid(), "queued": len(self.scheduler),
                       "running": len(self.scheduler.running), "batching": sorted(self.batchable)},
            "ops": [op for op, spec in protocol.OPS.items()
                    if not spec.model or callable(getattr(self.service, op, None))],
            "limits": {"max_side": protocol.MAX_SIDE, "max_frame_bytes": protocol.MAX_FRAME_BYTES,
                       "max_images": protocol.MAX_IMAGES, "max_candidates": protocol.MAX_CANDIDATES,
                       "max_queued_per_client": self.scheduler.max_queued_per_client,
                       "formats": list(protocol.FORMATS), "layer_formats": list(protocol.LAYER_FORMATS)},
        }

    def _answer_cancel(self, job: Job) -> None:
        target = job.request.params["target"]
        was = self._cancel(job.client, target)
        if was == "unknown" and self.bus:
            self.bus.announce_cancel(job.client, target)
            was = "forwarded"  # another worker may hold it; that job answers "cancelled" itself
        self._send(job.envelope, protocol.Reply(job.id, "cancel", True, result={"target": target, "was": was}))
        self._log(job.id, "cancel", job.client, "ok", {}, detail=f"target={target} was={was}")

    def _cancel(self, client: bytes, target: str) -> str:
        was, cancelled = self.scheduler.cancel(client, target)
        if was == "queued" and cancelled is not None:
            self._reply_status(cancelled, protocol.CANCELLED)
        return was

    def _receive_bus(self) -> None:
        assert self.bus is not None
        for kind, client, value in self.bus.receive_all():
            if kind == "cancel":
                self._cancel(client, value)
            elif kind == "guide":
                for old in self.scheduler.supersede_before(client, "guide", int(value)):
                    self._reply_status(old, protocol.SUPERSEDED)

    def _dispatch(self) -> None:
        if self._busy:
            return
        batch = self.scheduler.next_batch(self.batchable, self.max_batch)
        if batch:
            self._busy = True
            self._todo.put(batch)

    def _collect_outcomes(self) -> None:
        try:
            self._wake_recv.recv(4096)
        except BlockingIOError:
            pass
        while True:
            try:
                outcomes = self._done.get_nowait()
            except queue.Empty:
                return
            for outcome in outcomes:
                job = outcome.job
                if not outcome.final:  # a progressive reply's part: the job still runs
                    if not job.cancelled:
                        self.socket.send_multipart(job.envelope + outcome.parts, copy=False)
                    continue
                self._busy = False
                self.scheduler.finished(job)
                if job.cancelled:
                    self._reply_status(job, protocol.CANCELLED)
                    continue
                self.socket.send_multipart(job.envelope + outcome.parts, copy=False)
                self.served += 1
                extra = {"batch": outcome.batch} if outcome.batch > 1 else {}
                self._log(job.id, job.op, job.client, outcome.status, outcome.timing_ms, layers=outcome.layers, **extra)

    def _reply_status(self, job: Job, code: str) -> None:
        messages = {
            protocol.SUPERSEDED: "a newer guide request from this client replaced this one before it ran",
            protocol.CANCELLED: "cancelled at the client's request",
            protocol.BUSY: f"this client already has {self.scheduler.max_queued_per_client} requests queued",
            protocol.SHUTTING_DOWN: "the server is shutting down",
        }
        timing = {"queue": _ms_since_monotonic(job.arrived)}
        self._send(job.envelope, protocol.error_reply(job.id, job.op, code, messages.get(code, code), timing))
        self._log(job.id, job.op, job.client, code, timing)

    def _send(self, envelope: list, reply: protocol.Reply) -> None:
        self.socket.send_multipart(envelope + protocol.encode_reply(reply), copy=False)

    def _shut_down(self) -> None:
        for job in self.scheduler.drain() + list(self.scheduler.running.values()):
            self._reply_status(job, protocol.SHUTTING_DOWN)
        self._todo.put(None)

    def _log(self, request_id: str | None, op: str | None, client: bytes, status: str, timing_ms: dict,
             **extra: Any) -> None:
        fields_ = {"id": request_id, "op": op, "client": client.hex() or "-", "status": status,
                   **{f"{k}_ms": round(v, 1) for k, v in timing_ms.items()}, **extra}
        log.info("request " + " ".join(f"{k}={_logfmt(v)}" for k, v in fields_.items()))

    # --- the compute thread ------------------------------------------------------------------------------

    def _compute_loop(self) -> None:
        self._warm_up()
        while True:
            batch = self._todo.get()
            if batch is None:
                return
            try:
                outcomes = self._run_batch(batch) if len(batch) > 1 else [self._run(batch[0])]
            except BaseException as error:  # noqa: BLE001 - this thread must never die: the socket thread waits for it
                outcomes = [self._failure(job, error, 0.0, time.perf_counter()) for job in batch]
            if not self._hand_over(outcomes):
                return

    def _hand_over(self, outcomes: list[Outcome]) -> bool:
        """Give outcomes to the socket thread and wake it; False when it has gone (shutting down)."""
        self._done.put(outcomes)
        try:
            self._wake_send.send(b"\0")
        except OSError:
            return False
        return True

    def _warm_up(self) -> None:
        """The service's warm-up, if it has one, before the first request (which waits for it if it comes
        sooner): the artist's first stroke then does not pay for loading the model. A failed warm-up is only
        logged; the requests meet the same failure and answer with it."""
        warm_up = getattr(self.service, "warm_up", None)
        if not callable(warm_up):
            return
        started = time.perf_counter()
        try:
            warm_up()
            log.info("warmed up in %.0f ms", (time.perf_counter() - started) * 1e3)
        except Exception as error:  # noqa: BLE001 - the requests will say what is wrong
            log.warning("warm-up failed: %s", error)

    def _run(self, job: Job) -> Outcome:
        started = time.perf_counter()
        queued_ms = _ms_since_monotonic(job.arrived)
        try:
            kwargs, layer_format = _service_call(job.request)
            decoded = time.perf_counter()
            if not callable(getattr(self.service, job.op, None)):
                raise ModelUnavailable(f"this backend cannot do '{job.op}' yet (its service has no such operation)")
            result = getattr(self.service, job.op)(**kwargs)
            if job.request.params.get("progressive") and isinstance(result, Result) and result.more is not None:
                return self._stream(job, result, layer_format, queued_ms, started, decoded)
            if isinstance(result, Result):
                result.whole()  # a service may make its parts lazily even when not asked to
            return self._outcome(job, result, layer_format, queued_ms, started, decoded)
        except Exception as error:  # noqa: BLE001 - every service error becomes an error reply (classify)
            return self._failure(job, error, queued_ms, started)

    def _run_batch(self, batch: list[Job]) -> list[Outcome]:
        started = time.perf_counter()
        calls = [_service_call(job.request) for job in batch]
        decoded = time.perf_counter()
        try:
            results = self.service.guide_batch([kwargs for kwargs, _ in calls])  # type: ignore[attr-defined]
        except Exception:  # one bad request must not fail the others: fall back to one by one
            log.warning("batched guide failed; running the batch one by one", exc_info=True)
            return [self._run(job) for job in batch]
        if len(results) != len(batch):
            raise TypeError(f"guide_batch answered {len(results)} results for {len(batch)} requests")
        # Each request's own error (an empty sketch) fails only that request.
        outcomes = [self._failure(job, result, _ms_since_monotonic(job.arrived), started) if isinstance(result, Exception)
                    else self._outcome(job, result, call[1], _ms_since_monotonic(job.arrived), started, decoded)
                    for job, result, call in zip(batch, results, calls)]
        for outcome in outcomes:
            outcome.batch = len(batch)
        return outcomes

    def _stream(self, job: Job, result: Result, layer_format: str, queued_ms: float, started: float,
                decoded: float) -> Outcome:
        """A progressive reply: each part sent as soon as it is made (the first with the result fields), then an
        empty last part with the whole reply's timing. A job cancelled meanwhile makes no more parts."""
        assert result.more is not None
        more, fields_ = result.more, _result_fields(job.op, result)
        part = self._outcome(job, result, layer_format, queued_ms, started, decoded, more=True)
        sent = 0
        try:
            while part.status == "ok" and not job.cancelled and self._hand_over([part]):
                sent += part.layers
                layers = next(more, None)  # made while the client shows what it has
                if layers is None:
                    break
                part = self._outcome(job, Result(layers, fields_, result.timing_ms), layer_format, queued_ms,
                                     started, decoded, more=True, with_fields=False)
        finally:
            getattr(more, "close", lambda: None)()  # a generator stops making what nobody will receive
        if part.status != "ok":
            return part
        last = self._outcome(job, Result([], fields_, result.timing_ms), layer_format, queued_ms, started, decoded,
                             with_fields=False)
        last.layers = sent  # the log line counts the layers of all parts
        return last

    def _outcome(self, job: Job, result: Any, layer_format: str, queued_ms: float, started: float,
                 decoded: float, more: bool = False, with_fields: bool = True) -> Outcome:
        """The reply to `job` from the service's result (more: a progressive reply's part that others follow;
        with_fields: whether its `result` holds the op's fields, which only a first part needs to)."""
        try:
            computed = time.perf_counter()
            fields_ = _result_fields(job.op, result) if with_fields else {}
            layers = [layer_frame(layer, layer_format) for layer in result.layers]
            # The service's own stages (prepare, model, draw...) beside the server's: queue, decode, service
            # (the whole service call), encode, total (arrival to reply).
            timing = {**{k: float(v) for k, v in result.timing_ms.items()},
                      "queue": queued_ms, "decode": (decoded - started) * 1e3, "service": (computed - decoded) * 1e3}
            reply = protocol.Reply(job.id, job.op, True, result=fields_, layers=layers, timing_ms=timing, more=more)
            reply.timing_ms["encode"] = (time.perf_counter() - computed) * 1e3
            reply.timing_ms["total"] = _ms_since_monotonic(job.arrived)
            return Outcome(job, protocol.encode_reply(reply), "ok", reply.timing_ms, len(layers), final=not more)
        except Exception as error:  # noqa: BLE001 - the model answered something the protocol cannot carry
            return self._failure(job, error, queued_ms, started)

    def _failure(self, job: Job, error: BaseException, queued_ms: float, started: float) -> Outcome:
        code, message = classify(error)
        if code == protocol.INTERNAL:
            log.error("request id=%s op=%s failed", job.id, job.op, exc_info=error)
        if code == protocol.OUT_OF_MEMORY:
            _release_gpu_memory()
        timing = {"queue": queued_ms, "total": _ms_since_monotonic(job.arrived)}
        return Outcome(job, protocol.encode_reply(protocol.error_reply(job.id, job.op, code, message, timing)),
                       code, timing)


# ---------------------------------------------------------------------------------------------------------
# Requests to service calls, results to replies


def _service_call(request: protocol.Request) -> tuple[dict[str, Any], str]:
    """(keyword arguments of the service method named by the op, layer format) for a validated request:
    the params less the server's own, and each image as `<name>_rgba` (protocol.OpSpec says so)."""
    params = dict(request.params)
    layer_format = params.pop("layer_format", "rgba8")
    if request.op == "generate":
        params.setdefault("attributes", {})  # the one positional argument: no attributes, all random
    for image in request.images:
        params[protocol.image_argument(image.name)] = to_rgba(image)
    return params, layer_format


def _result_fields(op: str, result: Any) -> dict:
    """A service Result's info as the reply's `result`, JSON-safe, with every field protocol.OPS promises."""
    if not isinstance(result, Result):
        raise TypeError(f"the service's '{op}' returned {type(result).__name__}, not anisketch.layers.Result")
    missing = [name for name in protocol.OPS[op].result if name not in result.info]
    if missing:
        raise TypeError(f"the service's '{op}' result lacks {', '.join(missing)} (promised by protocol.OPS)")
    return {str(k): _jsonable(v) for k, v in result.info.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN; the protocol forbids it
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Errors


def classify(error: BaseException) -> tuple[str, str]:
    """(code, message) of the error reply for an exception raised by the service."""
    if isinstance(error, BadRequest):
        return protocol.BAD_REQUEST, str(error)
    code = getattr(error, "code", None)
    if isinstance(code, str) and type(error).__module__.startswith("anisketch"):
        return code, str(error)  # our own errors carry their code (ModelUnavailable: "model_unavailable")
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error):
        return protocol.OUT_OF_MEMORY, ("the backend ran out of memory for this request; try a smaller crop "
                                        "or fewer candidates")
    return protocol.INTERNAL, f"internal error: {type(error).__name__}: {str(error)[:300]}"


def _release_gpu_memory() -> None:
    torch = sys.modules.get("torch")  # never import torch just for this
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class UnavailableService:
    """Stands in for a service that failed to load: every model op answers with the load error."""

    def __init__(self, error: BaseException):
        self.message = f"the model service failed to load: {type(error).__name__}: {error}"

    def info(self) -> dict:
        return {"service_error": {"code": protocol.MODEL_UNAVAILABLE, "message": self.message}}

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ModelUnavailable(self.message)

    guide = render = generate = photo = _fail


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _split_envelope(frames: list) -> tuple[list, list]:
    """Routing identity first; a REQ-style client adds an empty delimiter frame, which goes back too."""
    size = 2 if len(frames) > 2 and len(frames[1].buffer) == 0 else 1
    return [frame.bytes for frame in frames[:size]], frames[size:]


def _socketpair() -> tuple[socket.socket, socket.socket]:
    receiver, sender = socket.socketpair()
    receiver.setblocking(False)
    return receiver, sender


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1e3


def _ms_since_monotonic(started: float) -> float:
    return (time.monotonic() - started) * 1e3


def _logfmt(value: Any) -> str:
    text = "-" if value is None else str(value)
    return f'"{text[:200]}"' if (" " in text or '"' in text or not text) else text


def configure_socket(sock: zmq.Socket) -> None:
    """Limits every server-side socket facing clients shares."""
    sock.setsockopt(zmq.MAXMSGSIZE, protocol.MAX_FRAME_BYTES + protocol.MAX_HEADER_BYTES)
    sock.setsockopt(zmq.LINGER, 1000)  # at shutdown, give the last replies a second to leave


def make_signal_handler(stop: Callable[[], None]) -> Callable:
    def handler(signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        stop()
    return handler
