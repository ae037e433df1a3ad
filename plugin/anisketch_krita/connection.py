"""The link to `anisketch serve`: a ZeroMQ DEALER driven by Qt's event loop, never blocking the GUI thread.

Sending is non-blocking (ZeroMQ queues the frames and its I/O thread writes them). Replies are read when the
socket's file descriptor turns readable (QSocketNotifier); that descriptor is edge-triggered, so each
wake-up drains every message while EVENTS says POLLIN, and a slow timer drains too, in case an edge fell
between two reads. The same timer pings the server with `info` to notice when it goes away, reopens the
socket (dropping anything queued for the dead peer) and, when allowed, starts a local backend.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, cast

import zmq

from . import protocol
from .launcher import Launcher
from .qt import QObject, QSocketNotifier, QTimer, Signal
from .state import ConnectionState, Status

TICK_MS = 250  # heartbeat timer: drain, ping, time-outs
PING_EVERY_S = 2.0  # an idle connection is checked this often
PING_TIMEOUT_S = 6.0  # an `info` unanswered this long means the server is gone (a busy CPU backend can be slow)
START_GRACE_S = 1.0  # no answer this long, and we may start a local backend
STARTUP_TIMEOUT_S = 120.0  # a backend we started may take this long to answer (first import of torch)
TIMEOUT_S = {"guide": 30.0, "render": 180.0, "generate": 120.0, "photo": 180.0, "info": PING_TIMEOUT_S}

# Error codes the plugin makes up itself (the server's own are in protocol.py).
TIMEOUT = "timeout"
CONNECTION_LOST = "connection_lost"
NOT_CONNECTED = "not_connected"


@dataclass
class _Pending:
    op: str
    sent_at: float
    timeout_s: float


class Connection(QObject):
    """Status plus request/reply. Every request gets exactly one `replied` (result, error or time-out)."""

    status_changed = Signal()
    replied = Signal(object)  # protocol.Reply

    def __init__(self, endpoint: str, launcher: Optional[Launcher] = None, may_start: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.endpoint = endpoint
        self.launcher = launcher
        self.may_start = may_start
        self.clock = clock
        self.state = ConnectionState()
        self._context: zmq.Context = zmq.Context.instance()
        self._socket: Optional[zmq.Socket] = None
        self._notifier: Optional[QSocketNotifier] = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._last_heard = 0.0
        self._opened_at = 0.0
        self._ping_id: Optional[str] = None
        self._died_at: Optional[float] = None  # when we saw the backend we started gone (restart backoff)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._open()
        self._timer.start()
        self._ping()

    def close(self) -> None:
        self._timer.stop()
        self._close_socket()
        if self.launcher is not None:
            self.launcher.stop()

    def set_endpoint(self, endpoint: str) -> None:
        if endpoint != self.endpoint:
            self.endpoint = endpoint
            self._reopen("switching to " + endpoint)

    @property
    def connected(self) -> bool:
        return self.state.status is Status.CONNECTED

    def _open(self) -> None:
        socket = self._context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.IMMEDIATE, 1)  # queue nothing for a peer we are not connected to
        socket.setsockopt(zmq.MAXMSGSIZE, protocol.MAX_FRAME_BYTES + protocol.MAX_HEADER_BYTES)
        socket.connect(self.endpoint)
        self._socket = socket
        self._notifier = QSocketNotifier(socket.getsockopt(zmq.FD), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._opened_at = self.clock()
        if self.state.status is Status.DISCONNECTED and not self.state.reason:
            self._set(Status.CONNECTING, "")

    def _close_socket(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._socket is not None:
            self._socket.close(0)
            self._socket = None

    def _reopen(self, reason: str) -> None:
        """Drop the socket with everything queued on it, fail what was in flight, and start over."""
        self._close_socket()
        self._ping_id = None
        for request_id, pending in list(self._pending.items()):
            self._fail(request_id, pending.op, CONNECTION_LOST, f"the connection to the backend was lost ({reason})")
        self._open()

    # ------------------------------------------------------------------------------------------ requests

    def request(self, op: str, params: dict, images: list[protocol.Image] = ()) -> str:  # type: ignore[assignment]
        """Send a request; its reply (or error) arrives later through `replied`. Returns the request id.

        Raises protocol.ProtocolError for a request the server would refuse (before sending anything).
        """
        request_id = str(next(self._ids))
        frames = protocol.encode_request(protocol.Request(op=op, id=request_id, params=params, images=list(images)))
        if not self.connected and op != "info":
            QTimer.singleShot(0, lambda: self._fail(request_id, op, NOT_CONNECTED, self._not_connected_message()))
            self._pending[request_id] = _Pending(op, self.clock(), 0.0)
            return request_id
        assert self._socket is not None
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
        except zmq.Again:
            self._pending[request_id] = _Pending(op, self.clock(), 0.0)
            QTimer.singleShot(0, lambda: self._fail(request_id, op, NOT_CONNECTED, self._not_connected_message()))
            return request_id
        self._pending[request_id] = _Pending(op, self.clock(), TIMEOUT_S.get(op, 60.0))
        QTimer.singleShot(0, self._drain)  # sending may have consumed the edge that announces a reply
        return request_id

    def cancel(self, request_id: str) -> None:
        """Ask the server to drop a queued request (best effort; its reply still arrives, as `cancelled`)."""
        if self.connected and request_id in self._pending:
            self.request("cancel", {"target": request_id})

    def _not_connected_message(self) -> str:
        return f"not connected to the backend ({self.state.describe()})"

    # ------------------------------------------------------------------------------------------ receiving

    def _drain(self, *_: Any) -> None:
        socket = self._socket
        if socket is None:
            return
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        try:
            while self._socket is socket and cast(int, socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                self._receive(socket.recv_multipart(flags=zmq.NOBLOCK))
        except zmq.Again:
            pass
        finally:
            if self._notifier is not None and self._socket is socket:
                self._notifier.setEnabled(True)

    def _receive(self, frames: list) -> None:
        self._last_heard = self.clock()
        try:
            reply = protocol.decode_reply(frames)
        except protocol.ProtocolError as error:
            reply = protocol.error_reply(error.request_id, error.op, error.code,
                                         f"the backend sent a reply this plugin cannot read ({error.message}): "
                                         "are the plugin and the backend from the same install?")
        if reply.id == self._ping_id:
            self._ping_id = None
        if reply.op == "info" and reply.ok:
            self.state.server = reply.result
            self._set(Status.CONNECTED, "")
        elif not self.connected:
            self._set(Status.CONNECTED, "")
        pending = self._pending.pop(reply.id, None) if reply.id is not None else None
        if pending is not None and reply.more:  # a progressive reply's part: the next one has as long again
            self._pending[reply.id] = _Pending(pending.op, self.clock(), pending.timeout_s)  # type: ignore[index]
        if pending is not None and pending.op not in ("info", "cancel"):
            self.replied.emit(reply)
        elif pending is None and not reply.ok and reply.id is None:
            self.replied.emit(reply)  # a protocol error the server could not tie to a request

    # ------------------------------------------------------------------------------------------ heartbeat

    def _tick(self) -> None:
        self._drain()
        now = self.clock()
        for request_id, pending in list(self._pending.items()):
            if pending.timeout_s and now - pending.sent_at > pending.timeout_s and pending.op != "info":
                self._fail(request_id, pending.op, TIMEOUT,
                           f"the backend did not answer '{pending.op}' within {pending.timeout_s:.0f} s")
        if self._ping_id is not None:
            sent = self._pending.get(self._ping_id)
            limit = STARTUP_TIMEOUT_S if self.state.status is Status.STARTING else PING_TIMEOUT_S
            if sent is not None and now - sent.sent_at > limit:
                self._lost(f"no answer from {self.endpoint}")
            return
        if self.state.status is Status.STARTING and self.launcher is not None and not self.launcher.running:
            self._set(Status.DISCONNECTED, self.launcher.exit_reason() or "the backend did not start")
        idle = now - max(self._last_heard, self._opened_at)
        if not self.connected or idle > PING_EVERY_S:
            self._ping()

    def _ping(self) -> None:
        if self._socket is None:
            return
        request_id = str(next(self._ids))
        frames = protocol.encode_request(protocol.Request(op="info", id=request_id))
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:  # not connected at the TCP level yet (IMMEDIATE): nobody listens
            self._unreachable()
            return
        self._ping_id = request_id
        self._pending[request_id] = _Pending("info", self.clock(), PING_TIMEOUT_S)
        QTimer.singleShot(0, self._drain)

    def _unreachable(self) -> None:
        """Nobody listens on the endpoint: say so, and start a local backend if we may."""
        if self.state.status is Status.STARTING:
            if self.launcher is not None and not self.launcher.running:
                self._set(Status.DISCONNECTED, self.launcher.exit_reason() or "the backend did not start")
            return
        if self.connected:
            self._lost(f"nothing answers at {self.endpoint}")
            return
        waited = self.clock() - self._opened_at
        if waited >= START_GRACE_S and self._try_start():
            return
        if waited >= START_GRACE_S or self.state.status is not Status.CONNECTING:
            self._set(Status.DISCONNECTED, self._unreachable_reason())

    def _unreachable_reason(self) -> str:
        reason = f"nothing answers at {self.endpoint}"
        if self.launcher is not None and self.launcher.exit_reason():
            if self.may_start() and self.launcher.restart_delay() is not None:
                return f"{self.launcher.exit_reason()}; restarting it"
            return (f"{reason}; {self.launcher.exit_reason()}; it stopped {self.launcher.restarts + 1} times: "
                    "press Reconnect to start it again (its log: " + str(self.launcher.log_path) + ")")
        if self.launcher is not None and self.launcher.problem() and self.may_start():
            return f"{reason}; {self.launcher.problem()}"
        if not self.may_start():
            return f"{reason} (start `anisketch serve`, or tick 'Start the backend')"
        return reason

    def _try_start(self) -> bool:
        """Start a local backend, or restart the one we started when it died (after a growing pause, a few
        times). Returns whether the status now says so."""
        launcher = self.launcher
        if launcher is None or not self.may_start() or launcher.problem():
            return False
        died = launcher.exit_reason()
        if not died:
            launcher.start(self.endpoint)
            self._set(Status.STARTING, "loading the models")
            return True
        delay = launcher.restart_delay()
        if delay is None:
            return False  # died too often: _unreachable_reason says so, Reconnect tries again
        now = self.clock()
        self._died_at = self._died_at if self._died_at is not None else now
        if now - self._died_at < delay:
            self._set(Status.DISCONNECTED, f"{died}; restarting it in {delay - (now - self._died_at):.1f} s")
            return True
        self._died_at = None
        launcher.restart(self.endpoint)
        self._set(Status.STARTING, f"{died}; restarted it (attempt {launcher.restarts}), loading the models")
        return True

    def retry(self) -> None:
        """The artist pressed Reconnect: forget a crashed launch and try again now."""
        if self.launcher is not None and self.launcher.exit_reason():
            self.launcher.stop()
        if self.launcher is not None:
            self.launcher.answered()
        self._died_at = None
        self._reopen("reconnecting")
        self._set(Status.CONNECTING, "")
        self._ping()

    def _lost(self, reason: str) -> None:
        self._set(Status.DISCONNECTED, reason)
        self._reopen(reason)

    def _fail(self, request_id: str, op: str, code: str, message: str) -> None:
        if self._pending.pop(request_id, None) is None:
            return
        if op not in ("info", "cancel"):
            self.replied.emit(protocol.error_reply(request_id, op, code, message))

    def _set(self, status: Status, reason: str) -> None:
        if status is Status.CONNECTED and self.launcher is not None:
            self.launcher.answered()
        if (status, reason) != (self.state.status, self.state.reason):
            self.state.status, self.state.reason = status, reason
            self.status_changed.emit()
