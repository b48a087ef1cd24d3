"""scratch_ae/exercises/workbook.py: `scratch-ae exercise list | start | check` exit 0 / 1 / 2,
one paragraph, never a traceback, never a learner's file overwritten."""

import subprocess
import sys

import pytest

from scratch_ae import cli
from scratch_ae.exercises import catalogue


def run(capsys, *argv):
    code = cli.main(["exercise", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_start_writes_the_starter_and_never_overwrites(tmp_path, capsys):
    code, out, _ = run(capsys, "start", "dense", "--dir", str(tmp_path))
    assert code == 0 and f"wrote {tmp_path}/dense.py: exercise 3 of 15" in out
    mine = tmp_path / "dense.py"
    assert mine.read_text() == catalogue.get("dense").starter.read_text()
    mine.write_text("# my work\n")
    code, out, err = run(capsys, "start", "dense", "--dir", str(tmp_path))
    assert code == 1 and mine.read_text() == "# my work\n"
    assert err.startswith("scratch-ae: error:") and "exists already" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("name", [e.name for e in catalogue.EXERCISES])
def test_every_starter_fails_with_not_implemented(tmp_path, capsys, name):
    run(capsys, "start", name, "--dir", str(tmp_path))
    code, out, err = run(capsys, "check", name, "--dir", str(tmp_path))
    assert code == 1 and err == ""
    assert "not implemented yet" in out and "Traceback" not in out


def test_the_solution_passes_one_and_all(capsys):
    code, out, _ = run(capsys, "check", "conv2d", "--solution")
    assert code == 0 and out.startswith("conv2d: passed (the library's own code)")
    code, out, _ = run(capsys, "check", "--all", "--solution")
    assert code == 0 and "15 of 15 passed." in out


def test_list_and_all_show_progress(tmp_path, capsys):
    (tmp_path / "sigmoid.py").write_text(catalogue.solution_source("sigmoid"))
    run(capsys, "start", "selu", "--dir", str(tmp_path))
    code, out, _ = run(capsys, "list", "--dir", str(tmp_path))
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith(" 1. sigmoid") and lines[0].endswith("done")
    assert lines[1].startswith(" 2. selu") and lines[1].endswith("to do")
    assert lines[2].startswith(" 3. dense") and lines[2].endswith("not started")
    code, out, _ = run(capsys, "check", "--all", "--dir", str(tmp_path))
    assert code == 1 and " 1. sigmoid            passed" in out and "1 of 15 passed." in out
    assert "selu: not implemented yet" in out  # the first failure, in full


def test_the_finale_on_the_sample(tmp_path, capsys):
    for name in catalogue.FINALE_NEEDS:
        (tmp_path / f"{name}.py").write_text(catalogue.solution_source(name))
    code, out, _ = run(capsys, "check", "--train", "stacked", "--dir", str(tmp_path),
                       "--dataset", "sample", "--limit", "200")
    assert code == 0, out
    assert "your layers:  validation loss (BCE) after 1 epoch" in out
    assert "the library:  validation loss (BCE) after 1 epoch" in out


@pytest.mark.parametrize(("argv", "says"), [
    (["check"], "takes one of: an exercise NAME, --all, or --train stacked (got none)"),
    (["check", "dense", "--all"], "(got NAME and --all)"),
    (["check", "nosuch"], "unknown exercise 'nosuch': expected one of sigmoid, selu"),
    (["start", "nosuch"], "unknown exercise 'nosuch'"),
    (["check", "dense", "--limit", "5"], "--dataset and --limit go with --train stacked"),
    (["check", "--train", "conv"], "--train stacked"),
    (["check", "--train", "stacked", "--limit", "1"], "--limit must be at least 2"),
])
def test_wrong_arguments_exit_2_in_one_line(capsys, argv, says):
    code, _, err = run(capsys, *argv)
    assert code == 2 and says in err and err.count("\n") == 1


def test_the_console_command_prints_no_traceback(tmp_path):
    (tmp_path / "dense.py").write_text("def oops(:\n")
    out = subprocess.run([sys.executable, "-m", "scratch_ae.cli", "exercise", "check", "dense",
                          "--dir", str(tmp_path)], capture_output=True, text=True, check=False)
    assert out.returncode == 1 and out.stderr == ""
    assert "does not import: SyntaxError at line 1" in " ".join(out.stdout.split())


@pytest.mark.parametrize("action", ["list", "start", "check"])
def test_help_is_plain_text(capsys, action):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["exercise", action, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: scratch-ae exercise {action}")
