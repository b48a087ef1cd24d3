"""docs/READING.md: every step names a file, functions in it and tests that all exist, and every
formula it quotes is in the code (not the docstrings or comments) of the file it names."""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READING = ROOT / "docs" / "READING.md"


def _steps() -> list[tuple[str, str, str, str]]:
    """``(title, read line, formula line, proved-by line)`` for each numbered step."""
    steps = []
    for chunk in re.split(r"^## ", READING.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title = chunk.splitlines()[0]
        if not re.match(r"\d+\. ", title):
            continue
        lines = {name: re.search(rf"^- \*\*{name}:\*\* (.*)$", chunk, flags=re.M)
                 for name in ("Read", "Formula", "Proved by")}
        missing = [name for name, m in lines.items() if m is None]
        assert not missing, f"step {title!r} needs its {', '.join(missing)} line"
        steps.append((title, *(m.group(1) for m in lines.values())))
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


def _file_and_items(line: str):
    """``[(path, [token, ...]), ...]`` from a line of backticked files, each followed by items."""
    out = []
    for token in re.findall(r"`([^`]+)`", line):
        if token.endswith(".py"):
            out.append((ROOT / token, []))
        else:
            assert out, f"{token} comes before any file"
            out[-1][1].append(token)
    return out


def _tokens(text: str) -> str:
    """The text's Python tokens joined without spaces, comments and line breaks: so a formula
    matches the code however its lines are broken and spaced."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    toks = tokenize.generate_tokens(io.StringIO(text).readline)
    return "".join(t.string for t in toks if t.type not in skip)


def code_of(path: Path) -> str:
    """The file's code, its docstrings and comments left out, as :func:`_tokens` joins it."""
    source = path.read_text(encoding="utf-8")
    doc_lines = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                doc_lines.update(range(first.lineno, first.end_lineno + 1))
    kept = [line if i not in doc_lines else "" for i, line in
            enumerate(source.splitlines(keepends=True), start=1)]
    return _tokens("".join(kept))


STEPS = _steps()


def test_the_reading_path_has_about_ten_steps_in_order():
    assert 8 <= len(STEPS) <= 14
    assert [int(s[0].split(".")[0]) for s in STEPS] == list(range(1, len(STEPS) + 1))


@pytest.mark.parametrize(("title", "read", "formula", "proved"), STEPS,
                         ids=[s[0] for s in STEPS])
def test_each_step_names_a_file_functions_and_tests_that_exist(title, read, formula, proved):
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


@pytest.mark.parametrize(("title", "formula"), [(s[0], s[2]) for s in STEPS],
                         ids=[s[0] for s in STEPS])
def test_each_formula_is_in_the_code_of_the_file_it_names(title, formula):
    files = _file_and_items(formula)
    assert files and all(items for _, items in files), f"step {title!r}: a file with no formula"
    for path, items in files:
        assert path.is_file(), f"step {title!r}: no file {path}"
        code = code_of(path)
        for item in items:
            assert _tokens(item) in code, (
                f"step {title!r}: `{item}` is not in the code of {path.name} (docstrings and "
                "comments do not count)")


def test_a_formula_only_in_a_docstring_or_comment_is_not_found(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""y = x @ W + b"""\n\n\ndef f(x, W, b):\n    """dL/dx = dy @ W.T"""\n'
                    '    # z = 2 * x\n    return (x @ W\n            + b)\n', encoding="utf-8")
    code = code_of(path)
    assert _tokens("(x @ W + b)") in code  # the code, across a line break
    for text in ("dy @ W.T", "z = 2 * x", "y = x @ W + b"):  # docstrings and a comment
        assert _tokens(text) not in code
