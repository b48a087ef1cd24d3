"""scratch_ae/optim.py: optimizers, a few steps worked out in the test from the written formula
(Keras' forms) and, where PyTorch is installed and its formula is the same, a run against
torch.optim; their state and arguments; the cosine schedule."""

import math

import numpy as np
import pytest

from scratch_ae import SGD, Adam, Dense, Nadam, RMSprop, Sequential
from scratch_ae.layers.base import Layer
from scratch_ae.optim import get_optimizer

P0 = [1.0, -2.0, 0.5]
C = [0.5, 2.0, 3.0]  # the quadratic 0.5 * sum(C * p**2), whose gradient is C * p


class Params(Layer):
    """A parameter holder: one tensor ``w`` whose gradient the test sets directly."""

    def __init__(self, values):
        super().__init__()
        self.add_param("w", np.array(values, dtype=np.float64))


def _run(opt, steps, p0=P0, c=C):
    holder = Params(p0)
    w = holder.params["w"]
    for _ in range(steps):
        holder.zero_grad()
        holder.grads["w"] += np.array(c) * w
        opt.step(holder)
        assert holder.params["w"] is w  # updated in place
    return w


def _reference(step_fn, steps, p0=P0, c=C):
    """Run a per-element scalar update written out in plain Python."""
    out = []
    for p, ci in zip(p0, c, strict=True):
        state = {}
        for t in range(1, steps + 1):
            p = step_fn(p, ci * p, t, state)
        out.append(p)
    return out


# ------------------------------------------------------------------------------ by hand


def test_sgd_plain_by_hand():
    # p <- p - lr * g with g = c * p, i.e. p <- p * (1 - lr * c) each step.
    # p0 = 1, c = 0.5, lr = 0.1: 1 -> 0.95 -> 0.9025 -> 0.857375
    w = _run(SGD(lr=0.1), 3)
    assert w[0] == pytest.approx(0.857375, rel=1e-14)
    np.testing.assert_allclose(w, [p * (1 - 0.1 * c) ** 3 for p, c in zip(P0, C, strict=True)],
                               rtol=1e-14)


def test_sgd_momentum_by_hand():
    # v <- m v - lr g;  p <- p + v.   p0 = 1, c = 0.5, lr = 0.1, m = 0.9:
    # t=1: g = 0.5,     v = -0.05,                 p = 0.95
    # t=2: g = 0.475,   v = -0.045 - 0.0475 = -0.0925,   p = 0.8575
    # t=3: g = 0.42875, v = -0.08325 - 0.042875 = -0.126125, p = 0.731375
    w = _run(SGD(lr=0.1, momentum=0.9), 3)
    assert w[0] == pytest.approx(0.731375, rel=1e-13)

    def step(p, g, t, s):
        s["v"] = 0.9 * s.get("v", 0.0) - 0.1 * g
        return p + s["v"]

    np.testing.assert_allclose(w, _reference(step, 3), rtol=1e-14)


def test_sgd_nesterov_by_hand():
    # v <- m v - lr g;  p <- p + m v - lr g.   p0 = 1, c = 0.5, lr = 0.1, m = 0.9:
    # t=1: g = 0.5,  v = -0.05,  p = 1 - 0.045 - 0.05 = 0.905
    # t=2: g = 0.4525, v = -0.045 - 0.04525 = -0.09025, p = 0.905 - 0.081225 - 0.04525 = 0.778525
    w = _run(SGD(lr=0.1, momentum=0.9, nesterov=True), 2)
    assert w[0] == pytest.approx(0.778525, rel=1e-13)

    def step(p, g, t, s):
        s["v"] = 0.9 * s.get("v", 0.0) - 0.1 * g
        return p + 0.9 * s["v"] - 0.1 * g

    np.testing.assert_allclose(_run(SGD(lr=0.1, momentum=0.9, nesterov=True), 3),
                               _reference(step, 3), rtol=1e-14)


def test_rmsprop_by_hand():
    # a <- rho a + (1 - rho) g^2;  p <- p - lr g / (sqrt(a) + eps); rho 0.9, eps 1e-7.
    # p0 = 1, c = 0.5, lr = 0.01, t=1: g = 0.5, a = 0.025, sqrt(a) = 0.158113883...,
    # p = 1 - 0.01 * 0.5 / (0.158113883 + 1e-7) = 0.968377...
    opt = RMSprop(lr=0.01)
    assert (opt.rho, opt.eps) == (0.9, 1e-7)
    w = _run(opt, 1)
    assert w[0] == pytest.approx(1 - 0.005 / (math.sqrt(0.025) + 1e-7), rel=1e-14)

    def step(p, g, t, s):
        s["a"] = 0.9 * s.get("a", 0.0) + 0.1 * g * g
        return p - 0.01 * g / (math.sqrt(s["a"]) + 1e-7)

    np.testing.assert_allclose(_run(RMSprop(lr=0.01), 3), _reference(step, 3), rtol=1e-14)


def test_adam_by_hand():
    # m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  lr_t = lr sqrt(1-b2^t) / (1-b1^t);
    # p <- p - lr_t m / (sqrt(v) + eps).  At t=1 the step is ~lr * sign(g):
    # m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1, so p -= lr g / (|g| + eps/sqrt(.001))
    w = _run(Adam(lr=0.01), 1)
    g0 = 0.5
    assert w[0] == pytest.approx(1 - 0.01 * g0 / (g0 + 1e-7 / math.sqrt(0.001)), rel=1e-13)

    def step(p, g, t, s):
        s["m"] = 0.9 * s.get("m", 0.0) + 0.1 * g
        s["v"] = 0.999 * s.get("v", 0.0) + 0.001 * g * g
        lr_t = 0.01 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        return p - lr_t * s["m"] / (math.sqrt(s["v"]) + 1e-7)

    np.testing.assert_allclose(_run(Adam(lr=0.01), 3), _reference(step, 3), rtol=1e-13)


def test_nadam_by_hand():
    # Keras' Nadam (Dozat 2016), written out:
    #   u_t = b1 (1 - 0.5 * 0.96^(0.004 t));  U_t = u_1 ... u_t
    #   m <- b1 m + (1-b1) g;   v <- b2 v + (1-b2) g^2
    #   m_bar = (1 - u_t) g / (1 - U_t) + u_{t+1} m / (1 - U_t u_{t+1})
    #   p <- p - lr m_bar / (sqrt(v / (1 - b2^t)) + eps)
    def u(t):
        return 0.9 * (1 - 0.5 * 0.96 ** (0.004 * t))

    def step(p, g, t, s):
        U_prev = s.get("U", 1.0)
        U_t = U_prev * u(t)
        s["U"] = U_t
        s["m"] = 0.9 * s.get("m", 0.0) + 0.1 * g
        s["v"] = 0.999 * s.get("v", 0.0) + 0.001 * g * g
        m_bar = (1 - u(t)) * g / (1 - U_t) + u(t + 1) * s["m"] / (1 - U_t * u(t + 1))
        return p - 0.002 * m_bar / (math.sqrt(s["v"] / (1 - 0.999**t)) + 1e-7)

    np.testing.assert_allclose(_run(Nadam(lr=0.002), 3), _reference(step, 3), rtol=1e-13)


# ------------------------------------------------------------------------------ against torch


def _torch_run(torch, make_opt, steps, p0=P0, c=C):
    # Torch keeps scalar optimizer state (step counts, NAdam's momentum product) in the default
    # dtype: float64 here, so that only the formulas, not float32 rounding, are compared.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
        cc = torch.tensor(c, dtype=torch.float64)
        opt = make_opt([p])
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * (cc * p * p).sum()).backward()
            opt.step()
    finally:
        torch.set_default_dtype(previous)
    return p.detach().numpy()


# (ours, torch's). Torch's momentum buffer is v = m v + g (Keras': m v - lr g): the same
# trajectory for a constant lr. Torch's RMSprop also divides by sqrt(a) + eps. Torch's Adam puts
# eps after the bias correction of v (Keras before), so they agree only with eps = 0. Torch's
# NAdam uses the same momentum schedule (momentum_decay = 0.004) and eps placement as Keras.
CASES = {
    "sgd": (lambda: SGD(lr=0.05), lambda t, ps: t.optim.SGD(ps, lr=0.05)),
    "momentum": (lambda: SGD(lr=0.05, momentum=0.9),
                 lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "nesterov": (lambda: SGD(lr=0.05, momentum=0.9, nesterov=True),
                 lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda: RMSprop(lr=0.01),
                lambda t, ps: t.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7)),
    "adam": (lambda: Adam(lr=0.01, eps=0.0),
             lambda t, ps: t.optim.Adam(ps, lr=0.01, eps=0.0)),
    "nadam": (lambda: Nadam(lr=0.01),
              lambda t, ps: t.optim.NAdam(ps, lr=0.01, eps=1e-7, momentum_decay=0.004)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_on_a_quadratic(name):
    torch = pytest.importorskip("torch")
    ours, theirs = CASES[name]
    w = _run(ours(), 25)
    ref = _torch_run(torch, lambda ps: theirs(torch, ps), 25)
    np.testing.assert_allclose(w, ref, rtol=1e-11, atol=1e-13)
    assert not np.allclose(w, P0)  # it moved


# ------------------------------------------------------------------------------ bookkeeping


def test_state_is_keyed_by_parameter_name():
    model = Sequential([Dense(2, 3), Dense(3, 1)])
    opt = Adam()
    x = np.ones((4, 2), np.float32)
    model.zero_grad()
    model.backward(np.ones_like(model.forward(x)))
    opt.step(model)
    assert set(opt.state) == {"0.W", "0.b", "1.W", "1.b"}
    for key, layer, name in model.named_parameters():
        assert set(opt.state[key]) == {"m", "v"}
        assert opt.state[key]["m"].shape == layer.params[name].shape
        assert opt.state[key]["m"].dtype == np.float32
    assert opt.iterations == 1
    sgd = SGD(lr=0.1)
    sgd.step(model)
    assert sgd.state == {}  # plain SGD keeps no state


def test_float32_parameters_stay_float32():
    holder = Params(P0)
    holder.astype(np.float32)
    for opt in (SGD(0.1, momentum=0.9), RMSprop(), Adam(), Nadam()):
        holder.grads["w"][...] = 0.5
        opt.step(holder)
        assert holder.params["w"].dtype == np.float32


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, Nadam])
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_bad_learning_rate(cls, lr):
    with pytest.raises(ValueError, match="learning rate must be > 0"):
        cls(lr=lr)


def test_bad_momentum_and_unknown_name():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        SGD(momentum=1.0)
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        get_optimizer("adagrad")
    assert isinstance(get_optimizer("adam", lr=0.5), Adam)
    assert get_optimizer("ADAM").lr == 1e-3


def test_cosine_schedule_known_values_and_bad_arguments():
    from scratch_ae.optim import cosine_schedule

    rate = cosine_schedule(1e-3, 10, floor=1e-5)
    assert rate(0) == pytest.approx(1e-3, rel=1e-12)
    assert rate(5) == pytest.approx((1e-3 + 1e-5) / 2, rel=1e-12)  # half way: the mean
    assert rate(10) == pytest.approx(1e-5, rel=1e-12)
    rates = [rate(e) for e in range(10)]
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    for bad in [dict(lr=0.0, epochs=3), dict(lr=1e-3, epochs=0), dict(lr=1e-3, epochs=2.5),
                dict(lr=1e-3, epochs=3, floor=1e-3)]:
        with pytest.raises(ValueError, match="cosine_schedule needs"):
            cosine_schedule(**bad)
