"""E2E scenario, run INSIDE the real Krita by the test driver (tests/krita_harness.py).

An artist's session: a sketch appears stroke by stroke (frames made by the drawing simulator), guidance
follows, a part is pinned, colour hints are dabbed and rendered, a portrait is generated, a photo layer is turned into portraits, the backend is
killed and restarted, and a 2048x2048 canvas measures the GUI-thread time per update. Everything observed
goes into t.result; the pytest side (tests/test_e2e_krita.py) asserts on it.

Inputs (environment): ANISKETCH_FRAMES (a folder of frame_NN.png, hints.png, big_NN.png, photo.png, frames.json),
ANISKETCH_SERVE_PID and ANISKETCH_SERVE_CMD (JSON list) for the kill/restart step.
"""

import hashlib
import json
import os
import signal
import subprocess
import time

FRAMES = os.environ["ANISKETCH_FRAMES"]
UPDATE_TIMEOUT = float(os.environ.get("ANISKETCH_UPDATE_TIMEOUT", "60"))


def digest(data):
    return hashlib.sha1(bytes(data)).hexdigest()[:16]


def scenario(t):
    import anisketch_krita.docker as docker_module
    from anisketch_krita import canvas
    from anisketch_krita.state import Status

    krita = t.krita
    info = json.load(open(os.path.join(FRAMES, "frames.json")))
    width, height = info["width"], info["height"]
    document = krita.createDocument(width, height, "AniSketch e2e", "RGBA", "U8", "", 300.0)
    window = krita.activeWindow()
    window.addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    yield from t.activate(document, sketch)
    yield t.until(lambda: bool(docker_module.OPEN_DOCKERS), 20, "the AniSketch docker")
    docker = docker_module.OPEN_DOCKERS[0]
    controller = docker.controller
    _tidy_window(t, krita)
    t.result["docker_visible"] = docker.isVisible()
    yield t.until(lambda: controller.connection.connected, 60, "the docker to connect")
    t.result["connected_status"] = docker.status_label.text()
    replies = t.result["replies"] = []  # every reply the docker got: op, ok, error, layer names, backend ms
    controller.connection.replied.connect(lambda r: replies.append(
        [r.op, r.ok, r.error_code, (r.error_message or "")[:200], [layer.name for layer in r.layers],
         round(r.timing_ms["total"], 1) if "total" in r.timing_ms else None]))

    # Every time the plugin asks Krita for the sketch's exact bounds (Node.bounds, recomputed after each
    # stroke: 20-75 ms on a 2048 px layer), counted and timed, to show which updates still do.
    bounds_calls = []
    exact_bounds = canvas.sketch_bounds

    def counted_bounds(doc, node):
        started = time.perf_counter()
        try:
            return exact_bounds(doc, node)
        finally:
            bounds_calls.append(round((time.perf_counter() - started) * 1e3, 2))

    canvas.sketch_bounds = counted_bounds

    def guidance_nodes():
        group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
        return {n.name(): n for n in canvas.guidance_layers(group)} if group is not None else {}

    def undo_settled():
        """Until the undo history reads the same twice in a row: Krita files an update's commands (the first
        update's shape) a few event-loop turns after it, later on a busy machine."""
        seen, deadline = None, time.monotonic() + 3.0
        while time.monotonic() < deadline:
            now = _undo_text(krita)
            if now == seen:
                return
            seen = now
            yield 0.15

    def wait_for_update(count_before):
        return t.until(lambda: len(controller.timings.history) > count_before and not controller.session.guide_jobs.busy,
                       UPDATE_TIMEOUT, "a guidance update")

    # --- stroke by stroke -------------------------------------------------------------------------------
    strokes = []
    frames = info["frames"]
    for index, name in enumerate(frames):
        data, w, h = t.load_png(os.path.join(FRAMES, name))
        before, asked = len(controller.timings.history), len(bounds_calls)
        sketch.setPixelData(data, 0, 0, w, h)  # as if the artist had just lifted the pen
        document.refreshProjection()
        yield wait_for_update(before)
        yield from undo_settled()
        nodes = guidance_nodes()
        strokes.append({
            "frame": name, "layers": sorted(nodes),
            "bounds": {k: canvas._rect_tuple(n.bounds()) for k, n in nodes.items()},
            "digests": {k: digest(n.pixelData(0, 0, width, height)) for k, n in nodes.items()},
            "error": controller.error, "timing": controller.timings.history[-1],
            "undo": _undo_text(krita),  # guidance updates must not add undo entries
            "bounds_ms": bounds_calls[asked:], "region": list(vars(controller.session.region.region).values()),
        })
        if index == len(frames) - 3:  # pin the eyes now; the last strokes must leave them exactly as they are
            controller.set_pin("eyes", True)
            t.result["pinned_at"] = name
    t.result["strokes"] = strokes
    t.result["active_layer_after_guidance"] = document.activeNode().name()
    group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    t.result["guidance_group"] = {"locked": group.locked(), "opacity": group.opacity(), "visible": group.visible(),
                                  "above_sketch": _index(group) > _index(sketch)} if group else None
    t.result["region"] = list(vars(controller.session.region.region).values()) if controller.session.region.region else None
    yield from _fit_canvas(t, krita)
    t.screenshot("docker_guidance.png")
    t.save_layer(document, sketch, "layer_sketch.png")
    for name, node in guidance_nodes().items():
        t.save_layer(document, node, "layer_" + name.replace(":", "").replace(" ", "_") + ".png")
    final_frame, _, _ = t.load_png(os.path.join(FRAMES, frames[-1]))
    t.result["sketch_unchanged"] = bytes(sketch.pixelData(0, 0, width, height)) == final_frame

    # --- the toggle action -------------------------------------------------------------------------------
    action = krita.action("anisketch_toggle_guidance")
    t.result["action_exists"] = action is not None
    if action is not None:
        action.trigger()
        t.result["hidden_by_action"] = not group.visible()
        action.trigger()
        t.result["shown_by_action"] = group.visible()

    # --- colour hints and a render -----------------------------------------------------------------------
    controller.create_hints_layer()
    hints = document.nodeByName(canvas.HINTS_LAYER)
    data, w, h = t.load_png(os.path.join(FRAMES, "hints.png"))
    hints.setPixelData(data, 0, 0, w, h)
    document.refreshProjection()
    controller.update_settings(render_count=3)
    controller.render()
    yield t.until(lambda: any(r[0] == "render" for r in replies) and "render" not in controller.busy, 180,
                  "render candidates")
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    t.result["render"] = {"error": controller.error, "candidates": [c.name for c in controller.candidates],
                          "layers": [n.name() for n in renders.childNodes()] if renders else [],
                          "visible": [n.visible() for n in renders.childNodes()] if renders else []}
    if controller.candidates:
        docker.candidate_list.setCurrentRow(1)  # the artist clicks the second thumbnail
        yield 0.3
        t.result["render"]["visible_after_choice"] = [n.visible() for n in renders.childNodes()]
        yield 1.0
        t.result["render"]["active_layer"] = document.activeNode().name()
        # the colour stack as Krita holds it: where the renders group lies, each candidate's layers and modes
        t.result["render"]["stack"] = [n.name() for n in sketch.parentNode().childNodes()]  # bottom to top
        t.result["render"]["candidate_layers"] = [[(c.name(), c.blendingMode(), c.visible()) for c in n.childNodes()]
                                                  for n in renders.childNodes()]
        # the hints dab the background: each candidate's flats run on over the whole canvas, past the crop
        t.result["render"]["flats_bounds"] = [canvas._rect_tuple(n.childNodes()[0].bounds())
                                              for n in renders.childNodes()]
        t.result["render"]["canvas"] = [document.width(), document.height()]
        renders.setCollapsed(False)  # open the chosen candidate in the Layers docker, for the screenshot
        renders.childNodes()[1].setCollapsed(False)
        yield 0.5
        t.screenshot("docker_render.png")
        t.save_layer(document, renders.childNodes()[1], "layer_render_2.png")
        yield from _layer_stack_screenshot(t, krita, document, canvas)
    t.result["sketch_unchanged_after_render"] = bytes(sketch.pixelData(0, 0, width, height)) == final_frame

    # --- generation --------------------------------------------------------------------------------------
    controller.attributes = {"hair_color": "pink", "hair_style": "twin_tail"}
    error_before = controller.error
    controller.error = ""
    controller.generate()
    busy_after_request = dict(controller.busy)
    yield t.until(lambda: any(r[0] == "generate" for r in replies) and "generate" not in controller.busy, 180,
                  "a generated portrait")
    t.result["generate"] = {"error": controller.error, "noise": controller.last_noise, "busy": busy_after_request,
                            "candidates": [c.name for c in controller.candidates]}
    controller.error = error_before
    if controller.candidates and controller.candidates[0].name.startswith("Portrait"):
        t.screenshot("docker_generate.png")

    # --- From photo: a real photograph on a layer of its own becomes portrait layers; the photo stays as it is ---
    yield t.until(lambda: not controller._flights, 60, "the backend to finish")
    photo_x, photo_y = info["photo_at"]
    data, w, h = t.load_png(os.path.join(FRAMES, "photo.png"))
    photo = document.createNode("Photo", "paintlayer")
    document.rootNode().addChildNode(photo, None)
    photo.setPixelData(data, photo_x, photo_y, w, h)
    document.refreshProjection()
    photo_before = digest(photo.pixelData(0, 0, width, height))
    error_before, controller.error = controller.error, ""
    # The artist picks "Photo" in the From photo list (Krita activates layers a moment after setActiveNode, and
    # an active photo would meanwhile be guided as a sketch: choosing it keeps it out of the guidance at once).
    docker._refresh_layer_lists()
    row = docker.photo_combo.findData(canvas.node_id(photo))
    docker.photo_combo.setCurrentIndex(row)
    docker.photo_combo.activated.emit(row)
    chosen = controller.photo_layer(document).name()
    started = time.monotonic()
    docker.photo_button.click()
    busy_after_request = dict(controller.busy)
    yield t.until(lambda: any(r[0] == "photo" for r in replies) and "photo" not in controller.busy, 120,
                  "the portraits of the photo")
    photo_s = time.monotonic() - started
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    t.result["photo"] = {
        "chosen": chosen, "error": controller.error, "note": controller.photo_note, "busy": busy_after_request,
        "seconds": round(photo_s, 2), "candidates": [c.name for c in controller.candidates],
        "renders": {n.name(): canvas._rect_tuple(n.bounds()) for n in renders.childNodes()} if renders else {},
        "guidance": {k: canvas._rect_tuple(n.bounds()) for k, n in guidance_nodes().items()},
        "state": bool(controller.session.memory.state), "region": list(vars(controller.session.region.region).values()),
        "photo_unchanged": digest(photo.pixelData(0, 0, width, height)) == photo_before,
        "photo_shown_in_docker": docker.photo_label.text(),
    }
    controller.error = error_before or controller.error
    if renders is not None and renders.childNodes():
        t.save_layer(document, renders.childNodes()[0], "layer_photo_portrait_1.png")
        t.screenshot("docker_photo.png")

    # --- a real stroke with the mouse (xdotool): the stroke's end is noticed, nothing is written mid-stroke ---
    yield t.until(lambda: not controller._flights, 60, "the backend to finish")
    yield from t.activate(document, sketch)  # the artist clicks their sketch layer again (the hint layer was active)
    yield 0.5
    active_before_stroke = document.activeNode().name()
    layer_digests = {n.name(): digest(n.pixelData(0, 0, width, height)) for n in canvas.paint_layers(document)}
    sketch_before = digest(sketch.pixelData(0, 0, width, height))
    before, lifts_before, asked = len(controller.timings.history), controller.pen_lifts, len(bounds_calls)
    events_before, stroke_started = controller._pen.events_seen, time.perf_counter()
    moves = []
    for i in range(12):  # a short arc over the middle of the view, drawn over about a second
        moves += ["mousemove", str(560 + 12 * i), str(600 + (i * i) // 3), "sleep", "0.08"]
    pen = subprocess.Popen(["xdotool", "mousemove", "560", "600", "mousedown", "1", *moves, "mouseup", "1"])
    busy_seen = []
    while pen.poll() is None:
        busy_seen.append(not canvas.is_idle(document))
        yield 0.03
    events_per_s = (controller._pen.events_seen - events_before) / (time.perf_counter() - stroke_started)
    yield wait_for_update(before)
    t.result["real_stroke"] = {"events_per_s": round(events_per_s),"xdotool_exit": pen.returncode, "sketch_changed":
                               digest(sketch.pixelData(0, 0, width, height)) != sketch_before,
                               "stroke_seen_running": any(busy_seen), "updates": len(controller.timings.history) - before,
                               "pen_lifts": controller.pen_lifts - lifts_before, "bounds_ms": bounds_calls[asked:],
                               "timing": controller.timings.history[-1],
                               "active_before": active_before_stroke,
                               "layers_changed": [n.name() for n in canvas.paint_layers(document)
                                                  if layer_digests.get(n.name()) != digest(n.pixelData(0, 0, width, height))]}

    # --- the backend dies and comes back -------------------------------------------------------------------
    pid = int(os.environ.get("ANISKETCH_SERVE_PID", "0"))
    if pid:
        os.kill(pid, signal.SIGKILL)
        yield t.until(lambda: controller.connection.state.status is Status.DISCONNECTED, 20, "noticing the loss")
        t.result["disconnected_status"] = docker.status_label.text()
        command = json.loads(os.environ["ANISKETCH_SERVE_CMD"])
        log = open(os.path.join(t.out, "serve-restarted.log"), "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        t.result["restarted_pid"] = process.pid
        yield t.until(lambda: controller.connection.connected, 60, "the reconnection")
        t.result["reconnected_status"] = docker.status_label.text()
        before = len(controller.timings.history)
        controller.request_guidance()
        yield wait_for_update(before)
        t.result["guidance_after_reconnect"] = controller.error == "" and bool(guidance_nodes())

    # --- GUI-thread time per update on a 2048 x 2048 canvas -------------------------------------------------
    big = krita.createDocument(2048, 2048, "AniSketch 2048", "RGBA", "U8", "", 300.0)
    window.addView(big)
    big_sketch = big.createNode("Sketch", "paintlayer")
    big.rootNode().addChildNode(big_sketch, None)
    yield from t.activate(big, big_sketch)
    yield 1.0
    samples = []
    for index, name in enumerate(info["big_frames"]):
        data, w, h = t.load_png(os.path.join(FRAMES, name))
        # The next strokes of the drawing (the frames grow), ended as the artist's pen ends one: the release on
        # the canvas reaches Controller.pen_lifted (pen.py's event filter; the real mouse stroke above checks
        # that path). New strokes change the guidance (a tiny dab may rightly leave it as it is: hold-still).
        rows = [32 + k * 248 for k in range(8)]  # eight rows across the image: enough to see the guidance arrive
        shown_before = [bytes(big.pixelData(0, y, 2048, 1)) for y in rows]
        asked = len(bounds_calls)
        before = len(controller.timings.history)
        big_sketch.setPixelData(data, 0, 0, w, h)
        big.refreshProjection()  # the artist's stroke is on screen (Krita shows its own strokes)
        controller.pen_lifted()
        yield wait_for_update(before)
        if index == 0:
            continue  # the first look at a new canvas measures the sketch's bounds (no crop yet)
        noticed = time.perf_counter()
        timeline = []  # (ms after the update was noticed, the rows Krita shows then)
        while time.perf_counter() - noticed < 1.5:
            timeline.append(((time.perf_counter() - noticed) * 1e3, [bytes(big.pixelData(0, y, 2048, 1)) for y in rows]))
            yield 0.02
        big.waitForDone()
        shown = digest(big.pixelData(0, 0, 2048, 2048))
        big.refreshProjection()  # what a full recomposite shows: the guidance must already be on screen
        full = [bytes(big.pixelData(0, y, 2048, 1)) for y in rows]
        shown_after_ms = next((ms for ms, seen in timeline if seen == full), None)
        figures = controller.timings.history[-1]
        started = time.perf_counter()
        big_sketch.bounds()  # what the old fingerprint asked after each stroke: Krita has not computed it since
        unused_bounds_ms = (time.perf_counter() - started) * 1e3
        samples.append({**figures, "bounds_calls_ms": bounds_calls[asked:], "unused_bounds_ms": round(unused_bounds_ms, 2),
                        "layers": sorted(n.name() for n in canvas.guidance_layers(canvas.find_group(big, canvas.GUIDANCE_GROUP))),
                        "shown_matches_full_recomposite": shown == digest(big.pixelData(0, 0, 2048, 2048)),
                        "rows_changed": sum(a != b for a, b in zip(shown_before, full)),
                        "shown_after_ms": None if shown_after_ms is None else round(shown_after_ms),
                        "undo": _undo_text(krita)})
    t.result["big_canvas"] = samples

    # --- a 2 px dab (the thumbnail the poll looks at may not change), then a click that paints nothing ----------
    before, asked = len(controller.timings.history), len(bounds_calls)
    thumbnail_before = canvas.signature(big_sketch)
    big_sketch.setPixelData(b"\x20\x20\x20\xff" * 4, 1501, 1501, 2, 2)
    big.refreshProjection()
    thumbnail_changed = canvas.signature(big_sketch) != thumbnail_before
    controller.pen_lifted()
    yield from _wait(lambda: len(controller.timings.history) > before and not controller.session.guide_jobs.busy, 30)
    t.result["tiny_stroke"] = {"updates": len(controller.timings.history) - before, "thumbnail_changed": thumbnail_changed,
                               "timing": controller.timings.history[-1], "bounds_ms": bounds_calls[asked:]}
    before, asked = len(controller.timings.history), len(bounds_calls)
    controller.pen_lifted()  # a click on the canvas that changed nothing (a pan, a selection click)
    yield 1.5  # a guide sent would have been answered by now (the backend takes 0.2-0.7 s here)
    t.result["click_without_change"] = {"updates": len(controller.timings.history) - before,
                                        "in_flight": controller.session.guide_jobs.busy, "bounds_ms": bounds_calls[asked:]}
    for doc in krita.documents():
        doc.setModified(False)


def _wait(predicate, seconds):
    """Wait until `predicate` holds or `seconds` pass, without failing the scenario (the test asserts)."""
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        yield 0.05


def _undo_text(krita):
    """The undo history's length and top entry, read from Krita's History docker (its list view)."""
    try:
        from PyQt5.QtWidgets import QAbstractItemView
    except ImportError:
        from PyQt6.QtWidgets import QAbstractItemView
    action = krita.action("edit_undo")
    for dock in krita.dockers():
        if dock.objectName() == "History":
            views = dock.findChildren(QAbstractItemView)
            if views and views[0].model() is not None:
                return [views[0].model().rowCount(), action.text() if action is not None else None]
    return [None, action.text() if action is not None else None]


def _index(node):
    parent = node.parentNode()
    return [n.uniqueId().toString() for n in parent.childNodes()].index(node.uniqueId().toString())


def _layer_stack_screenshot(t, krita, document, canvas):
    """The layer stack after a render, for the README: the Layers docker made tall enough to show it all (the
    guidance group folded), then put back as it was."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QDockWidget

    layers = next((dock for dock in krita.dockers() if dock.objectName() == "KisLayerBox"), None)
    guidance = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    if layers is None or not isinstance(layers, QDockWidget):
        return
    if guidance is not None:
        guidance.setCollapsed(True)
    window = krita.activeWindow().qwindow()
    height = layers.height()
    window.resizeDocks([layers], [620], Qt.Vertical)
    yield 0.8
    t.screenshot("render_layer_stack.png")
    window.resizeDocks([layers], [height], Qt.Vertical)
    if guidance is not None:
        guidance.setCollapsed(False)
    yield 0.3


def _tidy_window(t, krita):
    """Room for the docker in screenshots: hide the big default dockers, fit the canvas in the view."""
    for dock in krita.dockers():
        if dock.objectName() in ("ColorSelectorNg", "PresetDocker", "sharedtooldocker"):
            dock.hide()
        if dock.objectName() == "anisketch_docker":
            dock.show()
            dock.raise_()

def _fit_canvas(t, krita):
    """The view was laid out before the window got its size (no window manager): refit, then zoom out a bit."""
    action = krita.action("toggle_zoom_to_fit")
    if action is not None:
        action.trigger()
        yield 0.3
        action.trigger()
        yield 0.3
    view = krita.activeWindow().activeView()
    if view is not None:
        view.canvas().setZoomLevel(0.55)
        yield 2.5  # Krita's "Zoom: 55 %" message fades
