"""The `anisketch` command.

Each subcommand lives with the code it drives: the module named below defines
`add_arguments(parser)` and `run(args) -> int`. Modules are imported only when their
subcommand runs, so `anisketch --help` and `anisketch client` stay fast and need no torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("anisketch.server.serve_cli", "run the backend the Krita plugin talks to (ZeroMQ)"),
    "client": ("anisketch.server.client_cli", "talk to a running backend from the command line"),
    "keys": ("anisketch.server.keys_cli", "create CURVE keys for serving beyond loopback"),
    "data": ("anisketch.data.cli", "write portrait samples, contact sheets, or a dataset from your own images"),
    "train": ("anisketch.train.cli", "train a model from a config (GPU recommended)"),
    "eval": ("anisketch.eval.cli", "evaluate the shipped models on unseen engine samples"),
    "bench": ("anisketch.bench", "print speed figures: data, models, serve"),
    "demo": ("anisketch.demo", "guidance and renders for the shipped sample sketch, as PNG files"),
    "generate": ("anisketch.generate.cli", "a portrait from attributes and a noise seed"),
    "photo": ("anisketch.photo.cli", "an anime portrait from a photo"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anisketch",
        description="AniSketch backend: guidance, colour renders and generation for anime portraits.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    if not argv or argv[0] not in SUBCOMMANDS:
        top.parse_args(argv or ["--help"])  # prints help or a clear "invalid choice" error
        return 2
    name, rest = argv[0], argv[1:]
    module_name, help_text = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"anisketch {name}", description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
