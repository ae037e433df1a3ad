"""Where one colour render spends its time, function by function and thread by thread (`bench --timeline`).

    with Timeline() as timeline:      # every function of the render modules is timed while inside
        render(...)
    print(timeline.report())          # start, duration, thread and nesting of each call, in order of start

A stage timing (`Result.timing_ms`) says how long; a timeline says what waited for what: work on one thread
that needs nothing of the work before it, or threads that take turns where they should run side by side.
The functions are wrapped in their modules for as long as the timeline is open (a profiler's view without a
profiler's cost on every line), so calls through a module's own name are seen, and calls held by reference
from before are not.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import threading
import time
from dataclasses import dataclass

MODULES = ("api", "faithful", "faithful_layers", "snapping", "layered", "dabs", "refined", "clusters_torch")
SMALL_MS = 0.4  # calls shorter than this are left out of the report


@dataclass
class Call:
    start_ms: float
    duration_ms: float
    depth: int
    thread: int
    name: str


class Timeline:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._depth = threading.local()
        self._originals: list[tuple[object, str, object]] = []
        self._t0 = 0.0

    def __enter__(self) -> "Timeline":
        for module in (importlib.import_module(f"anisketch.render.{name}") for name in MODULES):
            for name, function in list(vars(module).items()):
                if timed(function):
                    self._originals.append((module, name, function))
                    setattr(module, name, self._wrap(function))
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        for module, name, function in self._originals:
            setattr(module, name, function)
        self._originals.clear()

    def _wrap(self, function):
        label = f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"

        @functools.wraps(function)
        def timed_call(*args, **kwargs):
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth.value = depth
                ended = time.perf_counter()
                self.calls.append(Call((started - self._t0) * 1e3, (ended - started) * 1e3, depth,
                                       threading.get_ident(), label))

        return timed_call

    def report(self) -> str:
        threads: dict[int, int] = {}
        lines = []
        for call in sorted(self.calls, key=lambda c: c.start_ms):
            if call.duration_ms < SMALL_MS:
                continue
            thread = threads.setdefault(call.thread, len(threads))
            lines.append(f"{call.start_ms:7.1f} +{call.duration_ms:6.1f} ms  T{thread} {'  ' * call.depth}{call.name}")
        return "\n".join(lines)


def timed(function) -> bool:
    """A plain function of our own (generators would be timed until their first item only)."""
    return (inspect.isfunction(function) and function.__module__.startswith("anisketch.")
            and not inspect.isgeneratorfunction(function))
