"""Every tutorial runs end to end with --quick on the real MNIST files.

The scripts are run in this process (their ``main(argv)``), not as twelve subprocesses, so the
imports are paid once. They share one weights folder, in order, as the gallery run does: 05
reuses 03's conv AE, 06-11 reuse 01's stacked AE. Each must write its figures and a
metrics.json whose numbers are all finite.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
HAS_MNIST = bool(os.environ.get("SCRATCH_AE_DATA")) and (
    Path(os.environ.get("SCRATCH_AE_DATA", "")) / "mnist").is_dir()

needs_mnist = pytest.mark.skipif(
    not HAS_MNIST, reason="needs the MNIST IDX files: set SCRATCH_AE_DATA to a folder with mnist/")


def load(script: Path):
    spec = importlib.util.spec_from_file_location(f"tutorial_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return tmp_path_factory.mktemp("weights")


@pytest.fixture(autouse=True)
def _restore_threads():
    """A tutorial limits BLAS/OpenMP/Numba threads for the process; undo it afterwards."""
    import numba

    from scratch_ae import threads

    before, policy = numba.get_num_threads(), dict(threads._state)
    yield
    from tutorials import common

    for limit in common._THREAD_LIMITS:
        limit.restore_original_limits()
    numba.set_num_threads(before)
    threads._state.update(policy)


def test_threads_option_holds_for_training_and_default_leaves_training_to_the_policy():
    """--threads N is set_threads(N), which fit keeps; without it, only scikit-learn's OpenMP
    is limited (to 1) and training's threads stay the library's automatic choice."""
    from threadpoolctl import threadpool_info

    from scratch_ae import threads
    from tutorials import common

    threads._state.update({"policy": None, "explicit": False})
    common._limit_threads(None)
    assert threads.current() is None and not threads._state["explicit"]
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "openmp")
    common._limit_threads(1)
    p = threads.current()
    assert p.source == "set_threads" and (p.blas, p.numba) == (1, 1)
    with pytest.raises(ValueError, match="--threads must be at least 1"):
        common._limit_threads(0)


def test_there_are_twelve_tutorials():
    assert [s.name[:2] for s in SCRIPTS] == [f"{i:02d}" for i in range(1, 13)]


@needs_mnist
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_tutorial_quick(script, weights, tmp_path, capsys):
    out = tmp_path / script.stem
    metrics = load(script).main(["--quick", "--out", str(out), "--weights-dir", str(weights),
                                 "--seed", "0"])
    printed = capsys.readouterr().out
    assert "QUICK mode" in printed and str(out) in printed  # says what it does and where
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["tutorial"] == script.stem and on_disk["quick"] is True
    assert on_disk["figures"] == [Path(f).name for f in metrics["figures"]]
    assert on_disk["figures"]
    for name in on_disk["figures"]:
        blob = (out / name).read_bytes()
        assert blob[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
    values = list(numbers(on_disk))
    assert len(values) >= 5
    bad = [p for p, v in values if not math.isfinite(v)]
    assert not bad, f"non-finite numbers in {script.stem}/metrics.json: {bad}"


@needs_mnist
def test_weights_are_reused_unless_retrain(tmp_path):
    script = ROOT / "tutorials" / "01_stacked.py"
    args = ["--quick", "--out", str(tmp_path / "out"), "--weights-dir", str(tmp_path / "w")]
    reused = [load(script).main(args + extra)["models"]["stacked"]["weights_reused"]
              for extra in ([], [], ["--retrain"])]
    assert reused == [False, True, False]


def test_summary_marks_missing_and_quick_runs_pending(tmp_path, monkeypatch):
    """The README's number blocks come from full runs only; anything else says "pending"."""
    from tutorials import summary

    monkeypatch.setattr(summary, "GALLERY", tmp_path)
    (tmp_path / "01_stacked").mkdir()
    (tmp_path / "01_stacked" / "metrics.json").write_text(json.dumps({"quick": True}))
    text = summary.fill("<!-- numbers:01_stacked -->old<!-- /numbers -->\n"
                        "<!-- numbers:claims --><!-- /numbers -->")
    assert "Pending: `01_stacked`" in text and "old" not in text
    assert "| pending | pending |" in text
