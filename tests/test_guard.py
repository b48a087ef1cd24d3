"""scratch_ae/guard.py: the numerical guard stops at the first step whose values go non-finite,
names the epoch, the step and the first layer (forward output or backward gradient), leaves the
weights as they were and points at the last good checkpoint."""

import numpy as np
import pytest
from helpers import synthetic_digits, tiny_data

import scratch_ae as sa
from scratch_ae import SGD, Dense, Sequential, backend, checkpoint
from scratch_ae.guard import NonFiniteError
from scratch_ae.train import fit


def test_the_guard_names_the_step_and_layer_and_keeps_the_last_checkpoint(tmp_path):
    model = sa.Sequential([sa.Dense(12, 6), sa.SELU(), sa.Dense(6, 12)], loss="mse")
    X = tiny_data()

    def blow_up(model, epoch, logs):  # after epoch 1, weights that overflow float32 on use
        model[0].params["W"][...] = 3e38

    with np.errstate(all="ignore"), pytest.raises(NonFiniteError) as e:
        fit(model, X, epochs=3, batch_size=8, optimizer=SGD(0.01), verbose=False,
            checkpoint_dir=tmp_path, callbacks=[blow_up])
    msg = str(e.value)
    assert "epoch 2, step 1" in msg
    assert "the output of 0 (Dense) in the forward pass" in msg
    assert "learning rate is probably too high" in msg and "[0, 1]" in msg
    assert f"last good checkpoint (epoch 1) is in {tmp_path}" in msg
    assert (model[0].params["W"] == np.float32(3e38)).all()  # the bad step changed nothing
    assert np.isfinite(model[2].params["W"]).all()
    assert checkpoint.run_info(tmp_path)["epoch"] == 1


def test_the_guard_names_a_gradient_that_overflows():
    model = sa.Sequential([sa.Dense(12, 6), sa.Dense(6, 12)], loss="mse")
    model[0].params["W"][...] = 1e-30  # h ~ 1e-29
    model[1].params["W"][...] = 1e36  # y ~ 1e8 and the loss ~ 1e15 are finite; dL/dh is not
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError) as e:
        fit(model, tiny_data(), epochs=1, batch_size=8, verbose=False)
    assert "the first non-finite value was the gradient with respect to the input of 1 " \
           "(Dense) in the backward pass" in str(e.value)


def test_absurd_learning_rate_raises_floating_point_error():
    backend.seed(0)
    model = Sequential([Dense(784, 64), Dense(64, 784)], loss="mse")
    x = synthetic_digits(64)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match="learning rate is probably too high"):
        fit(model, x, epochs=3, batch_size=8, optimizer=SGD(lr=1e4), verbose=False)
