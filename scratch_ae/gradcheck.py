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
* A perturbation that straddles a kink (ReLU or SELU at 0, a max-pool tie) makes the
  finite difference wrong, not the gradient. The checker tells the two apart (see
  :func:`_is_kink`) and reports a kink as a kink, so that the test can move its inputs, or, in
  a full-size network where kinks are everywhere, skip up to ``max_kinks`` such points.
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

# The kink classifier's thresholds (see _is_kink); tests/test_gradcheck.py pins each one with a
# case just inside and a case just outside it. Made smaller, each would call more real bugs
# "kinks"; made larger, more real kinks "wrong gradients".
# A large kink: the one-sided slopes differ by more than this fraction of the larger slope.
KINK_SLOPE_GAP = 1e-2
# The slope gaps at steps h and 2h "do not scale" when gap2 and 2 * gap differ by more than
# this fraction of the larger of the two...
GAP_SCALING_TOL = 0.25
# ...and then point to a kink if they are at least this fraction of the mismatch.
GAP_VS_MISMATCH = 0.5
# The estimates with steps h and 2h point to a kink when they differ by more than this
# fraction of the mismatch.
WIDEN_VS_MISMATCH = 0.1


class GradientCheckError(AssertionError):
    """The analytic gradient disagrees with the numeric one (the message says where)."""


def _to64(xp, a):
    return xp.asarray(a).astype(xp.float64)


class _Numeric:
    """Finite differences of ``f`` from its values at ``-2h, -h, 0, h, 2h`` along one direction.

    ``value`` is the fourth-order central difference; ``gap`` and ``gap2`` are the differences
    between the right and left one-sided slopes taken with steps ``h`` and ``2h``. For a smooth
    ``f`` those gaps come from curvature, ``gap ~ h f''`` and ``gap2 ~ 2 h f''``; where a kink
    lies within ``2h`` they jump instead (see :func:`_is_kink`).
    """

    def __init__(self, vals, h):
        self.value = (vals[-2] - 8 * vals[-1] + 8 * vals[1] - vals[2]) / (12 * h)
        self.plus, self.minus = (vals[1] - vals[0]) / h, (vals[0] - vals[-1]) / h
        self.gap = self.plus - self.minus
        self.gap2 = (vals[2] - vals[0]) / (2 * h) - (vals[0] - vals[-2]) / (2 * h)
        # Rounding in f shows up in every difference quotient as about eps * |f| / h; anything
        # that small is noise, not evidence of a kink.
        self.noise = 16 * np.finfo(np.float64).eps * max(abs(v) for v in vals.values()) / h


def _numeric(f, arr, idx, h):
    """Finite differences of ``f`` w.r.t. the element ``arr[idx]``."""
    orig = float(arr[idx])
    vals = {}
    for k in (-2, -1, 0, 1, 2):
        arr[idx] = orig + k * h
        vals[k] = float(f())
    arr[idx] = orig
    return _Numeric(vals, h)


def _numeric_direction(f, arr, d, h):
    """The same along a whole direction ``d`` (same shape as arr)."""
    orig = arr.copy()
    vals = {}
    for k in (-2, -1, 0, 1, 2):
        arr[...] = orig + k * h * d
        vals[k] = float(f())
    arr[...] = orig
    return _Numeric(vals, h)


def _large_kink(num):
    return abs(num.gap) > KINK_SLOPE_GAP * max(1.0, abs(num.plus), abs(num.minus))


def _is_kink(analytic, num, widen):
    """Whether a kink within the stencil, rather than a wrong ``analytic``, explains a mismatch.

    ``widen()`` gives the same fourth-order estimate with step ``2h``.

    A large kink (ReLU at 0 in a small layer) makes the one-sided slopes disagree by far more
    than curvature could. A small one -- one SELU unit among thousands crossing 0, one max-pool
    window switching -- changes the slope of ``f`` only a little, but it still shows, in one of
    two ways (which way depends on where in the stencil the kink lies):

    * the slope gaps are as large as the mismatch and do not grow in proportion to the step
      (``gap2 != 2 * gap``), as a smooth function's do;
    * the estimates with steps ``h`` and ``2h`` disagree with each other by a good part of the
      mismatch.

    A wrong gradient on a smooth ``f`` shows neither: both estimates are exact to ~h**4, so
    they agree with each other and not with ``analytic``, and the gaps scale with the step.
    """
    if _large_kink(num):
        return True
    mismatch = abs(analytic - num.value)
    scale = max(abs(num.gap2), 2 * abs(num.gap))
    gaps_unscaled = abs(num.gap2 - 2 * num.gap) > GAP_SCALING_TOL * scale
    gaps = max(abs(num.gap), abs(num.gap2))
    if gaps_unscaled and gaps >= max(GAP_VS_MISMATCH * mismatch, num.noise):
        return True
    return abs(widen() - num.value) > max(WIDEN_VS_MISMATCH * mismatch, num.noise)


def _compare(label, index, analytic, num, widen, *, rtol, floor, h, worst, kinks):
    """Raise unless ``analytic`` matches ``num``; return the updated worst relative error.

    ``kinks`` is ``{"left": n, "skipped": []}``: a point with a kink in its stencil is skipped
    and recorded while ``left`` allows, and reported as a kink after that.
    """
    err = abs(analytic - num.value) / max(abs(analytic), abs(num.value), floor)
    if err <= rtol and not _large_kink(num):
        return max(worst, err)
    if _is_kink(analytic, num, widen):
        if kinks["left"] > 0:
            kinks["left"] -= 1
            kinks["skipped"].append(f"{label}{index}")
            return worst
        raise GradientCheckError(
            f"{label}{index}: the function has a kink within 2h={2 * h:g} of this point "
            f"(one-sided slopes {num.plus:.6g} and {num.minus:.6g}; analytic {analytic:.10g}, "
            f"numeric {num.value:.10g}); move the input away from the kink (ReLU or SELU at 0, "
            "a max-pool tie, a clip boundary) and check again"
        )
    raise GradientCheckError(
        f"gradient of {label}{index} is wrong: analytic {analytic:.10g}, numeric "
        f"{num.value:.10g}, relative error {err:.3g} > {rtol:g}"
    )


def _check_tensor(label, arr, analytic, f, *, rtol, floor, max_elements, n_directions, rs, h,
                  kinks):
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
        worst = _compare(label, [int(i) for i in idx], float(analytic_host[idx]),
                         _numeric(f, arr, idx, h),
                         lambda idx=idx: _numeric(f, arr, idx, 2 * h).value,
                         rtol=rtol, floor=floor, h=h, worst=worst, kinks=kinks)
    if max_elements is not None and size > max_elements:
        for k in range(n_directions):
            d_host = rs.standard_normal(arr.shape)
            d_host /= np.linalg.norm(d_host)
            d = xp.asarray(d_host)
            ana = float((analytic_host * d_host).sum())
            worst = _compare(f"{label} along random direction ", k, ana,
                             _numeric_direction(f, arr, d, h),
                             lambda d=d: _numeric_direction(f, arr, d, 2 * h).value,
                             rtol=rtol, floor=floor, h=h, worst=worst, kinks=kinks)
    return worst


def _run_check(model, inputs, objective_grad, objective, *, seed, rtol, floor, max_elements,
               n_directions, training, h, max_kinks, check_inputs=True):
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

    kinks = {"left": max_kinks, "skipped": []}
    common = dict(rtol=rtol, floor=floor, max_elements=max_elements, n_directions=n_directions,
                  rs=rs, h=h, kinks=kinks)
    worst = 0.0
    if check_inputs:
        worst = _check_tensor("input x", inputs, dx, f, **common)
    for key, layer, name in model.named_parameters():
        worst = max(worst, _check_tensor(f"parameter {key}", layer.params[name], grads[key], f,
                                         **common))
    return CheckResult(worst, kinks["skipped"])


class CheckResult(float):
    """The largest relative error found (a float), with ``skipped``: the points left out.

    ``skipped`` names each element or direction whose stencil straddled a kink and was left
    out under ``max_kinks``; it is empty unless ``max_kinks`` was raised above 0.
    """

    def __new__(cls, worst: float, skipped=()):
        obj = super().__new__(cls, worst)
        obj.skipped = list(skipped)
        return obj


def check_layer(layer, x, *, seed: int = 0, rtol: float = 1e-6, floor: float = FLOOR,
                max_elements: int | None = 512, n_directions: int = 3, training: bool = True,
                h: float = H, max_kinks: int = 0) -> CheckResult:
    """Check ``layer``'s backward for its input and every parameter; return the max rel. error.

    The layer is cast to float64 in place. ``x`` is copied to float64. Raises
    :class:`GradientCheckError` on the first disagreement, and on the first kink unless
    ``max_kinks`` allows that many to be skipped (see :class:`CheckResult`).
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
        n_directions=n_directions, training=training, h=h, max_kinks=max_kinks,
    )


def check_model(model, x, loss, target=None, *, seed: int = 0, rtol: float = 1e-6,
                floor: float = FLOOR, max_elements: int | None = 256, n_directions: int = 3,
                training: bool = True, h: float = H, max_kinks: int = 0) -> CheckResult:
    """Check a whole model: ``L = loss(model(x), target) + penalties`` against its backward.

    ``target`` defaults to ``x`` (an autoencoder reconstructs its input). Every parameter of
    every layer is checked, and the input too.

    A full-size network with ReLU/SELU units and max pooling has so many kinks that a step of
    ``h`` often crosses one (one unit among thousands changing side); ``max_kinks`` lets that
    many such points be skipped -- they are listed in the result's ``skipped`` -- instead of
    stopping the check. A wrong gradient is never skipped.
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
        n_directions=n_directions, training=training, h=h, max_kinks=max_kinks,
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
    return CheckResult(_check_tensor("prediction", p, analytic, f, rtol=rtol, floor=floor,
                                     max_elements=512, n_directions=3, rs=rs, h=h,
                                     kinks={"left": 0, "skipped": []}))
