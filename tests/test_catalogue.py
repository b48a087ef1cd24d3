"""scratch_ae/exercises/catalogue.py.

The exercises' catalogue: fifteen, in order, each with its starter, its tutorial, the library
file it mirrors, and a solution copy; the starters ship with a non-editable install."""

import ast
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scratch_ae.exercises import catalogue

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = catalogue.EXERCISES


def test_fifteen_exercises_covering_what_the_issue_lists():
    assert [e.name for e in EXERCISES] == [
        "sigmoid", "selu", "dense", "mse", "bce", "sgd", "rmsprop", "dense_transpose",
        "dropout", "activity_l1", "kl_sparsity", "gaussian_sampling", "im2col", "conv2d",
        "maxpool2d"]
    assert set(catalogue.FINALE_NEEDS) <= {e.name for e in EXERCISES}


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.name for e in EXERCISES])
def test_each_starter_says_its_place_tutorial_and_mirror(ex):
    text = ex.starter.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith(f'"""Exercise {ex.number} of {len(EXERCISES)} -- ')
    tutorial = ex.tutorial.split()[0]
    assert f"Tutorial: {tutorial}" in text and (ROOT / tutorial).is_file()
    assert f"Mirrors:  {ex.mirrors}" in text and (ROOT / ex.mirrors).is_file()
    assert f"scratch-ae exercise check {ex.name}" in text
    for obj in ex.solution:  # the library's answer lives in the file the starter names
        assert Path(inspect.getsourcefile(obj)).resolve() == (ROOT / ex.mirrors).resolve()


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.name for e in EXERCISES])
def test_each_starter_defines_the_names_with_unwritten_bodies(ex):
    tree = ast.parse(ex.starter.read_text(encoding="utf-8"))
    top = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert set(ex.names) <= set(top)
    raising = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)
               and "NotImplementedError" in ast.unparse(n)]
    assert raising
    for name in ex.names:  # a docstring on everything the learner writes
        assert ast.get_docstring(top[name])


def test_starters_pass_ruff():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    out = subprocess.run([ruff, "check", str(catalogue.STARTERS)], cwd=ROOT, check=False,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.name for e in EXERCISES])
def test_solution_source_defines_the_library_objects(ex):
    namespace = {}
    exec(compile(catalogue.solution_source(ex.name), f"{ex.name}.py", "exec"), namespace)
    for name, obj in catalogue.solution_namespace(ex.name).items():
        assert namespace[name].__name__ == obj.__name__


def test_an_unknown_name_lists_the_exercises():
    with pytest.raises(ValueError, match=r"unknown exercise 'densee': expected one of sigmoid"):
        catalogue.get("densee")


def test_the_guide_lists_the_exercises_in_order():
    guide = catalogue.GUIDE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| ([^|]+) \|", guide, flags=re.M)
    assert [(int(n), name) for n, name, _ in rows] == [(e.number, e.name) for e in EXERCISES]
    for (_, _, covers), ex in zip(rows, EXERCISES, strict=True):
        assert covers.strip().replace("`", "") == ex.covers


def test_a_non_editable_build_ships_the_starters_and_the_guide(tmp_path):
    """What ``pip install .`` puts in site-packages is what build_py collects."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "scratch_ae", src / "scratch_ae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    out = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                          "build_py", "--build-lib", str(tmp_path / "lib")], cwd=src,
                         check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    shipped = tmp_path / "lib" / "scratch_ae" / "exercises"
    assert (shipped / "README.md").is_file()
    assert sorted(p.name for p in (shipped / "starters").glob("*.py")) == sorted(
        f"{e.name}.py" for e in EXERCISES)
