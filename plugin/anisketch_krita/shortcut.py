"""The guidance toggle's shortcut, checked against Krita's own actions at run time.

Krita gives a key sequence that two actions share to neither ("Ambiguous shortcut overload" in its log):
Ctrl+Alt+G was Krita's Quick Ungroup. The default below is used by no action of Krita 5.x's own .action
files; an artist or another plugin may still take it, so the docker says so when it happens.
"""

from __future__ import annotations

from typing import Any

TOGGLE_ACTION = "anisketch_toggle_guidance"  # declared with its shortcut in anisketch_krita.action
DEFAULT_SHORTCUT = "Ctrl+Alt+A"
WHERE = "Settings ▸ Configure Krita ▸ Keyboard Shortcuts"


def shortcut_note(krita: Any) -> tuple[str, bool]:
    """(what the docker says about the toggle's shortcut, whether that is a problem)."""
    ours = krita.action(TOGGLE_ACTION)
    if ours is None:
        return "", False
    keys = [key for key in ours.shortcuts() if not key.isEmpty()]
    if not keys:
        return f"Toggle guidance has no shortcut: give it one in {WHERE}.", True
    for action in krita.actions():
        if action is ours or action.objectName() == TOGGLE_ACTION:
            continue
        shared = [key for key in action.shortcuts() if key in keys]
        if shared:
            name = action.text().replace("&", "") or action.objectName()
            return (f"{shared[0].toString()} is also Krita's '{name}', so neither works: give one of them "
                    f"another shortcut in {WHERE}.", True)
    return f"Shortcut: {keys[0].toString()} shows and hides the guidance.", False
