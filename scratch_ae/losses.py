"""Reconstruction losses: MSE, binary cross-entropy on probabilities and on logits.

The VAE's KL term is not here: it lives with the sampling step that uses it
(:mod:`scratch_ae.layers.sampling`).

A loss is two functions, like a layer::

    L  = loss.forward(y_pred, y_true)   # a scalar (0-d array on the input's device)
    dy = loss.backward()                # dL/dy_pred, same shape as y_pred

``reduction`` says how per-element terms become one number:

* ``"mean"`` (Keras' and PyTorch's default): mean over every pixel and every sample,
  ``L = (1 / (N*D)) * sum_{n,i} l(n, i)``.
* ``"sum"``: summed over the pixels of a sample, then averaged over the batch,
  ``L = (1 / N) * sum_{n,i} l(n, i)`` -- the scale of a log-likelihood in nats, as in the
  summed-ELBO VAE.
"""

from __future__ import annotations

from . import backend
from .backend import check_same_device, get_array_module

# Keras' backend epsilon: BCE on probabilities clips them to [EPS, 1 - EPS] before the log.
EPS = 1e-7


class Loss:
    """Base class: checks inputs and turns per-element terms into the reduced scalar."""

    def __init__(self, reduction: str = "mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def __call__(self, y_pred, y_true):
        return self.forward(y_pred, y_true)

    def _check(self, y_pred, y_true):
        name = type(self).__name__
        check_same_device(y_pred, y_true, where=name)
        if tuple(y_pred.shape) != tuple(y_true.shape):
            raise ValueError(
                f"{name}: prediction of shape {tuple(y_pred.shape)} does not match target of "
                f"shape {tuple(y_true.shape)}"
            )
        if y_pred.dtype.kind != "f":
            raise TypeError(f"{name} expected floating-point predictions, got {y_pred.dtype}")
        self.n = y_pred.shape[0]
        # The divisor of the reduction: N*D for "mean", N for "sum".
        self.denom = y_pred.size if self.reduction == "mean" else self.n

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class MSE(Loss):
    """Squared error: ``l = (p - y)**2``;  ``dL/dp = 2 * (p - y) / denom``."""

    def forward(self, y_pred, y_true):
        self._check(y_pred, y_true)
        self.diff = y_pred - y_true.astype(y_pred.dtype, copy=False)
        return (self.diff * self.diff).sum() / self.denom

    def backward(self):
        return self.diff * (2.0 / self.denom)


class BCE(Loss):
    """Binary cross-entropy on probabilities, clipped as Keras' backend clips them.

    ``p_c = clip(p, EPS, 1 - EPS)``,  ``l = -(y * log(p_c) + (1 - y) * log(1 - p_c))``.

    ``dL/dp = (p_c - y) / (p_c * (1 - p_c)) / denom`` where p lies inside the clip range, and 0
    outside it (the clip is flat there), as ``clip_by_value`` differentiates. Targets may be any
    value in [0, 1] (grey pixels), not only 0 or 1.

    Not quite what tf.keras trains: when the prediction comes straight from a sigmoid,
    tf.keras' ``binary_crossentropy`` recovers the sigmoid's input and computes the loss from
    the logits (this library's :class:`BCEWithLogits`), so its gradient is never clipped. Inside
    the clip range the two agree (a sigmoid's derivative ``p(1 - p)`` turns ``dL/dp`` into
    ``p - y``); they differ only where a saturated sigmoid gives p < 1e-7 or p > 1 - 1e-7,
    where this loss passes no gradient back and tf.keras' does.
    """

    def forward(self, y_pred, y_true):
        self._check(y_pred, y_true)
        y = y_true.astype(y_pred.dtype, copy=False)
        if fused := backend.fast("bce", y_pred, y):  # Numba: loss and gradient in one pass
            value, self.grad = fused(y_pred, y, EPS, self.denom)
            return value
        xp = get_array_module(y_pred)
        p = xp.clip(y_pred, EPS, 1 - EPS)
        terms = y * xp.log(p) + (1 - y) * xp.log(1 - p)
        # dL/dp now, while p is at hand (backward hands it on): 0 where the clip is flat. Kept
        # instead of p, y and the mask, it is one array, not three, alive until backward.
        inside = (y_pred >= EPS) & (y_pred <= 1 - EPS)
        self.grad = (p - y) / (p * (1 - p)) * inside / p.dtype.type(self.denom)
        return -terms.sum() / self.denom

    def backward(self):
        return self.grad


class BCEWithLogits(Loss):
    """Binary cross-entropy on logits ``z`` (the sigmoid is fused into the loss).

    ``l = max(z, 0) - z * y + log(1 + exp(-|z|))``, which equals
    ``-(y log s(z) + (1 - y) log(1 - s(z)))`` but never overflows, whatever the size of z.
    ``dL/dz = (sigmoid(z) - y) / denom`` -- the sigmoid's derivative cancels the log's.
    """

    def forward(self, y_pred, y_true):
        self._check(y_pred, y_true)
        xp = get_array_module(y_pred)
        z = y_pred
        self.y = y_true.astype(z.dtype, copy=False)
        e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
        self.s = xp.where(z >= 0, 1, e) / (1 + e)  # sigmoid(z), for backward
        terms = xp.maximum(z, 0) - z * self.y + xp.log1p(e)
        return terms.sum() / self.denom

    def backward(self):
        return (self.s - self.y) / self.s.dtype.type(self.denom)


LOSSES = {"mse": MSE, "bce": BCE, "bce_logits": BCEWithLogits}


def get_loss(name, reduction: str = "mean") -> Loss:
    """A loss by name (``"mse"``, ``"bce"``, ``"bce_logits"``), or a Loss passed through."""
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[str(name).lower()](reduction=reduction)
    except KeyError:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(LOSSES)}") from None


def describe_loss(loss) -> str:
    """A loss (or its name) in a few words for a printout: ``"BCE"``, ``"BCE (sum)"``."""
    loss = get_loss(loss)
    name = {"BCEWithLogits": "BCE on logits"}.get(type(loss).__name__, type(loss).__name__)
    return name if loss.reduction == "mean" else f"{name} ({loss.reduction})"


__all__ = ["BCE", "EPS", "MSE", "BCEWithLogits", "Loss", "describe_loss", "get_loss"]
