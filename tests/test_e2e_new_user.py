"""A new user's first session in the real Krita (Xvfb), drawn with the real mouse: tests/krita_scenarios/new_user.py.

The docker starts the backend itself (real models, CPU); the test checks that backend is gone once Krita has
quit, and ends any process the run left (its port included) whatever happened. Figures are printed, never
asserted as time limits.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from krita_harness import REPO, run_scenario, tools_missing  # noqa: E402
from server_harness import free_port  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

OUT = REPO / "runs" / "e2e-new-user"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def run(krita_executable, xvfb_run_executable):
    missing = tools_missing()
    assert not missing, f"missing {missing}: apt-get install krita xvfb imagemagick xdotool"
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    result: dict = {}
    try:
        result = run_scenario(REPO / "tests" / "krita_scenarios" / "new_user.py", OUT, timeout=600,
                              settings={"endpoint": endpoint, "start_backend": "true", "mode": "rough"})
        pids = [result.get("result", {}).get(key) for key in ("started_backend_pid",)]
        pids += [result.get("result", {}).get("restart", {}).get("first_pid")]
        result["alive_after_quit"] = [pid for pid in pids if _alive(pid)]
    finally:
        for pid in [result.get("result", {}).get("started_backend_pid"),
                    result.get("result", {}).get("restart", {}).get("first_pid")]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    (OUT / "summary.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _record(run) -> dict:
    assert run.get("error") is None, f"the scenario failed: {run.get('error')}\nlog: {run.get('log')}"
    return run["result"]


def _figures(rows: list[dict], label: str) -> None:
    """Print what the artist waits for after each stroke but the first, and where that time goes (medians)."""
    lift = [r["lift_to_applied_ms"] for r in rows[1:] if r["lift_to_applied_ms"] is not None]
    updates = [r["timing"] for r in rows[1:] if r["timing"]]
    if not lift:
        return
    ordered = sorted(lift)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def median(key: str) -> str:
        values = [u[key] for u in updates if u.get(key) is not None]
        return f"{statistics.median(values):.1f}" if values else "-"

    shown = sorted(r["lift_to_shown_ms"] for r in rows[1:] if r.get("lift_to_shown_ms") is not None)
    gui = [u["detect_ms"] + u["send_ms"] + u["apply_ms"] + u["refresh_ms"] for u in updates]
    print(f"{label}: pen lift -> guidance applied, after the first: p50 {statistics.median(lift):.0f} ms, "
          f"p95 {p95:.0f} ms (n={len(lift)}); first {rows[0]['lift_to_applied_ms']} ms; "
          f"GUI thread per stroke median {statistics.median(gui):.1f} ms; crop {rows[-1]['crop']}\n"
          f"  pen lift -> guidance in Krita's image (read back): p50 {_median(shown)} ms, "
          f"p95 {_p95(shown)} ms (n={len(shown)})\n"
          f"  medians, ms: lift -> request {median('lift_wait_ms')}, read {median('read_ms')}, "
          f"send {median('send_ms')} (GUI), shrink {median('shrink_ms')} (worker), backend {median('server_ms')}, "
          f"transit {median('transit_ms')}, "
          f"held {median('held_ms')}, write {median('apply_ms')}, docker {median('refresh_ms')}\n"
          f"  backend stages, medians, ms: {_stage_medians(updates)}")


def _median(values: list) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def _p95(values: list) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]:.0f}" if values else "-"


def _stage_medians(updates: list[dict]) -> dict:
    stages = sorted({k for u in updates for k in u.get("backend_stages", {})})
    return {k: round(statistics.median(u["backend_stages"][k] for u in updates if k in u.get("backend_stages", {})), 1)
            for k in stages}


def test_background_layer_gives_guidance_around_the_ink_and_no_error_before_drawing(run):
    record = _record(run)["background"]
    _figures(record["strokes"], "Background layer, 3000x2000")
    assert record["error_before_drawing"] == "" and record["requests_before_drawing"] == 0
    assert record["reads"] == "Active layer (reads 'Background')"
    assert all(row["error"] == "" for row in record["strokes"]) and record["layers"]
    x, y, w, h = record["crop"]
    assert w < 2000 and x > 1000, f"the crop should lie around the face on the right, not the canvas: {record['crop']}"
    render = record["render"]
    print("render on the Background layer:", render)
    assert render["error"] == "" and render["candidates"] == 1 and render["background_unchanged"]
    names = [name for name, _ in render["stack"]]
    assert names.index("AniSketch renders") == names.index("Background") + 1, render["stack"]
    assert dict(render["stack"])["AniSketch renders"] == "multiply"


def test_a_blue_sketch_on_a_new_layer_is_guided(run):
    record = _record(run)["blue"]
    _figures(record["strokes"], "New layer, blue ink, 3000x2000")
    first = record["strokes"][0]["timing"]
    print(f"  first update: writing the guidance group took the GUI thread {first['apply_ms']:.0f} ms")
    ticks, ms = record["warm"]  # both runs so far
    print(f"  redraw layers kept warm: {ticks} ticks of the 40 ms timer, {ms / max(ticks, 1):.2f} ms of GUI thread a tick")
    assert ticks > 0
    assert record["sketch_read"] == "Sketch" and record["reads"] == "Active layer (reads 'Sketch')"
    assert all(row["error"] == "" for row in record["strokes"]) and record["layers"]


def test_pins_and_state_survive_a_stroke_that_grows_the_crop(run):
    record = _record(run)["pins"]
    print("pins across a growing crop:", record)
    before, after = record["crop_before"], record["crop_after"]
    assert after != before and after[2] >= before[2]
    assert record["pins_sent"] == ["eyes"] and record["state_sent"]
    # A crop of 1025-2048 px goes halved from its part aligned to 2 px on the canvas (plugin/anisketch_krita/shrink.py)
    x, y = record["origin"]
    assert after[0] <= x < after[0] + 2 and after[1] <= y < after[1] + 2 and x % 2 == y % 2 == 0
    assert record["pinned"] == ["eyes"] and record["button_checked"] and record["error"] == ""


def test_hint_dabs_are_never_read_as_the_sketch_and_render_reads_the_sketch(run):
    record = _record(run)
    hints, render = record["hints"], record["render"]
    print("hints:", hints, "\nrender:", render)
    assert hints["active"] == "Color hints" and hints["hint_layer_has_dabs"]
    assert hints["sketch_read"] == "Sketch" and hints["reads"] == "Active layer (reads 'Sketch')"
    assert all(image is None or image[2] == hints["sketch_crop_digest"][2] for image in hints["guides_after_dabs"])
    assert render["error"] == "" and render["candidate_layers"] and render["hints_image"]
    figures = render["figures"]
    print(f"candidates in the docker: {render['candidates']} ({render['thumbnails']} thumbnails); "
          f"render of 4 at a {render['expected_sketch'][0]} px crop: click -> first candidate in Krita's image "
          f"{figures['click_to_first_shown_ms']} ms, click -> all placed {figures['click_to_placed_ms']} ms; "
          f"ms: {figures}")
    assert render["first_shown_complete"], "the first candidate was not wholly in Krita's image when it went in"
    assert render["first_part_had_more"] and render["candidates_when_first_shown"] == 1, render
    assert render["candidates"] and render["thumbnails"] == len(render["candidates"]), "a candidate without thumbnail"
    assert render["sketch_image"] == render["expected_sketch"], "the render's sketch image is not the sketch layer"
    assert render["sketch_unchanged"]
    stack = render["stack"]
    assert stack.index("AniSketch renders") < stack.index("Sketch") < stack.index("AniSketch guidance"), stack


def test_a_faithful_render_gives_production_layers_beneath_the_sketch(run):
    """"Colour my own lines": each candidate a group of Flat colours, Shadows and Highlights (bottom to top)
    with their blending modes set in Krita, one visible, all beneath the untouched sketch."""
    faithful = _record(run)["faithful"]
    print("faithful render:", faithful)
    assert faithful["mode_sent"] == "faithful" and faithful["error"] == ""
    assert len(faithful["candidates"]) == 2 and [visible for _, visible, _ in faithful["candidates"]] == [True, False]
    for _, _, layers in faithful["candidates"]:
        assert [tuple(layer) for layer in layers] == [("Flat colours", "normal"), ("Shadows", "multiply"),
                                                     ("Highlights", "screen")], layers
    stack = faithful["stack"]
    assert stack.index("AniSketch renders") < stack.index("Sketch") < stack.index("AniSketch guidance"), stack
    assert faithful["sketch_unchanged"]


def test_a_bust_drawn_off_a_small_canvas_is_guided_and_the_canvas_size_travels(run):
    """The square crop around a bust that fills a 1400 x 800 canvas, its shoulders drawn to the bottom edge,
    reaches past the canvas's top and bottom; every guide request says how large the canvas is, so the backend
    knows where the drawing ends (guidance/completion.py)."""
    record = _record(run)["small_canvas"]
    print("a bust on a small canvas:", record)
    assert record["guides"] >= 1 and all(error == "" for error in record["errors"]) and record["layers"]
    assert all(size == [1400, 800] for size in record["canvas_sent"])
    ink_x, ink_y, ink_w, ink_h = record["ink_bounds"]
    assert ink_y + ink_h >= 797, f"the shoulders should reach the canvas's bottom edge: {record['ink_bounds']}"
    x, y, w, h = record["crop"]
    assert y < 0 and y + h > 800, f"the crop should reach past the small canvas's top and bottom: {record['crop']}"
    ox, oy = record["origin"]  # the crop's corner, or its part aligned for sending shrunk (shrink.py)
    assert 0 <= ox - x < 4 and 0 <= oy - y < 4, (record["origin"], record["crop"])


def test_the_shortcut_toggles_guidance(run):
    record = _record(run)["shortcut"]
    print("shortcut:", record)
    assert record["keys"] == "Ctrl+Alt+A" and record["label"].startswith("Shortcut: Ctrl+Alt+A")
    if not record["keys_reach_krita"]:
        pytest.xfail("no key pressed with xdotool reached Krita in this Xvfb (not even X, swap colours): "
                     "the shortcut could not be tried")
    assert record["visible"] == [True, False, True]


def test_the_docker_started_backend_restarts_by_itself_and_is_gone_after_krita_quits(run):
    record = _record(run)
    restart = record.get("restart")
    print("restart:", restart, "alive after quit:", run.get("alive_after_quit"))
    assert restart and restart["pid"] and restart["pid"] != restart["first_pid"]
    assert any("restart" in status for status in restart["statuses"])
    assert run["alive_after_quit"] == [], "a backend the docker started outlived Krita"


def test_screenshot_of_the_docker_on_the_new_user_canvas(run):
    _record(run)
    from PIL import Image

    shot = Image.open(OUT / "new_user_docker.png")
    assert len(np.unique(np.asarray(shot.convert("L")))) > 50, "the screenshot is blank"
