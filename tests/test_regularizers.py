"""scratch_ae/layers/regularizers.py: ActivityL1 and KLSparsity: values vs formulas, gradients,
contract, effect on training."""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import backend, data
from scratch_ae.gradcheck import check_layer, check_model
from scratch_ae.layers import SELU, ActivityL1, Dense, KLSparsity, Sigmoid
from scratch_ae.layers.conv import Conv2D, Conv2DTranspose
from scratch_ae.layers.pooling import MaxPool2D
from scratch_ae.losses import BCE
from scratch_ae.models import Autoencoder, Sequential
from scratch_ae.optim import SGD


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices on a shared machine: one BLAS thread avoids spin-waiting (~25x faster)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield

def test_l1_value_and_gradient_formula(rng):
    h = rng.uniform(-1, 1, size=(4, 5))
    layer = ActivityL1(0.3)
    y = layer.forward(h)
    assert y is h  # identity
    assert layer.penalty == pytest.approx(0.3 * np.abs(h).sum() / 4)
    dy = rng.standard_normal((4, 5))
    dy0 = dy.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, dy0)  # dy never mutated
    assert dx is not dy
    np.testing.assert_allclose(dx, dy + 0.3 * np.sign(h) / 4)


def test_kl_value_and_gradient_formula(rng):
    h = rng.uniform(0.05, 0.6, size=(6, 4))
    p, w = 0.1, 0.05
    layer = KLSparsity(w, p)
    assert layer.forward(h) is h
    q = h.mean(axis=0)
    want = w * np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))
    assert layer.penalty == pytest.approx(want, rel=1e-12)
    dy = rng.standard_normal((6, 4))
    dy0 = dy.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, dy0)
    np.testing.assert_allclose(dx, dy + w * (-p / q + (1 - p) / (1 - q)) / 6)
    # zero penalty exactly at the target rate
    layer.forward(np.full((3, 2), p))
    assert abs(layer.penalty) < 1e-15


def test_kl_clips_dead_units_to_finite_penalty():
    layer = KLSparsity(0.05, 0.1)
    h = np.zeros((4, 3))
    layer.forward(h)
    assert np.isfinite(layer.penalty) and layer.penalty > 0
    dx = layer.backward(np.zeros_like(h))
    assert np.all(np.isfinite(dx)) and np.all(dx == 0)  # clip active -> flat -> zero gradient


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ActivityL1(-1)
    with pytest.raises(ValueError):
        KLSparsity(0.05, 1.5)


@pytest.mark.parametrize("layer", [ActivityL1(0.7), KLSparsity(0.3, 0.2)])
def test_layer_gradcheck(layer, rng):
    # L1: keep |h| away from 0 (the kink); KL: rates in (0, 1)
    h = rng.uniform(0.1, 0.9, size=(5, 6)) * rng.choice([-1, 1], size=(5, 6))
    if isinstance(layer, KLSparsity):
        h = np.abs(h)
    assert check_layer(layer, h) < 1e-6


def _dense_sparse(reg):
    enc = Sequential([Dense(12, 8), SELU(), Dense(8, 10), Sigmoid(), reg])
    dec = Sequential([Dense(10, 8), SELU(), Dense(8, 12), Sigmoid()])
    return Autoencoder(enc, dec)


@pytest.mark.parametrize("reg", [ActivityL1(0.05), KLSparsity(0.5, 0.1)],
                         ids=["sparse_l1", "sparse_kl"])
def test_whole_model_gradcheck_with_penalty(reg, rng):
    backend.seed(3)
    model = _dense_sparse(reg)
    x = rng.uniform(0.05, 0.95, size=(4, 12))
    assert check_model(model, x, BCE()) < 1e-6
    assert model.total_penalty() > 0  # the checked loss really included the penalty


def test_conv_sparse_model_gradcheck(rng):
    backend.seed(4)
    enc = Sequential([Conv2D(1, 3, 3, padding="same"), SELU(), MaxPool2D(2),
                      Conv2D(3, 4, 3, padding="same"), SELU(), ActivityL1(0.05)])
    dec = Sequential([Conv2DTranspose(4, 2, 3, stride=2, padding="same"), SELU(),
                      Conv2D(2, 1, 3, padding="same"), Sigmoid()])
    model = Autoencoder(enc, dec)
    x = rng.uniform(0.05, 0.95, size=(2, 1, 6, 6))
    assert check_model(model, x, BCE(), max_elements=64) < 1e-6
    assert model.total_penalty() > 0


def _images(n=2000):
    if os.environ.get(data.ENV_VAR):
        return data.load_mnist(flat=True, download=False).x_train[:n]
    return data.load_sample(flat=True).x_train


def _mean_code(model, X):
    return float(model.encode(X).mean())


def _train(model, X, steps=300):
    model.fit(X, epochs=100, batch_size=32, optimizer=SGD(lr=1.0), loss="bce", verbose=False,
              max_steps=steps)
    return model


def _sparse_net(reg):
    backend.seed(7)
    enc = Sequential([Dense(784, 100), SELU(), Dense(100, 300), Sigmoid(), *([reg] if reg else [])])
    dec = Sequential([Dense(300, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(enc, dec, loss="bce")


def test_sparsity_penalties_move_mean_activation():
    """A few hundred steps: L1 lowers the mean code activation, KL pulls it towards 0.1."""
    X = _images()
    plain = _mean_code(_train(_sparse_net(None), X), X)
    l1 = _mean_code(_train(_sparse_net(ActivityL1(1e-3)), X), X)
    kl_model = _train(_sparse_net(KLSparsity(0.05, 0.1)), X)
    kl = _mean_code(kl_model, X)
    assert l1 < 0.5 * plain, (plain, l1)
    assert abs(kl - 0.1) < abs(plain - 0.1), (plain, kl)
    assert abs(kl - 0.1) < 0.03, kl
