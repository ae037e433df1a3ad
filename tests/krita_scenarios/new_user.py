"""E2E scenario, run INSIDE the real Krita: a new user's first session, drawn with the real mouse (xdotool).

A 3000x2000 canvas, the face drawn off-centre. Run 1: straight on the Background layer (a new document's
only layer), black ink. Run 2: on a new layer, in blue. Then New (hint layer), pink dabs, Render; a pin kept
across a stroke that grows the crop; the shortcut; run 3: a bust filling a small canvas, its shoulders drawn to
its bottom edge; the backend the docker started is killed and comes back.
The docker starts the backend itself here (start_backend=true); the pytest side checks it is gone after
Krita quits. Everything observed goes into t.result (tests/test_e2e_new_user.py asserts and prints).
"""

import hashlib
import subprocess
import time

W, H = 3000, 2000
FACE = (2000, 650, 420)  # centre x, centre y, radius on the canvas: right of centre, above the middle
BLUE = (30, 90, 220)


def digest(data):
    return hashlib.sha1(bytes(data)).hexdigest()[:16]


def scenario(t):
    import anisketch_krita.docker as docker_module
    from anisketch_krita import canvas
    from anisketch_krita.shortcut import TOGGLE_ACTION

    krita = t.krita
    yield t.until(lambda: bool(docker_module.OPEN_DOCKERS), 30, "the AniSketch docker")
    docker = docker_module.OPEN_DOCKERS[0]
    controller = docker.controller
    statuses = t.result["statuses"] = []
    controller.connection.status_changed.connect(lambda: statuses.append(docker.status_label.text()
                                                                         or controller.connection.state.describe()))
    requests = []  # (op, params, image sizes or digests) of every request the docker sends
    send = controller.connection.request
    # Hashing a large crop takes the GUI thread 6-12 ms: only the requests whose pixels the test checks (from
    # the hint layer on) are hashed, so the timed strokes before them measure the docker, not the test.
    hashing = []

    def recording(op, params, images=()):
        requests.append((op, {k: v for k, v in params.items() if k != "state"}, bool(params.get("state")),
                         {i.name: (i.width, i.height, digest(i.data) if hashing else None) for i in images}))
        return send(op, params, images)

    controller.connection.request = recording
    lifts, applied = [], []
    controller_after = controller._after_guide

    def after_guide(reply, flight, started):
        controller_after(reply, flight, started)
        if reply.ok and flight is not None:
            applied.append(time.perf_counter())

    controller._after_guide = after_guide  # the instance attribute wins over the method
    yield t.until(lambda: controller.connection.connected, 120, "the backend the docker starts")
    launched = controller.connection.launcher
    t.result["started_backend_pid"] = launched.process.pid if launched is not None and launched.process else None
    controller._pen.lifted.connect(lambda: lifts.append(time.perf_counter()))

    # --- run 1: the Background layer --------------------------------------------------------------------
    document = krita.createDocument(W, H, "New user", "RGBA", "U8", "", 72.0)
    window = krita.activeWindow()
    window.addView(document)
    background = document.nodeByName("Background")
    yield from t.activate(document, background)
    yield from _fit(t, krita)
    controller.request_guidance()  # the artist clicks Update before drawing anything
    yield 1.0
    docker._refresh_layer_lists()
    t.result["background"] = {"error_before_drawing": controller.error,
                              "requests_before_drawing": len(requests),
                              "reads": docker.sketch_combo.itemText(0)}
    t.screenshot("new_user_fitted.png")
    t.result["background"]["strokes"] = yield from _draw_face(t, krita, controller, lifts, applied)
    t.result["background"]["layer_bounds"] = canvas_bounds(document)
    t.result["background"].update(_guidance_state(controller, document, canvas))
    t.screenshot("new_user_background.png")
    # Render on the Background layer: nothing beneath it would show, so the colour multiplies right above it.
    background_bytes = digest(background.pixelData(0, 0, W, H))
    controller.update_settings(render_count=1)
    sent_before = len(requests)
    controller.render()
    yield t.until(lambda: "render" not in controller.busy and len(requests) > sent_before, 240, "a render")
    t.result["background"]["render"] = {
        "error": controller.error, "candidates": len(controller.candidates),
        "stack": [(n.name(), n.blendingMode()) for n in document.rootNode().childNodes()],  # bottom to top
        "background_unchanged": digest(background.pixelData(0, 0, W, H)) == background_bytes}
    t.screenshot("new_user_background_render.png")
    controller.update_settings(render_count=4)

    # --- run 2: a new layer, blue ink ---------------------------------------------------------------------
    document = krita.createDocument(W, H, "New user 2", "RGBA", "U8", "", 72.0)
    window.addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    yield from t.activate(document, sketch)
    yield from _fit(t, krita)
    _set_colour(krita, BLUE)
    strokes = yield from _draw_face(t, krita, controller, lifts, applied)
    docker._refresh_layer_lists()
    t.result["blue"] = {"strokes": strokes, "reads": docker.sketch_combo.itemText(0),
                        **_guidance_state(controller, document, canvas)}

    # --- a pin kept across a stroke that grows the crop ------------------------------------------------------
    docker.pin_buttons["eyes"].click()
    crop_before = controller.session.region.region
    sent_before = len(requests)
    yield from _stroke(t, krita, [(FACE[0] - 900 + 20 * i, FACE[1] + 700 + 8 * i) for i in range(10)], controller, lifts)
    yield t.until(lambda: len(requests) > sent_before and not controller.session.guide_jobs.busy, 60, "the guide")
    grown = controller.session.region.region
    guide = [r for r in requests[sent_before:] if r[0] == "guide"][-1]
    t.result["pins"] = {"crop_before": list(vars(crop_before).values()), "crop_after": list(vars(grown).values()),
                        "pins_sent": guide[1].get("pins"), "state_sent": guide[2], "origin": guide[1].get("origin"),
                        "pinned": sorted(controller.pins.parts), "button_checked": docker.pin_buttons["eyes"].isChecked(),
                        "error": controller.error}

    # --- New hint layer, dabs, Render ----------------------------------------------------------------------
    sketch_bytes = digest(sketch.pixelData(0, 0, W, H))
    hashing.append(True)
    controller.create_hints_layer()
    yield 1.0  # Krita makes the new layer active a moment later
    hints = document.nodeByName(canvas.HINTS_LAYER)
    _set_colour(krita, (245, 120, 170))
    sent_before = len(requests)
    for dx, dy in ((-120, -60), (120, -60), (0, 150)):
        x, y = FACE[0] + dx, FACE[1] + dy
        yield from _stroke(t, krita, [(x, y), (x + 15, y + 5), (x + 30, y)], controller, lifts)
    yield 1.5
    docker._refresh_layer_lists()
    crop = controller.session.region.region
    t.result["hints"] = {"active": document.activeNode().name(), "hint_layer_has_dabs": not canvas.box_of(hints.bounds()).empty,
                         "sketch_read": controller.sketch_layer(document).name(), "reads": docker.sketch_combo.itemText(0),
                         "guides_after_dabs": [r[3].get("sketch") for r in requests[sent_before:] if r[0] == "guide"]}
    expected = digest(sketch.pixelData(crop.x, crop.y, crop.w, crop.h))
    t.result["hints"]["sketch_crop_digest"] = [crop.w, crop.h, expected]
    sent_before = len(requests)
    first_image = []  # Krita's image over the crop right after the first candidate went in (others still coming)
    apply_render = controller._apply_render

    def applying(reply, flight, label="Render"):
        apply_render(reply, flight, label)
        if not first_image:
            first_image.append((_image_rows(document, crop), len(controller.candidates), reply.more))

    controller._apply_render = applying  # the instance attribute wins over the method
    controller.render()
    yield t.until(lambda: "render" not in controller.busy and len(requests) > sent_before, 240, "the render")
    yield from _wait(lambda: bool(controller.candidates), 5)
    del controller._apply_render
    document.refreshProjection()
    render = [r for r in requests[sent_before:] if r[0] == "render"][-1]
    stack = [n.name() for n in document.rootNode().childNodes()]  # bottom to top
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    t.result["render"] = {"sketch_image": render[3].get("sketch"), "hints_image": bool(render[3].get("hints")),
                          "expected_sketch": [crop.w, crop.h, expected], "error": controller.error,
                          "candidates": [c.name for c in controller.candidates], "stack": stack,
                          "candidate_layers": [n.name() for n in renders.childNodes()] if renders else [],
                          "thumbnails": docker.candidate_list.count(),
                          "active_document": krita.activeDocument().name(),
                          "sketch_unchanged": digest(sketch.pixelData(0, 0, W, H)) == sketch_bytes,
                          "figures": dict(controller.timings.render),
                          # candidate 1 was wholly in Krita's image when it went in: a full recomposite now shows
                          # the same (the others are hidden)
                          "first_shown_complete": bool(first_image) and first_image[0][0] == _image_rows(document, crop),
                          "candidates_when_first_shown": first_image[0][1] if first_image else None,
                          "first_part_had_more": first_image[0][2] if first_image else None}

    # --- the same hints in faithful mode ("colour my own lines"): production layers beneath the sketch --------
    controller.update_settings(render_mode="faithful", render_count=2)
    sent_before = len(requests)
    controller.render()
    yield t.until(lambda: "render" not in controller.busy and len(requests) > sent_before, 240, "the faithful render")
    yield from _wait(lambda: len(controller.candidates) == 2, 5)
    renders = canvas.find_group(document, canvas.RENDERS_GROUP)
    t.result["faithful"] = {
        "mode_sent": [r for r in requests[sent_before:] if r[0] == "render"][-1][1].get("mode"),
        "error": controller.error, "stack": [n.name() for n in document.rootNode().childNodes()],
        "candidates": [(group.name(), group.visible(), [(n.name(), n.blendingMode()) for n in group.childNodes()])
                       for group in (renders.childNodes() if renders else [])],
        "sketch_unchanged": digest(sketch.pixelData(0, 0, W, H)) == sketch_bytes}
    t.screenshot("new_user_faithful_render.png")
    controller.update_settings(render_mode="refined", render_count=4)

    # --- the shortcut ---------------------------------------------------------------------------------------
    docker._shortcut_checked = -1e9
    docker.refresh()
    action = krita.action(TOGGLE_ACTION)
    group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    shown = [group.visible()]
    keys = action.shortcut().toString() if action is not None else ""
    _focus_canvas(krita)
    window_id = str(int(krita.activeWindow().qwindow().winId()))
    subprocess.run(["xdotool", "windowfocus", window_id])  # no window manager: give Krita the keyboard
    yield 0.3
    # Does a key reach Krita at all here? X swaps the foreground and background colours (Krita's default).
    view = krita.activeWindow().activeView()
    colour_before = view.foregroundColor().components()
    subprocess.run(["xdotool", "key", "x"])
    yield from _wait(lambda: view.foregroundColor().components() != colour_before, 5)
    keys_reach_krita = view.foregroundColor().components() != colour_before
    if keys_reach_krita:
        subprocess.run(["xdotool", "key", "x"])
        yield 0.5
    # Wait for Krita to deliver each key press (a busy event loop can take a while), not a fixed pause.
    triggered = []
    action.triggered.connect(lambda *_: triggered.append(controller.settings.guidance_on))
    for press in range(1, 3):
        subprocess.run(["xdotool", "key", keys.lower()])
        yield from _wait(lambda: len(triggered) >= press, 10)
        yield 0.3
        shown.append(group.visible())
    t.result["shortcut"] = {"keys": keys, "label": docker.shortcut_label.text(), "visible": shown,
                            "keys_reach_krita": keys_reach_krita, "triggered": len(triggered),
                            "settings_after_each": triggered}
    yield from _fit(t, krita)
    t.screenshot("new_user_docker.png")

    # --- run 3: a bust that fills a small canvas, its shoulders drawn to the bottom edge -----------------------
    yield from _small_canvas_bust(t, krita, controller, lifts, applied, requests)

    # --- the backend the docker started dies -----------------------------------------------------------------
    launched = controller.connection.launcher
    if launched is not None and launched.process is not None:
        first_pid = launched.process.pid
        launched.process.kill()
        yield t.until(lambda: not controller.connection.connected, 30, "noticing the dead backend")
        yield t.until(lambda: controller.connection.connected, 180, "the backend restarted by the docker")
        t.result["restart"] = {"first_pid": first_pid, "pid": launched.process.pid if launched.process else None,
                               "statuses": [s for s in statuses if "SIGKILL" in s or "restart" in s]}
        t.result["started_backend_pid"] = launched.process.pid if launched.process else None
    for doc in krita.documents():
        doc.setModified(False)


SMALL = (1400, 800)  # a small canvas: the plugin's square crop around a bust reaches past its top and bottom


def _small_canvas_bust(t, krita, controller, lifts, applied, requests):
    """Head, eyes and mouth, then two shoulder lines drawn down to the canvas's bottom edge (one mouse stroke
    each): the guide requests say how large the canvas is, so the backend reads the bust as cut there."""
    import math

    from anisketch_krita import canvas

    document = krita.createDocument(SMALL[0], SMALL[1], "Small canvas", "RGBA", "U8", "", 72.0)
    krita.activeWindow().addView(document)
    sketch = document.createNode("Sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    yield from t.activate(document, sketch)
    yield from _fit(t, krita)
    _set_colour(krita, (20, 20, 20))
    cx, cy, r = 700, 380, 220
    bottom = SMALL[1] - 1  # the shoulders end on the canvas's last row: the view shows no paper beyond it
    shapes = [[(cx + r * math.sin(a / 18 * math.pi), cy - r * 1.1 * math.cos(a / 18 * math.pi)) for a in range(37)],
              [(cx - 110 + 10 * i, cy - 10 - 20 * math.sin(i / 8 * math.pi)) for i in range(9)],
              [(cx + 30 + 10 * i, cy - 10 - 20 * math.sin(i / 8 * math.pi)) for i in range(9)],
              [(cx - 50 + 10 * i, cy + 140 + 15 * math.sin(i / 10 * math.pi)) for i in range(11)],
              [(cx - 90, cy + 230), (cx - 250, cy + 320), (cx - 420, cy + 380), (cx - 470, bottom)],
              [(cx + 90, cy + 230), (cx + 250, cy + 320), (cx + 420, cy + 380), (cx + 470, bottom)]]
    sent_before, errors = len(requests), []
    for points in shapes:
        before = len(applied)
        yield from _stroke(t, krita, points, controller, lifts)
        yield from _wait(lambda: len(applied) > before and not controller.session.guide_jobs.busy, 60)
        errors.append(controller.error)
    guides = [r[1] for r in requests[sent_before:] if r[0] == "guide"]
    crop = controller.session.region.region
    t.result["small_canvas"] = {"errors": errors, "guides": len(guides),
                                "canvas_sent": [g.get("canvas") for g in guides],
                                "origin": guides[-1].get("origin") if guides else None,
                                "crop": list(vars(crop).values()) if crop else None,
                                "ink_bounds": canvas._rect_tuple(sketch.bounds()),
                                **_guidance_state(controller, document, canvas)}
    t.screenshot("new_user_small_canvas.png")


# ------------------------------------------------------------------------------------------------ drawing

def _draw_face(t, krita, controller, lifts, applied):
    """A head, two eyes, a nose and a mouth, one mouse stroke each; per stroke: pen lift -> guidance applied."""
    import math

    cx, cy, r = FACE
    head = [(cx + r * math.sin(a / 18 * math.pi), cy - r * 1.1 * math.cos(a / 18 * math.pi)) for a in range(0, 37)]
    shapes = [head,
              [(cx - 190 + 12 * i, cy - 20 - 30 * math.sin(i / 10 * math.pi)) for i in range(11)],
              [(cx + 70 + 12 * i, cy - 20 - 30 * math.sin(i / 10 * math.pi)) for i in range(11)],
              [(cx - 10, cy + 60), (cx - 20, cy + 120), (cx + 10, cy + 130)],
              [(cx - 90 + 18 * i, cy + 240 + 25 * math.sin(i / 10 * math.pi)) for i in range(11)],
              [(cx - 200 + 40 * i, cy - 180 - 40 * math.sin(i / 10 * math.pi)) for i in range(11)]]
    rows = []
    for points in shapes:
        before_lifts, before_applied = len(lifts), len(applied)
        history = len(controller.timings.history)
        yield from _stroke(t, krita, points, controller, lifts)
        yield from _wait(lambda: len(applied) > before_applied and not controller.session.guide_jobs.busy, 60)
        if len(applied) == before_applied:  # no guidance: say what happened instead of timing out blind
            document = krita.activeDocument()
            t.screenshot("no_guidance.png")
            raise AssertionError(f"no guidance after a stroke: lifts {len(lifts) - before_lifts}, error "
                                 f"{controller.error!r}, busy {controller.busy}, layer bounds "
                                 f"{canvas_bounds(document)}, status {controller.connection.state.describe()}, "
                                 f"canvas at {_to_screen(krita, 0, 0)}..{_to_screen(krita, W, H)}, stroke from {points[0]}")
        lift = lifts[before_lifts] if len(lifts) > before_lifts else None
        row = controller.timings.history[-1] if len(controller.timings.history) > history else None
        crop = controller.session.region.region
        shown = yield from _shown_after(krita.activeDocument(), crop, applied[before_applied])
        rows.append({"lift_to_applied_ms": round((applied[before_applied] - lift) * 1e3, 1) if lift else None,
                     "lift_to_shown_ms": round((shown - lift) * 1e3, 1) if lift and shown else None,
                     "timing": row, "error": controller.error,
                     "crop": list(vars(crop).values()) if crop else None})
    return rows


def _shown_after(document, crop, applied_at, window_s=1.0):
    """When Krita's image first showed the guidance just written (perf_counter), or None: the crop's rows (every
    32nd) are read every 10 ms for `window_s`, then compared with what a full recomposite shows. Krita
    recomposites what the plugin marks as changed in its own threads, a moment after the write."""
    rows = range(max(crop.y, 0), min(crop.bottom, document.height()), 32)
    x, w = max(crop.x, 0), min(crop.right, document.width()) - max(crop.x, 0)
    timeline = []
    while time.perf_counter() - applied_at < window_s:
        timeline.append((time.perf_counter(), [bytes(document.pixelData(x, y, w, 1)) for y in rows]))
        yield 0.01
    document.waitForDone()
    document.refreshProjection()
    final = [bytes(document.pixelData(x, y, w, 1)) for y in rows]
    return next((at for at, seen in timeline if seen == final), None)


def _image_rows(document, crop):
    """Every 32nd row of Krita's image over the crop (bytes)."""
    x, w = max(crop.x, 0), min(crop.right, document.width()) - max(crop.x, 0)
    return [bytes(document.pixelData(x, y, w, 1)) for y in range(max(crop.y, 0), min(crop.bottom, document.height()), 32)]


def canvas_bounds(document):
    from anisketch_krita import canvas

    return {n.name(): canvas._rect_tuple(n.bounds()) for n in canvas.paint_layers(document)}


def _wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        yield 0.05


def _stroke(t, krita, points, controller, lifts):
    """One real mouse stroke through canvas points (xdotool: press, moves, release)."""
    screen = [_to_screen(krita, x, y) for x, y in points]
    moves = []
    for x, y in screen[1:]:
        moves += ["mousemove", str(x), str(y), "sleep", "0.02"]
    x0, y0 = screen[0]
    pen = subprocess.Popen(["xdotool", "mousemove", str(x0), str(y0), "mousedown", "1", *moves, "mouseup", "1"])
    while pen.poll() is None:
        yield 0.01


def _canvas_widget(krita):
    """The active view's canvas. With two documents open, another view's canvas may be visible too; focusing
    it (or mapping strokes onto it) would make Krita switch the active document under the test's feet."""
    from anisketch_krita.pen import is_canvas
    from anisketch_krita.qt import QApplication

    try:
        from PyQt5.QtWidgets import QMdiArea
    except ImportError:
        from PyQt6.QtWidgets import QMdiArea

    area = krita.activeWindow().qwindow().findChild(QMdiArea)
    active = area.activeSubWindow() if area is not None else None
    inside = [w for w in QApplication.allWidgets() if is_canvas(w) and w.isVisible()]
    if active is not None:
        inside = [w for w in inside if active.isAncestorOf(w)] or inside
    return inside[0] if inside else None


def _to_screen(krita, x, y):
    """Canvas pixel -> screen pixel, for a document zoomed to fit its view (centred)."""
    try:
        from PyQt5.QtCore import QPoint
    except ImportError:
        from PyQt6.QtCore import QPoint

    widget = _canvas_widget(krita)
    document = krita.activeDocument()
    scale = min(widget.width() / document.width(), widget.height() / document.height())
    left = (widget.width() - document.width() * scale) / 2
    top = (widget.height() - document.height() * scale) / 2
    point = widget.mapToGlobal(QPoint(int(left + x * scale), int(top + y * scale)))
    return point.x(), point.y()


def _focus_canvas(krita):
    widget = _canvas_widget(krita)
    if widget is not None:
        widget.activateWindow()
        widget.setFocus()


def _fit(t, krita):
    """Zoom to fit, twice: the view was laid out before the window got its size (no window manager)."""
    action = krita.action("toggle_zoom_to_fit")
    yield 0.5
    if action is not None:
        for _ in range(2):
            action.trigger()
            yield 0.5
    yield 1.0


def _set_colour(krita, rgb):
    from krita import ManagedColor

    from anisketch_krita.qt import QColor

    view = krita.activeWindow().activeView()
    colour = ManagedColor("RGBA", "U8", "")
    colour.setComponents([rgb[2] / 255, rgb[1] / 255, rgb[0] / 255, 1.0])  # B, G, R, A for RGBA/U8
    view.setForeGroundColor(colour)
    return QColor(*rgb)


def _guidance_state(controller, document, canvas):
    group = canvas.find_group(document, canvas.GUIDANCE_GROUP)
    crop = controller.session.region.region
    return {"error": controller.error, "crop": list(vars(crop).values()) if crop else None,
            "layers": sorted(n.name() for n in canvas.guidance_layers(group)) if group is not None else [],
            "sketch_read": controller.sketch_layer(document).name() if controller.sketch_layer(document) else None,
            "warm": [controller.timings.warm_ticks, round(controller.timings.warm_ms, 1)]}
