"""scratch_ae/losses.py: values against independent formulas (and PyTorch when installed),
gradients against finite differences, Keras' clipping, reductions, a clear error for mixed host
and device arrays. (The VAE's KL: test_sampling.py.)"""

import math

import numpy as np
import pytest
from helpers import FakeCupyArray

from scratch_ae import BCE, MSE, BCEWithLogits
from scratch_ae.gradcheck import check_loss
from scratch_ae.losses import EPS, get_loss


def _uniform(shape, lo=0.05, hi=0.95, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------------------ MSE


def test_mse_value_and_gradient_by_hand():
    p = np.array([[0.5, 1.0], [2.0, -1.0]])
    y = np.array([[0.0, 1.0], [1.0, 1.0]])
    loss = MSE()
    # squared errors 0.25, 0, 1, 4 -> mean 5.25 / 4
    assert float(loss.forward(p, y)) == pytest.approx(5.25 / 4, rel=1e-15)
    np.testing.assert_allclose(loss.backward(), 2 * (p - y) / 4, rtol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 3), (4, 5), (2, 1, 3, 3)], ids=str)
def test_mse_gradcheck(reduction, shape):
    p, y = _uniform(shape, -2, 2, 1), _uniform(shape, -2, 2, 2)
    assert check_loss(MSE(reduction=reduction), p, y) < 1e-6


# ------------------------------------------------------------------------------ BCE


def _bce_reference(p, y):
    """Keras: clip to [1e-7, 1 - 1e-7], mean of -(y log p + (1 - y) log(1 - p))."""
    total = 0.0
    for pi, yi in zip(p.ravel(), y.ravel(), strict=True):
        pc = min(max(float(pi), 1e-7), 1 - 1e-7)
        total -= yi * math.log(pc) + (1 - yi) * math.log(1 - pc)
    return total / p.size


def test_bce_value_against_a_plain_python_formula():
    p = _uniform((3, 7), 0.01, 0.99, 3)
    y = _uniform((3, 7), 0.0, 1.0, 4)  # grey targets, as MNIST pixels are
    assert float(BCE().forward(p, y)) == pytest.approx(_bce_reference(p, y), rel=1e-13)


def test_bce_by_hand_one_pixel():
    # -(1 * log 0.8) = 0.22314355131420976;  dL/dp = (0.8 - 1) / (0.8 * 0.2) = -1.25
    loss = BCE()
    assert float(loss.forward(np.array([[0.8]]), np.array([[1.0]]))) == pytest.approx(
        0.22314355131420976, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[-1.25]], rtol=1e-12)


def test_bce_clips_like_keras_and_has_zero_gradient_outside():
    p = np.array([[0.0, 1.0, 1e-9, 1 - 1e-10, 0.3, 1e-7]])
    y = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 1.0]])
    loss = BCE()
    value = float(loss.forward(p, y))
    assert math.isfinite(value)
    assert value == pytest.approx(_bce_reference(p, y), rel=1e-12)
    # Four terms sit at the clip: each is -log(1e-7) = 16.118...
    assert value == pytest.approx((4 * -math.log(1e-7) - math.log(0.3) - math.log(1e-7)) / 6,
                                  rel=1e-9)
    g = loss.backward()
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0, :4], 0.0)  # the clip is flat there
    assert g[0, 4] == pytest.approx((0.3 - 1) / (0.3 * 0.7) / 6, rel=1e-12)
    assert g[0, 5] != 0.0  # the boundary itself still counts as inside
    assert EPS == 1e-7


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 4), (3, 5), (2, 1, 2, 3)], ids=str)
def test_bce_gradcheck_with_grey_targets(reduction, shape):
    p = _uniform(shape, 0.05, 0.95, 5)
    y = _uniform(shape, 0.0, 1.0, 6)
    assert check_loss(BCE(reduction=reduction), p, y) < 1e-6


def test_bce_matches_torch():
    torch = _torch()
    p = _uniform((4, 9), 0.001, 0.999, 7)
    y = _uniform((4, 9), 0.0, 1.0, 8)
    loss = BCE()
    ours = float(loss.forward(p, y))
    pt = torch.tensor(p, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(pt, torch.tensor(y))
    ref.backward()
    assert ours == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), pt.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------------------ BCE with logits


def test_bce_with_logits_equals_bce_of_sigmoid():
    z = np.random.default_rng(9).uniform(-6, 6, size=(3, 8))
    y = _uniform((3, 8), 0.0, 1.0, 10)
    s = 1 / (1 + np.exp(-z))
    assert float(BCEWithLogits().forward(z, y)) == pytest.approx(
        float(BCE().forward(s, y)), rel=1e-12)


def test_bce_with_logits_is_exact_for_huge_logits():
    z = np.array([[1e4, -1e4, 1e4, -1e4]])
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss = BCEWithLogits()
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        value = float(loss.forward(z, y))
        g = loss.backward()
    # Right answers cost 0, confidently wrong ones cost |z| each: (0 + 0 + 1e4 + 1e4) / 4.
    assert value == pytest.approx(5e3, rel=1e-15)
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.25, -0.25]], rtol=0, atol=1e-15)


def test_bce_with_logits_gradient_is_sigmoid_minus_target_over_n():
    z = np.random.default_rng(11).uniform(-4, 4, size=(2, 5))
    y = _uniform((2, 5), 0.0, 1.0, 12)
    loss = BCEWithLogits()
    loss.forward(z, y)
    np.testing.assert_allclose(loss.backward(), (1 / (1 + np.exp(-z)) - y) / 10, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 4), (3, 5), (2, 1, 2, 3)], ids=str)
def test_bce_with_logits_gradcheck(reduction, shape):
    z = np.random.default_rng(13).uniform(-5, 5, size=shape)
    y = _uniform(shape, 0.0, 1.0, 14)
    assert check_loss(BCEWithLogits(reduction=reduction), z, y) < 1e-6


def test_bce_with_logits_matches_torch():
    torch = _torch()
    z = np.random.default_rng(15).uniform(-8, 8, size=(3, 6))
    y = _uniform((3, 6), 0.0, 1.0, 16)
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    ref.backward()
    loss = BCEWithLogits()
    assert float(loss.forward(z, y)) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------------------ reductions, errors


@pytest.mark.parametrize("cls", [MSE, BCE, BCEWithLogits])
@pytest.mark.parametrize("shape", [(4, 6), (3, 1, 2, 5)], ids=str)
def test_sum_reduction_is_mean_times_pixels(cls, shape):
    p, y = _uniform(shape, 0.05, 0.95, 17), _uniform(shape, 0.0, 1.0, 18)
    d = math.prod(shape[1:])
    mean, total = cls(reduction="mean"), cls(reduction="sum")
    assert float(total.forward(p, y)) == pytest.approx(d * float(mean.forward(p, y)), rel=1e-13)
    np.testing.assert_allclose(total.backward(), d * mean.backward(), rtol=1e-13)


def test_bad_reduction_and_unknown_name():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'max'"):
        MSE(reduction="max")
    with pytest.raises(ValueError, match="unknown loss 'l1': expected one of mse, bce"):
        get_loss("l1")
    assert isinstance(get_loss("BCE"), BCE)
    bce = BCE()
    assert get_loss(bce) is bce


@pytest.mark.parametrize("cls", [MSE, BCE, BCEWithLogits])
def test_shape_mismatch_message(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: prediction of shape \(2, 784\) does "
                                         r"not match target of shape \(2, 1, 28, 28\)"):
        cls().forward(np.full((2, 784), 0.5), np.full((2, 1, 28, 28), 0.5))


def test_integer_prediction_is_rejected():
    with pytest.raises(TypeError, match="floating-point predictions"):
        MSE().forward(np.ones((2, 3), np.int64), np.ones((2, 3)))


@pytest.mark.parametrize("cls", [MSE, BCE, BCEWithLogits])
def test_float32_in_float32_out(cls):
    p = _uniform((3, 4), seed=19).astype(np.float32)
    y = _uniform((3, 4), seed=20).astype(np.float32)
    loss = cls()
    assert loss.forward(p, y).dtype == np.float32
    assert loss.backward().dtype == np.float32


def test_a_loss_refuses_mixed_arrays():
    with pytest.raises(TypeError, match="mixed in MSE"):
        MSE().forward(np.zeros((2, 3), np.float32), FakeCupyArray())
