"""No function in the package is longer than 60 lines (migrations excepted): a function that
needs more wants to be two (STYLE.md, issue 10)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "heldout"
MAX_LINES = 60


def long_functions(root: Path) -> list[str]:
    """``path:line name (n lines)`` of every function longer than MAX_LINES under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines})")
    return found


def test_no_function_is_longer_than_sixty_lines() -> None:
    assert long_functions(PACKAGE) == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "m.py").write_text(f"def too_long() -> None:\n{body}\n", encoding="utf-8")
    assert long_functions(tmp_path) == [f"m.py:1 too_long ({MAX_LINES + 1})"]
