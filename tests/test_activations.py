"""scratch_ae/layers/activations.py: every activation's gradient on several shapes and at
non-default parameters, and its forward values against independent formulas (SELU's published
constants, scipy's expit, logaddexp), without overflow at the extremes.

(test_gradients_at_non_default_parameters also covers the parameters of the noise layers and
the regularizers: one table of every constructor parameter that changes a backward.)
"""

import math
import warnings

import numpy as np
import pytest
from helpers import away_from_zero, randn

from scratch_ae import ELU, SELU, Dropout, GaussianNoise, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from scratch_ae.gradcheck import check_layer
from scratch_ae.layers import ActivityL1, KLSparsity


def _scipy_special():
    """scipy.special for an independent sigmoid (the library itself does not need scipy)."""
    return pytest.importorskip("scipy.special")


# ------------------------------------------------------------------------------ gradient checks


ELEMENTWISE = {
    "ReLU": ReLU,
    "LeakyReLU": LeakyReLU,
    "ELU": ELU,
    "SELU": SELU,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "Softplus": Softplus,
}


SHAPES = [(1, 5), (3, 4), (2, 3, 4), (2, 1, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_activation_gradients(name, shape):
    x = 2.0 * away_from_zero(randn(shape, seed=len(shape)))
    err = check_layer(ELEMENTWISE[name](), x)
    assert err < 1e-6


# Every constructor parameter that changes a backward, at values other than its default: a
# backward that ignored the parameter (ELU's alpha fixed at 1, LeakyReLU's slope fixed at 0.3,
# a KL target fixed at 0.1, ...) passes a check at the default and fails here.
NON_DEFAULT = [
    ("LeakyReLU(0.01)", lambda: LeakyReLU(0.01), "any"),
    ("LeakyReLU(0.7)", lambda: LeakyReLU(0.7), "any"),
    ("LeakyReLU(-0.5)", lambda: LeakyReLU(-0.5), "any"),
    ("ELU(0.5)", lambda: ELU(alpha=0.5), "any"),
    ("ELU(2.5)", lambda: ELU(alpha=2.5), "any"),
    ("Dropout(0.8)", lambda: Dropout(0.8), "any"),
    ("Dropout(0.05)", lambda: Dropout(0.05), "any"),
    ("GaussianNoise(2.0)", lambda: GaussianNoise(2.0), "any"),
    ("ActivityL1(0.02)", lambda: ActivityL1(0.02), "any"),
    ("ActivityL1(3.0)", lambda: ActivityL1(3.0), "any"),
    ("KLSparsity(1.3, 0.35)", lambda: KLSparsity(weight=1.3, target=0.35), "rates"),
    ("KLSparsity(0.2, 0.8)", lambda: KLSparsity(weight=0.2, target=0.8), "rates"),
]


@pytest.mark.parametrize(("make", "inputs"), [case[1:] for case in NON_DEFAULT],
                         ids=[case[0] for case in NON_DEFAULT])
def test_gradients_at_non_default_parameters(make, inputs):
    x = 2.0 * away_from_zero(randn((3, 5), seed=5))
    if inputs == "rates":  # KL sparsity needs activations in (0, 1)
        x = np.random.default_rng(5).uniform(0.05, 0.95, size=(3, 5))
    assert check_layer(make(), x, training=True) < 1e-6


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4)], ids=str)
def test_leaky_relu_and_elu_backward_use_their_parameter(shape):
    """dL/dx on the negative side is exactly ``slope * dy`` and ``(y + alpha) * dy``."""
    x = -np.abs(away_from_zero(randn(shape, seed=1)))
    dy = randn(shape, seed=2)
    leaky = LeakyReLU(0.07)
    leaky.forward(x)
    np.testing.assert_allclose(leaky.backward(dy), 0.07 * dy, rtol=1e-14)
    elu = ELU(alpha=1.9)
    elu.forward(x)
    np.testing.assert_allclose(elu.backward(dy), 1.9 * np.exp(x) * dy, rtol=1e-12)


# ------------------------------------------------------------------------------ forward values


def test_selu_matches_its_published_constants():
    # Klambauer et al. 2017: alpha ~ 1.6733, lambda ~ 1.0507 (the closed forms, not the code's).
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    x = np.array([[-3.0, -1.0, -0.25, 0.25, 1.0, 3.0]])
    expected = np.where(x > 0, scale * x, scale * alpha * (np.exp(x) - 1))
    np.testing.assert_allclose(SELU().forward(x), expected, rtol=1e-14)


def test_elu_leaky_relu_relu_tanh_values():
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    np.testing.assert_allclose(ELU(alpha=0.7).forward(x)[0],
                               [0.7 * (math.exp(-2) - 1), 0.7 * (math.exp(-0.5) - 1), 0.5, 2.0],
                               rtol=1e-14)
    np.testing.assert_allclose(LeakyReLU().forward(x)[0], [-0.6, -0.15, 0.5, 2.0], rtol=1e-14)
    np.testing.assert_allclose(LeakyReLU(0.01).forward(x)[0], [-0.02, -0.005, 0.5, 2.0],
                               rtol=1e-14)
    np.testing.assert_array_equal(ReLU().forward(x)[0], [0.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(Tanh().forward(x)[0], [math.tanh(v) for v in x[0]], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_matches_expit_without_overflow(dtype):
    special = _scipy_special()
    x = np.array([[-1000.0, -100.0, -30.0, -5.0, -1.0, 0.0, 1.0, 5.0, 30.0, 100.0, 1000.0]],
                 dtype=dtype)
    expected = special.expit(x.astype(np.float64))
    # Overflow would be a bug; exp(-1000) underflowing to 0 is the right answer.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Sigmoid().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    eps = np.finfo(dtype).eps
    # Within a few ulps of 1 in absolute terms everywhere, and within a few ulps *relatively*
    # wherever the true value is representable: the left tail (sigmoid(-30) ~ 9e-14) must not
    # be flushed to 0, as 0.5 * (1 + tanh(x / 2)) would do.
    np.testing.assert_allclose(y, expected, rtol=0, atol=4 * eps)
    normal = expected > np.finfo(dtype).tiny
    np.testing.assert_allclose(y[normal], expected[normal], rtol=4 * eps)
    assert y[0, 0] == 0.0 and y[0, -1] == 1.0 and y[0, 5] == 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_is_finite_and_exact_at_extremes(dtype):
    special = _scipy_special()
    x = np.array([[-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0]], dtype=dtype)
    # Overflow or NaN would be a bug; exp(-1000) underflowing to 0 is the right answer.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = Softplus().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    assert y[0, -1] == 1000.0 and y[0, 0] == 0.0
    expected = np.logaddexp(0.0, x.astype(np.float64))  # log(1 + e^x), independently
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps)
    layer = Softplus()
    layer.forward(x)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        d = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(d, special.expit(x.astype(np.float64)), rtol=0,
                               atol=4 * np.finfo(dtype).eps)


def test_leaky_relu_keeps_infinities_instead_of_making_nan():
    from scratch_ae.layers import LeakyReLU

    y = LeakyReLU(0.5).forward(np.array([[np.inf, -np.inf, 2.0, -2.0]], np.float32))
    np.testing.assert_array_equal(y, [[np.inf, -np.inf, 2.0, -1.0]])
