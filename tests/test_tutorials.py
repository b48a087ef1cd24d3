"""tutorials/: each lesson runs end to end in quick mode, trains the zoo's models by their
recipes, opens as a notebook, feeds the README's tables, and fails in one line like the CLI;
the rule its claims are judged by (tutorials/verdicts.py); the weight cache's key.

The lessons run in this process (``runpy``, as ``python tutorials/NN.py`` would), not as
twelve subprocesses, so the imports are paid once. They share one weights folder, in order,
as the gallery run does: 05 reuses 03's conv AE, 07 06's plain AE, 08-11 01's stacked AE.
With the MNIST files (``SCRATCH_AE_DATA``) they run on MNIST, else on the offline sample.
"""

from __future__ import annotations

import json
import math
import os
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `tutorials` imports when this file runs alone, too
    sys.path.insert(0, str(ROOT))

from scratch_ae.losses import describe_loss, get_loss  # noqa: E402
from scratch_ae.models import zoo  # noqa: E402
from tutorials import cache, common, summary  # noqa: E402
from tutorials.verdicts import count_seeds, seeds_note, show, spread, verdict  # noqa: E402

SCRIPTS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
HAS_MNIST = bool(os.environ.get("SCRATCH_AE_DATA")) and (
    Path(os.environ.get("SCRATCH_AE_DATA", "")) / "mnist").is_dir()
DATASET = "mnist" if HAS_MNIST else "sample"

# Each lesson's trained models: {name given to run.cached: (zoo architecture, zoo recipe)}.
# None: not a zoo model (the shallow autoencoders of 12's greedy pretraining).
ZOO_FITS = {
    "01_stacked": {"stacked": ("stacked", "stacked")},
    "02_sparse": {"sparse_l1": ("sparse_l1", "sparse_l1"), "sparse_kl": ("sparse_kl",
                                                                        "sparse_kl")},
    "03_conv": {"conv": ("conv", "conv")},
    "04_conv_wide": {"conv_wide": ("conv_wide", "conv_wide")},
    "05_sparse_conv": {"sparse_conv": ("sparse_conv", "sparse_conv"), "conv": ("conv", "conv")},
    # the control of 06 and 07: the stacked AE trained as the denoisers are
    "06_denoise_gauss": {"denoise_gauss": ("denoise_gauss", "denoise_gauss"),
                         "plain_ae": ("stacked", "denoise_gauss")},
    "07_denoise_dropout": {"denoise_dropout": ("denoise_dropout", "denoise_dropout"),
                           "plain_ae": ("stacked", "denoise_dropout")},
    "08_generator": {"stacked": ("stacked", "stacked")},
    "09_vae": {"vae": ("vae", "vae"), "vae2d": ("vae2d", "vae2d"),
               "stacked": ("stacked", "stacked")},
    "10_linear_pca": {"linear": ("linear", "linear"), "stacked": ("stacked", "stacked")},
    "11_anomaly": {"stacked_no8": ("stacked", "stacked"), "stacked": ("stacked", "stacked")},
    "12_deep_hinton": {"deep_direct": ("deep", "deep"), "deep_pretrained": ("deep", "deep"),
                       **{f"pretrain_level{i}": None for i in range(1, 5)}},
}
RESULTS: dict = {}  # lesson -> the metrics of its quick run, for the README test below


def numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


def run_lesson(script: Path, args: list[str]):
    """Run a lesson file as ``python tutorials/NN.py ARGS`` would; return its ``run``."""
    argv, path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    try:
        return runpy.run_path(str(script), run_name="__main__")["run"]
    finally:
        sys.argv, sys.path[:] = argv, path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return tmp_path_factory.mktemp("weights")


@pytest.fixture(autouse=True)
def _restore_process_state():
    """A lesson limits BLAS/OpenMP/Numba threads and installs an error hook; undo both."""
    import numba

    from scratch_ae import threads

    before, policy, hook = numba.get_num_threads(), dict(threads._state), sys.excepthook
    yield
    for limit in common._THREAD_LIMITS:
        limit.restore_original_limits()
    numba.set_num_threads(before)
    threads._state.update(policy)
    sys.excepthook = hook


def test_threads_option_holds_for_training_and_default_leaves_training_to_the_policy():
    """--threads N is set_threads(N), which fit keeps; without it, only scikit-learn's OpenMP
    is limited (to 1) and training's threads stay the library's automatic choice."""
    from threadpoolctl import threadpool_info

    from scratch_ae import threads

    threads._state.update({"policy": None, "explicit": False})
    common._limit_threads(None)
    assert threads.current() is None and not threads._state["explicit"]
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "openmp")
    common._limit_threads(1)
    p = threads.current()
    assert p.source == "set_threads" and (p.blas, p.numba) == (1, 1)
    with pytest.raises(ValueError, match="--threads must be at least 1"):
        common._limit_threads(0)


def test_there_are_twelve_lessons_each_a_percent_notebook_that_fits_in_view():
    jupytext = pytest.importorskip("jupytext")
    assert [s.name[:2] for s in SCRIPTS] == [f"{i:02d}" for i in range(1, 13)]
    for script in SCRIPTS:
        cells = jupytext.read(script).cells
        kinds = [c.cell_type for c in cells]
        assert kinds[0] == "markdown" and cells[0].source.startswith(f"# {script.name[:2]} ")
        assert kinds.count("markdown") >= 3 and kinds.count("code") >= 3, script.name
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        assert ".fit(" in code and "optimizer=" in code, f"{script.name}: no fit in view"
        assert "recipe.train(" not in code and "zoo" not in code, script.name
        assert "common.start(" in code and "run.finish()" in code, script.name


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_lesson_runs_quick_and_trains_the_zoo_models_by_their_recipes(script, weights,
                                                                      tmp_path, capsys):
    out = tmp_path / script.stem
    with warnings.catch_warnings():
        if DATASET == "sample" and script.stem == "02_sparse":
            # On the 1,297 sample digits the KL-sparse AE's loss spikes in its first steps
            # (SGD at 1.0) and is back down within the first epoch (41 steps); a 25-step quick
            # run ends inside the spike, which fit rightly calls diverged.
            warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        run = run_lesson(script, ["--quick", "--dataset", DATASET, "--out", str(out),
                                  "--weights-dir", str(weights)])
    printed = capsys.readouterr().out
    assert "QUICK mode" in printed and str(out) in printed  # says what it does and where
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["tutorial"] == script.stem and on_disk["quick"] is True
    assert on_disk["seeds"] == [42, 43]  # quick mode: two seeds, so spreads are computed
    assert on_disk["figures"]
    for name in on_disk["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
    values = list(numbers(on_disk))
    assert len(values) >= 5
    bad = [p for p, v in values if not math.isfinite(v)]
    assert not bad, f"non-finite numbers in {script.stem}/metrics.json: {bad}"
    assert_trained_by_recipes(script.stem, on_disk["fits"])
    RESULTS[script.stem] = on_disk
    assert run.max_steps == common.QUICK["steps"]


def assert_trained_by_recipes(lesson: str, fits: dict) -> None:
    """Each model a lesson trains in view has the zoo model's architecture and trains with
    the zoo recipe's loss, optimizer (and its settings), batch size, epochs and schedule."""
    assert set(fits) == set(ZOO_FITS[lesson]), lesson
    for name, fit in fits.items():
        expected = ZOO_FITS[lesson][name]
        if expected is None:
            continue
        model_name, recipe_name = expected
        model, recipe = zoo.build(model_name), zoo.get_recipe(recipe_name)
        optimizer = recipe.make_optimizer()
        schedule = recipe.lr_schedule_for(optimizer, recipe.epochs)
        want = {"spec_sha1": cache.spec_sha1(model),
                "loss": describe_loss(get_loss(model.loss)),
                "optimizer": cache.describe_optimizer(optimizer), "epochs": recipe.epochs,
                "batch_size": recipe.batch_size,
                "lr_schedule": None if schedule is None else [schedule(e) for e in
                                                               range(recipe.epochs)]}
        got = {k: fit[k] for k in want}
        assert got == want, f"{lesson}: {name} is not zoo {model_name} by recipe {recipe_name}"


def test_every_claim_and_table_of_the_readme_is_filled_from_the_lessons_metrics(
        tmp_path, monkeypatch):
    """The quick runs' metrics, presented as a full gallery: every claim gets a verdict,
    every lesson a block; nothing is pending and nothing is missing."""
    if len(RESULTS) < len(SCRIPTS):
        pytest.skip("needs every lesson's quick run (run the whole file)")
    for lesson, m in RESULTS.items():
        (tmp_path / lesson).mkdir()
        (tmp_path / lesson / "metrics.json").write_text(json.dumps({**m, "quick": False}))
    monkeypatch.setattr(summary, "GALLERY", tmp_path)
    readme = (ROOT / "tutorials" / "README.md").read_text()
    filled = summary.fill(readme)
    assert "pending" not in filled.lower()
    for name in ("status", "claims", "knn", "generators", *(s.stem for s in SCRIPTS)):
        assert f"<!-- numbers:{name} -->" in readme, name
    block = filled.split("<!-- numbers:claims -->")[1].split("<!-- /numbers -->")[0]
    rows = block.strip().splitlines()[2:]  # after the header and its |---| line
    from tutorials import claims

    assert len(rows) == len(claims.CLAIMS)
    verdict_words = ("holds", "tie", "does not hold", "seeds")
    assert all(any(w in r.split(" | ")[4] for w in verdict_words) for r in rows), rows


def test_lessons_without_a_full_run_are_pending_in_the_readme(tmp_path, monkeypatch):
    """A quick run, or a metrics.json from before the per-seed lessons, is no result."""
    monkeypatch.setattr(summary, "GALLERY", tmp_path)
    (tmp_path / "01_stacked").mkdir()
    (tmp_path / "01_stacked" / "metrics.json").write_text(json.dumps({"quick": True}))
    (tmp_path / "03_conv").mkdir()
    (tmp_path / "03_conv" / "metrics.json").write_text(json.dumps({"quick": False}))
    text = summary.fill("<!-- numbers:01_stacked -->old<!-- /numbers -->\n"
                        "<!-- numbers:03_conv --><!-- /numbers -->\n"
                        "<!-- numbers:claims --><!-- /numbers -->")
    assert "Pending: `01_stacked`" in text and "Pending: `03_conv`" in text
    assert "old" not in text and "| pending |" in text


def test_weights_are_reused_unless_retrain(tmp_path):
    script = ROOT / "tutorials" / "10_linear_pca.py"
    args = ["--quick", "--dataset", DATASET, "--seeds", "1", "--out", str(tmp_path / "out"),
            "--weights-dir", str(tmp_path / "w")]
    reused = [run_lesson(script, args + extra).metrics["models"]["linear"]["weights_reused"]
              for extra in ([], [], ["--retrain"])]
    assert reused == [[False], [True], [False]]


def test_a_lesson_runs_top_to_bottom_as_a_notebook(tmp_path, monkeypatch):
    """Converted with jupytext and run by a Jupyter kernel, in quick mode from the
    environment (a notebook has no command line), on the offline sample."""
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nb = jupytext.read(ROOT / "tutorials" / "01_stacked.py")
    monkeypatch.setenv("SCRATCH_AE_QUICK", "1")
    monkeypatch.setenv("SCRATCH_AE_ARGS", f"--dataset sample --seeds 1 --out {tmp_path / 'out'} "
                       f"--weights-dir {tmp_path / 'w'}")
    # where a learner opens it: next to the script (the first cell finds the repository)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={
        "metadata": {"path": str(ROOT / "tutorials")}}).execute()
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["quick"] is True and m["dataset"] == "sample" and m["seeds"] == [42]
    assert {"stacked_reconstructions.png", "stacked_tsne.png"} <= set(m["figures"])
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "QUICK mode" in printed and "k-NN accuracy" in printed


def test_run_all_fresh_starts_from_no_weights_and_no_old_figures(tmp_path):
    """What make_gallery.sh relies on for "from a clean state"."""
    gallery, weights = tmp_path / "gallery", tmp_path / "weights"
    (gallery / "10_linear_pca").mkdir(parents=True)
    (gallery / "10_linear_pca" / "old_figure.png").write_bytes(b"stale")
    weights.mkdir()
    (weights / "linear-0123456789abcdef.npz").write_bytes(b"stale")
    r = subprocess.run([sys.executable, "-m", "tutorials.run_all", "--only", "10", "--fresh",
                        "--gallery", str(gallery), "--weights-dir", str(weights), "--quick",
                        "--dataset", "sample", "--seeds", "1", "--backend", "numpy"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    out = gallery / "10_linear_pca"
    assert not (out / "old_figure.png").exists()
    assert not (weights / "linear-0123456789abcdef.npz").exists()
    assert json.loads((out / "timing.json").read_text())["10_linear_pca"]["exit"] == 0
    assert json.loads((out / "metrics.json").read_text())["models"]["linear"][
        "weights_reused"] == [False]


# -- errors: one line, exit 2 for a bad argument, 1 for anything else ----------------------
@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-1"], "--epochs must be a positive integer, got -1"),
    (["--quick", "--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["--seeds", "0"], "--seeds must be a positive integer, got 0"),
    (["--dataset", "sample", "--data-dir", "x"], "--data-dir has no effect with --dataset"),
    (["--out", "{file}"], "is not a writable folder"),
    (["--weights-dir", "{file}"], "is not a writable folder"),
])
def test_a_bad_argument_exits_2_with_one_error_line(argv, message, tmp_path, capsys):
    file = tmp_path / "a_file"
    file.write_text("not a folder")
    argv = [a.replace("{file}", str(file)) for a in argv]
    for flag, folder in (("--out", "o"), ("--weights-dir", "w")):
        if flag not in argv:  # nothing is written outside tmp_path
            argv += [flag, str(tmp_path / folder)]
    with pytest.raises(SystemExit) as exit_info:
        common.start("01_stacked", "d", argv=argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("01_stacked.py: error: "), err
    assert message in errors[0] and "Traceback" not in err


def _lesson(script: str, *args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "tutorials" / script), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


def test_missing_data_exits_2_and_damaged_data_exits_1_in_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _lesson("08_generator.py", "--dataset", "mnist", "--data-dir", str(empty), "--out",
                str(tmp_path / "o"), "--weights-dir", str(tmp_path / "w"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("08_generator.py: error: ")
    assert "--dataset sample" in r.stderr and "Traceback" not in r.stderr
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (damaged / name).write_bytes(b"\x00\x00\x08\x03 truncated")
    r = _lesson("11_anomaly.py", "--dataset", "mnist", "--data-dir", str(damaged), "--out",
                str(tmp_path / "o"), "--weights-dir", str(tmp_path / "w"))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("11_anomaly.py: error: "), r.stderr


def test_an_unusable_backend_exits_1_in_one_line(tmp_path):
    from scratch_ae import backend

    if backend.available_backends()["cupy"][0]:
        pytest.skip("CuPy works here: nothing to refuse")
    r = _lesson("03_conv.py", "--backend", "cupy", "--out", str(tmp_path / "o"),
                "--weights-dir", str(tmp_path / "w"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert r.stderr.startswith("03_conv.py: error: backend 'cupy' is not usable here")


def test_the_error_hook_turns_expected_failures_into_one_line_and_keeps_bugs_loud(capsys):
    common._install_error_hook("x.py")
    try:
        sys.excepthook(ValueError, ValueError("bad\n  data"), None)
        assert capsys.readouterr().err == "x.py: error: bad data\n"
        sys.excepthook(ZeroDivisionError, ZeroDivisionError("a bug"), None)
        assert "ZeroDivisionError: a bug" in capsys.readouterr().err
    finally:
        sys.excepthook = sys.__excepthook__


def test_the_cache_key_changes_with_anything_that_changes_the_weights():
    from scratch_ae import SGD, backend

    def key(lr=1.5, epochs=2, x=None, seed=0):
        backend.seed(seed)
        model = zoo.build("stacked")
        x = np.zeros((4, 784), np.float32) if x is None else x
        kwargs = {"epochs": epochs, "optimizer": SGD(lr=lr), "seed": 0}
        return cache.WeightCache("unused").key(model, x, None, kwargs,
                                               cache.describe_fit(model, kwargs))

    base = key()
    assert key() == base  # the same run, the same key
    assert len({base, key(lr=1.0), key(epochs=3), key(x=np.ones((4, 784), np.float32)),
                key(seed=1)}) == 5


# -- the rule for claims (tutorials/verdicts.py): mean ± sd over seeds, a tie inside the spread
def test_spread_is_the_mean_and_sample_sd_over_seeds():
    assert spread([1.0, 2.0, 3.0]) == (2.0, 1.0, 3)
    assert spread(0.5) == (0.5, 0.0, 1) and spread([0.5]) == (0.5, 0.0, 1)
    with pytest.raises(ValueError, match="at least one seed"):
        spread([])


def test_a_difference_inside_the_spread_is_a_tie():
    # 0.933 ± 0.001 against 0.929 ± 0.002: intervals apart -> a real difference
    assert verdict([0.932, 0.933, 0.934], [0.927, 0.929, 0.931]) == "holds"
    assert verdict([0.927, 0.929, 0.931], [0.932, 0.933, 0.934]) == "does not hold"
    # overlapping intervals: |0.933 - 0.931| = 0.002 <= 0.001 + 0.002
    assert verdict([0.932, 0.933, 0.934], [0.929, 0.931, 0.933]) == "tie"
    # "lower is better" turns it round; a fixed reference (PCA, a paper) has sd 0
    assert verdict([2.9, 2.95, 3.0], 3.2, better="lower") == "holds"
    assert verdict([2.9, 3.0, 3.1], 3.0, better="lower") == "tie"
    with pytest.raises(ValueError, match="higher"):
        verdict([1.0], [2.0], better="bigger")


def test_one_seed_has_no_spread_and_says_so():
    assert verdict([0.91], [0.90]) == "holds"  # any difference counts...
    assert seeds_note([0.91], 0.90) == " (1 seed: no spread)"  # ...and the note says why
    assert seeds_note([0.91, 0.92], 0.90) == ""  # a plain number is a reference, not a seed
    assert show([0.9331, 0.9329, 0.9330]) == "0.933 ± 0.000" and show(0.5, 2) == "0.50"
    assert count_seeds([1, 2, 3], [4, 5]) == "2–3 seeds" and count_seeds([1]) == "1 seed"
