"""The guidance state: the predicted vector and the window it was read in, as an opaque string for the plugin.

The plugin sends the state of the guidance on screen back with the next request: pins keep their parts from it,
parts that barely moved hold still, and, because the window is in canvas pixels, both keep working when the
artist's crop moves or grows. Render and generate use the same string for "exactly this face".

Layout of the payload (URL-safe base64 after the prefix): the vector layout's fingerprint (8 bytes), the floats
(float32 LE), the choices (uint8), then optionally the window (x, y, side: float64 LE, canvas pixels) and after it
optionally the ink map the guidance read in that window (hold.INK_MAP² bits: which parts the artist touches
next), then optionally the parts drawn where an earlier pose put them (a byte of flags over P.GROUPS, then each
flagged part's pose floats, float32 LE), then optionally the pose refiner's last answer (float32 LE, the reading's
P.PLACING floats it was shown, then its move of each; the flags byte is written before it, 0 if no part has a
pose of its own). States of earlier versions are still read: "g2." (no ink map: nothing is held by evidence),
"g1." (no window either: they frame the whole request, as guidance did then).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import NamedTuple

import numpy as np

from ..engine import params as P
from ..errors import BadRequest
from .framing import Window
from .hold import INK_BYTES, pack_ink, unpack_ink

STATE_PREFIX = "g3."
LEGACY_PREFIXES = ("g2.", "g1.")


@functools.cache
def layout_fingerprint() -> str:
    """Identifies the vector layout a model was trained for; loading weights or a state refuses a mismatch."""
    text = repr([(s.name, s.group, s.kind, s.lo, s.hi, tuple(s.options or ())) for s in P.PARAM_SPECS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


POSE_COLUMNS = np.array(P.ALL_GROUPS)[P.float_groups()] == "pose"  # the floats that place the face
POSE_DIM = int(POSE_COLUMNS.sum())


class GuideState(NamedTuple):
    floats: np.ndarray  # float32 [D] in [0, 1]
    choices: np.ndarray  # int64 [C]
    window: Window | None  # where the vector's canvas lies on the artist's canvas; None: the whole request
    ink: np.ndarray | None = None  # bool [INK_MAP, INK_MAP]: the ink read in the window; None: unknown
    # parts drawn with another pose than the vector's (held where the artist left them: hold.py): group -> floats
    poses: dict[str, np.ndarray] | None = None
    # the pose refiner's last answer (refine.py), float32 [2, len(P.PLACING)]: the reading's placing floats it was
    # shown, and how far it moved them; None: not refined, or unknown
    refinement: np.ndarray | None = None


REFINEMENT_BYTES = 2 * 4 * len(P.PLACING)


def encode_state(floats: np.ndarray, choices: np.ndarray, window: Window | None = None,
                 ink: np.ndarray | None = None, poses: dict[str, np.ndarray] | None = None,
                 refinement: np.ndarray | None = None) -> str:
    """The vector exactly (float32 bytes), its window, the ink read there, the parts' own poses and the refiner's
    last answer, tagged with the layout, as a URL-safe string (about 900 characters with the ink map)."""
    payload = (bytes.fromhex(layout_fingerprint()) + np.asarray(floats, "<f4").tobytes()
               + np.asarray(choices, np.uint8).tobytes())
    if window is not None:
        payload += np.array([window.x, window.y, window.side], "<f8").tobytes()
        if ink is not None:
            payload += pack_ink(ink)
            own = poses or {}
            if own or refinement is not None:
                flags = sum(1 << P.GROUPS.index(group) for group in own)
                payload += bytes([flags]) + b"".join(np.asarray(own[group], "<f4").tobytes()
                                                     for group in P.GROUPS if group in own)
            if refinement is not None:
                payload += np.asarray(refinement, "<f4").tobytes()
    return STATE_PREFIX + base64.urlsafe_b64encode(payload).decode()


def decode_state(state: str) -> GuideState:
    """The state's vector and window; BadRequest (for the artist) for anything this backend did not write."""
    try:
        if not isinstance(state, str) or not state.startswith((STATE_PREFIX, *LEGACY_PREFIXES)):
            raise ValueError("not a guidance state")
        payload = base64.urlsafe_b64decode(state[len(STATE_PREFIX):].encode())
    except ValueError as exc:
        raise BadRequest("the pin state is not one this backend produced; request guidance again") from exc
    vector_bytes = 8 + 4 * P.FLOAT_DIM + P.CHOICE_DIM
    with_ink = vector_bytes + 24 + INK_BYTES
    flagged = bin(payload[with_ink]).count("1") if len(payload) > with_ink else 0  # parts with their own pose
    posed = with_ink + 1 + 4 * POSE_DIM * flagged  # where the poses end, when the flags byte is there
    sizes = {vector_bytes, vector_bytes + 24, with_ink} if len(payload) <= with_ink else {posed, posed + REFINEMENT_BYTES}
    if len(payload) not in sizes or payload[:8].hex() != layout_fingerprint():
        raise BadRequest("the pin state comes from another model version; request guidance again")
    floats = np.frombuffer(payload, "<f4", P.FLOAT_DIM, 8).astype(np.float32)
    choices = np.frombuffer(payload, np.uint8, P.CHOICE_DIM, 8 + 4 * P.FLOAT_DIM).astype(np.int64)
    window = None
    if len(payload) > vector_bytes:
        try:
            window = Window.from_list(np.frombuffer(payload, "<f8", 3, vector_bytes))
        except ValueError as exc:
            raise BadRequest("the pin state is damaged; request guidance again") from exc
    ink = unpack_ink(payload[vector_bytes + 24:with_ink]) if len(payload) >= with_ink else None
    poses = {}
    if flagged:
        groups = [g for i, g in enumerate(P.GROUPS) if payload[with_ink] >> i & 1]
        values = np.frombuffer(payload, "<f4", POSE_DIM * len(groups), with_ink + 1).reshape(len(groups), POSE_DIM)
        poses = {group: np.clip(v.astype(np.float32), 0.0, 1.0) for group, v in zip(groups, values)}
    refinement = None
    if len(payload) > posed:
        refinement = np.frombuffer(payload, "<f4", 2 * len(P.PLACING), posed).reshape(2, -1).astype(np.float32)
    if not all(np.isfinite(v).all() for v in (floats, *poses.values(), *([refinement] if refinement is not None else []))):
        raise BadRequest("the pin state is damaged; request guidance again")
    if refinement is not None:
        refinement = np.stack([np.clip(refinement[0], 0.0, 1.0), np.clip(refinement[1], -1.0, 1.0)])
    return GuideState(np.clip(floats, 0.0, 1.0), choices, window, ink, poses, refinement)
