"""What ``scratch-ae exercise list | start | check`` do (the parser lives in ``cli.py``).

Each function prints its result and returns the exit code: 0 when everything asked for passed,
1 otherwise. A wrong argument raises :class:`ArgumentError`, which the CLI reports in one line
with exit code 2; a file that exists already is an ``OSError`` (exit code 1).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from . import catalogue, checker, finale

WIDTH = 100


class ArgumentError(ValueError):
    """A wrong command-line argument (exit code 2)."""


def say(text: str) -> None:
    print(textwrap.fill(text, WIDTH))


def _dir_flag(directory) -> str:
    return "" if Path(directory) == Path("exercises") else f" --dir {directory}"


def _exercise(name: str):
    try:
        return catalogue.get(name)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


def list_exercises(directory="exercises") -> int:
    """Every exercise in order: name, what it covers, and whether the learner's file passes."""
    for ex in catalogue.EXERCISES:
        path = checker.learner_path(ex.name, directory)
        if not path.is_file():
            status = "not started"
        else:
            status = "done" if checker.check(ex.name, directory).passed else "to do"
        print(f"{ex.number:>2}. {ex.name:<18} {ex.covers:<64} {status}")
    print(f"\nStart one with: scratch-ae exercise start NAME{_dir_flag(directory)}  (into "
          f"{directory}/); the guide: {catalogue.GUIDE}")
    return 0


def start(name: str, directory="exercises") -> int:
    """Copy the starter to ``directory/name.py``; a file already there is never overwritten."""
    ex = _exercise(name)
    dest = checker.learner_path(name, directory)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(dest, "x", encoding="utf-8") as f:  # "x": fails if the file exists
            f.write(ex.starter.read_text(encoding="utf-8"))
    except FileExistsError:
        raise FileExistsError(
            f"{dest} exists already and was left as it is (your work is never overwritten). "
            f"Check it with: scratch-ae exercise check {name}{_dir_flag(directory)}; to start "
            "over, delete it first") from None
    print(f"wrote {dest}: exercise {ex.number} of {len(catalogue.EXERCISES)}, {ex.title} -- "
          f"{ex.covers}.")
    say(f"Open it, write the bodies that raise NotImplementedError (the docstrings say what to "
        f"compute), then run: scratch-ae exercise check {name}{_dir_flag(directory)}")
    return 0


def check_one(name: str, directory="exercises", solution: bool = False) -> int:
    _exercise(name)
    report = checker.check(name, directory, solution=solution)
    say(report.text)
    return 0 if report.passed else 1


def check_all(directory="exercises", solution: bool = False) -> int:
    """One line per exercise, then the paragraph of the first that does not pass."""
    reports = [checker.check(ex.name, directory, solution=solution)
               for ex in catalogue.EXERCISES]
    for ex, report in zip(catalogue.EXERCISES, reports, strict=True):
        state = ("passed" if report.passed else f"not passed ({report.step})" if report.started
                 else "not started")
        print(f"{ex.number:>2}. {ex.name:<18} {state}")
    done = sum(r.passed for r in reports)
    print(f"{done} of {len(reports)} passed.")
    first = next((r for r in reports if not r.passed), None)
    if first is not None:
        print()
        say(first.text)
    return 0 if first is None else 1


def train(model: str, directory="exercises", *, solution=False, dataset="auto",
          limit=None) -> int:
    if model != "stacked":
        raise ArgumentError(f"--train {model}: the finale trains tutorial 01's model: "
                            "--train stacked")
    if limit is not None and limit < 2:
        raise ArgumentError(f"--limit must be at least 2 images, got {limit}")
    outcome = finale.train_stacked(directory, solution=solution, dataset=dataset, limit=limit,
                                   say=say)
    say(outcome.text)
    return 0 if outcome.passed else 1


def run(args) -> int:
    """``scratch-ae exercise ...`` with the parsed arguments."""
    if args.action == "list":
        return list_exercises(args.dir)
    if args.action == "start":
        return start(args.name, args.dir)
    chosen = [flag for flag, given in (("NAME", args.name), ("--all", args.all),
                                       ("--train", args.train)) if given]
    if len(chosen) != 1:
        raise ArgumentError("exercise check takes one of: an exercise NAME, --all, or --train "
                            f"stacked (got {' and '.join(chosen) or 'none'})")
    if not args.train and (args.dataset is not None or args.limit is not None):
        raise ArgumentError("--dataset and --limit go with --train stacked")
    if args.train:
        return train(args.train, args.dir, solution=args.solution,
                     dataset=args.dataset or "auto", limit=args.limit)
    if args.all:
        return check_all(args.dir, args.solution)
    return check_one(args.name, args.dir, args.solution)
