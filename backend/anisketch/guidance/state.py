"""The guidance state: the predicted vector and the window it was read in, as an opaque string for the plugin.

The plugin sends the state of the guidance on screen back with the next request: pins keep their parts from it,
parts that barely moved hold still, and, because the window is in canvas pixels, both keep working when the
artist's crop moves or grows. Render and generate use the same string for "exactly this face".

Layout of the payload (URL-safe base64 after the prefix): the vector layout's fingerprint (8 bytes), the floats
(float32 LE), the choices (uint8), then optionally the window (x, y, side: float64 LE, canvas pixels). States
of the first version ("g1.", no window) are still read: they frame the whole request, as guidance did then.
"""

from __future__ import annotations

import base64
import hashlib
from typing import NamedTuple

import numpy as np

from ..engine import params as P
from ..errors import BadRequest
from .framing import Window

STATE_PREFIX = "g2."
LEGACY_PREFIX = "g1."


def layout_fingerprint() -> str:
    """Identifies the vector layout a model was trained for; loading weights or a state refuses a mismatch."""
    text = repr([(s.name, s.group, s.kind, s.lo, s.hi, tuple(s.options or ())) for s in P.PARAM_SPECS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class GuideState(NamedTuple):
    floats: np.ndarray  # float32 [D] in [0, 1]
    choices: np.ndarray  # int64 [C]
    window: Window | None  # where the vector's canvas lies on the artist's canvas; None: the whole request


def encode_state(floats: np.ndarray, choices: np.ndarray, window: Window | None = None) -> str:
    """The vector exactly (float32 bytes) and its window, tagged with the layout, as a short URL-safe string."""
    payload = (bytes.fromhex(layout_fingerprint()) + np.asarray(floats, "<f4").tobytes()
               + np.asarray(choices, np.uint8).tobytes())
    if window is not None:
        payload += np.array([window.x, window.y, window.side], "<f8").tobytes()
    return STATE_PREFIX + base64.urlsafe_b64encode(payload).decode()


def decode_state(state: str) -> GuideState:
    """The state's vector and window; BadRequest (for the artist) for anything this backend did not write."""
    try:
        if not isinstance(state, str) or not state.startswith((STATE_PREFIX, LEGACY_PREFIX)):
            raise ValueError("not a guidance state")
        payload = base64.urlsafe_b64decode(state[len(STATE_PREFIX):].encode())
    except ValueError as exc:
        raise BadRequest("the pin state is not one this backend produced; request guidance again") from exc
    vector_bytes = 8 + 4 * P.FLOAT_DIM + P.CHOICE_DIM
    if len(payload) not in (vector_bytes, vector_bytes + 24) or payload[:8].hex() != layout_fingerprint():
        raise BadRequest("the pin state comes from another model version; request guidance again")
    floats = np.frombuffer(payload, "<f4", P.FLOAT_DIM, 8).astype(np.float32)
    choices = np.frombuffer(payload, np.uint8, P.CHOICE_DIM, 8 + 4 * P.FLOAT_DIM).astype(np.int64)
    window = None
    if len(payload) > vector_bytes:
        try:
            window = Window.from_list(np.frombuffer(payload, "<f8", 3, vector_bytes))
        except ValueError as exc:
            raise BadRequest("the pin state is damaged; request guidance again") from exc
    if not np.isfinite(floats).all():
        raise BadRequest("the pin state is damaged; request guidance again")
    return GuideState(np.clip(floats, 0.0, 1.0), choices, window)
