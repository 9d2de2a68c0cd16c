"""The layout of the package and the notebooks (issue 13): one subpackage per stage, small modules,
no import cycles, thin notebooks.  Each rule fails naming the offending module, cycle or cell."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from splkit.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "splkit"
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "cli.py", "config.py"}
MAX_MODULE_LINES = 400
MAX_NOTEBOOK_CODE_LINES = 60
MAX_CELL_LINES = 15


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def module_imports(path: Path, known: set[str]) -> set[str]:
    """splkit modules ``path`` imports, anywhere in it (a lazy import inside a function that only
    dodges a cycle is still a cycle in the design)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("splkit"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return {m for m in found if m in known}


def test_only_config_and_cli_at_the_top_level():
    stray = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in TOP_LEVEL_MODULES)
    assert not stray, f"top-level modules outside the stage subpackages: {stray}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_module_is_small(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_MODULE_LINES, f"{module_name(path)} has {n} lines (limit {MAX_MODULE_LINES}): split it"


def test_no_import_cycles():
    known = modules()
    graph = {name: module_imports(path, set(known)) - {name} for name, path in known.items()}
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def code_cells(path: Path) -> list[list[str]]:
    cells = json.loads(path.read_text())["cells"]
    return [
        [line for line in "".join(c["source"]).splitlines() if line.strip()]
        for c in cells
        if c["cell_type"] == "code"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path):
    cells = code_cells(path)
    total = sum(len(c) for c in cells)
    assert total < MAX_NOTEBOOK_CODE_LINES, (
        f"{path.name}: {total} code lines (limit {MAX_NOTEBOOK_CODE_LINES})"
    )
    long = [(i, len(c)) for i, c in enumerate(cells) if len(c) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells over {MAX_CELL_LINES} lines (index, lines): {long}"
