"""scratch_ae/layers/noise.py: ``Dropout`` and ``GaussianNoise``: gradients in training mode,
reproducible draws from the backend's seed, the identity at inference, inverted-dropout scaling,
the forward mask reused by backward, noise statistics and argument checks."""

import numpy as np
import pytest
from helpers import randn

from scratch_ae import Dropout, GaussianNoise, backend
from scratch_ae.gradcheck import check_layer

# ------------------------------------------------------------------------------ gradient checks


@pytest.mark.parametrize("shape", [(1, 5), (4, 6), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_gradient_in_training_mode(shape, rate):
    assert check_layer(Dropout(rate), randn(shape), training=True) < 1e-6


@pytest.mark.parametrize("shape", [(1, 5), (4, 6), (2, 3, 4)], ids=str)
def test_gaussian_noise_gradient_in_training_mode(shape):
    assert check_layer(GaussianNoise(0.3), randn(shape), training=True) < 1e-6


# ------------------------------------------------------------------------------ randomness


@pytest.mark.parametrize("layer_cls", [lambda: Dropout(0.4), lambda: GaussianNoise(0.5)])
def test_noise_layers_are_reproducible_and_identity_at_inference(layer_cls):
    x = randn((8, 20)).astype(np.float32)
    layer = layer_cls()
    backend.seed(11)
    a = layer.forward(x, training=True)
    backend.seed(11)
    b = layer.forward(x, training=True)
    backend.seed(12)
    c = layer.forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, x)
    y = layer.forward(x, training=False)
    assert y is x or np.array_equal(y, x)
    np.testing.assert_array_equal(y, x)
    g = randn((8, 20)).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(g), g)  # identity after an inference forward


def test_dropout_keeps_the_mean_by_inverted_scaling():
    rate = 0.3
    x = np.ones((200, 500))
    y = Dropout(rate).forward(x, training=True)
    kept = y != 0
    # Survivors are scaled by exactly 1 / (1 - rate); the rest are 0.
    np.testing.assert_allclose(y[kept], 1 / (1 - rate), rtol=1e-15)
    # 100,000 Bernoulli draws: the standard error of the mean is ~0.002.
    assert abs(kept.mean() - (1 - rate)) < 0.01
    assert abs(y.mean() - 1.0) < 0.01


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5)
    x = randn((6, 7)) + 5.0  # never exactly 0, so zeros in y mark dropped units
    y = layer.forward(x, training=True)
    g = randn((6, 7), seed=1)
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g * (y / x), rtol=1e-14)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        Dropout(rate)


def test_gaussian_noise_statistics_and_validation():
    x = np.zeros((100, 1000))
    y = GaussianNoise(0.2).forward(x, training=True)
    assert abs(y.mean()) < 0.005 and abs(y.std() - 0.2) < 0.005
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        GaussianNoise(-1.0)
