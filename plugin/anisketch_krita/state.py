"""The docker's model: plain Python, no Krita and no Qt, so that every rule here is unit-tested directly.

Settings (persisted through a `read(key, default) -> str` / `write(key, value)` pair that Krita's
readSetting/writeSetting back), the connection's status, the pins, the one-guide-in-flight rule and the
stroke detector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Callable, Generic, Optional, TypeVar

SETTINGS_GROUP = "anisketch"

# The parts an artist can pin, in the docker's order, with the labels shown on the toggles.
PIN_PARTS = ("eyes", "brows", "nose", "mouth", "face", "hair")
PIN_LABELS = {"eyes": "Eyes", "brows": "Brows", "nose": "Nose", "mouth": "Mouth", "face": "Face contour",
              "hair": "Hair"}

# MakeGirlsMoe's vocabulary, used until the backend's `info` tells us its own (it carries `attributes`).
DEFAULT_ATTRIBUTES: dict[str, list[str]] = {
    "hair_color": ["blonde", "brown", "black", "blue", "pink", "purple", "green", "red", "silver", "white",
                   "orange", "aqua", "grey"],
    "hair_style": ["long", "short", "twin_tail", "drill", "ponytail"],
    "eye_color": ["blue", "red", "brown", "green", "purple", "yellow", "pink", "aqua", "black", "orange"],
    "blush": ["on", "off"], "smile": ["on", "off"], "open_mouth": ["on", "off"], "hat": ["on", "off"],
    "ribbon": ["on", "off"], "glasses": ["on", "off"], "dark_skin": ["on", "off"],
}
RANDOM = "random"  # an attribute left to the seed

STROKE_DEBOUNCE_S = 0.25  # a stroke has ended when the sketch stayed unchanged this long


# ------------------------------------------------------------------------------------------------ settings


@dataclass
class Settings:
    """Everything the artist sets in the docker; persisted between Krita sessions."""

    guidance_on: bool = True
    mode: str = "rough"  # rough | detail
    opacity: int = 60  # percent, of the guidance group
    faithfulness: float = 1.0  # 0: follow the manifold, 1: follow the strokes (the backend's tuned default)
    auto_update: bool = True
    render_count: int = 4
    render_mode: str = "refined"  # refined | faithful
    style_seed: int = 0
    generate_seed: int = 1
    seed_locked: bool = False
    start_backend: bool = True  # start `anisketch serve` when none answers
    endpoint: str = ""  # empty: the one backend.json names

    CHOICES = {"mode": ("rough", "detail"), "render_mode": ("refined", "faithful")}
    RANGES = {"opacity": (0, 100), "faithfulness": (0.0, 1.0), "render_count": (1, 8),
              "style_seed": (0, 2**31 - 1), "generate_seed": (0, 2**31 - 1)}

    @classmethod
    def load(cls, read: Callable[[str, str], str]) -> "Settings":
        """Read every field; a missing or unreadable value keeps its default (a bad kritarc never breaks us)."""
        settings = cls()
        for f in fields(cls):
            default = getattr(settings, f.name)
            raw = read(f.name, "")
            if raw != "":
                setattr(settings, f.name, cls._parse(f.name, raw, default))
        return settings

    def save(self, write: Callable[[str, str], None]) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            write(f.name, ("true" if value else "false") if isinstance(value, bool) else str(value))

    @classmethod
    def _parse(cls, name: str, raw: str, default: Any) -> Any:
        try:
            if isinstance(default, bool):
                return {"true": True, "false": False}[raw.strip().lower()]
            value = type(default)(raw)
        except (KeyError, ValueError):
            return default
        if name in cls.CHOICES and value not in cls.CHOICES[name]:
            return default
        if name in cls.RANGES:
            lo, hi = cls.RANGES[name]
            value = min(max(value, lo), hi)
        return value


# ------------------------------------------------------------------------------------------------ connection


class Status(Enum):
    DISCONNECTED = "disconnected"
    STARTING = "starting"  # we launched `anisketch serve` and wait for it to answer
    CONNECTING = "connecting"
    CONNECTED = "connected"


@dataclass
class ConnectionState:
    status: Status = Status.DISCONNECTED
    reason: str = ""
    server: dict = field(default_factory=dict)  # the backend's `info` result

    def describe(self) -> str:
        if self.status is Status.CONNECTED:
            device = self.server.get("device", "")
            return f"Connected{f' ({device})' if device else ''}"
        text = {Status.DISCONNECTED: "Disconnected", Status.STARTING: "Starting the backend…",
                Status.CONNECTING: "Connecting…"}[self.status]
        return f"{text}: {self.reason}" if self.reason else text


# ------------------------------------------------------------------------------------------------ guidance


@dataclass
class Pins:
    """Parts the artist is happy with: the backend keeps them exactly as in the last reply's `state`."""

    parts: set = field(default_factory=set)

    def toggle(self, part: str, on: bool) -> None:
        if part not in PIN_PARTS:
            raise ValueError(f"unknown part {part!r}")
        (self.parts.add if on else self.parts.discard)(part)

    def as_list(self) -> list[str]:
        return [part for part in PIN_PARTS if part in self.parts]


T = TypeVar("T")


class LatestOnly(Generic[T]):
    """At most one job in flight; while it runs, only the newest wish waits (older wishes are dropped).

    `want(job)` returns the job to send now, or None when one is in flight (it is then kept as pending,
    replacing any older pending one). `finished(id)` returns the pending job to send next, if any.
    """

    def __init__(self) -> None:
        self.in_flight: Optional[str] = None
        self.pending: Optional[T] = None

    def want(self, job: T) -> Optional[T]:
        if self.in_flight is None:
            return job
        self.pending = job
        return None

    def sent(self, request_id: str) -> None:
        self.in_flight = request_id

    def finished(self, request_id: str) -> Optional[T]:
        if request_id != self.in_flight:
            return None  # a stale reply (e.g. after a reconnect): the one we wait for is still out
        self.in_flight = None
        job, self.pending = self.pending, None
        return job

    def reset(self) -> None:
        self.in_flight, self.pending = None, None

    @property
    def busy(self) -> bool:
        return self.in_flight is not None


class StrokeDetector:
    """Tells when a stroke has ended, from a cheap signature of the sketch layer polled now and then.

    Krita has no per-stroke signal. The signature changes while the artist paints; once it has changed and
    then stayed the same for `debounce_s`, the stroke is over: `observe` returns True exactly once.
    """

    def __init__(self, debounce_s: float = STROKE_DEBOUNCE_S, clock: Callable[[], float] = time.monotonic):
        self.debounce_s = debounce_s
        self.clock = clock
        self.settled: Any = None  # the signature guidance was last asked for
        self.latest: Any = None
        self.changed_at = 0.0

    def observe(self, signature: Any) -> bool:
        now = self.clock()
        if signature != self.latest:
            self.latest, self.changed_at = signature, now
            return False
        if signature != self.settled and now - self.changed_at >= self.debounce_s:
            self.settled = signature
            return True
        return False

    def forget(self) -> None:
        """The next observation counts as a change (another layer, another document, a mode switch)."""
        self.settled, self.latest = None, None


@dataclass
class GuideMemory:
    """What the backend told us last: its `state` token and per-part confidence.

    The state goes back with every request: the backend keeps pinned parts exactly, and holds still the
    parts that barely moved. It records where the face lies on the canvas (the backend's window, in canvas
    pixels; every request says where its crop lies with `origin`), so it stays valid when the crop moves or
    grows: pins hold and untouched parts stay put. It is dropped only when the drawing starts anew (another
    sketch layer or document, or the sketch erased).
    """

    state: Optional[str] = None
    confidence: dict = field(default_factory=dict)

    def remember(self, result: dict) -> None:
        if isinstance(result.get("state"), str):
            self.state = result["state"]
        if isinstance(result.get("confidence"), dict):
            self.confidence = result["confidence"]


# ------------------------------------------------------------------------------------------------ generation


def attribute_request(choices: dict[str, str]) -> dict[str, str]:
    """The `attributes` param: every attribute not left to chance ("random" ones are simply not sent)."""
    return {name: value for name, value in choices.items() if value and value != RANDOM}


def next_seed(seed: int, locked: bool, rng: Callable[[], int]) -> int:
    """'Vary seed' draws a new seed unless the artist locked it."""
    return seed if locked else rng() % (2**31)


def vary_attributes(choices: dict[str, str], vocabulary: dict[str, list[str]], rng: Callable[[int], int]) -> dict[str, str]:
    """'Vary attributes': every attribute left random gets a concrete random value; fixed ones stay."""
    varied = dict(choices)
    for name, values in vocabulary.items():
        if choices.get(name, RANDOM) == RANDOM and values:
            varied[name] = values[rng(len(values))]
    return varied


# ------------------------------------------------------------------------------------------------ photo


def photo_report(fields: dict) -> str:
    """What the docker says after "From photo": how many faces were found, then the backend's warnings."""
    count = fields.get("faces_found")
    lines = []
    if isinstance(count, int) and not isinstance(count, bool):
        lines.append(f"Found {count} face{'' if count == 1 else 's'}" +
                     (": the portrait is of the largest one (select another face to choose it)." if count > 1 else "."))
    warnings = fields.get("warnings")
    if isinstance(warnings, list):
        lines += [f"Note: {w}" for w in warnings if isinstance(w, str) and w]
    return "\n".join(lines)
