"""The `scratch-ae` command: info, list, train, and the commands on a saved model (evaluate,
encode, reconstruct, sample) and check -- on the offline sample and tiny files made here, so it
runs anywhere, offline.

Every bad input gets one line (`scratch-ae: error: ...`, never a traceback) and the documented
exit code: 2 for a wrong argument, 1 for anything else, 130 interrupted, 141 a closed pipe.
"""

import contextlib
import io as _io
import json
import re
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
from test_data import write_set  # noqa: I001 - tests/ is on sys.path under pytest

from scratch_ae import backend, check, cli, data, io
from scratch_ae.layers import SELU


@pytest.fixture
def mnist_dir(tmp_path):
    """A tiny MNIST-format folder (120 training images): a CLI run takes a second."""
    write_set(tmp_path / "mnist", n_train=120, n_test=20)
    return tmp_path / "mnist"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No $SCRATCH_AE_DATA, HOME in tmp, no system folders, no network: MNIST is nowhere."""
    monkeypatch.delenv("SCRATCH_AE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "_SYSTEM_DIRS", {"mnist": (), "fashion-mnist": ()})

    def no_network(url, timeout=None):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(data, "_fetch", no_network)


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
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


def test_info_lists_backends_and_why_cupy_is_missing(capsys):
    assert cli.main(["info", "--no-warmup"]) == 0
    out = capsys.readouterr().out
    assert "numpy  usable" in out and "numba  usable" in out
    assert "cupy" in out
    # On a machine without CuPy the reason is printed, not a traceback.
    if "cupy   NOT usable" in out:
        assert "CuPy" in out.split("cupy   NOT usable:")[1].splitlines()[0]


def test_list_shows_the_recipes(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "stacked" in out and "BCE, sgd lr 1.5, batch 32, 20 epochs" in out
    assert "conv" in out


def test_train_stacked_on_the_sample_writes_weights_and_pictures(tmp_path, capsys):
    code = cli.main(["train", "stacked", "--epochs", "1", "--dataset", "sample", "--quiet",
                     "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "validation loss (BCE):" in out
    val = float(out.split("validation loss (BCE):")[1].split()[0])
    assert 0.0 < val < 0.7  # below the ~0.69 of an untrained sigmoid output
    # the threads the run ended on (after fit's trial), as scratch-ae info words them
    assert re.search(r"^threads: BLAS \d+, Numba \d+ \(.+\)$", out, re.M)
    png = tmp_path / "stacked_reconstructions.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    hist = json.loads((tmp_path / "stacked_history.json").read_text())
    assert hist["dataset"] == "sample" and len(hist["history"]["loss"]) == 1
    model = io.load_model(tmp_path / "stacked.npz")
    x = np.zeros((1, 784), dtype=np.float32)
    assert model.predict(x).shape == (1, 784)


def test_no_plots_writes_weights_and_history_only(tmp_path, capsys):
    code = cli.main(["train", "stacked", "--epochs", "1", "--dataset", "sample", "--quiet",
                     "--out", str(tmp_path), "--no-plots"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stacked.npz", "stacked_history.json"]


def test_auto_dataset_says_when_it_falls_back(tmp_path, capsys, monkeypatch):
    from scratch_ae import data

    def not_found(*a, **k):
        raise data.DataNotFoundError("nothing here", searched=("/nowhere",), download="offline")

    monkeypatch.setattr(data, "load_mnist", not_found)
    assert cli.main(["train", "stacked", "--epochs", "1", "--quiet", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "using the offline sample" in out
    assert "data: sample" in out


def test_explicit_mnist_that_cannot_be_found_is_an_error(tmp_path, capsys):
    code = cli.main(["train", "stacked", "--dataset", "mnist", "--data-dir",
                     str(tmp_path / "empty"), "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("scratch-ae: error:")
    assert "train-images-idx3-ubyte" in err


def test_unknown_model_and_backend_are_clear_errors(tmp_path, capsys, monkeypatch):
    assert cli.main(["train", "nosuchmodel", "--out", str(tmp_path)]) == 2
    assert "unknown model 'nosuchmodel'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects it before anything runs
        cli.main(["train", "stacked", "--backend", "tpu"])
    assert "invalid choice: 'tpu'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["evaluate", "--help"],
                                  ["sample", "--help"], ["check", "--help"]])
def test_help_is_plain_text(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: scratch-ae")
    assert "`" not in out and ":mod:" not in out and ":func:" not in out  # no reST markup


# --- train: nothing lost, nothing silent (issue 12) ---------------------------------------------

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


# --- after training: evaluate, encode, reconstruct, sample ------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`scratch-ae train stacked --dataset sample --epochs 1 --out D`, once for this module."""
    out = tmp_path_factory.mktemp("D")
    with contextlib.redirect_stdout(_io.StringIO()), contextlib.redirect_stderr(_io.StringIO()):
        code = cli.main(["train", "stacked", "--dataset", "sample", "--epochs", "1", "--quiet",
                         "--out", str(out)])
    assert code == 0
    return out / "stacked.npz"


def test_evaluate_a_trained_model_on_the_data_it_was_trained_on(trained, capsys):
    code, out, err = run_cli(capsys, "evaluate", trained)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"model: {trained}: Autoencoder, 163,814 parameters, stacked trained 1 "
                        "epoch on sample")
    assert lines[1].startswith("data: sample from ") and "what the model was trained on" in lines[1]
    loss = float(re.fullmatch(r"test loss \(BCE\): (\S+) on 300 images", lines[2]).group(1))
    assert 0.0 < loss < 0.69  # better than an untrained sigmoid output
    se, pca_se = map(float, re.fullmatch(
        r"squared error per image: (\S+) \(PCA with 30 components: (\S+)\)", lines[3]).groups())
    assert 0 < pca_se < se < 784
    knn, pca_knn = map(float, re.fullmatch(
        r"k-NN accuracy of the 30-number codes \(5-NN, 5-fold\): (\S+) \(PCA's: (\S+)\)",
        lines[4]).groups())
    assert 0.2 < knn <= 1 and 0.2 < pca_knn <= 1  # chance is 0.1


def test_encode_writes_the_codes_and_labels(trained, tmp_path, capsys):
    code, out, err = run_cli(capsys, "encode", trained, "--out", tmp_path / "codes.npy")
    assert code == 0, err
    codes = np.load(tmp_path / "codes.npy")
    ds = data.load_sample(flat=True)
    np.testing.assert_array_equal(codes, io.load_model(trained).encode(ds.x_test))
    np.testing.assert_array_equal(np.load(tmp_path / "codes.labels.npy"), ds.y_test)
    assert "encoded the 300 test images: codes of shape (300, 30) float32, with their labels" in out
    code, out, err = run_cli(capsys, "encode", trained, "--out", tmp_path / "all.npz",
                             "--split", "all", "--dataset", "sample")
    assert code == 0, err
    with np.load(tmp_path / "all.npz") as z:
        assert z["codes"].shape == (1797, 30) and z["labels"].shape == (1797,)
        assert "what the model was trained on" not in out  # --dataset given


def test_reconstruct_draws_inputs_over_reconstructions(trained, tmp_path, capsys):
    code, out, err = run_cli(capsys, "reconstruct", trained, "--out", tmp_path / "r.png",
                             "-n", 6)
    assert code == 0, err
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"^reconstructed the 6 test images \(squared error per image \S+\); wrote ",
                     out, re.M)


def test_sample_a_plain_autoencoder_png_and_npy(trained, tmp_path, capsys):
    code, out, err = run_cli(capsys, "sample", trained, "-n", 12, "--out", tmp_path / "s.png")
    assert code == 0, err
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert "decoded codes ~ N(mean, std) of 1297 training images' codes" in out
    for name in ("a.npy", "b.npy"):
        assert run_cli(capsys, "sample", trained, "-n", 5, "--seed", 7,
                       "--out", tmp_path / name)[0] == 0
    a = np.load(tmp_path / "a.npy")
    assert a.shape == (5, 784) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, np.load(tmp_path / "b.npy"))  # seeded


def test_sample_a_vae_needs_no_data(tmp_path, capsys, monkeypatch):
    from scratch_ae.models import zoo

    io.save_model(zoo.build("vae2d"), tmp_path / "vae.npz")  # hand-saved, untrained

    def no_data(*a, **k):
        raise AssertionError("a VAE samples its prior: no data needed")

    monkeypatch.setattr(data, "load_dataset", no_data)
    code, out, err = run_cli(capsys, "sample", tmp_path / "vae.npz", "-n", 4, "--out",
                             tmp_path / "s.npy")
    assert code == 0, err
    assert "decoded z ~ N(0, I), the prior" in out
    assert np.load(tmp_path / "s.npy").shape == (4, 784)


def test_a_hand_built_model_without_an_encoder(tmp_path, capsys):
    import scratch_ae as sa

    io.save_model(sa.Sequential([sa.Dense(784, 784), sa.Sigmoid()], loss="bce"),
                  tmp_path / "seq.npz")
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "seq.npz", "--dataset", "sample")
    assert code == 0, err
    assert "k-NN accuracy: not measured (the model has no encoder)" in out
    code, _, err = run_cli(capsys, "encode", tmp_path / "seq.npz", "--dataset", "sample",
                           "--out", tmp_path / "c.npy")
    assert code == 1
    assert "holds a Sequential, which has no encoder" in one_line_error(err)
    io.save_model(sa.Sequential([sa.Dense(5, 3)]), tmp_path / "small.npz")
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "small.npz")
    assert code == 1 and "does not map 28x28 images to 28x28 images" in one_line_error(err)


def _truncated(tmp_path, trained):
    blob = trained.read_bytes()
    (tmp_path / "cut.npz").write_bytes(blob[: len(blob) // 3])
    return tmp_path / "cut.npz", "it may be truncated"


def _foreign(tmp_path, trained):
    (tmp_path / "model.pt").write_bytes(b"\x80\x02}q\x00(X\x05\x00\x00\x00torch")
    return tmp_path / "model.pt", "not a zip archive"


def _data_file(tmp_path, trained):
    np.savez(tmp_path / "images.npz", x_train=np.zeros((4, 28, 28), np.uint8))
    return tmp_path / "images.npz", "no __meta__ header: not a scratch_ae model file"


def _missing(tmp_path, trained):
    return tmp_path / "nothing.npz", "does not exist"


@pytest.mark.parametrize("bad", [_truncated, _foreign, _data_file, _missing])
@pytest.mark.parametrize("command", [["evaluate"], ["encode", "--out", "c.npy"],
                                     ["reconstruct", "--out", "r.png"],
                                     ["sample", "--out", "s.png"]], ids=lambda c: c[0])
def test_a_bad_model_file_is_one_line_and_exit_1(trained, tmp_path, capsys, bad, command):
    path, message = bad(tmp_path, trained)
    code, out, err = run_cli(capsys, command[0], path, *command[1:])
    assert code == 1
    line = one_line_error(err)
    assert str(path) in line and message in line
    assert "data:" not in out  # found out before any data is loaded


@pytest.mark.parametrize("argv, message", [
    (["encode", "M", "--out", "codes.txt"], "--out codes.txt: expected a file name ending in "
                                            ".npy or .npz"),
    (["reconstruct", "M", "--out", "r.jpg"], "--out r.jpg: expected a file name ending in .png"),
    (["reconstruct", "M", "--out", "r.png", "-n", "0"], "-n must be a positive integer, got 0"),
    (["sample", "M", "--out", "s.png", "--seed", "-1"], "--seed must be a non-negative integer"),
    (["evaluate", "M", "--data", "x.npy", "--dataset", "sample"],
     "--data x.npy and --dataset both choose the data: give one"),
])
def test_wrong_arguments_of_the_model_commands_exit_2(trained, capsys, argv, message):
    argv = [str(trained) if a == "M" else a for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and message in one_line_error(err)


# --- your own data ----------------------------------------------------------------------------

def test_train_on_a_npy_then_evaluate_defaults_to_it(tmp_path, capsys):
    x = np.random.default_rng(0).integers(0, 256, (60, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "digits.npy", x)
    code, out, err = run_cli(capsys, "train", "stacked", "--data", tmp_path / "digits.npy",
                             "--epochs", 1, "--quiet", "--no-plots", "--out", tmp_path / "o")
    assert code == 0, err
    assert out.splitlines()[0] == ("digits: no test split: held out 10% (6 images) as test; no "
                                   "validation split: held out 1/12 of the rest (4 images); no "
                                   "labels: y is -1 (NO_LABEL)")
    assert "data: digits from " in out and ": 50 train, 4 validation, 6 test images" in out
    meta = io.read_model_file(tmp_path / "o" / "stacked.npz")[1]["meta"]
    assert meta["data"] == str(tmp_path / "digits.npy") and meta["dataset"] == "digits"
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "o" / "stacked.npz")
    assert code == 0, err
    assert "6 test images (what the model was trained on" in out
    assert "test loss (BCE): " in out and " on 6 images" in out
    assert "k-NN accuracy: not measured (the test images have no labels)" in out


def test_train_on_a_folder_of_pngs(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "pngs"
    folder.mkdir()
    rs = np.random.default_rng(1)
    for i in range(12):  # colour and grey, of two sizes
        size, mode = ((40, 40), "RGB") if i % 2 else ((28, 28), "L")
        Image.fromarray(rs.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).convert(
            mode).save(folder / f"{i:02d}.png")
    code, out, err = run_cli(capsys, "train", "stacked", "--data", folder, "--epochs", 1,
                             "--quiet", "--no-plots", "--out", tmp_path / "o")
    assert code == 0, err
    assert out.startswith("pngs: converted 12 images (")
    assert "to 28x28 grayscale" in out.splitlines()[0]
    assert "data: pngs from " in out and ": 10 train, 1 validation, 1 test images" in out
    assert (tmp_path / "o" / "stacked.npz").is_file()


def test_bad_data_is_one_line_naming_the_file(tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((4, 5, 5)))
    code, _, err = run_cli(capsys, "train", "stacked", "--data", tmp_path / "bad.npy",
                           "--out", tmp_path / "o", "--quiet")
    assert code == 1 and "bad.npy" in one_line_error(err)
    code, _, err = run_cli(capsys, "train", "stacked", "--data", tmp_path / "none.npy",
                           "--out", tmp_path / "o", "--quiet")
    assert code == 2 and "none.npy: no such file or folder" in one_line_error(err)
    assert not (tmp_path / "o").exists()


# --- check ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_check_passes_on_the_cpu_backends(name, capsys):
    code, out, err = run_cli(capsys, "check", "--backend", name)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (f"gradient check of every layer, loss and dense zoo model on the {name} "
                        "backend, float64")
    n = len(check.LAYER_CASES) + len(check.LOSS_CASES) + len(check.MODEL_CASES)
    rows = [line for line in lines if line.endswith(("  pass", "  FAIL"))]
    assert len(rows) == n and all(r.endswith("  pass") for r in rows)
    assert all(float(r.split()[-3]) < 1e-6 for r in rows)  # the max relative error column
    assert lines[-1] == (f"{n} checks: {n} passed, 0 failed (float64, central differences, "
                         "tolerance 1e-06)")


def test_check_fails_with_exit_1_on_a_planted_wrong_backward(capsys, monkeypatch):
    monkeypatch.setattr(check, "LAYER_CASES", [c for c in check.LAYER_CASES
                                               if c[0] in ("Dense", "SELU")])
    monkeypatch.setattr(check, "MODEL_CASES", [c for c in check.MODEL_CASES if c[0] == "tied"])
    right = SELU.backward
    monkeypatch.setattr(SELU, "backward", lambda self, dy: right(self, dy) * 0.99)
    code, out, err = run_cli(capsys, "check")
    assert code == 1 and err == ""
    assert re.search(r"^  SELU +- +0  FAIL$", out, re.M)
    assert re.search(r"^FAIL SELU: gradient of input x\[\d+, \d+\] is wrong: analytic", out, re.M)
    assert re.search(r"^FAIL tied: gradient of ", out, re.M)
    assert out.splitlines()[-1].startswith("9 checks: 7 passed, 2 failed")


@pytest.mark.skipif(backend.cuda_available()[0], reason="this machine has a usable GPU")
def test_check_on_cupy_without_a_gpu_is_one_line(capsys):
    code, out, err = run_cli(capsys, "check", "--backend", "cupy")
    assert code == 1 and out == ""
    assert "backend 'cupy' is not usable here: CuPy" in one_line_error(err)


# --- issue 22's rough edges -------------------------------------------------------------------

def test_a_negative_seed_is_a_usage_error_before_the_data(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "stacked", "--seed", -1, "--dataset", "sample",
                             "--out", tmp_path)
    assert code == 2 and "data:" not in out
    assert one_line_error(err) == ("scratch-ae: error: --seed must be a non-negative integer, "
                                   "got -1")


def test_resume_takes_the_checkpoint_file_too(tmp_path, mnist_dir, capsys, monkeypatch):
    from scratch_ae import train

    out, real, steps = tmp_path / "o", train.train_step, []

    def ctrl_c_in_epoch_2(*args):  # 110 training images, batches of 32: 4 steps an epoch
        steps.append(1)
        if len(steps) == 5:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train, "train_step", ctrl_c_in_epoch_2)
    code, _, err = run_cli(capsys, *train_args(mnist_dir, out, "--epochs", "2"))
    assert code == 130 and "interrupted during epoch 2: 1 finished epoch saved in " in err
    monkeypatch.undo()
    ckpt = out / "stacked_checkpoint" / "checkpoint.npz"
    code, _, err = run_cli(capsys, "train", "stacked", "--resume", ckpt.parent / "x.npz")
    assert code == 2 and "x.npz" in one_line_error(err)  # a folder that is not there
    (tmp_path / "other.npz").write_bytes(b"")
    code, _, err = run_cli(capsys, "train", "stacked", "--resume", tmp_path / "other.npz")
    assert code == 2
    assert "expected a checkpoint folder or its checkpoint.npz" in one_line_error(err)
    code, stdout, err = run_cli(capsys, "train", "stacked", "--resume", ckpt, "--quiet")
    assert code == 0, err
    assert f"resuming from {ckpt} after epoch 1" in stdout
    assert json.loads((out / "stacked_history.json").read_text())["epochs"] == 2
    assert not ckpt.exists()


def test_a_diverged_run_exits_1_and_keeps_its_files(tmp_path, mnist_dir, capsys):
    code, out, err = run_cli(capsys, *train_args(mnist_dir, tmp_path / "o", "--lr", "1e4"))
    assert code == 1
    warning, error = err.strip().splitlines()
    assert warning.startswith("scratch-ae: warning: training diverged: the loss ")
    assert error == (f"scratch-ae: error: the run failed: training diverged (its files are "
                     f"written for a look, but do not use {tmp_path / 'o' / 'stacked.npz'}; try "
                     "a lower --lr)")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["stacked.npz",
                                                                  "stacked_history.json"]


def test_missing_mnist_is_one_short_line_naming_the_flags(tmp_path, capsys, offline):
    code, out, err = run_cli(capsys, "train", "stacked", "--dataset", "mnist", "--out",
                             tmp_path / "o")
    assert code == 2
    lines = err.strip().splitlines()
    assert all(line.startswith("scratch-ae: ") for line in lines)  # one prefix, downloads too
    assert lines[0].startswith("scratch-ae: downloading https://")
    error = lines[-1]
    assert error.startswith("scratch-ae: error: MNIST not found (looked in ") and len(error) < 350
    assert "--data-dir FOLDER" in error and "--dataset sample" in error
    assert "path=" not in error


def test_the_recipe_line_says_1_epoch(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "train", "linear", "--dataset", "sample", "--epochs", 1,
                           "--quiet", "--no-plots", "--out", tmp_path)
    assert code == 0
    assert re.search(r"^recipe: MSE, Adam\(.*\) \(constant rate\), batch 128, 1 epoch, backend "
                     r"numpy$", out, re.M)
    assert "1 epochs" not in out


def test_a_closed_pipe_ends_quietly():
    """`scratch-ae list | head`: no "Broken pipe" error, exit 141 as a Unix tool's."""
    p = subprocess.Popen([sys.executable, "-c", "import sys; from scratch_ae.cli import main; "
                          "sys.exit(main(['list']))"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the first line is written
    err = p.stderr.read()
    p.stderr.close()
    assert p.wait(timeout=60) == 141
    assert err == b""


def test_cli_list_shows_every_model(capsys):
    from scratch_ae.models import zoo  # noqa: PLC0415

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in zoo.RECIPES:
        assert f"\n{name} " in "\n" + out, name


@pytest.mark.parametrize("name", ["stacked", "vae2d"])
def test_cli_trains_with_after_train_pictures(name, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rc = cli.main(["train", name, "--epochs", "1", "--dataset", "sample", "--out",
                   str(tmp_path), "--quiet"])
    assert rc == 0
    files = {p.name for p in tmp_path.iterdir()}
    assert f"{name}.npz" in files
    if name == "stacked":
        assert "stacked_generated.png" in files
    else:
        assert {"vae2d_samples.png", "vae2d_manifold.png"} <= files
