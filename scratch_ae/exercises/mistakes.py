"""The classic mistakes of each exercise, as wrong versions of the right results.

A :class:`Mistake` is known three ways:

* ``variants``: functions ``(c, r) -> {result key: wrong value}`` that compute, from a case
  ``c`` (see :mod:`.graders`) and the library's right results ``r``, what code with that mistake
  returns -- written here from the formulas, independently of any learner's code. The checker
  names the mistake whose variant matches what the learner's code returned;
* ``rule``: or the rule of the contract it breaks (``"assigned"``, ``"dy_modified"``, ...),
  which the contract step detects directly;
* ``plant``: the mistake as an edit of the library's own code (``(old, new)`` replacements in
  :func:`~scratch_ae.exercises.catalogue.solution_source`). The tests make each edit and check
  that the checker names exactly this mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..geometry import check_padding, pair, resolve_pads
from ..layers.activations import SELU_ALPHA, SELU_SCALE
from ..layers.im2col import col2im, im2col
from ..losses import EPS
from .graders import SEED


@dataclass(frozen=True)
class Mistake:
    key: str
    message: str
    variants: tuple = ()
    rule: str | None = None
    plant: tuple = ()


#: What the contract and structural checks say when a rule is broken (a listed mistake may
#: say it in its own words).
RULES = {
    "dy_modified": "backward wrote into its input dy: the caller may still need it (the "
                   "gradient checker itself keeps it). Return a new array instead of updating "
                   "dy in place.",
    "assigned": "gradients are assigned (=), so a layer used twice keeps only the last one: "
                "add into self.grads[name] with +=.",
    "params_changed": "backward changed a parameter: only the optimizer changes parameters, "
                      "after every gradient is in (an optimizer step inside backward cannot be "
                      "gradient-checked).",
    "input_modified": "the loss changed y_pred or y_true in place: the caller (the model, the "
                      "training loop) still holds them; compute into new arrays.",
    "grads_modified": "step wrote into the gradient (e.g. g *= lr): the gradients belong to the "
                      "layers, and hooks or a second look may read them after the step; compute "
                      "lr * g as a new array.",
    "unseeded": "the random numbers change from one call to the next under the same seed: draw "
                "them from the backend's seeded generator (backend.rng(xp)), as the docstring "
                "says, so that a run -- and the gradient check -- can be repeated.",
    "untied_copy": "the decoder kept a copy of W made in __init__: when training changes the "
                   "encoder's W, the decoder does not follow and the weights are no longer "
                   "tied. Read self.dense.params['W'] at every call.",
    "untied_reference": "the decoder kept its own reference to the encoder's W: model.astype "
                        "or model.to('cupy') give the encoder a NEW array, which the decoder "
                        "never sees. Read self.dense.params['W'] at every call.",
}


def rule(key: str, name: str, plant: tuple, message: str | None = None) -> Mistake:
    """A mistake the contract or structural step detects directly (by its rule's name)."""
    return Mistake(key, message or RULES[name], rule=name, plant=plant)


def _sigmoid_prime(r):
    return r["y"] * (1 - r["y"])


SIGMOID = [
    Mistake("derivative_from_x",
            "dL/dx uses x where it should use y: sigmoid'(x) = y * (1 - y) with the OUTPUT "
            "y = sigmoid(x) (that is why forward keeps y); x * (1 - x) is not the derivative.",
            (lambda c, r: {"dL/dx": c.dy * c.x * (1 - c.x)},),
            plant=(("self.check_input(x)\n", "self.check_input(x)\n        self.x = x\n"),
                   ("return dy * self.y * (1 - self.y)", "return dy * self.x * (1 - self.x)"))),
    Mistake("no_dy",
            "dL/dx is sigmoid'(x) alone: backward must multiply it by the incoming dy (the "
            "chain rule: dL/dx = dy * y * (1 - y)).",
            (lambda c, r: {"dL/dx": _sigmoid_prime(r)},),
            plant=(("return dy * self.y * (1 - self.y)", "return self.y * (1 - self.y)"),)),
    Mistake("no_one_minus_y",
            "dL/dx = dy * y misses the factor (1 - y): the derivative of 1 / (1 + exp(-x)) is "
            "y * (1 - y).",
            (lambda c, r: {"dL/dx": c.dy * r["y"]},),
            plant=(("return dy * self.y * (1 - self.y)", "return dy * self.y"),)),
    Mistake("sign",
            "y is sigmoid(-x) = 1 / (1 + exp(x)): the sign in the exponent is flipped; "
            "sigmoid(x) = 1 / (1 + exp(-x)) goes to 1 for large x.",
            (lambda c, r: {"y": 1 - r["y"]},),
            plant=(("self.y = xp.where(x >= 0, 1, e) / (1 + e)",
                    "self.y = xp.where(x >= 0, e, 1) / (1 + e)"),)),
]


def _selu_dx(c, r, negative):
    return np.where(c.x > 0, r["dL/dx"], c.dy * negative)


SELU = [
    Mistake("no_scale",
            "y lacks the scale: that is ELU(alpha). SELU multiplies BOTH branches by "
            "scale = 1.0507...: y = scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise.",
            (lambda c, r: {"y": r["y"] / c.dtype.type(SELU_SCALE)},),
            plant=(("y = SELU_SCALE * xp.where(", "y = xp.where("),)),
    Mistake("positive_slope_one",
            "f'(x) = 1 for x > 0 forgets the scale: there y = scale * x, so f'(x) = scale "
            "(1.0507...).",
            (lambda c, r: {"dL/dx": np.where(c.x > 0, c.dy, r["dL/dx"])},),
            plant=(("xp.where(mask, SELU_SCALE, y +", "xp.where(mask, 1.0, y +"),)),
    Mistake("negative_y_plus_alpha",
            "f'(x) = y + alpha for x <= 0 forgets the scale on alpha: d/dx scale * alpha * "
            "(exp(x) - 1) = scale * alpha * exp(x) = y + scale * alpha.",
            (lambda c, r: {"dL/dx": _selu_dx(c, r, r["y"] + c.dtype.type(SELU_ALPHA))},),
            plant=(("y + SELU_SCALE * SELU_ALPHA)", "y + SELU_ALPHA)"),)),
    Mistake("negative_no_scale",
            "f'(x) = alpha * exp(x) for x <= 0 forgets the scale: it is scale * alpha * exp(x) "
            "(= y + scale * alpha, so y can be reused).",
            (lambda c, r: {"dL/dx": _selu_dx(c, r, c.dtype.type(SELU_ALPHA) * np.exp(c.x))},),
            plant=(("y + SELU_SCALE * SELU_ALPHA)", "SELU_ALPHA * xp.exp(x))"),)),
    rule("dy_modified", "dy_modified",
         (("return dy * self.dydx", "dy *= self.dydx\n        return dy"),),
         "backward wrote into dy (dy *= f'(x)): the caller may still need dy -- the gradient "
         "checker itself keeps it. Return a new array: dy * f'(x)."),
]

BIAS_MEAN = ("dL/db is N times too small: you averaged over the batch, but the loss already "
             "did; every sample's dy adds to the bias's gradient: dL/db = sum over n of dy[n].")

DENSE = [
    Mistake("bias_mean", BIAS_MEAN, (lambda c, r: {"dL/db": c.dy.mean(axis=0)},),
            plant=(('self.grads["b"] += dy.sum(axis=0)', 'self.grads["b"] += dy.mean(axis=0)'),)),
    Mistake("weight_mean",
            "dL/dW is N times too small: you divided by the batch size, but the loss already "
            "averaged; x.T @ dy sums the samples' contributions, and that sum is the gradient.",
            (lambda c, r: {"dL/dW": c.x.T @ c.dy / len(c.dy)},),
            plant=(('self.grads["W"] += self.x.T @ dy', 'self.grads["W"] += self.x.T @ dy / '
                    'len(dy)'),)),
    Mistake("dx_transposed",
            "dL/dx has the transposed shape (D_in, N): it has x's shape (N, D_in), "
            "dL/dx = dy @ W.T.",
            (lambda c, r: {"dL/dx": (c.dy @ c.W.T).T},),
            plant=(('return dy @ self.params["W"].T', 'return self.params["W"] @ dy.T'),)),
    Mistake("no_bias", "y misses the bias: y = x @ W + b (b is added to every row).",
            (lambda c, r: {"y": c.x @ c.W},),
            plant=(('return x @ self.params["W"] + self.params["b"]',
                    'return x @ self.params["W"]'),)),
    rule("assigned", "assigned",
         (('self.grads["W"] += self.x.T @ dy', 'self.grads["W"] = self.x.T @ dy'),)),
    rule("step_in_backward", "params_changed",
         (('return dy @ self.params["W"].T', 'dx = dy @ self.params["W"].T\n        '
           'self.params["W"] -= 0.1 * self.grads["W"]\n        return dx'),),
         "backward changed W: an optimizer step inside backward. Only the optimizer changes "
         "parameters, after every gradient is in -- or the gradients can no longer be checked."),
]


def _denom(c):
    return c.p.size if c.reduction == "mean" else len(c.p)


MSE = [
    Mistake("no_two", "dL/dp lacks the factor 2: d/dp (p - y)**2 = 2 (p - y).",
            (lambda c, r: {"dL/dp": r["dL/dp"] / 2},),
            plant=(("self.diff * (2.0 / self.denom)", "self.diff * (1.0 / self.denom)"),)),
    Mistake("sign",
            "dL/dp has the wrong sign: 2 (y - p) is the derivative with respect to the target "
            "y; with respect to the prediction p it is 2 (p - y).",
            (lambda c, r: {"dL/dp": -r["dL/dp"]},),
            plant=(("self.diff = y_pred - y_true.astype(y_pred.dtype, copy=False)",
                    "self.diff = y_true.astype(y_pred.dtype, copy=False) - y_pred"),)),
    Mistake("per_sample",
            "the loss is D times too large: with reduction 'mean' it averages over every "
            "element, N*D of them (self.denom), not over the N samples only.",
            (lambda c, r: {"loss": ((c.p - c.t) ** 2).sum() / len(c.p),
                           "dL/dp": 2 * (c.p - c.t) / len(c.p)},),
            plant=(("(self.diff * self.diff).sum() / self.denom",
                    "(self.diff * self.diff).sum() / self.n"),
                   ("self.diff * (2.0 / self.denom)", "self.diff * (2.0 / self.n)"))),
    Mistake("not_divided",
            "dL/dp is not divided by the number of terms: the loss is sum / denom, so its "
            "gradient is 2 (p - y) / denom -- this is where the batch average enters every "
            "gradient.",
            (lambda c, r: {"dL/dp": 2 * (c.p - c.t)},),
            plant=(("self.diff * (2.0 / self.denom)", "self.diff * 2.0"),)),
    Mistake("not_reduced",
            "the loss is an array of shape (N, D): a loss is ONE number, the sum of the squared "
            "errors divided by denom.",
            (lambda c, r: {"loss": (c.p - c.t) ** 2 / _denom(c)},),
            plant=(("(self.diff * self.diff).sum() / self.denom",
                    "(self.diff * self.diff) / self.denom"),)),
]


def _bce_parts(c):
    p = np.clip(c.p, EPS, 1 - EPS)
    return p, (c.p >= EPS) & (c.p <= 1 - EPS), _denom(c)


def _bce_unclipped(c, r):
    with np.errstate(all="ignore"):
        return {"loss": -(c.t * np.log(c.p) + (1 - c.t) * np.log(1 - c.p)).sum() / _denom(c)}


def _bce_gradient_everywhere(c, r):
    p, _, denom = _bce_parts(c)
    return {"dL/dp": (p - c.t) / (p * (1 - p)) / denom}


BCE = [
    Mistake("no_clip",
            "without the clip, log(0) = -inf makes the loss inf or nan as soon as a prediction "
            "is exactly 0 or 1 (a saturated sigmoid gives that): clip p into [EPS, 1 - EPS] "
            "first, as Keras does.",
            (_bce_unclipped,), plant=(("p = xp.clip(y_pred, EPS, 1 - EPS)", "p = y_pred"),)),
    Mistake("gradient_outside_clip",
            "dL/dp is not 0 where p was clipped: outside [EPS, 1 - EPS] the clipped loss is "
            "flat, so no gradient passes (the clip's derivative is 0 there).",
            (_bce_gradient_everywhere,),
            plant=(("(p - y) / (p * (1 - p)) * inside /", "(p - y) / (p * (1 - p)) /"),)),
    Mistake("sign",
            "dL/dp has the wrong sign: L = -(y log p + (1 - y) log(1 - p)), so dL/dp = (p - y) / "
            "(p (1 - p)), positive where p is above the target.",
            (lambda c, r: {"dL/dp": -r["dL/dp"]},),
            plant=(("= (p - y) / (p * (1 - p))", "= (y - p) / (p * (1 - p))"),)),
    Mistake("not_divided",
            "dL/dp is not divided by denom: the loss is a mean over N*D terms (N with 'sum'), "
            "and so is its gradient.",
            (lambda c, r: {"dL/dp": r["dL/dp"] * _denom(c)},),
            plant=(("* inside / p.dtype.type(self.denom)", "* inside"),)),
    Mistake("one_term",
            "the loss misses the (1 - y) log(1 - p) term: without it nothing stops p from going "
            "to 1 where the target is 0.",
            (lambda c, r: {"loss": -(c.t * np.log(_bce_parts(c)[0])).sum() / _denom(c)},),
            plant=(("terms = y * xp.log(p) + (1 - y) * xp.log(1 - p)", "terms = y * xp.log(p)"),)),
]


def _steps(c, update):
    """The optimizer grader's results for ``update(p, g, state, c) -> new p`` (a formula)."""
    params, state, out = {"W": c.W.copy(), "b": c.b.copy()}, {"W": {}, "b": {}}, {}
    for t in (1, 2, 3):
        for name in ("W", "b"):
            params[name] = update(params[name], getattr(c, f"g{name}{t}"), state[name], c)
        if t in (1, 3):
            out.update({f"{name} after {'1 step' if t == 1 else '3 steps'}": params[name].copy()
                        for name in ("W", "b")})
    return out


def _momentum(step):
    """An SGD update from ``step(v, g, c) -> (new v, p increment)``."""
    def update(p, g, state, c):
        state["v"], dp = step(state.get("v", np.zeros_like(p)), g, c)
        return p + dp
    return update


def _sgd(v, g, c):
    v = c.momentum * v - c.lr * g
    return v, v


SGD_PLAIN = "            p -= self.lr * g\n            return"

SGD = [
    Mistake("rebinds_p",
            "the parameters never change: p = p - lr * g makes a new array and binds it to the "
            "local name p, while the model still holds the old one. Update in place: "
            "p -= lr * g (or p[...] = ...).",
            (lambda c, r: _steps(c, lambda p, g, s, c: p),),
            plant=((SGD_PLAIN, "            p = p - self.lr * g\n            return"),)),
    Mistake("no_momentum",
            "the momentum is ignored: every step is -lr * g. With momentum the velocity "
            "remembers past steps: v = momentum * v - lr * g, then p += v, with v kept between "
            "steps, one per parameter (self.slots).",
            (lambda c, r: _steps(c, lambda p, g, s, c: p - c.lr * g),),
            plant=(("            p += v", "            p -= self.lr * g"),)),
    Mistake("climbs",
            "the step climbs the gradient: v = momentum * v - lr * g (minus: descend), then "
            "p += v.",
            (lambda c, r: _steps(c, _momentum(lambda v, g, c: (c.momentum * v + c.lr * g,) * 2)),),
            plant=(("v -= self.lr * g", "v += self.lr * g"),)),
    Mistake("momentum_scales_the_step",
            "the momentum also scales the new step: v = momentum * (v - lr * g) shrinks it by "
            "'momentum' every time; it is v = momentum * v - lr * g.",
            (lambda c, r: _steps(c, _momentum(lambda v, g, c: (c.momentum * (v - c.lr * g),)
                                              * 2)),),
            plant=(("        v *= self.momentum\n        v -= self.lr * g",
                    "        v -= self.lr * g\n        v *= self.momentum"),)),
    rule("writes_into_g", "grads_modified",
         ((SGD_PLAIN, "            g *= self.lr\n            p -= g\n            return"),)),
]


def _rms(accumulate, denominator=lambda a, c: np.sqrt(a) + c.eps, keep=True):
    def update(p, g, state, c):
        a = accumulate(state.get("a", np.zeros_like(p)) if keep else np.zeros_like(p), g, c)
        state["a"] = a
        return p - c.lr * g / denominator(a, c)
    return update


def _running(a, g, c):
    return c.rho * a + (1 - c.rho) * g * g


RMS_STEP = "p -= self.lr * g / (xp.sqrt(a) + self.eps)"
RMS_MEAN = "        a *= self.rho\n        a += (1 - self.rho) * g * g"

RMSPROP = [
    Mistake("no_sqrt",
            "the step divides by the running mean of g**2 itself: RMSprop divides by its square "
            "root (the root mean square), sqrt(a) + eps.",
            (lambda c, r: _steps(c, _rms(_running, lambda a, c: a + c.eps)),),
            plant=((RMS_STEP, "p -= self.lr * g / (a + self.eps)"),)),
    Mistake("eps_inside_sqrt",
            "eps is inside the square root: this library, like Keras and PyTorch, adds it "
            "outside, sqrt(a) + eps; with small gradients the two differ a lot.",
            (lambda c, r: _steps(c, _rms(_running, lambda a, c: np.sqrt(a + c.eps))),),
            plant=((RMS_STEP, "p -= self.lr * g / xp.sqrt(a + self.eps)"),)),
    Mistake("adagrad",
            "a is never decayed (a += g**2): that is AdaGrad, whose steps shrink forever. "
            "RMSprop keeps a running mean: a = rho * a + (1 - rho) * g**2.",
            (lambda c, r: _steps(c, _rms(lambda a, g, c: a + g * g)),),
            plant=((RMS_MEAN, "        a += g * g"),)),
    Mistake("rho_swapped",
            "rho and 1 - rho are swapped: a = rho * a + (1 - rho) * g**2 (rho = 0.9 keeps 90% "
            "of the past).",
            (lambda c, r: _steps(c, _rms(lambda a, g, c: (1 - c.rho) * a + c.rho * g * g)),),
            plant=((RMS_MEAN, "        a *= 1 - self.rho\n        a += self.rho * g * g"),)),
    Mistake("no_state",
            "the running mean starts from zero at every step: keep it between steps, one per "
            "parameter (self.slots(key, p, 'a')).",
            (lambda c, r: _steps(c, _rms(_running, keep=False)),),
            plant=(('(a,) = self.slots(key, p, "a")', "a = get_array_module(p).zeros_like(p)"),)),
]

DENSE_TRANSPOSE = [
    Mistake("no_tied_gradient",
            "the decoder adds nothing to dL/dW: W is used twice (encoder and decoder), so its "
            "gradient is the sum of both uses; add dy.T @ x into self.dense.grads['W'].",
            (lambda c, r: {"dL/dW": np.zeros_like(c.W)},),
            plant=(('        self.dense.grads["W"] += dy.T @ self.x\n', ""),)),
    Mistake("bias_mean", BIAS_MEAN, (lambda c, r: {"dL/db": c.dy.mean(axis=0)},),
            plant=(('self.grads["b"] += dy.sum(axis=0)', 'self.grads["b"] += dy.mean(axis=0)'),)),
    rule("tied_gradient_assigned", "assigned",
         (('self.dense.grads["W"] += dy.T @ self.x', 'self.dense.grads["W"] = dy.T @ self.x'),),
         "the tied weight's gradient is assigned (=): it overwrites what the encoder adds for "
         "the same W; add into self.dense.grads['W'] (+=)."),
    rule("copy_of_w", "untied_copy",
         (('W = dense.params["W"]\n', 'W = dense.params["W"]\n        self.W_T = W.T.copy()\n'),
          ('return x @ self.dense.params["W"].T + self.params["b"]',
           'return x @ self.W_T + self.params["b"]'))),
    rule("reference_to_w", "untied_reference",
         (('W = dense.params["W"]\n', 'W = dense.params["W"]\n        self.W = W\n'),
          ('return x @ self.dense.params["W"].T + self.params["b"]',
           'return x @ self.W.T + self.params["b"]'),
          ('return dy @ self.dense.params["W"]', "return dy @ self.W"))),
]


def _draw(c):
    """The library's uniform draw for the dropout mask, repeated from the same seed."""
    backend.seed(SEED)
    return backend.rng(np).random(c.x.shape, dtype=c.x.dtype)


def _dropout(c, keep, scale):
    if not c.training:
        return {}
    return {"y": c.x * keep * c.dtype.type(scale), "dL/dx": c.dy * keep * c.dtype.type(scale)}


DROPOUT = [
    Mistake("no_scaling",
            "dropout without the 1/(1 - rate) scaling changes the expected activation: "
            "E[y] = (1 - rate) x in training but x at inference. Divide the kept units by "
            "1 - rate (inverted dropout).",
            (lambda c, r: _dropout(c, _draw(c) >= c.rate, 1.0),),
            plant=(("keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))",
                    "keep.astype(x.dtype)"),)),
    Mistake("times_keep",
            "the kept units are multiplied by 1 - rate: inverted dropout DIVIDES by it, so that "
            "E[y] = x.",
            (lambda c, r: _dropout(c, _draw(c) >= c.rate, 1.0 - c.rate),),
            plant=(("x.dtype.type(1.0 / (1.0 - self.rate))", "x.dtype.type(1.0 - self.rate)"),)),
    Mistake("drops_at_inference",
            "dropout is active at inference (training=False): there it is the identity, y = x; "
            "only training drops units.",
            (lambda c, r: {} if c.training else {"y": c.x * (_draw(c) >= c.rate) / (1 - c.rate)},),
            plant=(("if not training or self.rate == 0.0:", "if self.rate == 0.0:"),)),
    Mistake("backward_unmasked",
            "backward passes dy through unmasked: a dropped unit did not reach the output, so "
            "its gradient is 0, and a kept one was scaled by 1/(1 - rate), so is its gradient: "
            "dL/dx = dy * mask / (1 - rate).",
            (lambda c, r: {"dL/dx": c.dy} if c.training else {},),
            plant=(("return dy if self.scale is None else dy * self.scale", "return dy"),)),
    Mistake("keeps_rate",
            "the mask keeps a unit with probability rate: rate is the fraction DROPPED; keep = "
            "random >= rate keeps 1 - rate of them.",
            (lambda c, r: _dropout(c, _draw(c) < c.rate, 1.0 / (1.0 - c.rate)),),
            plant=((">= self.rate", "< self.rate"),)),
    rule("unseeded_mask", "unseeded",
         (("keep = backend.rng(xp).random(x.shape, dtype=x.dtype) >= self.rate",
           "keep = np.random.random(x.shape).astype(x.dtype) >= self.rate"),)),
]

ACTIVITY_L1 = [
    Mistake("penalty_not_averaged",
            "the penalty is N times too large: it is weight * sum |h| / N (Keras divides the "
            "summed L1 by the batch size).",
            (lambda c, r: {"penalty": c.weight * np.abs(c.x).sum()},),
            plant=(("xp.abs(x).sum() / x.shape[0]", "xp.abs(x).sum()"),)),
    Mistake("gradient_not_averaged",
            "dL/dh adds weight * sign(h) without the 1/N: the penalty is divided by N, so its "
            "gradient is too.",
            (lambda c, r: {"dL/dh": c.dy + c.dtype.type(c.weight) * np.sign(c.x)},),
            plant=(("dy.dtype.type(self.weight / self.x.shape[0])",
                    "dy.dtype.type(self.weight)"),)),
    Mistake("forgot_dy",
            "backward returns only the penalty's gradient: the layer is the identity, so dy "
            "passes through and the penalty's gradient is ADDED to it: dL/dh = dy + weight * "
            "sign(h) / N.",
            (lambda c, r: {"dL/dh": c.dtype.type(c.weight / len(c.x)) * np.sign(c.x)},),
            plant=(("return dy + scale * xp.sign(self.x)", "return scale * xp.sign(self.x)"),)),
    Mistake("l2_gradient",
            "dL/dh uses h instead of sign(h): that is the gradient of weight * h**2 / 2 (an L2 "
            "penalty); d|h|/dh = sign(h).",
            (lambda c, r: {"dL/dh": c.dy + c.dtype.type(c.weight / len(c.x)) * c.x},),
            plant=(("xp.sign(self.x)", "self.x"),)),
    rule("dy_modified", "dy_modified",
         (("return dy + scale * xp.sign(self.x).astype(dy.dtype, copy=False)",
           "dy += scale * xp.sign(self.x).astype(dy.dtype, copy=False)\n        return dy"),)),
]


def _kl_bernoulli(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _kl_dq(c):
    p, q = c.target, c.x.mean(axis=0)
    return -p / q + (1 - p) / (1 - q)


KL_SPARSITY = [
    Mistake("rate_per_sample",
            "q is computed per sample: q_j is unit j's activation rate over the BATCH, the mean "
            "of h[:, j] over the N samples; the penalty compares that rate with the target.",
            (lambda c, r: {"penalty": c.weight * _kl_bernoulli(c.target, c.x).sum()},),
            plant=(("q_raw = x.mean(axis=0)", "q_raw = x"),)),
    Mistake("gradient_no_1_over_n",
            "dL/dh lacks the 1/N: q_j = (1/N) sum_n h[n, j], so dq_j/dh[n, j] = 1/N.",
            (lambda c, r: {"dL/dh": c.dy + c.weight * _kl_dq(c)},),
            plant=(("(self.weight / self.n)", "self.weight"),)),
    Mistake("gradient_sign",
            "the penalty's gradient has the wrong sign: d/dq [p log(p/q) + (1 - p) log((1 - p)/"
            "(1 - q))] = -p/q + (1 - p)/(1 - q), positive when q is above the target.",
            (lambda c, r: {"dL/dh": c.dy - c.weight / len(c.x) * _kl_dq(c)},),
            plant=(("(-p / q + (1 - p) / (1 - q))", "(p / q - (1 - p) / (1 - q))"),)),
    Mistake("penalty_over_n",
            "the penalty is divided by N again: q already averages over the batch, so the "
            "weighted KL sum is the penalty (one more /N is tf.keras' convention for activity "
            "penalties, not this layer's).",
            (lambda c, r: {"penalty": r["penalty"] / len(c.x)},),
            plant=(("self.penalty = self.weight * kl.sum()",
                    "self.penalty = self.weight * kl.sum() / self.n"),)),
    Mistake("forgot_dy",
            "backward returns only the penalty's gradient: dy passes through the identity and "
            "the penalty's gradient, broadcast over the batch, is added to it: dL/dh = dy + "
            "weight * dKL/dq / N.",
            (lambda c, r: {"dL/dh": c.weight / len(c.x) * _kl_dq(c)},),
            plant=(("return dy + (self.weight / self.n) * dq", "return (self.weight / self.n) * "
                    "dq"),)),
]


def _eps(c):
    backend.seed(SEED)
    return backend.rng(np).standard_normal(c.mu.shape, dtype=c.mu.dtype)


def _kl_grads(c):
    return c.mu, 0.5 * (np.exp(c.log_var) - 1)


GAUSSIAN_SAMPLING = [
    Mistake("std_is_exp_log_var",
            "the VAE uses exp(log_var) as the standard deviation: it is exp(0.5 * log_var) "
            "(log_var is the log of the VARIANCE; sigma is its square root).",
            (lambda c, r: {"z": c.mu + np.exp(c.log_var) * _eps(c)},),
            plant=(("sigma = xp.exp(0.5 * log_var)", "sigma = xp.exp(log_var)"),)),
    Mistake("dz_dlog_var_no_half",
            "dL/dlog_var lacks the 0.5 of dz/dlog_var: z = mu + exp(0.5 * log_var) * eps, so "
            "dz/dlog_var = 0.5 * sigma * eps.",
            (lambda c, r: {"dL/dlog_var": r["dL/dlog_var"]
                           + c.dy * 0.5 * np.exp(0.5 * c.log_var) * _eps(c)},),
            plant=(("dy * (0.5 * self.sigma * self.eps)", "dy * (self.sigma * self.eps)"),)),
    Mistake("kl_sign",
            "the KL has the wrong sign: KL = -0.5 * sum(1 + log_var - mu**2 - exp(log_var)), "
            "which is >= 0 (0 only at mu = 0, log_var = 0).",
            (lambda c, r: {"KL": -r["KL"]},),
            plant=(("return -0.5 * (1 + log_var", "return 0.5 * (1 + log_var"),)),
    Mistake("kl_gradient_no_minus_one",
            "dKL/dlog_var misses the -1: from -0.5 * (1 + log_var - exp(log_var)), "
            "d/dlog_var = -0.5 * (1 - exp(log_var)) = 0.5 * (exp(log_var) - 1).",
            (lambda c, r: {"dKL/dlog_var": 0.5 * np.exp(c.log_var)},),
            plant=(("0.5 * (xp.exp(log_var) - 1)", "0.5 * xp.exp(log_var)"),)),
    Mistake("kl_gradient_not_averaged",
            "the KL's gradient is N times too large: the penalty is kl_weight * (1/N) * "
            "sum_n KL_n, so each sample's KL gradient is divided by N.",
            (lambda c, r: {"dL/dmu": c.dy + c.kl_weight * _kl_grads(c)[0],
                           "dL/dlog_var": r["dL/dlog_var"] + (c.kl_weight - c.kl_weight
                                                              / len(c.mu)) * _kl_grads(c)[1]},),
            plant=(("w = self.kl_weight / dy.shape[0]", "w = self.kl_weight"),)),
    Mistake("no_kl_gradient_for_mu",
            "dL/dmu misses the KL's gradient: the penalty depends on mu too (dKL/dmu = mu), so "
            "dL/dmu = dy + kl_weight * mu / N.",
            (lambda c, r: {"dL/dmu": c.dy},),
            plant=(("d_mu = dy + w * g_mu", "d_mu = dy.copy()"),)),
    rule("unseeded_eps", "unseeded",
         (("eps = backend.rng(xp).standard_normal(mu.shape, dtype=mu.dtype)",
           "eps = np.random.standard_normal(mu.shape).astype(mu.dtype)"),)),
]


def _windows(c, starts):
    """im2col written with loops over every window, from its top-left corners ``starts``:
    ``(OH, OW, row of window oh, column of window ow)``."""
    (kh, kw), (pt, pb, pl, pr) = c.kernel, c.pads
    n, ch = c.x.shape[:2]
    oh, ow, row, col = starts
    xpad = np.pad(c.x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    out = np.empty((ch, kh, kw, n, oh, ow), dtype=c.x.dtype)
    for a in range(oh):
        for b in range(ow):
            out[..., a, b] = xpad[:, :, row(a):row(a) + kh, col(b):col(b) + kw].transpose(1, 2,
                                                                                         3, 0)
    return out.reshape(ch * kh * kw, n * oh * ow)


def _col2im_assigned(c, by_window):
    """col2im with ``=`` where it should add: by kernel offset (the library's loop) or by
    window (the loop a learner may write); the last write to a pixel wins."""
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = c.kernel, c.stride, c.pads
    n, ch, h, w = c.x.shape
    oh, ow = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
    col6 = c.dcol.reshape(ch, kh, kw, n, oh, ow)
    xpad = np.zeros((n, ch, h + pt + pb, w + pl + pr), dtype=c.dcol.dtype)
    if by_window:
        for a in range(oh):
            for b in range(ow):
                xpad[:, :, a * sh:a * sh + kh, b * sw:b * sw + kw] = col6[..., a, b].transpose(
                    3, 0, 1, 2)
    else:
        for i in range(kh):
            for j in range(kw):
                xpad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] = col6[:, i, j].transpose(1, 0, 2,
                                                                                        3)
    return {"col2im(dcol)": xpad[:, :, pt:pt + h, pl:pl + w]}


def _no_crop(c, r):
    n, ch, h, w = c.x.shape
    pt, pb, pl, pr = c.pads
    return {"col2im(dcol)": col2im(c.dcol, (n, ch, h + pt + pb, w + pl + pr), c.kernel,
                                   c.stride, (0, 0, 0, 0))}


def _no_stride(c, r):
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = c.kernel, c.stride, c.pads
    h, w = c.x.shape[2:]
    oh, ow = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
    return {"col": _windows(c, (oh, ow, lambda a: a, lambda b: b))}


def _rows_offset_first(c, r):
    ch, rows = c.x.shape[1], r["col"].shape[0]
    return {"col": r["col"].reshape(ch, rows // ch, -1).transpose(1, 0, 2).reshape(rows, -1)}


def _columns_batch_last(c, r):
    rows, n = r["col"].shape[0], c.x.shape[0]
    return {"col": r["col"].reshape(rows, n, -1).transpose(0, 2, 1).reshape(rows, -1)}


IM2COL_EMPTY = "col = xp.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)"
IM2COL_COPY = "col[:, i, j] = patch.transpose(1, 0, 2, 3)"

IM2COL = [
    Mistake("col2im_assigns",
            "col2im assigns (=) where windows overlap: a pixel read by several windows must "
            "collect ALL their gradients (+=) -- col2im is the adjoint of im2col, not its "
            "inverse.",
            (lambda c, r: _col2im_assigned(c, False), lambda c, r: _col2im_assigned(c, True)),
            plant=((": sw] += col6[:, i, j]", ": sw] = col6[:, i, j]"),)),
    Mistake("rows_offset_first",
            "the rows of col are in the wrong order: row (c * KH + i) * KW + j -- channel first, "
            "then the kernel offset -- so that W.reshape(OC, C*KH*KW) lines up with it; yours "
            "put the kernel offset first.",
            (_rows_offset_first,),
            plant=((IM2COL_EMPTY, "col = xp.empty((kh, kw, c, n, oh, ow), dtype=x.dtype)"),
                   (IM2COL_COPY, "col[i, j] = patch.transpose(1, 0, 2, 3)"))),
    Mistake("columns_batch_last",
            "the columns of col are in the wrong order: column (n * OH + oh) * OW + ow -- image "
            "first, then the output position; yours put the batch last.",
            (_columns_batch_last,),
            plant=((IM2COL_EMPTY, "col = xp.empty((c, kh, kw, oh, ow, n), dtype=x.dtype)"),
                   (IM2COL_COPY, "col[:, i, j] = patch.transpose(1, 2, 3, 0)"))),
    Mistake("col2im_keeps_padding",
            "col2im returned the padded image (H + pt + pb, W + pl + pr): the padding is not "
            "part of x, so crop it off: xpad[:, :, pt:pt + H, pl:pl + W].",
            (_no_crop,),
            plant=(("return xp.ascontiguousarray(xpad[:, :, pt : pt + h, pl : pl + w])",
                    "return xpad"),)),
    Mistake("ignores_stride",
            "the windows ignore the stride: window (oh, ow) starts at row oh * SH and column "
            "ow * SW of the padded image.",
            (_no_stride,),
            plant=(("patch = xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]",
                    "patch = xpad[:, :, i : i + oh, j : j + ow]"),)),
    Mistake("float64_buffer",
            "col is float64 for a float32 input: a buffer made without dtype= (np.empty(shape) "
            "is float64) upcasts everything after it; make it with dtype=x.dtype.",
            (lambda c, r: {"col": r["col"].astype(np.float64)},),
            plant=((IM2COL_EMPTY, "col = xp.empty((c, kh, kw, n, oh, ow))"),)),
]


def _conv(c):
    """``(col, W2, dy2, pads)`` of a conv case, from the library's im2col."""
    kernel, stride = pair(c.kernel, "kernel"), pair(c.stride, "stride")
    pads = resolve_pads(check_padding(c.padding), c.x.shape[2:], kernel, stride)
    oc = c.W.shape[0]
    dy2 = c.dy.transpose(1, 0, 2, 3).reshape(oc, -1)
    return im2col(c.x, kernel, stride, pads), c.W.reshape(oc, -1), dy2, (kernel, stride, pads)


def _conv_y_mixed(c, r):
    col, W2, _, _ = _conv(c)
    return {"y": (W2 @ col).reshape(r["y"].shape) + c.b.reshape(1, -1, 1, 1)}


def _conv_dy_mixed(c, r):
    col, W2, _, geometry = _conv(c)
    dy2 = c.dy.reshape(c.W.shape[0], -1)
    return {"dL/dW": (dy2 @ col.T).reshape(c.W.shape),
            "dL/dx": col2im(W2.T @ dy2, c.x.shape, *geometry)}


CONV2D = [
    Mistake("output_axes_mixed",
            "W2 @ col is (OC, N*OH*OW): reshaping it straight to (N, OC, OH, OW) mixes images "
            "and channels. Reshape to (OC, N, OH, OW), then move N to the front "
            "(transpose(1, 0, 2, 3)).",
            (_conv_y_mixed,),
            plant=(("y = to_images(W2 @ self.col, n, oh, ow)",
                    "y = (W2 @ self.col).reshape(n, -1, oh, ow)"),)),
    Mistake("dy_axes_mixed",
            "dy was reshaped straight to (OC, N*OH*OW): its axes are (N, OC, OH, OW), so move "
            "OC to the front first (transpose(1, 0, 2, 3)), or images and channels mix.",
            (_conv_dy_mixed,),
            plant=(("dy2 = channel_major(dy)", "dy2 = dy.reshape(dy.shape[1], -1)"),)),
    Mistake("bias_mean",
            "dL/db is N*OH*OW times too small: every output position of every image adds its "
            "dy to the bias's gradient -- a sum, not a mean.",
            (lambda c, r: {"dL/db": c.dy.mean(axis=(0, 2, 3))},),
            plant=(("db = dy.sum(axis=(0, 2, 3))", "db = dy.mean(axis=(0, 2, 3))"),)),
    Mistake("weight_gradient_transposed",
            "dL/dW was computed as col @ dy2.T, shape (C*KH*KW, OC), and reshaped to W's shape: "
            "the numbers land in the wrong places. It is dy2 @ col.T, shape (OC, C*KH*KW), one "
            "row per filter.",
            (lambda c, r: {"dL/dW": (_conv(c)[0] @ _conv(c)[2].T).reshape(c.W.shape)},),
            plant=(("dW2 = dy2 @ self.col.T", "dW2 = self.col @ dy2.T"),)),
    Mistake("dx_still_columns",
            "dL/dx is still in columns, shape (C*KH*KW, N*OH*OW): fold it back into images with "
            "col2im, the adjoint of im2col (overlapping windows add up).",
            (lambda c, r: {"dL/dx": _conv(c)[1].T @ _conv(c)[2]},),
            plant=(("dx = col2im(W2.T @ dy2, self.x_shape, self.kernel, self.stride, self.pads)",
                    "dx = W2.T @ dy2"),)),
    Mistake("no_bias",
            "y misses the bias: add b[o] to every position of output channel o "
            "(b.reshape(1, -1, 1, 1)).",
            (lambda c, r: {"y": r["y"] - c.b.reshape(1, -1, 1, 1)},),
            plant=(("return y + b.reshape(1, -1, 1, 1)", "return y"),)),
]


def _pool(c, route):
    """MaxPool2D's dL/dx written with loops: ``route(window, dy) -> window's gradient``."""
    p, s = c.pool, c.stride
    dx = np.zeros_like(c.x)
    n, ch, oh, ow = c.dy.shape
    for a in range(oh):
        for b in range(ow):
            for i in range(n):
                for k in range(ch):
                    win = c.x[i, k, a * s:a * s + p, b * s:b * s + p]
                    dx[i, k, a * s:a * s + p, b * s:b * s + p] += route(win, c.dy[i, k, a, b])
    return {"dL/dx": dx}


def _only(win, flat_index, g):
    out = np.zeros_like(win)
    out.flat[flat_index] = g
    return out


def _pool_assigned(c, by_window):
    """dL/dx with ``=`` where overlapping windows should add: by kernel offset (the library's
    loop, which also writes the zeros of the windows that did not pick a cell) or by window."""
    p, s = c.pool, c.stride
    n, ch, oh, ow = c.dy.shape
    first = np.zeros(c.dy.shape, dtype=int)
    dx = np.zeros_like(c.x)
    for a, b, i, k in np.ndindex(oh, ow, n, ch):
        first[i, k, a, b] = np.argmax(c.x[i, k, a * s:a * s + p, b * s:b * s + p])
        if by_window:
            u, v = divmod(first[i, k, a, b], p)
            dx[i, k, a * s + u, b * s + v] = c.dy[i, k, a, b]
    if not by_window:
        for u, v in np.ndindex(p, p):
            won = np.where(first == u * p + v, c.dy, 0)
            dx[:, :, u:u + s * oh:s, v:v + s * ow:s] = won
    return {"dL/dx": dx}


POOL_WON = "won = xp.where(self.argmax == i * pw + j, dy, dy.dtype.type(0))"
POOL_ARGMAX = "self.argmax = xp.argmax(windows, axis=-1).astype(xp.intp, copy=False)"

MAXPOOL2D = [
    Mistake("ties_to_every_maximum",
            "max-pool ties: the gradient went to every maximum instead of the first. The max "
            "picks ONE input, so its gradient goes to one: the first maximum in row-major "
            "window order (what argmax returns).",
            (lambda c, r: _pool(c, lambda w, g: np.where(w == w.max(), g, 0)),),
            plant=((POOL_ARGMAX, POOL_ARGMAX + "\n        self.windows = windows"),
                   (POOL_WON, "won = xp.where(self.windows[..., i * pw + j] == "
                              "self.windows.max(axis=-1), dy, dy.dtype.type(0))"))),
    Mistake("ties_to_last_maximum",
            "max-pool ties: the gradient went to the LAST maximum; the library, like argmax, "
            "picks the first in row-major window order (top row first, then left to right).",
            (lambda c, r: _pool(c, lambda w, g: _only(w, w.size - 1 - np.argmax(w.flat[::-1]),
                                                      g)),),
            plant=((POOL_ARGMAX, "self.argmax = (ph * pw - 1 - xp.argmax(windows[..., ::-1], "
                                 "axis=-1)).astype(xp.intp)"),)),
    Mistake("overlap_assigned",
            "overlapping windows (stride < pool): the gradient was assigned (=), so a pixel "
            "that wins in two windows keeps only one of their gradients; add (+=).",
            (lambda c, r: _pool_assigned(c, False), lambda c, r: _pool_assigned(c, True)),
            plant=((": sw] += won", ": sw] = won"),)),
    Mistake("spread_like_average",
            "the gradient was spread over the window (dy / window size: average pooling's "
            "backward); max pooling routes all of it to the one input that won.",
            (lambda c, r: _pool(c, lambda w, g: np.full_like(w, g / w.size)),),
            plant=((POOL_WON, "won = dy / (ph * pw)"),)),
    Mistake("float64_buffer",
            "dL/dx is float64 for a float32 input: a buffer made without dtype= (np.zeros(shape) "
            "is float64) upcasts; make it with dtype=dy.dtype.",
            (lambda c, r: {"dL/dx": r["dL/dx"].astype(np.float64)},),
            plant=(("w + pl + pr), dtype=dy.dtype)", "w + pl + pr))"),)),
]

MISTAKES = {
    "sigmoid": SIGMOID, "selu": SELU, "dense": DENSE, "mse": MSE, "bce": BCE, "sgd": SGD,
    "rmsprop": RMSPROP, "dense_transpose": DENSE_TRANSPOSE, "dropout": DROPOUT,
    "activity_l1": ACTIVITY_L1, "kl_sparsity": KL_SPARSITY,
    "gaussian_sampling": GAUSSIAN_SAMPLING, "im2col": IM2COL, "conv2d": CONV2D,
    "maxpool2d": MAXPOOL2D,
}
