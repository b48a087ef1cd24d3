"""Issue 12's list, one test each: nothing lost, nothing silent.

Every case a new user ran into gets a clear one-line error (CLI: exit 2 for a wrong argument,
1 for anything else, never a traceback) or the documented behaviour.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_data import write_set  # noqa: I001 - tests/ is on sys.path under pytest

from scratch_ae import cli, io, train
from scratch_ae.models import zoo


@pytest.fixture
def mnist_dir(tmp_path):
    """A tiny MNIST-format folder (120 training images): a CLI run takes a second."""
    write_set(tmp_path / "mnist", n_train=120, n_test=20)
    return tmp_path / "mnist"


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scratch-ae: error: "), err
    assert "Traceback" not in err
    return lines[0]


def train_args(mnist_dir, out, *extra):
    return ["train", "stacked", "--dataset", "mnist", "--data-dir", str(mnist_dir), "--out",
            str(out), "--quiet", "--no-plots", "--epochs", "1", *extra]


# --- the CLI ----------------------------------------------------------------------------------

def test_out_that_is_a_file_fails_before_training(tmp_path, mnist_dir, capsys):
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        code, stdout, err = run_cli(capsys, *train_args(mnist_dir, out))
        assert code == 2
        assert "is not a writable folder" in one_line_error(err) and str(out) in err
        assert "data:" not in stdout  # rejected before the data was even loaded


def test_out_that_cannot_be_written_fails_before_training(tmp_path, mnist_dir, capsys,
                                                          monkeypatch):
    # A read-only folder (root ignores permission bits, so the refusal is simulated).
    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkdtemp", refuse)
    code, stdout, err = run_cli(capsys, *train_args(mnist_dir, tmp_path / "ro"))
    assert code == 2 and "Permission denied" in one_line_error(err) and "data:" not in stdout


def test_a_wrong_data_dir_is_an_error_not_a_fallback(tmp_path, mnist_dir, capsys):
    args = ["train", "stacked", "--out", str(tmp_path / "o"), "--quiet", "--epochs", "1"]
    code, _, err = run_cli(capsys, *args, "--data-dir", "/nonexistent")
    assert code == 2
    assert "'/nonexistent' does not exist" in one_line_error(err)
    (mnist_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    code, _, err = run_cli(capsys, *args, "--data-dir", str(mnist_dir))
    assert code == 2 and "is missing t10k-labels-idx1-ubyte.gz" in one_line_error(err)
    assert not (tmp_path / "o").exists()  # the --out folder it made for the run is gone too


@pytest.mark.parametrize("flags, message", [
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["--batch-size", "0"], "--batch-size must be a positive integer, got 0"),
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--lr", "nan"], "--lr must be a positive number"),
])
def test_bad_numbers_are_usage_errors(tmp_path, mnist_dir, capsys, flags, message):
    code, _, err = run_cli(capsys, *train_args(mnist_dir, tmp_path / "o"), *flags)
    assert code == 2 and message in one_line_error(err)


def test_unknown_model_is_a_usage_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "nosuch", "--out", str(tmp_path))
    assert code == 2 and "unknown model 'nosuch': expected one of" in one_line_error(err)


def test_data_dir_with_the_sample_is_a_usage_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "stacked", "--dataset", "sample", "--data-dir",
                           str(tmp_path), "--out", str(tmp_path))
    assert code == 2 and "--data-dir has no effect" in one_line_error(err)


def test_a_damaged_data_file_exits_1(tmp_path, mnist_dir, capsys):
    (mnist_dir / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    code, _, err = run_cli(capsys, *train_args(mnist_dir, tmp_path / "o"))
    assert code == 1 and "train-images-idx3-ubyte" in one_line_error(err)


def files_in(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_an_interrupted_run_does_not_mix_with_the_previous_one(tmp_path, mnist_dir, capsys,
                                                                monkeypatch):
    out = tmp_path / "o"
    assert run_cli(capsys, *train_args(mnist_dir, out))[0] == 0
    before = files_in(out)
    assert sorted(before) == ["stacked.npz", "stacked_history.json"]
    assert json.loads(before["stacked_history.json"])["files"] == ["stacked.npz"]
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # no checkpoint, no stage

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    # Ctrl-C after the new weights were saved, while the pictures are drawn.
    with monkeypatch.context() as m:
        m.setattr(cli, "_after_train_pictures", interrupted)
        m.setattr("scratch_ae.viz.plot_reconstructions", lambda *a, **k: None)
        args = [a for a in train_args(mnist_dir, out) if a != "--no-plots"]
        code, _, err = run_cli(capsys, *args, "--seed", "7")
    assert code == 130
    assert files_in(out) == before  # the previous run's files, untouched and alone
    ckdir = out / "stacked_checkpoint"
    assert f"--resume {ckdir}" in err  # the trained model is kept: nothing lost
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "stacked_checkpoint"])
    # a fresh run refuses to overwrite the unfinished one
    code, _, err = run_cli(capsys, *train_args(mnist_dir, out))
    assert code == 2 and "holds an unfinished run" in one_line_error(err)
    # resuming it (no epoch left to train) writes its outputs and removes the checkpoint
    code, stdout, _ = run_cli(capsys, "train", "stacked", "--resume", str(ckdir), "--quiet")
    assert code == 0 and "resuming from" in stdout
    after = files_in(out)
    assert after["stacked.npz"] != before["stacked.npz"]  # seed 7: other weights
    assert not ckdir.exists()


def test_a_run_without_plots_removes_the_previous_runs_pictures(tmp_path, mnist_dir, capsys):
    out = tmp_path / "o"
    args = [a for a in train_args(mnist_dir, out) if a != "--no-plots"]
    assert run_cli(capsys, *args)[0] == 0
    assert (out / "stacked_reconstructions.png").exists()
    assert run_cli(capsys, *train_args(mnist_dir, out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["stacked.npz", "stacked_history.json"]


# --- the library ------------------------------------------------------------------------------

def _stacked():
    return zoo.build("stacked")


def test_pixels_in_0_255_are_rejected_for_a_bce_model():
    X = np.random.default_rng(0).integers(0, 256, (8, 784)).astype(np.float32)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\].*range from 0 to 255.*X / 255"):
        _stacked().fit(X, verbose=False)
    with pytest.raises(ValueError, match=r"validation X must lie in \[0, 1\]"):
        _stacked().fit(X / 255, validation_data=X, verbose=False)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        _stacked().evaluate(X)
    _stacked().fit(X, loss="mse", epochs=1, verbose=False)  # MSE: any range is allowed


def test_empty_arrays_are_rejected():
    empty = np.zeros((0, 784), np.float32)
    with pytest.raises(ValueError, match=r"X is empty \(shape \(0, 784\)\)"):
        _stacked().fit(empty, verbose=False)
    with pytest.raises(ValueError, match="X is empty"):
        _stacked().evaluate(empty)
    with pytest.raises(ValueError, match="X is empty"):
        _stacked().predict(empty)


@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_non_float_inputs_are_rejected(dtype):
    X = np.zeros((4, 784), dtype=dtype)
    with pytest.raises(TypeError, match=f"X must be float32 or float64, got dtype {dtype}"):
        _stacked().fit(X, verbose=False)
    with pytest.raises(TypeError, match=f"Dense expected a floating-point array .*{dtype}"):
        _stacked().forward(X)


def test_batch_size_zero_is_rejected():
    X = np.zeros((4, 784), np.float32)
    for call in (lambda: _stacked().fit(X, batch_size=0, verbose=False),
                 lambda: _stacked().evaluate(X, batch_size=0),
                 lambda: _stacked().predict(X, batch_size=0)):
        with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
            call()


def test_nan_inputs_are_rejected_once_at_entry():
    X = np.full((4, 784), 0.5, np.float32)
    X[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\), the first at index "
                                         r"\(2, 3\)"):
        _stacked().fit(X, verbose=False)


def test_a_directory_is_not_reported_as_missing(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        io.load_model(tmp_path)


@pytest.mark.parametrize("header", ["{bad json", "[1, 2]"])
def test_bad_header_json_is_a_model_file_error(tmp_path, header):
    np.savez(tmp_path / "m.npz", __meta__=np.array(header))
    with pytest.raises(io.ModelFileError, match="header"):
        io.load_model(tmp_path / "m.npz")


def test_a_hand_built_model_loads_back(tmp_path):
    import scratch_ae as sa

    model = sa.Sequential([sa.Dense(5, 3), sa.Tanh(), sa.Dense(3, 5)], loss="mse")
    x = np.random.default_rng(0).random((2, 5), dtype=np.float32)
    loaded = io.load_model(io.save_model(model, tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_check_data_is_the_documented_entry_check():
    with pytest.raises(TypeError, match="must be an array"):
        train.check_data([1, 2, 3])


def test_leaky_relu_keeps_infinities_instead_of_making_nan():
    from scratch_ae.layers import LeakyReLU

    y = LeakyReLU(0.5).forward(np.array([[np.inf, -np.inf, 2.0, -2.0]], np.float32))
    np.testing.assert_array_equal(y, [[np.inf, -np.inf, 2.0, -1.0]])
