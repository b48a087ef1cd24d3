"""The `scratch-ae` command: info, list, train (on the offline sample, so it runs anywhere)."""

import json
import re

import numpy as np
import pytest

from scratch_ae import cli, io


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


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"]])
def test_help_is_plain_text(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: scratch-ae")
    assert "`" not in out and ":mod:" not in out and ":func:" not in out  # no reST markup
