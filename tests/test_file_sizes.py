"""No god files: a Python file over 500 lines says at its top (its docstring or its first lines) why it stays one
file. The plugin's modules say it in a comment: a longer module docstring in the installed plugin made Krita
5.1.5 crash at start-up in the end-to-end runs (a SAFE ASSERT in kis_node_manager, reproduced three times,
gone with the comment; not understood)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 500
REASON = "Why one file of this size"
SKIP = {".venv", "runs", ".dev", "build", ".git"}


def unexplained(paths: list[Path]) -> list[str]:
    """The files over LIMIT lines whose module docstring does not say why they stay one file."""
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        top = (ast.get_docstring(ast.parse(text)) or "") + "\n".join(text.splitlines()[:60])
        if lines > LIMIT and REASON not in top:
            out.append(f"{path.name} ({lines} lines)")
    return out


def test_every_long_file_says_why_it_is_one_file():
    paths = [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts)]
    found = unexplained(paths)
    assert not found, f"split these along their seams, or say at their top why not: {found}"


def test_the_check_finds_a_long_file_without_a_reason(tmp_path):
    body = "x = 1\n" * (LIMIT + 5)
    (tmp_path / "silent.py").write_text('"""A module."""\n' + body)
    (tmp_path / "explained.py").write_text(f'"""A module.\n\n{REASON}: one contract.\n"""\n' + body)
    (tmp_path / "short.py").write_text('"""A module."""\nx = 1\n')
    assert unexplained(sorted(tmp_path.glob("*.py"))) == [f"silent.py ({LIMIT + 6} lines)"]


def test_the_shipped_weights_fit_their_budget():
    """Every weights file travels whole with each clone and each call to the GPU machine: none over 16 MiB, and
    all of weights/ within the 40 MiB the project allows."""
    sizes = {path.name: path.stat().st_size for path in (ROOT / "weights").iterdir() if path.is_file()}
    assert all(size <= 16 << 20 for size in sizes.values()), {n: s for n, s in sizes.items() if s > 16 << 20}
    assert sum(sizes.values()) <= 40 << 20, sum(sizes.values())
