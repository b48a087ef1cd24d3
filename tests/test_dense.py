"""scratch_ae/layers/dense.py: ``Dense`` (gradients, ``y = x @ W + b``, Glorot init, clear input
errors) and ``DenseTranspose`` (one tied weight, its gradient the sum of both uses, counted once).
"""

import math

import numpy as np
import pytest
from helpers import randn

from scratch_ae import (
    BCE,
    MSE,
    SELU,
    SGD,
    Autoencoder,
    Dense,
    DenseTranspose,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    backend,
)
from scratch_ae.gradcheck import check_layer, check_model


def _random_bias(layer, seed=7):
    b = layer.params["b"]
    b[...] = np.random.default_rng(seed).standard_normal(b.shape).astype(b.dtype)
    return layer


# ------------------------------------------------------------------------------ gradient checks


@pytest.mark.parametrize(("n", "d_in", "d_out"), [(1, 3, 2), (4, 5, 3), (7, 2, 6)])
def test_dense_gradients(n, d_in, d_out):
    layer = _random_bias(Dense(d_in, d_out))
    assert check_layer(layer, randn((n, d_in))) < 1e-6


@pytest.mark.parametrize("n", [1, 3])
def test_dense_transpose_gradients_through_a_tied_model(n):
    backend.seed(1)
    d = _random_bias(Dense(6, 3))
    dt = _random_bias(DenseTranspose(d), seed=8)
    model = Sequential([d, SELU(), dt, Sigmoid()])
    x = np.random.default_rng(n).uniform(0.05, 0.95, size=(n, 6))
    err = check_model(model, x, BCE())
    assert err < 1e-6
    assert check_model(model, x, MSE()) < 1e-6


def test_tied_weight_is_one_array_and_its_gradient_sums_both_uses():
    backend.seed(2)
    d = _random_bias(Dense(5, 3)).astype(np.float64)
    dt = _random_bias(DenseTranspose(d), seed=9).astype(np.float64)
    assert dt.dense.params["W"] is d.params["W"]
    tied = Sequential([d, Tanh(), dt])
    # The same network with two independent weights, W and a copy of W.T.
    enc = Dense(5, 3).astype(np.float64)
    dec = Dense(3, 5).astype(np.float64)
    enc.params["W"][...] = d.params["W"]
    enc.params["b"][...] = d.params["b"]
    dec.params["W"][...] = d.params["W"].T
    dec.params["b"][...] = dt.params["b"]
    untied = Sequential([enc, Tanh(), dec])

    x = randn((4, 5), seed=3)
    g = randn((4, 5), seed=4)
    np.testing.assert_allclose(tied.forward(x), untied.forward(x), rtol=1e-13)
    tied.zero_grad()
    untied.zero_grad()
    tied.backward(g)
    untied.backward(g)
    # One weight used twice: its gradient is the encoder's plus the (transposed) decoder's.
    np.testing.assert_allclose(d.grads["W"], enc.grads["W"] + dec.grads["W"].T, rtol=1e-12)
    np.testing.assert_allclose(dt.grads["b"], dec.grads["b"], rtol=1e-12)
    # Both contributions are non-trivial, so the sum really has two parts.
    assert np.abs(enc.grads["W"]).max() > 1e-3
    assert np.abs(dec.grads["W"]).max() > 1e-3
    # The tied weight is counted once, and updating it in place keeps the two layers tied.
    assert [k for k, _, _ in tied.named_parameters()] == ["0.W", "0.b", "2.b"]
    w = d.params["W"]
    SGD(lr=0.1).step(tied)
    assert d.params["W"] is w and dt.dense.params["W"] is w


def test_dense_transpose_follows_a_recast_dense():
    d = Dense(4, 2)
    dt = DenseTranspose(d)
    Sequential([d, dt]).astype(np.float64)
    y = dt.forward(np.ones((1, 2)))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y[0], d.params["W"].sum(axis=1))


def test_dense_transpose_requires_a_dense():
    with pytest.raises(TypeError, match="ties to a Dense layer, got ReLU"):
        DenseTranspose(ReLU())


def test_n_params_of_tied_ae_counts_the_shared_weight_once():
    d1, d2 = Dense(784, 100), Dense(100, 30)
    model = Autoencoder([d1, SELU(), d2, SELU()],
                        [DenseTranspose(d2), SELU(), DenseTranspose(d1), Sigmoid()])
    assert model.n_params() == 784 * 100 + 100 + 100 * 30 + 30 + 100 + 784


# ------------------------------------------------------------------------------ forward and init


def test_dense_forward_is_x_w_plus_b():
    layer = Dense(3, 2).astype(np.float64)
    layer.params["W"][...] = [[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]]
    layer.params["b"][...] = [0.25, -0.5]
    y = layer.forward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y, [[1 + 4 + 0 + 0.25, -1 + 1 + 9 - 0.5]])


def test_dense_init_is_glorot_uniform_with_zero_bias():
    layer = Dense(300, 200)
    limit = math.sqrt(6 / 500)
    w = layer.params["W"]
    assert w.dtype == np.float32 and w.shape == (300, 200)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit  # std of U(-l, l) is l/sqrt(3)
    assert not layer.params["b"].any()


# ------------------------------------------------------------------------------ bad input


def test_dense_wrong_width_names_expected_and_got():
    with pytest.raises(ValueError, match=r"Dense expected input of shape \(N, 784\), got "
                                         r"\(5, 100\)"):
        Dense(784, 10).forward(np.zeros((5, 100), np.float32))


def test_dense_integer_input_says_to_convert():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype uint8.*astype\('float32'\)"):
        Dense(4, 2).forward(np.zeros((2, 4), np.uint8))


def test_dense_one_d_input():
    with pytest.raises(ValueError, match=r"expected a 2-D input \(batch first\), got shape "
                                         r"\(784,\)"):
        Dense(784, 10).forward(np.zeros(784, np.float32))
