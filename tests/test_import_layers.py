"""The code's layers point one way, read from every import statement (lazy ones inside functions included).

    foundation (protocol, errors, weights, colour, parallel)
      -> engine (anisketch.engine)
      -> model parts (layers, blocks)
      -> models: guidance, render, generate, photo inference (each may use the others)
      -> service
      -> server
      -> training, evaluation and tools (data, train, eval, *.train, *.own_images, *.bench, *.cli, cli, demo)

A module may import its own layer and the layers below it, never one above: inference never loads the
training code, the data sampler or the service, and the engine knows nothing of models. The plugin imports
only Krita, Qt, the standard library, pyzmq and its own modules (its copy of protocol.py among them); the
protocol only the standard library (the plugin runs it in Krita's Python, without numpy). A new module is
placed by its name (the rules in `layer_of`); one that fits no rule fails the test until it is placed.

The checker also runs on a copy of the backend with a planted back-import, so a checker that saw nothing would
fail here too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
PLUGIN = REPO / "plugin" / "anisketch_krita"

LAYERS = ("foundation", "engine", "model parts", "models", "service", "server", "training and tools")
FOUNDATION = {"anisketch", "anisketch.protocol", "anisketch.errors", "anisketch.weights", "anisketch.colour",
              "anisketch.parallel"}
MODEL_PACKAGES = ("guidance", "render", "generate", "photo")
# Modules of a model package that train, evaluate or measure it, or draw its command's pictures.
TOOL_NAMES = {"train", "frame_train", "refine_train", "own_images", "bench", "bench_against", "cli", "evaluate", "ceilings", "sheet", "layers_eval",
              "lone_heads", "timeline"}
PLUGIN_MAY_IMPORT = {"krita", "PyQt5", "PyQt6", "zmq"}
TORCH_FREE = ("anisketch.engine", "anisketch.protocol", "anisketch.data")  # no torch below the models


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if module in FOUNDATION:
        return "foundation"
    if parts[:2] == ["anisketch", "engine"]:
        return "engine"
    if module in ("anisketch.layers", "anisketch.blocks"):
        return "model parts"
    if len(parts) >= 2 and parts[1] in MODEL_PACKAGES:
        return "training and tools" if parts[-1] in TOOL_NAMES else "models"
    if module == "anisketch.service":
        return "service"
    if parts[:2] == ["anisketch", "server"]:
        return "training and tools" if parts[-1] == "bench" else "server"
    if len(parts) >= 2 and parts[1] in ("data", "train", "eval", "cli", "demo", "bench"):
        return "training and tools"
    return None


def imports_of(path: Path, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones resolved; `from a import b` also
    yields a.b (b may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_graph(root: Path, top: str) -> dict[str, list[tuple[str, int]]]:
    """{module: [(imported, line)]} for every .py file of the package `top` under root."""
    graph = {}
    for path in sorted((root / top).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        graph[module] = imports_of(path, module, is_package)
    return graph


def back_imports(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Every import of a module in a higher layer, and every module no rule places."""
    problems = []
    for module, imported in graph.items():
        own = layer_of(module)
        if own is None:
            problems.append(f"{module}: no layer (add a rule to layer_of)")
            continue
        for target, line in imported:
            if target not in graph or target == module:
                continue  # outside the backend, or `from pkg import name` where name is not a module
            theirs = layer_of(target)
            if theirs is not None and LAYERS.index(theirs) > LAYERS.index(own):
                problems.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
    return problems


def foreign_imports(graph: dict[str, list[tuple[str, int]]], prefixes: tuple[str, ...], allowed: set[str],
                    own: str) -> list[str]:
    """Imports by modules under `prefixes` of anything but the standard library, `allowed` and `own`'s package."""
    problems = []
    for module, imported in graph.items():
        if not module.startswith(prefixes):
            continue
        for target, line in imported:
            top = target.split(".")[0]
            if top in sys.stdlib_module_names or top in allowed or top == "__future__" or target.startswith(own):
                continue
            problems.append(f"{module}:{line} imports {target}")
    return problems


def test_backend_layers_point_one_way():
    assert back_imports(import_graph(BACKEND, "anisketch")) == []


def test_the_checker_sees_a_planted_back_import(tmp_path):
    shutil.copytree(BACKEND / "anisketch", tmp_path / "anisketch")
    predictor = tmp_path / "anisketch" / "guidance" / "predictor.py"
    predictor.write_text(predictor.read_text() + "\n\ndef _planted():\n    from .train import GuidanceTask\n")
    params = tmp_path / "anisketch" / "engine" / "params.py"
    params.write_text(params.read_text() + "\nfrom ..service import Service\n")
    problems = back_imports(import_graph(tmp_path, "anisketch"))
    assert len(problems) == 2, problems
    assert "anisketch.guidance.predictor" in problems[0] + problems[1]
    assert any("anisketch.engine.params" in p and "imports anisketch.service (service)" in p for p in problems)


def test_the_checker_on_a_small_graph():
    graph = {"anisketch.engine.params": [("anisketch.errors", 1)],
             "anisketch.generate.api": [("anisketch.engine.params", 3), ("anisketch.service", 9)],
             "anisketch.service": [("anisketch.generate.api", 2)],
             "anisketch.errors": [], "anisketch.mystery": []}
    assert back_imports(graph) == ["anisketch.generate.api:9 (models) imports anisketch.service (service)",
                                   "anisketch.mystery: no layer (add a rule to layer_of)"]


def test_inference_modules_are_placed_apart_from_training():
    assert layer_of("anisketch.guidance.predictor") == "models"
    assert layer_of("anisketch.guidance.state") == "models"
    assert layer_of("anisketch.guidance.train") == "training and tools"
    assert layer_of("anisketch.render.own_images") == "training and tools"
    assert layer_of("anisketch.server.server") == "server"


def test_the_engine_and_the_data_need_no_torch():
    graph = import_graph(BACKEND, "anisketch")
    assert [f"{module}:{line}" for module, imported in graph.items() if module.startswith(TORCH_FREE)
            for target, line in imported if target.split(".")[0] == "torch"] == []


def test_the_protocol_is_standard_library_only():
    assert foreign_imports(import_graph(BACKEND, "anisketch"), ("anisketch.protocol",), set(), "anisketch.errors") == []


def test_the_plugin_imports_only_krita_qt_zmq_and_itself():
    graph = import_graph(PLUGIN.parent, "anisketch_krita")
    assert len(graph) > 5
    assert foreign_imports(graph, ("anisketch_krita",), PLUGIN_MAY_IMPORT, "anisketch_krita") == []


def test_loading_every_inference_module_loads_no_training_code():
    """The same promise at run time: what Python actually loads for the service and the server."""
    code = ("import sys, anisketch.service, anisketch.server.server, anisketch.guidance.predictor, "
            "anisketch.render.api, anisketch.generate.api, anisketch.photo.api\n"
            "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('anisketch'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "anisketch.guidance.predictor" in loaded
    assert [m for m in loaded if layer_of(m) == "training and tools"] == []
