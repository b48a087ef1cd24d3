"""docs/READING.md: every step names a file, functions in it and tests that all exist."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READING = ROOT / "docs" / "READING.md"


def _steps() -> list[tuple[str, str, str]]:
    """``(title, read line, proved-by line)`` for each numbered step."""
    steps = []
    for chunk in re.split(r"^## ", READING.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title = chunk.splitlines()[0]
        if not re.match(r"\d+\. ", title):
            continue
        read = re.search(r"^- \*\*Read:\*\* (.*)$", chunk, flags=re.M)
        proved = re.search(r"^- \*\*Proved by:\*\* (.*)$", chunk, flags=re.M)
        assert read and proved, f"step {title!r} needs a Read line and a Proved by line"
        steps.append((title, read.group(1), proved.group(1)))
    return steps


def _defined(path: Path) -> set[str]:
    """Top-level functions and classes of a file, and ``Class.method`` for their methods."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}.{item.name}" for item in node.body
                         if isinstance(item, ast.FunctionDef))
    return names


STEPS = _steps()


def test_the_reading_path_has_about_ten_steps_in_order():
    assert 8 <= len(STEPS) <= 14
    assert [int(t.split(".")[0]) for t, _, _ in STEPS] == list(range(1, len(STEPS) + 1))


@pytest.mark.parametrize(("title", "read", "proved"), STEPS, ids=[s[0] for s in STEPS])
def test_each_step_names_a_file_functions_and_tests_that_exist(title, read, proved):
    current, named = None, 0
    for token in re.findall(r"`([^`]+)`", read):
        if token.endswith(".py"):
            current = ROOT / token
            assert current.is_file(), f"step {title!r}: no file {token}"
            continue
        assert current is not None, f"step {title!r}: {token} comes before any file"
        assert token in _defined(current), f"step {title!r}: no {token} in {current.name}"
        named += 1
    assert named, f"step {title!r} names no function"

    tests = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", proved)
    assert tests, f"step {title!r} names no test"
    for file, test in tests:
        assert test in _defined(ROOT / file), f"step {title!r}: no {test} in {file}"


def test_the_readme_links_the_reading_path():
    assert "(docs/READING.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
