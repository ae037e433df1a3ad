"""The real-Krita harness starts Krita once more only when it could not reach its display (tests/krita_harness.py)."""

import krita_harness


def test_only_a_krita_that_could_not_reach_its_display_is_started_again(tmp_path):
    log = tmp_path / "krita.log"
    log.write_text("qt.qpa.xcb: could not connect to display :99\nAborted\n")
    failed = {"ok": False, "krita_seconds": 0.4}
    assert krita_harness._display_not_ready(failed, log)
    assert not krita_harness._display_not_ready({**failed, "krita_seconds": 60.0}, log)  # it ran: a real failure
    assert not krita_harness._display_not_ready({"ok": True, "krita_seconds": 0.4}, log)
    log.write_text("Traceback (most recent call last): ...\n")
    assert not krita_harness._display_not_ready(failed, log)  # another reason: reported, not hidden by a retry
