"""`anisketch bench TARGET [options]`: speed figures, printed (medians of repeats), never timed tests.

Each target lives beside the code it measures and is imported only when asked for, so a target whose
dependencies are heavy (torch) costs nothing to the others. A target is "module:function" where
`function(argv: list[str]) -> int` parses its own options (`anisketch bench data --help`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> ("module:function", one-line description)
TARGETS: dict[str, tuple[str, str]] = {
    "data": ("anisketch.data.bench:main", "data engine: samples/s per core at 256 and 512 px"),
    "models": ("anisketch.guidance.bench:main", "model inference latency and throughput"),
    "replay": ("anisketch.guidance.bench:replay_main", "guidance stroke by stroke: a guide with the state vs without"),
    "strokes": ("anisketch.guidance.bench:strokes_main", "guides as the plugin sends them, stroke by stroke: per stage"),
    "serve": ("anisketch.server.bench:main", "end-to-end request latency through a running server"),
    "against": ("anisketch.guidance.bench_against:main",
                "guide time stroke by stroke against git revisions' code and weights, timed in turns"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="one of: " + ", ".join(TARGETS))
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options of the target (TARGET --help)")


def run(args: argparse.Namespace) -> int:
    if args.target is None:
        print("anisketch bench TARGET [options]; targets:")
        for name, (_, description) in TARGETS.items():
            print(f"  {name:8s} {description}")
        return 0
    if args.target not in TARGETS:
        print(f"anisketch bench: error: unknown target {args.target!r}; choose from {', '.join(TARGETS)}",
              file=sys.stderr)
        return 2
    module_name, function_name = TARGETS[args.target][0].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise  # the target exists but one of its imports is missing: that is a real error
        print(f"anisketch bench: error: target {args.target!r} is not available in this version "
              f"({module_name} is missing)", file=sys.stderr)
        return 2
    return int(getattr(module, function_name)(list(args.options)) or 0)
