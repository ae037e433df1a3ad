"""What the docker does, without its widgets: watch the sketch, send requests, put results on the canvas.

One Controller per docker. It owns the settings, the connection and the per-document memory, and reports
to the widgets through `changed` (status, progress, errors) and `renders_changed` (candidates).
Every method runs on Krita's GUI thread; `timings` records how long each part of an update kept it busy.
"""
# Why one file of this size: it is where the docker's actions meet the session, the connection and the
# canvas; the guidance session (session.py) and the requests (outputs.py) already live apart, and what remains
# is one short handler per action.


from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import random
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import canvas, outputs, protocol
from .canvas import CanvasError
from .connection import Connection
from .outputs import Candidate
from .pen import PenWatcher
from .qt import QApplication, QObject, Qt, QTimer, Signal
from .redraw import RedrawClock
from .region import Box
from .session import GuidanceSession, Sent
from .shrink import Shrinker, aligned_box, send_factor, shrunk_sketch
from .state import DEFAULT_ATTRIBUTES, GuideMemory, Pins, Settings, next_seed, photo_report, vary_attributes

LOG_PATH = os.path.join(tempfile.gettempdir(), "anisketch-krita.log")
POLL_MS = 100  # how often the sketch layer's fingerprint is taken (at most: see _on_poll)
POLL_SHARE = 0.125  # the fingerprint may use at most this share of the GUI thread (huge canvases poll slower)
RESTORE_ACTIVE_S = 2.0  # how long after adding layers an activated layer of ours is handed back
LIFT_CHECK_MS = 5  # after a pen lift, how often to look whether Krita has finished applying the stroke
# The redraw layers' repaint timers are kept warm (redraw.py) from the pen's press until this long after the
# last stroke, guide or write: an artist's pauses between strokes are mostly shorter.
WARM_TICK_MS = 40
KEEP_WARM_S = 4.0
LIFT_WAIT_S = 1.0  # longer than this, and the poll (which waits for the layer to settle) takes over
IDLE_RETRY_MS = 50  # a reply that arrives mid-stroke is written this much later (until the pen is up)
QUIET_CODES = (protocol.SUPERSEDED, protocol.CANCELLED)  # replies that are no news for the artist


def guarded(method: Callable) -> Callable:
    """For everything Qt calls (slots, timers): a bug shows as a line in the docker, never as a traceback
    dialog; the traceback goes to LOG_PATH."""

    @functools.wraps(method)
    def run(self: "Controller", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the artist's session must survive our bugs
            with open(LOG_PATH, "a", encoding="utf-8") as log:
                log.write(f"--- {time.ctime()} {method.__name__}\n{traceback.format_exc()}")
            self.error = f"Internal error in AniSketch: {error} (details in {LOG_PATH})"
            self.changed.emit()
            return None

    return run


@dataclass
class Timings:
    """Milliseconds of GUI-thread work for the last guidance update, and the history (for the e2e report)."""

    detect_ms: float = 0.0  # the polls that saw the last stroke, from its first change to the request
    send_ms: float = 0.0  # choose the crop + read it + encode + hand to ZeroMQ
    read_ms: float = 0.0  # of send_ms: choosing the crop and reading it (Krita's pixelData copy)
    apply_ms: float = 0.0  # write the layers into the document
    refresh_ms: float = 0.0  # the docker showing the update as sent (and, in the history, as applied)
    polling_ms: float = 0.0  # polls since the last request was sent (becomes detect_ms when it is)
    lift_wait_ms: Optional[float] = None  # pen lift to the request's start (Krita finishing the stroke); None: no lift
    warm_ticks: int = 0  # the redraw layers' warm-up ticks so far (between strokes too: not in any update's figures)
    warm_ms: float = 0.0  # their GUI-thread time
    place_ms: float = 0.0  # the last render's, generation's or From photo's layers put in the document
    render: dict = field(default_factory=dict)  # the last render's figures: where the artist's wait went (ms)
    history: list = field(default_factory=list)  # one `update_figures` dict per guidance update, newest last

    def update_figures(self, side: int, server_ms: float, transit_ms: float, held_ms: float,
                       backend_stages: Optional[dict] = None, shrink_ms: float = 0.0) -> dict:
        """Where one update's time went, from the pen lift to the layers written (what the artist waits for).
        shrink_ms: a large crop's shrinking on the worker thread (hand-off to send, not GUI-thread time);
        transit_ms: reply arrival minus request sent minus the backend's own time (ZeroMQ, queueing, decoding);
        held_ms: a reply held back while a stroke or another reply's placing was under way; backend_stages: the
        backend's own split of server_ms (decode, prepare, model, draw, encode...), as its reply gives it."""
        return {"side": side, "lift_wait_ms": _rounded(self.lift_wait_ms), "detect_ms": round(self.detect_ms, 2),
                "read_ms": round(self.read_ms, 2), "send_ms": round(self.send_ms, 2), "shrink_ms": round(shrink_ms, 1),
                "server_ms": round(server_ms, 1), "backend_stages": dict(backend_stages or {}),
                "transit_ms": round(transit_ms, 1), "held_ms": round(held_ms, 1), "apply_ms": round(self.apply_ms, 2),
                "refresh_ms": round(self.refresh_ms, 2)}


@dataclass
class _Flight:
    op: str
    document: Any
    origin: Box
    started: float  # perf_counter when the request was handed to ZeroMQ
    mode: str = ""  # guidance mode of the request
    arrived: Optional[float] = None  # perf_counter when its reply first reached us (placing may wait after that)
    frame: int = 0  # photo: the side of the square the backend drew in (the image sent; origin.w unless shrunk)
    shrink_ms: float = 0.0  # guide: a large crop's shrinking on the worker thread, before it was sent
    clicked: Optional[float] = None  # render: perf_counter when the artist asked for it (reading the layers came after)
    # A progressive render (one reply part per candidate): the empty candidates its later parts fill (node ids, in
    # order), when its first candidate was shown and its last placed, and its first part's figures.
    empty: list = field(default_factory=list)
    first_shown: Optional[float] = None
    all_placed: Optional[float] = None
    first: dict = field(default_factory=dict)
    count: int = 0  # render: the candidates asked for


@dataclass
class _OutgoingGuide:
    """A guide request on its way out: read on the GUI thread, perhaps shrunk on the worker, then sent."""

    document: Any
    session: GuidanceSession
    sent: Sent  # what the request carries, as the session remembers it (the crop and its pixels)
    params: dict
    mode: str
    started: float  # perf_counter when the update began (its GUI-thread work is timed from here)
    token: str = ""  # the guide job's stand-in id while the crop is being shrunk
    box: Optional[Box] = None  # the aligned part of the crop that is sent shrunk
    handed_off: float = 0.0  # perf_counter when the worker got the pixels
    lifted: Optional[float] = None  # perf_counter of the pen lift this update follows, if one


class Controller(QObject):
    changed = Signal()  # anything: the docker shows it all again
    guide_changed = Signal()  # a guide went out or came back: only the status, busy and confidence lines change
    renders_changed = Signal()
    _shrunk = Signal(object)  # (outgoing guide, finished Future), emitted on the shrink worker's thread

    def __init__(self, connection: Connection, settings: Settings, save_settings: Callable[[Settings], None],
                 krita: Any):
        super().__init__()
        self.connection = connection
        self.settings = settings
        self._save_settings = save_settings
        self.krita = krita
        self.pins = Pins()
        self._workspaces: dict[str, Workspace] = {}  # every open document's, by document_key
        self._current = Workspace()  # the active document's
        self.sketch_id: Optional[str] = None  # chosen by the artist; None: the active paint layer
        self.hints_id: Optional[str] = None
        self.photo_id: Optional[str] = None  # chosen by the artist; None: the active paint layer
        self.photo_note = ""  # "Found 1 face." and the backend's warnings, after the last From photo
        self._last_photo_id: Optional[str] = None  # never taken for a sketch while it is the active layer
        self.error = ""  # shown in the docker until the next success
        self.busy: dict[str, str] = {}  # op -> what we wait for ("Rendering 4 candidates…")
        self.last_noise: Optional[str] = None
        self.timings = Timings()
        self.attributes: dict[str, str] = {}
        self._flights: dict[str, _Flight] = {}
        self._restore: Optional[tuple] = None  # (document, artist's active layer, until) after we add layers
        self._document: Any = None
        self._placing = False  # a reply's results are going into the document (see _on_reply)
        self._held: dict[Optional[str], list] = {}  # replies waiting to go in, by request id (_handle_held)
        self._guide_forced = False  # a guide was asked for (not just a stroke seen): send even if nothing changed
        self.pen_lifts = 0  # stroke ends told by the artist's input (pen.py), for the tests
        self._lift_until: Optional[float] = None  # a pen lift waits for Krita to finish the stroke until then
        self._lifted_at: Optional[float] = None  # perf_counter of the last pen lift not yet followed by a request
        self._pen: Optional[PenWatcher] = None
        self._warm = QTimer(self)
        self._warm.setInterval(WARM_TICK_MS)
        self._warm.timeout.connect(self._keep_warm)
        self._warm_until = 0.0
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        connection.replied.connect(self._on_reply)
        connection.status_changed.connect(self._on_status)
        self._shrinker = Shrinker()
        self._shrink_ids = itertools.count(1)
        self._shrunk.connect(self._on_shrunk)  # queued: the worker emits, the GUI thread sends

    def start(self) -> None:
        self.connection.start()
        self._pen = PenWatcher(self.krita)
        self._pen.lifted.connect(self.pen_lifted)
        self._pen.pressed.connect(self.stay_warm)
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()
        self._warm.stop()
        if self._pen is not None:
            self._pen.close()
        self._shrinker.close()
        self.connection.close()

    # ------------------------------------------------------------------------------------------ settings

    @guarded
    def update_settings(self, **values: Any) -> None:
        """Change settings from the widgets; guidance follows at once where it should."""
        before = dataclasses.replace(self.settings)
        for key, value in values.items():
            setattr(self.settings, key, value)
        self._save_settings(self.settings)
        if self.settings.endpoint and before.endpoint != self.settings.endpoint:
            self.connection.set_endpoint(self.settings.endpoint)
        if before.opacity != self.settings.opacity or before.guidance_on != self.settings.guidance_on:
            self._apply_look_everywhere()
        if self.settings.guidance_on and (before.mode != self.settings.mode
                                          or before.faithfulness != self.settings.faithfulness
                                          or not before.guidance_on):
            self.request_guidance()
        self.changed.emit()

    @guarded
    def toggle_guidance(self) -> None:
        """The Krita action (with its shortcut): guidance on/off while drawing."""
        self.update_settings(guidance_on=not self.settings.guidance_on)

    @guarded
    def set_pin(self, part: str, on: bool) -> None:
        self.pins.toggle(part, on)
        self.changed.emit()

    @guarded
    def choose_sketch(self, node_id: Optional[str]) -> None:
        self.sketch_id = node_id
        self.session.start_over()
        self.changed.emit()

    @guarded
    def choose_hints(self, node_id: Optional[str]) -> None:
        self.hints_id = node_id
        self.changed.emit()

    @guarded
    def choose_photo(self, node_id: Optional[str]) -> None:
        self.photo_id = node_id
        self.changed.emit()

    # ------------------------------------------------------------------------------------------ document

    def document(self) -> Any:
        document = self.krita.activeDocument()
        if not _same(document, self._document):
            self._switch_to(document)
        return document

    def _switch_to(self, document: Any) -> None:
        """Each open document keeps its own workspace: an artist who looks at another document, or whose view
        Krita activates, finds guidance state and candidates as they left them on return."""
        open_keys = {document_key(d) for d in self.krita.documents()}
        self._workspaces = {key: kept for key, kept in self._workspaces.items() if key in open_keys}
        self._document = document
        self._current = self._workspaces.setdefault(document_key(document), Workspace()) if document is not None else Workspace()
        self.renders_changed.emit()

    def _workspace_for(self, document: Any) -> "Workspace":
        """`document`'s workspace, also when it is not the active one (a reply may arrive after the artist
        switched documents)."""
        if _same(document, self._document):
            return self._current
        return self._workspaces.setdefault(document_key(document), Workspace())

    @property
    def session(self) -> GuidanceSession:
        return self._current.session

    @session.setter
    def session(self, session: GuidanceSession) -> None:
        self._current.session = session

    @property
    def candidates(self) -> list[Candidate]:
        return self._current.candidates

    @candidates.setter
    def candidates(self, candidates: list[Candidate]) -> None:
        self._current.candidates = candidates

    def sketch_layer(self, document: Any) -> Any:
        """The layer chosen under Sketch, else ("Active layer") the paint layer the artist last drew on, apart
        from the hint layer, a photo layer and our own layers: making the hint layer (New) or a photo layer
        active never turns it into the sketch."""
        if self.sketch_id:
            node = canvas.find_node(document, self.sketch_id)
            if node is not None:
                return node
        active = self._active_paint_layer(document)
        if active is not None and not self._never_sketch(document, active):
            self.session.last_sketch_id = canvas.node_id(active)
            return active
        if self.session.last_sketch_id:
            node = canvas.find_node(document, self.session.last_sketch_id)
            if node is not None:
                return node
        layers = [n for n in canvas.paint_layers(document) if not self._never_sketch(document, n)]
        return layers[0] if layers else None  # the topmost (a new document's only layer is its Background)

    def _never_sketch(self, document: Any, node: Any) -> bool:
        """The hint layer and photo layers hold no sketch."""
        node_id = canvas.node_id(node)
        if node_id in {self.photo_id, self._last_photo_id}:
            return True
        hints = self.hints_layer(document)
        return node.name() == canvas.HINTS_LAYER or (hints is not None and canvas.node_id(hints) == node_id)

    def _active_paint_layer(self, document: Any) -> Any:
        active = document.activeNode()
        ours = {canvas.node_id(node) for node in self._our_nodes(document)}
        if active is not None and active.type() == "paintlayer" and canvas.node_id(active) not in ours:
            return active
        return None

    def photo_layer(self, document: Any) -> Any:
        if self.photo_id:
            node = canvas.find_node(document, self.photo_id)
            if node is not None:
                return node
        return self._active_paint_layer(document)

    def hints_layer(self, document: Any, create: bool = False) -> Any:
        if self.hints_id:
            node = canvas.find_node(document, self.hints_id)
            if node is not None:
                return node
        existing = next((n for n in canvas.paint_layers(document) if n.name() == canvas.HINTS_LAYER), None)
        if existing is None and create:
            existing = canvas.ensure_hints_layer(document, self.sketch_layer(document))
            self.changed.emit()
        return existing

    @guarded
    def create_hints_layer(self) -> None:
        document = self.document()
        if document is None:
            self._show_error("Open a document first.")
            return
        layer = self.hints_layer(document, create=True)
        self.hints_id = canvas.node_id(layer)
        self.changed.emit()

    @staticmethod
    def _our_nodes(document: Any) -> list:
        return [node for group in canvas.our_groups(document) for node in [group, *canvas.walk(group)]]

    # ------------------------------------------------------------------------------------------ guidance

    @guarded
    def _on_poll(self) -> None:
        if self._placing:  # a poll from inside Krita's nested event loop while a reply's layers go in
            return
        self._restore_active_layer()
        if not (self.settings.guidance_on and self.settings.auto_update and self.connection.connected):
            return
        document = self.document()
        sketch = self.sketch_layer(document) if document is not None else None
        if sketch is None:
            return
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:  # mid-stroke (mouse): not over yet
            self.session.detector.observe(("button down", time.monotonic()))
            return
        started = time.perf_counter()
        signature = (canvas.node_id(sketch), canvas.signature(sketch))
        cost_ms = (time.perf_counter() - started) * 1e3
        self._poll.setInterval(max(POLL_MS, min(1000, round(cost_ms / POLL_SHARE))))
        if signature != self.session.detector.settled:  # this poll is part of noticing a stroke not yet guided
            self.timings.polling_ms += cost_ms
        if self.session.detector.observe(signature):
            self._stroke_ended()

    @guarded
    def pen_lifted(self) -> None:
        """The artist lifted the pen off the canvas, or ran undo/redo (pen.py): a stroke may have ended,
        even one too small to change the thumbnail the poll looks at. The poll then counts as a change, and
        the update skips sending when the crop's pixels turn out unchanged."""
        self.pen_lifts += 1
        self._lifted_at = time.perf_counter()
        self.session.pen_lifted()
        if self._lift_until is None and self.settings.guidance_on and self.settings.auto_update:
            self._lift_until = time.monotonic() + LIFT_WAIT_S
            QTimer.singleShot(0, self._after_lift)

    @guarded
    def _after_lift(self) -> None:
        """The update a pen lift starts at once (no settling pause: the release already says the stroke is
        over), as soon as Krita has applied the stroke to the layer (its strokes queue is idle)."""
        if self._placing:  # not from inside a nested event loop while a reply's layers go in: a moment later
            QTimer.singleShot(LIFT_CHECK_MS, self._after_lift)
            return
        document = self.document()
        if document is None or not self.connection.connected:
            self._lift_until = None
            return
        if not canvas.is_idle(document) and time.monotonic() < (self._lift_until or 0.0):
            QTimer.singleShot(LIFT_CHECK_MS, self._after_lift)
            return
        self._lift_until = None
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            return  # the next stroke began already: its own lift will come
        sketch = self.sketch_layer(document)
        if sketch is None:
            return
        started = time.perf_counter()
        signature = (canvas.node_id(sketch), canvas.signature(sketch))
        self.session.detector.settled = self.session.detector.latest = signature  # the poll need not see it again
        self.timings.polling_ms += (time.perf_counter() - started) * 1e3
        self._stroke_ended()

    @guarded
    def request_guidance(self) -> None:
        """Ask for guidance now (a setting changed, or the Update button); newest wins while one is out."""
        self._guide_forced = True
        if self.session.guide_jobs.want("update") is not None:
            self._send_guide()

    def _stroke_ended(self) -> None:
        """Guidance after a stroke: like request_guidance, but nothing is sent if the sketch is unchanged.
        While a guide is out, the stroke is looked at now anyway (crop grown, pixels kept), one stroke at a
        time: the lines around the crop only tell about one stroke."""
        if self.session.guide_jobs.want("stroke") is not None:
            self._send_guide()
            return
        started = time.perf_counter()
        document = self.document()
        sketch = self.sketch_layer(document) if document is not None else None
        if sketch is None:
            return
        try:
            self.session.read(document, sketch)
        except CanvasError:
            return  # said by the send that follows
        self.timings.polling_ms += (time.perf_counter() - started) * 1e3  # part of noticing this stroke

    def _send_guide(self) -> None:
        started = time.perf_counter()
        forced, self._guide_forced = self._guide_forced, False
        try:
            document = self.document()
            if document is None:
                return
            sketch = self.sketch_layer(document)
            if sketch is None:
                raise CanvasError("There is no paint layer to read the sketch from.")
            crop, pixels = self.session.read(document, sketch, reuse=not forced)
            self.timings.read_ms = (time.perf_counter() - started) * 1e3
            if crop is not None and not forced and self.session.already_sent(sketch, crop, pixels):
                return
            if crop is None:  # an empty sketch: nothing to guide, and old guidance would mislead
                self._clear_guidance(document)
                return
            params = self.session.guide_params(crop, self.settings.mode, self.settings.faithfulness,
                                               self.pins.as_list(), (document.width(), document.height()))
            outgoing = _OutgoingGuide(document, self.session, Sent(canvas.node_id(sketch), crop, pixels), params,
                                      self.settings.mode, started, lifted=self._lifted_at)
            self._lifted_at = None
            bgra = canvas.as_bgra8(pixels, sketch)
            factor = send_factor(crop)
            if factor > 1:
                self._shrink_and_send(outgoing, bgra, factor)
                return
            self._dispatch_guide(outgoing, crop, protocol.Image("sketch", "bgra8", crop.w, crop.h, bgra))
        except (CanvasError, protocol.ProtocolError) as error:
            self._show_error(str(error))

    def _shrink_and_send(self, outgoing: "_OutgoingGuide", bgra: Any, factor: int) -> None:
        """A large crop: shrunk on the worker thread, sent when it is (_on_shrunk). The guide counts as out
        meanwhile, so strokes drawn in between wait as the newest wish, as they do for a guide in flight."""
        crop = outgoing.sent.crop
        box = aligned_box(crop, factor)
        token = f"shrinking {next(self._shrink_ids)}"
        outgoing.session.guide_jobs.sent(token)
        outgoing.token, outgoing.box = token, box
        self.busy["guide"] = "Updating guidance…"
        self.timings.send_ms = (time.perf_counter() - outgoing.started) * 1e3
        outgoing.handed_off = time.perf_counter()
        self._shrinker.submit(lambda: shrunk_sketch(bgra, crop, box, factor),
                              lambda future: self._shrunk.emit((outgoing, future)))

    @guarded
    def _on_shrunk(self, done: tuple) -> None:
        outgoing, future = done
        jobs = outgoing.session.guide_jobs
        if jobs.in_flight != outgoing.token:  # reset meanwhile (connection lost, another sketch layer)
            return
        try:
            self._dispatch_guide(outgoing, outgoing.box, future.result(), resumed=time.perf_counter())
        except Exception as error:  # noqa: BLE001 - the worker's failure (out of memory...) loses this update only
            self.busy.pop("guide", None)
            self._show_error(f"Could not send the sketch: {error}")
            if jobs.finished(outgoing.token) is not None and outgoing.session is self.session:
                self._send_guide()  # a stroke drawn meanwhile still gets its guidance

    def _dispatch_guide(self, outgoing: "_OutgoingGuide", box: Box, image: protocol.Image,
                        resumed: Optional[float] = None) -> None:
        """Send the guide request for `box` of the canvas (the crop, or its aligned part when shrunk). `resumed`:
        when the GUI thread took a shrunk crop back from the worker (its GUI-thread work resumed then)."""
        params = {**outgoing.params, "origin": [box.x, box.y]}
        if (image.width, image.height) != (box.w, box.h):
            params["extent"] = [box.w, box.h]
        request_id = self.connection.request("guide", params, [image])
        outgoing.session.sent = outgoing.sent
        outgoing.session.guide_jobs.sent(request_id)
        now = time.perf_counter()
        shrink_ms = (resumed - outgoing.handed_off) * 1e3 if resumed is not None else 0.0
        self._flights[request_id] = _Flight("guide", outgoing.document, box, now, outgoing.mode, shrink_ms=shrink_ms)
        self.busy["guide"] = "Updating guidance…"
        if resumed is None:  # sent straight from the GUI thread: all of it was GUI-thread work
            self.timings.send_ms = (now - outgoing.started) * 1e3
        else:  # the hand-off's share is already counted; the worker's time is not GUI-thread time
            self.timings.send_ms += (now - resumed) * 1e3
        lifted = outgoing.lifted
        self.timings.lift_wait_ms = (outgoing.started - lifted) * 1e3 if lifted is not None else None
        self.timings.detect_ms, self.timings.polling_ms = self.timings.polling_ms, 0.0
        self.timings.refresh_ms = self._emit_changed(self.guide_changed)
        self.stay_warm()

    @guarded
    def stay_warm(self) -> None:
        """Guidance may be written soon (the pen is down, a stroke ended, a guide is out): keep the active
        document's redraw layers warm until KEEP_WARM_S from now, so that Krita shows it at once (redraw.py)."""
        self._warm_until = time.monotonic() + KEEP_WARM_S
        if not self._warm.isActive() and self.settings.guidance_on:
            self._keep_warm()
            self._warm.start()

    @guarded
    def _keep_warm(self) -> None:
        started = time.perf_counter()
        document = self.krita.activeDocument()
        if time.monotonic() > self._warm_until or document is None or not self.settings.guidance_on:
            self._warm.stop()
            return
        group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
        if group is not None:
            canvas.warm(document, group, self._workspace_for(document).redraw_clock)
        self.timings.warm_ticks += 1
        self.timings.warm_ms += (time.perf_counter() - started) * 1e3

    @staticmethod
    def _emit_changed(signal: Any) -> float:
        """Tell the docker (it redraws what changed at once, on this thread); returns the milliseconds it took:
        after every stroke this is GUI-thread time too."""
        started = time.perf_counter()
        signal.emit()
        return (time.perf_counter() - started) * 1e3

    def _apply_guide(self, reply: protocol.Reply, flight: _Flight) -> None:
        document = flight.document
        session = self._workspace_for(document).session
        group, changed = canvas.write_guidance(document, self.sketch_layer(document), reply.layers, flight.origin,
                                               self._apply_group_look, remove_stale=flight.mode != session.guide_mode)
        session.guide_mode = flight.mode
        session.memory.remember(reply.result)
        if self._apply_group_look(group):
            changed = changed.union(canvas.content_box(group))
        self._redraw(document, group, changed)
        self.stay_warm()

    def _redraw(self, document: Any, group: Any, area: Box) -> None:
        """Show `area` of the guidance group as written; returns at once (Krita recomposites it in its threads)."""
        canvas.redraw(document, group, area, self._workspace_for(document).redraw_clock)

    def _clear_guidance(self, document: Any) -> None:
        self.session.guide_mode = ""
        group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
        if group is not None and canvas.guidance_layers(group):
            self._redraw(document, group, canvas.update_guidance(document, group, [], Box(0, 0, 0, 0)))
        self.session.memory = GuideMemory()

    def _apply_look_everywhere(self) -> None:
        """Show guidance and its opacity are the artist's settings, not one document's: the guidance group of
        every open document follows them at once (the active one may not be the one the artist looks at: a
        shortcut goes to whichever view Krita made active)."""
        for document in self.krita.documents():
            group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
            if group is not None and self._apply_group_look(group):
                self._redraw(document, group, canvas.content_box(group))

    def _apply_group_look(self, group: Any) -> bool:
        """The guidance group's opacity, visibility and lock as the settings say; returns whether the look
        changed (the caller redraws once for all its changes)."""
        changed = canvas.set_opacity(group, round(self.settings.opacity * 255 / 100))
        changed |= canvas.set_visible(group, self.settings.guidance_on)
        if not group.locked():
            group.setLocked(True)
        return changed

    # ------------------------------------------------------------------------------------------ renders

    @guarded
    def render(self) -> None:
        clicked = time.perf_counter()
        try:
            document = self.document()
            if document is None:
                raise CanvasError("Open a document first.")
            sketch = self.sketch_layer(document)
            if sketch is None:
                raise CanvasError("There is no paint layer to read the sketch from.")
            crop, pixels = self.session.read(document, sketch)
            if crop is None:
                raise CanvasError("The sketch layer is empty: draw a face first, then render it.")
            hints = self.hints_layer(document)
            hints_bgra = canvas.read_bgra8(hints, crop) \
                if hints is not None and not canvas.box_of(hints.bounds()).empty else None
            params, images = outputs.render_request(
                crop, canvas.as_bgra8(pixels, sketch), hints_bgra, self.settings.render_count,
                self.settings.render_mode, self.settings.style_seed, self.session.memory.state)
            request_id = self.connection.request("render", params, images)
        except (CanvasError, protocol.ProtocolError) as error:
            self._show_error(str(error))
            return
        for earlier, flight in list(self._flights.items()):  # a render still coming in: its rest is not wanted
            if flight.op == "render":
                self.connection.cancel(earlier)
        self._flights[request_id] = _Flight("render", document, crop, time.perf_counter(), clicked=clicked,
                                            count=self.settings.render_count)
        self.busy["render"] = f"Rendering {self.settings.render_count} candidates…"
        self.changed.emit()

    def _apply_render(self, reply: protocol.Reply, flight: _Flight, label: str = "Render") -> None:
        """A reply's candidates into the document: the first part places them (with empty candidates for the
        parts still to come, when the reply is progressive), a later part fills the next empty ones."""
        document = flight.document
        started = time.perf_counter()
        workspace = self._workspace_for(document)
        if flight.first_shown is None:
            later = max(0, flight.count - len(outputs.candidate_stacks(reply.layers))) if reply.more else 0
            stages: dict = {}
            placed, flight.empty = outputs.place_candidates(document, reply.layers, flight.origin,
                                                            self.sketch_layer(document), label, later, stages)
            flight.first_shown = time.perf_counter()
            self.timings.place_ms = (flight.first_shown - started) * 1e3
            flight.first = {"server_ms": float(reply.timing_ms.get("total", 0.0)), "arrived": flight.arrived,
                            "place_ms": self.timings.place_ms, "place_stages": stages}
            if placed:  # for a document the artist has since left, they wait for the artist's return
                workspace.candidates = placed
        else:
            placed = outputs.fill_candidates(document, reply.layers, flight.origin, flight.empty)
            self.timings.place_ms += (time.perf_counter() - started) * 1e3
            workspace.candidates = workspace.candidates + placed
        if reply.layers:
            flight.all_placed = time.perf_counter()
        if placed:
            self.renders_changed.emit()


    def _candidate_node(self, index: int) -> tuple[Any, Any, Any] | None:
        """(document, renders group, layer) of candidate `index`, or None (said in the docker) when it is gone."""
        document = self.document()
        group = canvas.find_group(document, canvas.RENDERS_GROUP) if document is not None else None
        node = canvas.find_node(document, self.candidates[index].node_id) if group is not None else None
        if node is None:
            self._show_error("That candidate is gone (deleted or undone): render again.")
            return None
        return document, group, node

    @guarded
    def choose_candidate(self, index: int) -> None:
        found = self._candidate_node(index)
        if found is None:
            return
        document, group, node = found
        canvas.choose(group, node)
        canvas.refresh(document)
        self.changed.emit()

    @guarded
    def keep_candidate(self, index: int) -> None:
        found = self._candidate_node(index)
        if found is None:
            return
        document, group, node = found
        canvas.keep(document, group, node)
        self.candidates = []
        self.renders_changed.emit()

    # ------------------------------------------------------------------------------------------ generation

    @guarded
    def generate(self, vary: str = "") -> None:
        """A new portrait from the attribute choices and the seed; `vary` is "", "seed" or "attributes"."""
        choices = dict(self.attributes)
        if vary == "seed":
            self.update_settings(generate_seed=next_seed(self.settings.generate_seed, self.settings.seed_locked,
                                                         lambda: random.getrandbits(31)))
        elif vary == "attributes":
            choices = vary_attributes(choices, self.vocabulary(), random.randrange)
        try:
            document = self.document()
            if document is None:
                raise CanvasError("Open a document first.")
            request_id = self.connection.request("generate", outputs.generate_params(choices, self.settings.generate_seed))
        except (CanvasError, protocol.ProtocolError) as error:
            self._show_error(str(error))
            return
        self._flights[request_id] = _Flight("generate", document,
                                            outputs.generation_square(document, self.session.region.region),
                                            time.perf_counter())
        self.busy["generate"] = "Generating a portrait…"
        self.changed.emit()

    def vocabulary(self) -> dict[str, list[str]]:
        offered = self.connection.state.server.get("attributes")
        return offered if isinstance(offered, dict) and offered else DEFAULT_ATTRIBUTES

    def _apply_generate(self, reply: protocol.Reply, flight: _Flight) -> None:
        document = flight.document
        fields = reply.result  # the op's result fields (protocol.OPS)
        layers = outputs.fit_to_square(reply.layers, fields.get("size"), flight.origin.w)
        session = self._workspace_for(document).session
        session.memory = GuideMemory()
        session.memory.remember(fields)
        noise = fields.get("noise")
        self.last_noise = noise if isinstance(noise, str) else None
        guides = [layer for layer in layers if layer.group in protocol.GROUPS]
        if guides:
            group, _ = canvas.write_guidance(document, self.sketch_layer(document), guides, flight.origin,
                                             self._apply_group_look)
            self._apply_group_look(group)
        self._apply_render(protocol.Reply(reply.id, reply.op, True, reply.result, layers), flight, "Portrait")

    # ------------------------------------------------------------------------------------------ photo

    @guarded
    def from_photo(self) -> None:
        """Anime portraits of the face in the photo layer, in the selection's square (else the layer's)."""
        self.photo_note = ""
        try:
            document = self.document()
            if document is None:
                raise CanvasError("Open a document first.")
            photo = self.photo_layer(document)
            if photo is None:
                raise CanvasError("Make the photo's layer the active layer (a paint layer), or choose it under From photo.")
            square, image, params = outputs.photo_request(document, photo, self.settings.render_count)
            request_id = self.connection.request("photo", params, [image])
        except (CanvasError, protocol.ProtocolError) as error:
            self._show_error(str(error))
            return
        self._last_photo_id = canvas.node_id(photo)
        self._flights[request_id] = _Flight("photo", document, square, time.perf_counter(), frame=image.width)
        self.busy["photo"] = "Looking for a face and drawing its portrait…"
        self.changed.emit()

    def _apply_photo(self, reply: protocol.Reply, flight: _Flight) -> None:
        """Like a generation: colour candidates in the renders group, the guidance group replaced. The state
        goes into the guidance memory for the photo's square, which becomes the guidance crop: strokes drawn
        over the portrait keep the pinned parts of the photo's face."""
        document = flight.document
        fields = reply.result  # the op's result fields (protocol.OPS)
        self.photo_note = photo_report(fields)
        layers = outputs.fit_to_square(reply.layers, flight.frame, flight.origin.w)
        session = self._workspace_for(document).session
        session.region.region = flight.origin
        session.memory = GuideMemory()
        session.memory.remember(fields)
        # The backend names the first portrait's guidance "Guidance: eyes 1"; guidance updates name it by part.
        guides = [dataclasses.replace(layer, name=f"Guidance: {layer.group}")
                  for layer in layers if layer.group in protocol.GROUPS]
        if guides:
            # A first portrait's group goes right above the photo (where the artist looks); an existing one stays.
            anchor = canvas.find_node(document, self._last_photo_id or "") or self.sketch_layer(document)
            group, _ = canvas.write_guidance(document, anchor, guides, flight.origin, self._apply_group_look)
            session.guide_mode = "rough"
            self._apply_group_look(group)
        self._apply_render(protocol.Reply(reply.id, reply.op, True, reply.result, layers), flight, "Portrait")

    # ------------------------------------------------------------------------------------------ replies

    @guarded
    def _on_reply(self, reply: protocol.Reply) -> None:
        waiting = self._flights.get(reply.id) if reply.id is not None else None
        if waiting is not None and waiting.arrived is None:
            waiting.arrived = time.perf_counter()
        queue = self._held.setdefault(reply.id, [])
        queue.append(reply)
        if len(queue) == 1:  # else an earlier part of the same reply waits: the parts go in in order
            self._handle_held(reply.id)

    @guarded
    def _handle_held(self, key: Optional[str]) -> None:
        """The replies held for one request id, in order, each once it can go in: not mid-stroke, and not while
        another reply is being placed (Krita runs nested event loops while we add layers)."""
        queue = self._held.get(key, [])
        while queue:
            reply = queue[0]
            waiting = self._flights.get(reply.id) if reply.id is not None else None
            if self._placing or (reply.ok and waiting is not None and not canvas.is_idle(waiting.document)):
                QTimer.singleShot(IDLE_RETRY_MS, lambda: self._handle_held(key))
                return
            queue.pop(0)
            self._handle_reply(reply)
        self._held.pop(key, None)

    @guarded
    def _handle_reply(self, reply: protocol.Reply) -> None:
        final = not reply.more  # a progressive reply's last part, or a reply in one piece
        flight = None if reply.id is None else self._flights.pop(reply.id, None) if final else self._flights.get(reply.id)
        op = flight.op if flight is not None else reply.op
        started = time.perf_counter()
        self._placing = True
        try:
            if not reply.ok:
                if op == "photo":
                    self.photo_note = ""
                if reply.error_code not in QUIET_CODES:
                    self._show_error(reply.error_message or reply.error_code or "the backend failed", emit=False)
            elif flight is not None and any(_same(flight.document, d) for d in self.krita.documents()):
                self.error = ""
                active = flight.document.activeNode()
                {"guide": self._apply_guide, "render": self._apply_render,
                 "generate": self._apply_generate, "photo": self._apply_photo}[flight.op](reply, flight)
                self._keep_active_layer(flight.document, active)
            if final and flight is not None and flight.empty:  # a reply that ended short: no empty candidates left
                canvas.remove_empty(flight.document, flight.empty)
        except CanvasError as error:
            self._show_error(str(error), emit=False)
        finally:
            self._placing = False
            # Busy until the results are placed: placing makes Krita run nested event loops (waitForDone), in
            # which a script or the docker must not see the op as done with its candidates not there yet.
            if op and final:
                self.busy.pop(op, None)
            elif op == "render" and flight is not None:
                self.busy[op] = f"Painting the other candidates ({len(self._workspace_for(flight.document).candidates)} " \
                                f"of {flight.count} in)…"
            if op == "guide":
                self._after_guide(reply, flight, started)
            elif op == "render" and reply.ok and flight is not None and final:
                self._after_render(reply, flight)
            refresh_ms = self._emit_changed(self.guide_changed if op == "guide" else self.changed)
            if op == "guide" and reply.ok and flight is not None and self.timings.history:
                self.timings.history[-1]["refresh_ms"] += round(refresh_ms, 2)

    def _after_render(self, reply: protocol.Reply, flight: _Flight) -> None:
        """Where the wait went, from the artist's click to the first candidate shown in the document (what they
        feel), and to the last candidate placed. A progressive reply's first part has its own backend time and
        transit; the rest is the backend painting the others while the first is shown."""
        clicked = flight.clicked if flight.clicked is not None else flight.started
        first_shown = flight.first_shown if flight.first_shown is not None else time.perf_counter()
        all_placed = flight.all_placed if flight.all_placed is not None else first_shown
        server_first = float(flight.first.get("server_ms", 0.0))
        arrived = flight.first.get("arrived") or flight.started

        def since_click(at: float) -> float:
            return round((at - clicked) * 1e3, 1)

        self.timings.render = {"click_to_first_shown_ms": since_click(first_shown),
                               "click_to_placed_ms": since_click(all_placed),
                               "read_and_send_ms": since_click(flight.started),
                               "server_first_ms": round(server_first, 1),
                               "transit_first_ms": round((arrived - flight.started) * 1e3 - server_first, 1),
                               "place_first_ms": round(flight.first.get("place_ms", 0.0), 1),
                               "place_first_stages": flight.first.get("place_stages", {}),
                               "place_ms": round(self.timings.place_ms, 1),
                               "server_ms": round(float(reply.timing_ms.get("total", 0.0)), 1),
                               "candidates": len(self._workspace_for(flight.document).candidates),
                               "backend_stages": {k: round(float(v), 1) for k, v in reply.timing_ms.items() if k != "total"}}

    def _keep_active_layer(self, document: Any, active: Any) -> None:
        """Krita activates each layer added through the API, a moment later (queued signals, later still
        under load): for a short while, whenever one of our layers becomes active, the artist's layer is
        put back, so that their next stroke lands where they expect. A layer of their own that they pick
        is left alone."""
        if active is None:
            return
        if self._is_ours(document, active):  # Krita already moved it to one of ours: keep the earlier target
            if self._restore is None:
                return
            active = self._restore[1]
        self._restore = (document, active, time.monotonic() + RESTORE_ACTIVE_S)
        QTimer.singleShot(0, self._restore_active_layer)

    def _is_ours(self, document: Any, node: Any) -> bool:
        return canvas.node_id(node) in {canvas.node_id(n) for n in self._our_nodes(document)}

    def _restore_active_layer(self) -> None:
        if self._restore is None:
            return
        document, wanted, until = self._restore
        if time.monotonic() > until:
            self._restore = None
            return
        active = document.activeNode()
        if active is None or active == wanted:
            return
        if self._is_ours(document, active) and canvas.find_node(document, canvas.node_id(wanted)) is not None:
            document.setActiveNode(wanted)

    def _after_guide(self, reply: protocol.Reply, flight: Optional[_Flight], started: float) -> None:
        if reply.ok and flight is not None:
            self.timings.apply_ms = (time.perf_counter() - started) * 1e3
            server_ms = float(reply.timing_ms.get("total", 0.0))  # arrival to reply; the stages are parts of it
            arrived = flight.arrived if flight.arrived is not None else started
            self.timings.history.append(self.timings.update_figures(
                flight.origin.w, server_ms, transit_ms=(arrived - flight.started) * 1e3 - server_ms,
                held_ms=(started - arrived) * 1e3,
                backend_stages={k: round(float(v), 1) for k, v in reply.timing_ms.items() if k != "total"},
                shrink_ms=flight.shrink_ms))
            del self.timings.history[:-200]
        session = self._workspace_for(flight.document).session if flight is not None else self.session
        if reply.id is not None and session.guide_jobs.finished(reply.id) is not None and session is self.session:
            self._send_guide()

    @guarded
    def _on_status(self) -> None:
        if not self.connection.connected:
            self.session.guide_jobs.reset()
            self.busy.clear()
        else:
            self.session.forget_sketch()  # (re)connected: refresh the guidance for what is on the canvas now
        self.changed.emit()

    def _show_error(self, message: str, emit: bool = True) -> None:
        self.error = message
        if emit:
            self.changed.emit()


@dataclass
class Workspace:
    """What the docker keeps for one open document."""

    session: GuidanceSession = field(default_factory=GuidanceSession)
    candidates: list[Candidate] = field(default_factory=list)
    redraw_clock: RedrawClock = field(default_factory=RedrawClock)  # its guidance group's redraw layers


def _rounded(ms: Optional[float]) -> Optional[float]:
    return None if ms is None else round(ms, 1)


def document_key(document: Any) -> str:
    """A document's identity across Krita's wrappers: its root node's id ("" once the document is closed)."""
    root = document.rootNode()
    return canvas.node_id(root) if root is not None else ""


def _same(a: Any, b: Any) -> bool:
    """Krita returns a new wrapper for a document on every call; == compares the documents themselves."""
    return a is b or (a is not None and b is not None and a == b)
