"""Finite-difference gradient checks for layers, losses and whole models.

The idea: for a scalar function ``f`` of an array ``a``, the derivative along element ``i`` is
approximately a difference quotient. We use the fourth-order central stencil

    f'(a_i) ~ ( f(a_i - 2h) - 8 f(a_i - h) + 8 f(a_i + h) - f(a_i + 2h) ) / (12 h)

whose error shrinks like h**4, so in float64 it agrees with a correct analytic gradient to about
1e-10 -- far below the 1e-6 we demand -- while a wrong backward is off by O(1).

What is checked, following Chainer's ``check_backward``:

* Everything runs in float64 (the layer is cast with ``astype``; inputs are copied).
* The scalar is ``f = sum(y * g) + penalty`` with a *random* upstream gradient ``g`` (an all-ones
  ``g`` would hide errors that sum to zero, such as a transposed weight gradient).
* Every element of every input and parameter is perturbed; a tensor with more than
  ``max_elements`` elements gets that many random elements plus a few random directions.
* Randomness (dropout masks, noise, the VAE's epsilon) is made repeatable by reseeding the
  backend before every forward.
* A perturbation that straddles a kink (ReLU at 0, a max-pool tie) makes the one-sided slopes
  disagree; that is reported as a kink, so the test can move its inputs, instead of as a wrong
  gradient.
* The layer contract is enforced too: ``backward`` must not modify ``dy``, must *add* into its
  gradients, and must return ``dx`` of ``x``'s shape.

Relative error of an element is ``|analytic - numeric| / max(|analytic|, |numeric|, floor)``;
``floor`` (1e-4) keeps tiny gradients from dividing by almost nothing. A check passes when the
largest relative error is below ``rtol`` (1e-6).
"""

from __future__ import annotations

import numpy as np

from . import backend

H = 1e-4
FLOOR = 1e-4


class GradientCheckError(AssertionError):
    """The analytic gradient disagrees with the numeric one (the message says where)."""


def _to64(xp, a):
    return xp.asarray(a).astype(xp.float64)


def _numeric(f, arr, idx, h):
    """Fourth-order central difference of ``f`` w.r.t. ``arr[idx]``, plus one-sided slopes."""
    orig = float(arr[idx])
    vals = {}
    for k in (-2, -1, 0, 1, 2):
        arr[idx] = orig + k * h
        vals[k] = float(f())
    arr[idx] = orig
    num = (vals[-2] - 8 * vals[-1] + 8 * vals[1] - vals[2]) / (12 * h)
    return num, (vals[1] - vals[0]) / h, (vals[0] - vals[-1]) / h


def _numeric_direction(f, arr, d, h):
    """The same stencil along a whole direction ``d`` (same shape as arr)."""
    orig = arr.copy()
    vals = {}
    for k in (-2, -1, 0, 1, 2):
        arr[...] = orig + k * h * d
        vals[k] = float(f())
    arr[...] = orig
    num = (vals[-2] - 8 * vals[-1] + 8 * vals[1] - vals[2]) / (12 * h)
    return num, (vals[1] - vals[0]) / h, (vals[0] - vals[-1]) / h


def _compare(label, index, analytic, numeric, plus, minus, rtol, floor, worst):
    # One-sided slopes differ by ~h*f'' for a smooth f; by O(1) where a kink was crossed.
    if abs(plus - minus) > 1e-2 * max(1.0, abs(plus), abs(minus)):
        raise GradientCheckError(
            f"{label}{index}: the function has a kink within 2h={2 * H:g} of this point "
            f"(one-sided slopes {plus:.6g} and {minus:.6g}); move the input away from the kink "
            "(ReLU at 0, a max-pool tie, a clip boundary) and check again"
        )
    err = abs(analytic - numeric) / max(abs(analytic), abs(numeric), floor)
    if err > rtol:
        raise GradientCheckError(
            f"gradient of {label}{index} is wrong: analytic {analytic:.10g}, numeric "
            f"{numeric:.10g}, relative error {err:.3g} > {rtol:g}"
        )
    return max(worst, err)


def _check_tensor(label, arr, analytic, f, *, rtol, floor, max_elements, n_directions, rs, h):
    """Compare ``analytic`` with finite differences of ``f`` over the elements of ``arr``."""
    xp = backend.get_array_module(arr)
    analytic_host = backend.to_numpy(analytic)
    worst = 0.0
    size = arr.size
    if max_elements is None or size <= max_elements:
        flat = range(size)
    else:
        flat = rs.choice(size, size=max_elements, replace=False)
    for i in flat:
        idx = np.unravel_index(int(i), arr.shape)
        num, plus, minus = _numeric(f, arr, idx, h)
        worst = _compare(label, [int(i) for i in idx], float(analytic_host[idx]), num, plus, minus,
                         rtol, floor, worst)
    if max_elements is not None and size > max_elements:
        for k in range(n_directions):
            d_host = rs.standard_normal(arr.shape)
            d_host /= np.linalg.norm(d_host)
            d = xp.asarray(d_host)
            num, plus, minus = _numeric_direction(f, arr, d, h)
            ana = float((analytic_host * d_host).sum())
            worst = _compare(f"{label} along random direction ", k, ana, num, plus, minus,
                             rtol, floor, worst)
    return worst


def _run_check(model, inputs, objective_grad, objective, *, seed, rtol, floor, max_elements,
               n_directions, training, h, check_inputs=True):
    """Shared driver: analytic gradients by backward, then finite differences for each tensor."""
    rs = np.random.default_rng(seed + 1)

    def f():
        backend.seed(seed)
        y = model.forward(inputs, training=training)
        return objective(y) + float(model.total_penalty())

    # Analytic gradients.
    model.zero_grad()
    backend.seed(seed)
    y = model.forward(inputs, training=training)
    dy = objective_grad(y)
    dy_before = dy.copy()
    dx = model.backward(dy)
    if not bool((dy == dy_before).all()):
        raise GradientCheckError(f"{type(model).__name__}.backward modified its input dy in place")
    if tuple(dx.shape) != tuple(inputs.shape):
        raise GradientCheckError(
            f"{type(model).__name__}.backward returned dx of shape {tuple(dx.shape)}, expected "
            f"the input's shape {tuple(inputs.shape)}"
        )
    grads = {key: layer.grads[name].copy() for key, layer, name in model.named_parameters()}

    # backward must ADD into grads: a second identical pass doubles them.
    backend.seed(seed)
    y2 = model.forward(inputs, training=training)
    model.backward(objective_grad(y2))
    for key, layer, name in model.named_parameters():
        twice = backend.to_numpy(layer.grads[name])
        once = backend.to_numpy(grads[key])
        if not np.allclose(twice, 2 * once, rtol=1e-9, atol=1e-12):
            raise GradientCheckError(
                f"gradient of parameter {key} was not accumulated: backward must add into "
                "self.grads (a second backward should double it)"
            )
    model.zero_grad()

    worst = 0.0
    if check_inputs:
        worst = _check_tensor("input x", inputs, dx, f, rtol=rtol, floor=floor,
                              max_elements=max_elements, n_directions=n_directions, rs=rs, h=h)
    for key, layer, name in model.named_parameters():
        worst = max(worst, _check_tensor(f"parameter {key}", layer.params[name], grads[key], f,
                                         rtol=rtol, floor=floor, max_elements=max_elements,
                                         n_directions=n_directions, rs=rs, h=h))
    return worst


def check_layer(layer, x, *, seed: int = 0, rtol: float = 1e-6, floor: float = FLOOR,
                max_elements: int | None = 512, n_directions: int = 3, training: bool = True,
                h: float = H) -> float:
    """Check ``layer``'s backward for its input and every parameter; return the max rel. error.

    The layer is cast to float64 in place. ``x`` is copied to float64. Raises
    :class:`GradientCheckError` on the first disagreement.
    """
    layer.astype(np.float64)
    xp = backend.get_array_module(x)
    x = _to64(xp, x)
    backend.seed(seed)
    y = layer.forward(x, training=training)
    g_host = np.random.default_rng(seed + 2).standard_normal(y.shape)
    g = xp.asarray(g_host)

    return _run_check(
        layer, x,
        objective_grad=lambda y: g,
        objective=lambda y: float((y * g).sum()),
        seed=seed, rtol=rtol, floor=floor, max_elements=max_elements,
        n_directions=n_directions, training=training, h=h,
    )


def check_model(model, x, loss, target=None, *, seed: int = 0, rtol: float = 1e-6,
                floor: float = FLOOR, max_elements: int | None = 256, n_directions: int = 3,
                training: bool = True, h: float = H) -> float:
    """Check a whole model: ``L = loss(model(x), target) + penalties`` against its backward.

    ``target`` defaults to ``x`` (an autoencoder reconstructs its input). Every parameter of
    every layer is checked, and the input too.
    """
    model.astype(np.float64)
    xp = backend.get_array_module(x)
    x = _to64(xp, x)
    t = x.copy() if target is None else _to64(xp, target)

    def objective_grad(y):
        loss.forward(y, t)
        return loss.backward()

    return _run_check(
        model, x,
        objective_grad=objective_grad,
        objective=lambda y: float(loss.forward(y, t)),
        seed=seed, rtol=rtol, floor=floor, max_elements=max_elements,
        n_directions=n_directions, training=training, h=h,
    )


def check_loss(loss, y_pred, y_true, *, rtol: float = 1e-6, floor: float = FLOOR,
               h: float = H) -> float:
    """Check ``loss.backward()`` against finite differences of ``loss.forward`` in float64."""
    xp = backend.get_array_module(y_pred)
    p = _to64(xp, y_pred)
    t = _to64(xp, y_true)
    loss.forward(p, t)
    analytic = loss.backward().copy()

    def f():
        return float(loss.forward(p, t))

    rs = np.random.default_rng(0)
    return _check_tensor("prediction", p, analytic, f, rtol=rtol, floor=floor,
                         max_elements=512, n_directions=3, rs=rs, h=h)
