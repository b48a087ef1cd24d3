"""scratch_ae/gradcheck.py: the gradient checker itself: a correct backward passes, every
planted bug is caught and reported with the parameter, the index and both values."""

import re

import numpy as np
import pytest

from scratch_ae import MSE, SELU, Dense, ReLU, Sequential
from scratch_ae.gradcheck import GradientCheckError, H, check_layer, check_loss, check_model
from scratch_ae.layers import Layer

# "gradient of parameter b[0] is wrong: analytic 0, numeric 1.23, relative error ..."
VALUES = re.compile(r"analytic (\S+), numeric (\S+), relative error")


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _upstream(y_shape, seed=0):
    """The random upstream gradient check_layer uses (seed + 2), recomputed independently."""
    return np.random.default_rng(seed + 2).standard_normal(y_shape)


# ------------------------------------------------------------------------------ planted bugs


class ForgetsBias(Dense):
    def backward(self, dy):
        self.grads["W"] += self.x.T @ dy
        return dy @ self.params["W"].T


class TransposedWeightGrad(Dense):
    def backward(self, dy):
        self.grads["W"] += (self.x.T @ dy).T  # right shape only because the layer is square
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class ScaledDx(Dense):
    def backward(self, dy):
        return 1.01 * super().backward(dy)


class WritesIntoDy(Dense):
    def backward(self, dy):
        dx = super().backward(dy)
        dy *= 0.5  # forbidden: the caller may still need dy
        return dx


class AssignsGrad(Dense):
    def backward(self, dy):
        self.grads["W"] = self.x.T @ dy  # replaces instead of adding
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class AssignsGradInPlace(Dense):
    def backward(self, dy):
        self.grads["W"][...] = self.x.T @ dy  # same buffer, but overwritten instead of added to
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class OneWrongWeight(Dense):
    """Wrong in a single element of W: only a check that looks at that element, or at a random
    direction through all of W, can see it."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"][7, 3] += 0.5 * (self.x.T @ dy)[7, 3] + 1.0
        return dx


def _with_bias(layer, seed=3):
    layer.params["b"][...] = np.random.default_rng(seed).standard_normal(layer.params["b"].shape)
    return layer


def test_correct_dense_passes_with_tiny_error():
    err = check_layer(_with_bias(Dense(5, 3)), _x((4, 5)))
    assert err < 1e-6


def test_forgotten_bias_gradient_is_caught_and_reported():
    x = _x((4, 5))
    with pytest.raises(GradientCheckError) as exc:
        check_layer(_with_bias(ForgetsBias(5, 3)), x)
    msg = str(exc.value)
    assert "parameter b" in msg
    analytic, numeric = (float(v) for v in VALUES.search(msg).groups())
    assert analytic == 0.0
    # d/db_0 of sum(y * g) is the column sum of g: the checker's numeric value must say so.
    g = _upstream((4, 3))
    assert numeric == pytest.approx(g[:, 0].sum(), rel=1e-8)


def test_failure_message_shows_a_plain_index():
    """The index must read like Python, "b[0]", not "b[np.int64(0)]" (NumPy 2's repr)."""
    with pytest.raises(GradientCheckError) as exc:
        check_layer(_with_bias(ForgetsBias(5, 3)), _x((4, 5)))
    assert "parameter b[0] is wrong" in str(exc.value)


def test_transposed_weight_gradient_is_caught():
    with pytest.raises(GradientCheckError, match=r"parameter W.* is wrong: analytic .* numeric"):
        check_layer(_with_bias(TransposedWeightGrad(4, 4)), _x((3, 4)))


def test_dx_off_by_one_percent_is_caught():
    with pytest.raises(GradientCheckError, match=r"input x.* is wrong: analytic .* numeric") as exc:
        check_layer(_with_bias(ScaledDx(5, 3)), _x((4, 5)))
    analytic, numeric = (float(v) for v in VALUES.search(str(exc.value)).groups())
    assert analytic == pytest.approx(1.01 * numeric, rel=1e-8)


def test_backward_writing_into_dy_is_caught():
    with pytest.raises(GradientCheckError, match="modified its input dy in place"):
        check_layer(WritesIntoDy(5, 3), _x((4, 5)))


@pytest.mark.parametrize("cls", [AssignsGrad, AssignsGradInPlace])
def test_backward_assigning_instead_of_adding_is_caught(cls):
    with pytest.raises(GradientCheckError, match=r"parameter W was not accumulated"):
        check_layer(cls(5, 3), _x((4, 5)))


def test_relu_exactly_at_zero_is_reported_as_a_kink():
    x = _x((3, 4))
    x[0, 0] = 0.0  # the first element checked sits on the kink
    with pytest.raises(GradientCheckError, match="kink") as exc:
        check_layer(ReLU(), x)
    assert "input x" in str(exc.value)
    assert "is wrong" not in str(exc.value)


def test_relu_away_from_the_kink_passes():
    x = _x((3, 4))
    x = np.sign(x) * (np.abs(x) + 0.1)
    assert check_layer(ReLU(), x) < 1e-6


def test_random_direction_path_passes_a_correct_layer():
    # W has 30*20 = 600 elements > max_elements: sampled elements plus random directions.
    layer = _with_bias(Dense(30, 20))
    assert check_layer(layer, _x((2, 30)), max_elements=16, n_directions=3) < 1e-6


def test_random_direction_alone_catches_a_bug():
    # max_elements=0 leaves only the random directions: they must still see the bad dx.
    with pytest.raises(GradientCheckError, match="input x along random direction 0 is wrong"):
        check_layer(ScaledDx(30, 20), _x((2, 30)), max_elements=0, n_directions=2)


def test_random_direction_catches_one_wrong_element_that_sampling_misses():
    layer = _with_bias(OneWrongWeight(30, 20))
    x = _x((2, 30))
    # The checker's element sampling, replayed: its generator (seed + 1) first picks 5 of the
    # input's 60 elements and draws 2 directions for it, then picks 5 of W's 600 elements.
    rs = np.random.default_rng(1)
    rs.choice(x.size, size=5, replace=False)
    for _ in range(2):
        rs.standard_normal(x.shape)
    sampled = {int(i) for i in rs.choice(600, size=5, replace=False)}
    assert 7 * 20 + 3 not in sampled  # the bad element is not among the sampled ones...
    # ...so only a random direction through all of W can catch it.
    with pytest.raises(GradientCheckError,
                       match="parameter W along random direction [01] is wrong"):
        check_layer(layer, x, max_elements=5, n_directions=2)


class WrongMSE(MSE):
    def backward(self):
        return self.diff / self.denom  # forgot the factor 2


def test_check_loss_passes_a_correct_loss_and_catches_a_wrong_one():
    p, t = _x((3, 4), 1), _x((3, 4), 2)
    assert check_loss(MSE(), p, t) < 1e-6
    with pytest.raises(GradientCheckError,
                       match=r"prediction.* is wrong: analytic .* numeric") as exc:
        check_loss(WrongMSE(), p, t)
    analytic, numeric = (float(v) for v in VALUES.search(str(exc.value)).groups())
    assert numeric == pytest.approx(2 * analytic, rel=1e-8)


def test_checker_runs_in_float64_even_for_a_float32_layer():
    layer = Dense(4, 3)  # float32 by default
    assert layer.params["W"].dtype == np.float32
    assert check_layer(layer, _x((2, 4)).astype(np.float32)) < 1e-6
    assert layer.params["W"].dtype == np.float64


# ------------------------------------------------------------------ small kinks vs small bugs


def _one_unit_at_the_kink(n_units=400):
    """Dense(1, n) + SELU where unit 0 sits just below 0, with a small weight.

    Moving the input by h moves unit 0's pre-activation across 0, where SELU's slope jumps from
    1.758 to 1.051: a kink in f, but a small one (the weight is 0.01), among 399 smooth units.
    The one-sided slopes differ by ~0.007 * g -- too little for the coarse test -- while the
    numeric derivative is off by ~1e-3 relative: once, this read "input x is wrong".
    """
    dense = Dense(1, n_units)
    x = np.array([[0.7]])
    w, b = dense.params["W"], dense.params["b"]
    b[...] = np.where(w[0] >= 0, 0.02, -0.02)  # every other unit well away from its kink
    w[0, 0] = 0.01
    b[0] = -0.01 * 0.7 - 0.5e-6  # pre-activation -5e-7; h moves it by 1e-6
    return Sequential([dense, SELU()]), x


def test_one_small_kink_among_many_units_is_reported_as_a_kink():
    model, x = _one_unit_at_the_kink()
    with pytest.raises(GradientCheckError, match=r"input x\[0, 0\]: the function has a kink"):
        check_layer(model, x)


def test_max_kinks_skips_kinks_and_lists_them():
    model, x = _one_unit_at_the_kink()
    # The input's kink, then W[0, 0]'s (moving the weight by h moves unit 0 by 0.7 h) and
    # b[0]'s: three points straddle the kink; every other one is checked.
    with pytest.raises(GradientCheckError, match="kink"):
        check_layer(model, x, max_kinks=2)
    result = check_layer(model, x, max_kinks=3)
    assert result < 1e-6
    assert result.skipped == ["input x[0, 0]", "parameter 0.W[0, 0]", "parameter 0.b[0]"]


class WrongSin(Dense):
    """y = sin(50 (x W + b)): strong curvature, and dx 0.1% too large."""

    def forward(self, x, training=False):
        self.z = 50 * super().forward(x, training)
        return np.sin(self.z)

    def backward(self, dy):
        return 1.001 * super().backward(dy * 50 * np.cos(self.z))


def test_a_small_bug_under_strong_curvature_is_not_mistaken_for_a_kink():
    # f'' ~ 2500 makes the one-sided slopes differ by ~h f'' = 0.25: far more than the 0.1%
    # error -- but they differ in proportion to the step, as a smooth function's do.
    with pytest.raises(GradientCheckError, match=r"input x.* is wrong") as exc:
        check_layer(WrongSin(3, 4), _x((2, 3)) * 0.1)
    analytic, numeric = (float(v) for v in VALUES.search(str(exc.value)).groups())
    assert analytic == pytest.approx(1.001 * numeric, rel=1e-6)


def test_a_wrong_gradient_is_not_skipped_as_a_kink():
    with pytest.raises(GradientCheckError, match="is wrong"):
        check_model(Sequential([ScaledDx(5, 5)]), _x((4, 5)), MSE(), max_kinks=100)


# ------------------------------------------------------- the kink classifier's thresholds, pinned
#
# A one-number "layer" whose function is chosen at the nine points x = k*h (k = -4..4) that the
# checker evaluates around x = 0 (the stencils with steps h and 2h), and whose backward claims a
# chosen derivative. Each threshold of the classifier then gets a case just inside it and one
# just outside it; both sides must come out as stated, so moving any threshold -- 1000x more
# eager, say -- fails a test. The function has a large base slope S, which makes every decision
# independent of the checker's random upstream gradient (it only scales f).

S = 1e4
STEPS = np.arange(-4, 5)


class _Table(Layer):
    """``y = phi(x)`` for a (1, 1) input, phi piecewise linear through ``S*k*h + h*d[k]``;
    backward claims ``dphi/dx = S + claimed``."""

    def __init__(self, d, claimed):
        super().__init__()
        self.values = S * STEPS * H + H * np.array([d.get(int(k), 0.0) for k in STEPS])
        self.claimed = claimed

    def forward(self, x, training=False):
        return np.interp(x, STEPS * H, self.values)  # exact at the nodes

    def backward(self, dy):
        return dy * (S + self.claimed)


def _check_table(d, claimed=0.0):
    return check_layer(_Table(d, claimed), np.zeros((1, 1)))


def _even(e1=0.0, e2=0.0):
    """An even bump: slope gaps ``gap = 2*e1`` and ``gap2 = e2`` (in units of phi's slope)."""
    return {1: e1, -1: e1, 2: e2, -2: e2}


def test_table_layer_is_exact_for_a_straight_line():
    assert _check_table({}) < 1e-12
    with pytest.raises(GradientCheckError, match="is wrong"):
        _check_table({}, claimed=1.0)


@pytest.mark.parametrize(("ratio", "kink"), [(1.02e-2, True), (0.98e-2, False)])
def test_large_kink_threshold_is_one_percent_of_the_slope(ratio, kink):
    # phi = S*x + c*|x|: symmetric, so the central difference is exactly S, the claimed slope;
    # only the one-sided slopes S + c and S - c show the kink: gap 2c against 1% of S + c.
    c = ratio * S / (2 - ratio)
    d = {int(k): c * abs(int(k)) for k in STEPS}
    if kink:
        with pytest.raises(GradientCheckError, match="kink"):
            _check_table(d)
    else:
        assert _check_table(d) < 1e-9


@pytest.mark.parametrize(("r", "kink"), [(0.26, True), (0.24, False)])
def test_gaps_that_stop_scaling_with_the_step_threshold(r, kink):
    # gap = 2, gap2 = 4 (1 - r): a smooth function has gap2 = 2 * gap = 4 (r = 0). They count as
    # "not scaling" beyond 25%. The claimed slope is off by 2 (the gaps, ~3, are >= half of it),
    # and the estimates with steps h and 2h agree exactly, so this threshold alone decides.
    d = _even(e1=1.0, e2=4 * (1 - r))
    match = "kink" if kink else "is wrong"
    with pytest.raises(GradientCheckError, match=match):
        _check_table(d, claimed=2.0)


@pytest.mark.parametrize(("mismatch", "kink"), [(3.9, True), (4.1, False)])
def test_gaps_against_the_mismatch_threshold(mismatch, kink):
    # gap = 2, gap2 = 0: clearly not scaling. Such gaps explain a mismatch up to twice their
    # size (4); a larger mismatch is a wrong gradient.
    d = _even(e1=1.0, e2=0.0)
    match = "kink" if kink else "is wrong"
    with pytest.raises(GradientCheckError, match=match):
        _check_table(d, claimed=mismatch)


@pytest.mark.parametrize(("shift", "kink"), [(0.102, True), (0.098, False)])
def test_step_size_disagreement_threshold(shift, kink):
    # No slope gaps at all; the estimate with step h is exactly S, the one with step 2h is
    # S + shift (only phi(+-4h) moves). Against a mismatch of 1, a disagreement above 10% of it
    # is a kink; below, the gradient is wrong.
    d = {4: -12 * shift, -4: 12 * shift}
    match = "kink" if kink else "is wrong"
    with pytest.raises(GradientCheckError, match=match):
        _check_table(d, claimed=1.0)
