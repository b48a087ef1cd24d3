"""No function in scratch_ae/ is longer than about a screen, unless a comment says why.

A learner reads a function in one go; past ~60 lines (docstring included) it should be split.
A function that must stay longer carries a ``# long: <reason>`` comment in its first lines.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "scratch_ae"
MAX_LINES = 60


def _long_functions():
    for path in sorted(ROOT.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            head = lines[node.lineno - 1: node.lineno + 30]
            if length > MAX_LINES and not any("# long:" in line for line in head):
                yield f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({length} lines)"


def test_no_function_is_longer_than_a_screen_without_a_reason():
    too_long = list(_long_functions())
    assert not too_long, (f"over {MAX_LINES} lines with no '# long: <reason>' comment: "
                          + "; ".join(too_long))
