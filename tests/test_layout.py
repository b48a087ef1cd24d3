"""The layout of tests/: one test file per module it proves, so that a reader can go from a
module to its proof.

``scratch_ae/**/<stem>.py`` is proved by ``tests/test_<stem>.py`` (stems are unique in the
package, so the name says which module), whose docstring names the module. A module without a
test file, or a test file that matches no module, must be in one of the two lists below, with
its reason. Helpers shared by test files (``conftest.py``, ``helpers.py``, ``kernel_cases.py``)
do not start with ``test_`` and prove nothing themselves.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scratch_ae"
TESTS = ROOT / "tests"

# Modules with no test file of their own, and why.
NO_TEST_FILE = {
    "scratch_ae/__init__.py": "gathers the public names and registers the classes for model "
                              "files; test_imports.py checks every class is exported and "
                              "registered",
    "scratch_ae/kernels/__init__.py": "a docstring, no code",
    "scratch_ae/layers/__init__.py": "re-exports the layers (checked by test_imports.py)",
    "scratch_ae/models/__init__.py": "re-exports the models (checked by test_imports.py)",
    "scratch_ae/exercises/__init__.py": "a docstring naming the exercise modules",
}

# Files of the package that are data, not modules: a learner's starters (one class or function
# each with NotImplementedError bodies), proved by test_catalogue.py and test_graders.py.
DATA = ("scratch_ae/exercises/starters/",)

# Test files that prove no single module, and what they prove instead.
CROSS_CUTTING = {
    "test_imports.py": "the package's structure: import graph, drawn levels, exports",
    "test_layout.py": "this file: the layout of tests/ itself",
    "test_public_api.py": "fuzzes the public boundary of every module with garbage in",
    "test_reading_path.py": "docs/READING.md: the files, functions and tests it names exist",
    "test_readme.py": "README.md: its example runs as written",
    "test_function_length.py": "no function of the package is longer than a screen",
    "test_fast_paths.py": "every backend fast path against the layer code it replaces "
                          "(backend.fast and kernels/ together)",
    "test_gpu.py": "the cupy backend on a real GPU, every layer and training end to end",
    "test_gpu_check.py": "scripts/gpu_*.py and benchmarks/cpu_vs_gpu.py",
    "test_transfers.py": "host/GPU traffic while training (train, backend, fake_cupy)",
    "test_tutorials.py": "tutorials/ run end to end",
    "test_step_breakdown.py": "benchmarks/step_breakdown.py",
}

# Per-module test files whose docstring does not name the module, and why.
DOCSTRING_NAMES_NO_MODULE = {
    "test_cli.py": "says 'the `scratch-ae` command' (cli.py); being reworked elsewhere now",
}


def _modules() -> list[str]:
    paths = (p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py"))
    return sorted(p for p in paths if not p.startswith(DATA))


def _test_files() -> list[str]:
    return sorted(p.name for p in TESTS.glob("test_*.py"))


def layout_problems(modules, test_files, no_test_file=NO_TEST_FILE,
                    cross_cutting=CROSS_CUTTING) -> list[str]:
    """What breaks the rule, given the package's modules (``scratch_ae/layers/dense.py``, ...)
    and the test files (``test_dense.py``, ...); empty when the layout is right."""
    problems = []
    by_stem = {}
    for module in modules:
        if module not in no_test_file:
            by_stem.setdefault(Path(module).stem, []).append(module)
    for stem, paths in sorted(by_stem.items()):
        if len(paths) > 1:
            problems.append(f"{' and '.join(sorted(paths))} share the stem {stem!r}, so "
                            f"tests/test_{stem}.py cannot say which it proves")
        if f"test_{stem}.py" not in test_files:
            problems.append(f"{paths[0]} has no tests/test_{stem}.py")
    for name in sorted(test_files):
        stem = name.removeprefix("test_").removesuffix(".py")
        if stem in by_stem and name in cross_cutting:
            problems.append(f"tests/{name} proves {by_stem[stem][0]}: it is not cross-cutting")
        elif stem not in by_stem and name not in cross_cutting:
            problems.append(f"tests/{name} matches no module of scratch_ae and is not listed as "
                            "cross-cutting: rename it after its module, or list it with a reason")
    problems += [f"NO_TEST_FILE lists {m}, which does not exist"
                 for m in sorted(set(no_test_file) - set(modules))]
    problems += [f"CROSS_CUTTING lists tests/{t}, which does not exist"
                 for t in sorted(set(cross_cutting) - set(test_files))]
    return problems


def test_every_module_has_its_test_file_and_every_test_file_its_module():
    assert layout_problems(_modules(), _test_files()) == []
    for name, reason in {**NO_TEST_FILE, **CROSS_CUTTING}.items():
        assert isinstance(reason, str) and reason.strip(), f"{name} is listed without a reason"


def test_the_layout_check_finds_planted_mistakes():
    modules, tests = _modules(), _test_files()
    assert "scratch_ae/layers/dense.py" in modules and "test_dense.py" in tests
    planted = layout_problems(
        [*modules, "scratch_ae/layers/attention.py", "scratch_ae/models/dense.py"],
        [*[t for t in tests if t != "test_pooling.py"], "test_misc.py", "test_gone.py"],
        cross_cutting={**CROSS_CUTTING, "test_gone.py": "planted", "test_dense.py": "planted"})
    assert sorted(planted) == sorted([
        "scratch_ae/layers/attention.py has no tests/test_attention.py",
        "scratch_ae/layers/dense.py and scratch_ae/models/dense.py share the stem 'dense', so "
        "tests/test_dense.py cannot say which it proves",
        "scratch_ae/layers/pooling.py has no tests/test_pooling.py",
        "tests/test_dense.py proves scratch_ae/layers/dense.py: it is not cross-cutting",
        "tests/test_misc.py matches no module of scratch_ae and is not listed as cross-cutting: "
        "rename it after its module, or list it with a reason",
    ])
    stale = layout_problems(modules, [t for t in tests if t != "test_gpu.py"],
                            no_test_file={**NO_TEST_FILE, "scratch_ae/old.py": "planted"})
    assert stale == ["NO_TEST_FILE lists scratch_ae/old.py, which does not exist",
                     "CROSS_CUTTING lists tests/test_gpu.py, which does not exist"]


def _docstrings() -> dict[str, str]:
    return {name: ast.get_docstring(ast.parse((TESTS / name).read_text(encoding="utf-8"))) or ""
            for name in _test_files()}


def docstring_problems(docstrings, modules) -> list[str]:
    """Test files (``{name: docstring}``) with no docstring, or whose docstring does not name the
    module they prove (as ``scratch_ae/layers/dense.py`` or ``scratch_ae.layers.dense``)."""
    stems = {Path(m).stem: m for m in modules if m not in NO_TEST_FILE}
    problems = []
    for name, doc in sorted(docstrings.items()):
        if not doc.strip():
            problems.append(f"tests/{name} has no docstring saying what it proves")
            continue
        module = stems.get(name.removeprefix("test_").removesuffix(".py"))
        if module is None or name in DOCSTRING_NAMES_NO_MODULE:
            continue
        dotted = module.removesuffix(".py").replace("/", ".")
        if module not in doc and dotted not in doc:
            problems.append(f"tests/{name}'s docstring does not name {module}")
    return problems


def test_each_test_file_starts_with_a_docstring_naming_what_it_proves():
    assert docstring_problems(_docstrings(), _modules()) == []
    assert set(DOCSTRING_NAMES_NO_MODULE) <= set(_test_files()), "a stale exception"


def test_the_docstring_check_finds_planted_mistakes():
    docs = {**_docstrings(), "test_dense.py": "Dense and DenseTranspose.", "test_noise.py": " ",
            "test_pooling.py": "scratch_ae.layers.pooling: the pooling layers."}
    assert docstring_problems(docs, _modules()) == [
        "tests/test_dense.py's docstring does not name scratch_ae/layers/dense.py",
        "tests/test_noise.py has no docstring saying what it proves",
    ]
