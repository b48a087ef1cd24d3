"""scratch_ae/checkpoint.py: checkpoints and resume: a run is never lost, never silently wrong.

The central promise is tested the way a user meets it: a real SIGINT in the middle of an epoch
of `scratch-ae train`, then `--resume`, must end with the same weights, bit for bit, as a run
that was never stopped (numpy backend). A checkpoint is a model file, refuses another
optimizer, and survives a full disk. (The numerical guard, which names the last good
checkpoint: test_guard.py.)
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import tiny_ae, tiny_data
from test_data import write_set  # noqa: I001 - tests/ is on sys.path under pytest

from scratch_ae import backend, checkpoint, io
from scratch_ae.optim import SGD, Adam
from scratch_ae.train import fit

ROOT = Path(__file__).resolve().parents[1]


# Runs `scratch-ae` with a real SIGINT sent to itself at training step K (counted over the run).
SIGINT_AT_STEP = """
import os, signal, sys
# What Ctrl-C meets in a terminal: Python's own handler. A suite started in the background
# (`cmd &`, nohup) passes SIGINT on ignored, and an ignored signal would never interrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
import scratch_ae.train as t
K, n, real = int(os.environ["SIGINT_AT_STEP"]), [0], t.train_step
def train_step(*a):
    n[0] += 1
    if n[0] == K:
        os.kill(os.getpid(), signal.SIGINT)
    return real(*a)
t.train_step = train_step
from scratch_ae import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def _cli(args, sigint_at=None, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    env.pop(backend.ENV_VAR, None)
    if sigint_at is None:
        cmd = [sys.executable, "-m", "scratch_ae.cli", *args]
    else:
        env["SIGINT_AT_STEP"] = str(sigint_at)
        cmd = [sys.executable, "-c", SIGINT_AT_STEP, *args]
    return subprocess.run(cmd, check=False, env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "__meta__"}


@pytest.mark.parametrize("model", ["stacked", "vae"])
def test_sigint_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path, model):
    """SGD on `stacked`; RMSprop and the VAE's random epsilon (backend RNG) on `vae`."""
    write_set(tmp_path / "mnist", n_train=240, n_test=20)  # 220 train: 14 steps of 16
    common = [model, "--dataset", "mnist", "--data-dir", str(tmp_path / "mnist"), "--epochs",
              "3", "--batch-size", "16", "--quiet", "--no-plots"]
    whole = _cli(["train", *common, "--out", str(tmp_path / "whole")])
    assert whole.returncode == 0, whole.stderr

    out = tmp_path / "cut"
    cut = _cli(["train", *common, "--out", str(out)], sigint_at=20)  # in epoch 2 of 3
    ckdir = out / f"{model}_checkpoint"
    assert cut.returncode == 130, cut.stderr
    assert "interrupted during epoch 2" in cut.stderr
    assert f"scratch-ae train {model} --resume {ckdir}" in cut.stderr
    assert checkpoint.run_info(ckdir)["epoch"] == 1  # the finished epoch is kept
    assert not (out / f"{model}.npz").exists()  # nothing half-done was published

    resumed = _cli(["train", model, "--resume", str(ckdir), "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout and "after epoch 1" in resumed.stdout
    a, b = _arrays(tmp_path / "whole" / f"{model}.npz"), _arrays(out / f"{model}.npz")
    assert sorted(a) == sorted(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), f"{k} differs after resuming"
    ha = json.loads((tmp_path / "whole" / f"{model}_history.json").read_text())["history"]
    hb = json.loads((out / f"{model}_history.json").read_text())["history"]
    assert ha["loss"] == hb["loss"] and ha["val_loss"] == hb["val_loss"]
    assert not ckdir.exists()


def _params(model):
    return {k: layer.params[n].copy() for k, layer, n in model.named_parameters()}


def test_fit_resume_is_bit_identical_with_adam_and_dropout(tmp_path):
    X = tiny_data()
    whole = tiny_ae()
    h_whole = fit(whole, X, epochs=3, batch_size=8, optimizer=Adam(1e-2), verbose=False,
                  validation_data=X[:16])
    part = tiny_ae()
    fit(part, X, epochs=1, batch_size=8, optimizer=Adam(1e-2), verbose=False,
        validation_data=X[:16], checkpoint_dir=tmp_path)
    backend.seed(123)  # whatever happened in between: the checkpoint restores the generators
    again = tiny_ae(seed=9)
    h = fit(again, X, epochs=3, batch_size=8, optimizer=Adam(1e-2), verbose=False,
            validation_data=X[:16], checkpoint_dir=tmp_path, resume=True)
    for k, v in _params(whole).items():
        assert np.array_equal(v, _params(again)[k]), k
    assert h.history == h_whole.history
    assert checkpoint.run_info(tmp_path)["epoch"] == 3


def test_a_checkpoint_is_a_model_file(tmp_path):
    model = tiny_ae()
    fit(model, tiny_data(), epochs=1, optimizer=SGD(0.1, momentum=0.9), verbose=False,
        checkpoint_dir=tmp_path)
    loaded = io.load_model(checkpoint.path_in(tmp_path))
    for k, v in _params(model).items():
        assert np.array_equal(v, _params(loaded)[k])
    arrays, ckpt = checkpoint.read(tmp_path)
    assert "optimizer/encoder.1.W/v" in arrays  # the momentum, beside the weights
    assert ckpt["optimizer"]["counters"]["iterations"] == 3  # 96 samples in batches of 32


def test_resume_with_another_optimizer_is_refused(tmp_path):
    fit(tiny_ae(), tiny_data(), epochs=1, optimizer=SGD(0.1), verbose=False,
        checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=r"trained with SGD\(lr=0.1\), not SGD\(lr=0.2\)"):
        fit(tiny_ae(), tiny_data(), epochs=2, optimizer=SGD(0.2), verbose=False,
            checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        fit(tiny_ae(), tiny_data(), epochs=2, checkpoint_dir=tmp_path / "none", resume=True,
            verbose=False)


def test_a_full_disk_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    calls = []
    real = np.savez

    def savez(f, **arrays):
        calls.append(1)
        if len(calls) == 2:  # the second epoch's checkpoint: the disk fills up mid-write
            f.write(b"\0" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(f, **arrays)

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(OSError, match="No space left on device"):
        fit(tiny_ae(), tiny_data(), epochs=3, verbose=False, checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]  # no temp file
    assert checkpoint.run_info(tmp_path)["epoch"] == 1
    io.load_model(checkpoint.path_in(tmp_path))  # whole and readable
