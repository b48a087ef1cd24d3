"""The checker: grade one exercise in five steps, stop at the first failure, say why.

1. **your file** -- it exists, imports (a syntax error names its line), defines the names the
   starter defines, and nothing it runs still raises ``NotImplementedError``;
2. **shape and dtype** of every result on float32 inputs (the dtype follows the input);
3. **forward values** against the library's own code, in float64, on every case;
4. **gradient check**: the library's finite-difference checker (float64, kinks told apart from
   bugs) on the learner's code, then its backward results against the library's on the cases
   finite differences cannot see (ties, clipped probabilities);
5. **layer contract**: ``dy`` untouched, gradients added (``+=``), parameters left alone.

A failing step compares the learner's result with each classic mistake of the exercise
(:mod:`.mistakes`) and names the one it matches; when none does, it says where the worst element
differs. The result is a :class:`Report`: ``passed``, ``step``, the diagnosed ``mistake`` (its
key, or None) and ``text``, one paragraph.
"""

from __future__ import annotations

import ast
import importlib.util
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import backend
from ..gradcheck import GradientCheckError
from ..layers.base import Layer
from ..losses import Loss
from ..optim import Optimizer
from . import catalogue
from .graders import GRADERS
from .mistakes import MISTAKES, RULES

BASES = (Layer, Loss, Optimizer)  # what a learner's class must derive from, like the library's
RTOL = 1e-6  # results are compared in float64: a right answer agrees to ~1e-15

#: What the checker saw when a rule of :data:`~.mistakes.RULES` is broken.
SEEN = {
    "dy_modified": "After backward, dy is not what it was.",
    "assigned": "Run on gradients that already hold something, backward did not add to them.",
    "params_changed": "After backward, a parameter is not what it was.",
    "input_modified": "After forward and backward, y_pred or y_true is not what it was.",
    "grads_modified": "After step, a gradient is not what it was.",
    "unseeded": "Run twice from the same seed, your code gave two different outputs.",
    "untied_copy": "After the encoder's W changed in place, your decoder's output did not follow.",
    "untied_reference": "After the model was cast to float64 (W is then a new array), your "
                        "decoder's output did not follow.",
}


@dataclass
class Report:
    name: str
    passed: bool
    step: str
    text: str
    mistake: str | None = None
    worst: float | None = None
    started: bool = True  # False: the learner's file does not exist yet


class _Failed(Exception):
    """A step failed: carries the sentence that says how, and the mistake it matched."""

    def __init__(self, text: str, mistake: str | None = None):
        super().__init__(text)
        self.text, self.mistake = text, mistake


@contextmanager
def numpy_backend():
    """Grade on the numpy backend (the layers' own code); quiet about overflow in learner code."""
    try:
        before = backend.get_backend()
    except backend.BackendError:
        before = None
    backend.set_backend("numpy")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if before is not None:
            backend.set_backend(before)


def learner_path(name: str, directory) -> Path:
    return Path(directory) / f"{name}.py"


def check(name: str, directory="exercises", *, solution: bool = False) -> Report:
    """Grade ``directory/name.py`` (or, with ``solution``, the library's own code)."""
    ex = catalogue.get(name)
    path = None if solution else learner_path(name, directory).resolve()
    impl = catalogue.solution_namespace(name) if solution else load(name, directory)
    if isinstance(impl, Report):
        return impl
    with numpy_backend():
        return _Grading(ex, impl, path, learner_path(name, directory)).run()


# ------------------------------------------------------------------------------ step 1: load


def load(name: str, directory="exercises"):
    """The names the learner's ``directory/name.py`` defines, as a dict, or a failing Report
    saying why they cannot be had (no file, a syntax error, a missing name)."""
    ex, path = catalogue.get(name), learner_path(name, directory)

    def fail(text):
        return Report(ex.name, False, "your file", f"{ex.name}: {text}")

    if not path.is_file():
        report = fail(f"not started: {path} does not exist. Start it with: scratch-ae exercise "
                      f"start {ex.name}" + ("" if path.parent == Path("exercises")
                                            else f" --dir {path.parent}"))
        report.started = False
        return report
    spec = importlib.util.spec_from_file_location(f"exercise_{ex.name}", path.resolve())
    module = importlib.util.module_from_spec(spec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return fail(f"{path} does not import: {type(exc).__name__} at line {exc.lineno}: "
                    f"{exc.msg}" + (f": `{line}`" if line else "") + ".")
    except Exception as exc:
        return fail(f"{path} does not import: {_raised(exc, path.resolve())}.")
    missing = [n for n in ex.names if not hasattr(module, n)]
    if missing:
        return fail(f"{path} does not define {', '.join(missing)}: keep the names the starter "
                    "gives (scratch-ae exercise start writes a fresh one under another --dir).")
    for what, solution in zip(ex.names, ex.solution, strict=True):
        base = next((b for b in BASES if isinstance(solution, type) and issubclass(solution, b)),
                    None)
        mine = getattr(module, what)
        if base is not None and not (isinstance(mine, type) and issubclass(mine, base)):
            return fail(f"{what} in {path} must stay a subclass of {base.__name__}, as in the "
                        f"starter (class {what}({base.__name__})): the checker and the training "
                        f"loop use what {base.__name__} provides.")
    return {n: getattr(module, n) for n in ex.names}


def _raised(exc: BaseException, path: Path | None) -> str:
    """``"Dense.backward raised ValueError: ... (dense.py line 40: `...`)"``: the exception and
    the learner's line it came from (the innermost frame in the learner's file)."""
    where, qual = "", None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if path is not None and Path(code.co_filename).resolve() == path:
            qual = getattr(code, "co_qualname", code.co_name)
            where = f" ({path.name} line {lineno}: `{_source_line(path, lineno)}`)"
    what = f"{qual} raised" if qual and qual != "<module>" else "raised"
    message = " ".join(str(exc).split())
    return f"{what} {type(exc).__name__}" + (f": {message}" if message else "") + where


def _source_line(path: Path, lineno: int) -> str:
    try:
        return path.read_text(encoding="utf-8").splitlines()[lineno - 1].strip()
    except (OSError, IndexError):
        return "?"


def unwritten(source: str) -> list[str]:
    """Functions (``Class.method``) whose body still raises NotImplementedError at its top."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                if any(isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s)
                       for s in child.body):
                    found.append(f"{prefix}{child.name}")

    visit(ast.parse(source), "")
    return found


# ------------------------------------------------------------------------- steps 2 to 5


def close(a, b) -> bool:
    """Equal in float64 up to rounding (RTOL), shapes included; nan matches nan."""
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.nanmax(np.abs(b), initial=0.0)))
    return bool(np.allclose(a, b, rtol=RTOL, atol=1e-9 * scale, equal_nan=True))


def same_shape(a, b) -> bool:
    """Same shape and dtype (None only matches None; a number may be any float: a Python float
    is as good a loss or penalty as a NumPy scalar)."""
    if a is None or b is None:
        return a is None and b is None
    if np.shape(a) != np.shape(b):
        return False
    return np.ndim(a) == 0 or np.asarray(a).dtype == np.asarray(b).dtype


def _describe(a) -> str:
    if a is None:
        return "None"
    a = np.asarray(a)
    return f"shape {a.shape}, dtype {a.dtype}"


def worst_element(key: str, mine, right) -> str:
    """Where ``mine`` differs most from ``right``: index, both values, how many differ."""
    a, b = np.asarray(mine, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if a.ndim == 0:
        return f"Yours is {float(a):.6g}, the library's {float(b):.6g}"
    diff = np.abs(a - b)
    diff[np.isnan(diff)] = np.inf
    idx = np.unravel_index(int(np.argmax(diff)), a.shape)
    scale = max(1.0, float(np.nanmax(np.abs(b), initial=0.0)))
    bad = int((~np.isclose(a, b, rtol=RTOL, atol=1e-9 * scale, equal_nan=True)).sum())
    where = ", ".join(str(int(i)) for i in idx)
    return (f"The worst element is [{where}] of {key}: yours {a[idx]:.6g}, the library's "
            f"{b[idx]:.6g} ({bad} of {a.size} elements differ)")


class _Grading:
    """One run of the steps; ``step`` and ``case`` say where an unexpected error came from."""

    def __init__(self, ex, impl, path, shown):
        self.ex, self.impl, self.path, self.shown = ex, impl, path, shown
        self.grader, self.mistakes = GRADERS[ex.name], MISTAKES[ex.name]
        self.lib = catalogue.solution_namespace(ex.name)
        self.step, self.case, self.worst = "shape and dtype", None, 0.0

    def run(self) -> Report:
        try:
            self.shapes()
            self.step = self.grader.steps[1]
            self.values()
            if "gradient check" in self.grader.steps:
                self.step = "gradient check"
                self.gradients()
            self.step = self.grader.steps[-1]
            self.contract()
        except _Failed as failed:
            return Report(self.ex.name, False, self.step,
                          f"{self.ex.name}: not passed, step {self.number()} ({self.step}). "
                          f"{failed.text}", failed.mistake)
        except NotImplementedError as exc:
            return self.not_implemented(exc)
        except Exception as exc:
            where = f" on the case '{self.case}'" if self.case else ""
            return Report(self.ex.name, False, self.step,
                          f"{self.ex.name}: not passed, step {self.number()} ({self.step}): "
                          f"while running your code{where}, {_raised(exc, self.path)}.")
        return self.passed()

    def number(self) -> int:
        return self.grader.steps.index(self.step) + 2

    def not_implemented(self, exc) -> Report:
        todo = unwritten(self.path.read_text(encoding="utf-8")) if self.path else []
        what = _raised(exc, self.path).split(" raised")[0]
        still = f" (still to write: {', '.join(todo)})" if todo else ""
        return Report(self.ex.name, False, "your file",
                      f"{self.ex.name}: not implemented yet: {what or 'your code'} raises "
                      f"NotImplementedError{still}. Write it -- its docstring says what to "
                      f"compute -- then check again.")

    def passed(self) -> Report:
        steps = ", ".join(self.grader.steps)
        grad = (f" (worst relative error of the gradient check {self.worst:.1e})"
                if "gradient check" in self.grader.steps else "")
        whose = "the library's own code" if self.path is None else str(self.shown)
        nxt = [e.name for e in catalogue.EXERCISES[self.ex.number:]]
        hint = f" Next: scratch-ae exercise start {nxt[0]}." if nxt and self.path else ""
        return Report(self.ex.name, True, "all",
                      f"{self.ex.name}: passed ({whose}): {steps}{grad}. Compare with the "
                      f"library's answer in {self.ex.mirrors}.{hint}", worst=self.worst)

    # -- the steps ------------------------------------------------------------------------
    def results(self, case, dtype):
        self.case = case.name
        c = case.at(dtype)
        return c, self.grader.run(self.impl, c), self.grader.run(self.lib, c)

    def shapes(self):
        c, mine, right = self.results(self.grader.cases()[0], np.float32)
        for key, want in right.items():
            got = mine.get(key)
            if not same_shape(got, want):
                self.diagnose(key, c, mine, right, same_shape,
                              f"{key} has {_describe(got)}; for float32 inputs on the case "
                              f"'{c.name}' it should have {_describe(want)}.")

    def values(self):
        broken = self.grader.structural(self.impl)
        if broken:
            self.rule(broken)
        for case in self.grader.cases():
            c, mine, right = self.results(case, np.float64)
            for key in self.grader.forward_keys:
                if not close(mine[key], right[key]):
                    self.diagnose(key, c, mine, right, close,
                              f"{key} differs from the library's on the case '{c.name}'.")

    def gradients(self):
        for case in self.grader.cases():
            if not case.fd:
                continue
            self.case = case.name
            try:
                self.worst = max(self.worst, self.grader.gradient(self.impl, case))
            except GradientCheckError as exc:
                said = (f"The gradient check (float64 finite differences, on the case "
                        f"'{case.name}') disagrees: {exc}.")
                self.backward_values(case, said)
                raise _Failed(said) from None
        for case in self.grader.cases():
            self.backward_values(case, "")

    def backward_values(self, case, said: str):
        """Compare the backward results with the library's; fail on the first that differs."""
        c, mine, right = self.results(case, np.float64)
        for key in right:
            if key not in self.grader.forward_keys and not close(mine[key], right[key]):
                lead = (f"{said} Run with the case's own dy, your {key} is the one that differs "
                        "from the library's." if said
                        else f"{key} differs from the library's on the case '{c.name}', where "
                        "finite differences cannot look (a kink, a tie, a clip).")
                self.diagnose(key, c, mine, right, close, lead)

    def contract(self):
        broken = self.grader.contract(self.impl)
        if broken:
            self.rule(broken)

    # -- diagnoses ------------------------------------------------------------------------
    def diagnose(self, key, c, mine, right, same, said: str):
        """Fail, naming the classic mistake whose version of ``key`` matches the learner's."""
        best, best_score = None, -1
        for mistake in self.mistakes:
            for variant in mistake.variants:
                try:
                    wrong = variant(c, right)
                except Exception:
                    continue
                if key in wrong and same(mine[key], wrong[key]):
                    score = sum(same(mine.get(k), v) for k, v in wrong.items())
                    if score > best_score:
                        best, best_score = mistake, score
        if best is None:
            if _comparable(mine[key], right[key]):
                said = f"{said} {worst_element(key, mine[key], right[key])}."
            raise _Failed(f"{said} It is not one of the classic mistakes this checker knows: "
                          "compare your code with the formulas in the docstring.")
        raise _Failed(f"{said} Diagnosis: {best.message}", best.key)

    def rule(self, name: str):
        for mistake in self.mistakes:
            if mistake.rule == name:
                raise _Failed(f"{SEEN[name]} Diagnosis: {mistake.message}", mistake.key)
        raise _Failed(f"{SEEN[name]} {RULES[name]}", None)


def _comparable(a, b) -> bool:
    return a is not None and b is not None and np.shape(a) == np.shape(b)
