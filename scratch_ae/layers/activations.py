"""Elementwise activations. Each keeps what its derivative needs and multiplies it into ``dy``.

All map (N, ...) -> (N, ...) with the same shape; backward is ``dL/dx = dL/dy * f'(x)``.
"""

from __future__ import annotations

from .. import backend
from ..backend import get_array_module
from .base import Layer

# SELU's constants (Klambauer et al., 2017): chosen so that activations keep mean 0, variance 1.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


class Activation(Layer):
    """Base for parameter-free elementwise layers. Each subclass writes its math as a
    ``forward`` (checks its input once, caches what the derivative needs) and a ``backward``."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """``y = max(x, 0)``;  ``dL/dx = dy * [x > 0]`` (the subgradient at 0 is taken as 0)."""

    def forward(self, x, training=False):
        self.check_input(x)
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class LeakyReLU(Activation):
    """``y = x if x > 0 else slope * x``;  ``dL/dx = dy * (1 if x > 0 else slope)``.

    Keras' default slope is 0.3 (PyTorch's is 0.01).
    """

    def __init__(self, slope: float = 0.3):
        super().__init__()
        self.slope = float(slope)

    def forward(self, x, training=False):
        self.check_input(x)
        self.mask = x > 0
        # where, not x * mask: an infinite x times a 0 of the mask would be NaN
        return get_array_module(x).where(self.mask, x, self.slope * x)

    def backward(self, dy):
        return dy * (self.mask + self.slope * ~self.mask).astype(dy.dtype, copy=False)

    def __repr__(self):
        return f"LeakyReLU({self.slope})"


class ELU(Activation):
    """``y = x if x > 0 else alpha * (exp(x) - 1)``;  ``f'(x) = 1 if x > 0 else y + alpha``."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x, training=False):
        self.check_input(x)
        xp = get_array_module(x)
        self.mask = x > 0
        # expm1 of min(x, 0): exact near 0 and never overflows for large positive x.
        neg = self.alpha * xp.expm1(xp.minimum(x, 0))
        self.y = xp.where(self.mask, x, neg)
        return self.y

    def backward(self, dy):
        xp = get_array_module(dy)
        return dy * xp.where(self.mask, 1, self.y + self.alpha).astype(dy.dtype, copy=False)


class SELU(Activation):
    """Scaled ELU: ``y = scale * (x if x > 0 else alpha * (exp(x) - 1))``.

    ``f'(x) = scale`` for x > 0, else ``y + scale * alpha`` (since d/dx scale*alpha*(e^x - 1) =
    scale*alpha*e^x = y + scale*alpha); scale = 1.0507..., alpha = 1.6732... (Klambauer et al.,
    2017), chosen so that activations keep mean 0 and variance 1. The forward pass computes
    ``f'(x)`` too, from ``y``, so ``exp`` runs once and backward is one multiplication:
    ``dL/dx = dy * f'(x)``.

    (On Numba the forward writes y alone, and the backward gets ``f'(x)`` back from y, by the
    same formula, in one pass with its product: one array fewer to write and to keep.)
    """

    def forward(self, x, training=False):
        self.check_input(x)
        if fused := backend.fast("selu", x):  # Numba: y in one pass; f'(x) in the backward
            self.y, self.dydx = fused(x, SELU_SCALE, SELU_ALPHA), None
            return self.y
        xp = get_array_module(x)
        mask = x > 0
        # expm1 of min(x, 0): exact near 0, and it never overflows for large positive x.
        y = SELU_SCALE * xp.where(mask, x, SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))
        self.dydx = xp.where(mask, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA).astype(x.dtype,
                                                                                   copy=False)
        self.y = y
        return y

    def backward(self, dy):
        if fused := backend.fast("selu_backward", self.y):  # Numba: f'(x) from y, times dy
            return fused(dy, self.y, SELU_SCALE, SELU_ALPHA)
        return dy * self.dydx


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))``;  ``dL/dx = dy * y * (1 - y)``.

    Written so that it never overflows: with ``e = exp(-|x|)``, always in (0, 1],
    ``y = 1 / (1 + e)`` for x >= 0 and ``y = e / (1 + e)`` for x < 0 -- the same function,
    rearranged (a naive ``exp(-x)`` overflows, with a warning, for very negative x).
    """

    def forward(self, x, training=False):
        self.check_input(x)
        if fused := backend.fast("sigmoid", x):  # Numba: the lines below in one pass
            self.y = fused(x)
            return self.y
        xp = get_array_module(x)
        e = xp.exp(-xp.abs(x))
        self.y = xp.where(x >= 0, 1, e) / (1 + e)
        return self.y

    def backward(self, dy):
        if fused := backend.fast("sigmoid_backward", dy, self.y):  # Numba: one pass
            return fused(dy, self.y)
        return dy * self.y * (1 - self.y)


class Tanh(Activation):
    """``y = tanh(x)``;  ``dL/dx = dy * (1 - y**2)``."""

    def forward(self, x, training=False):
        self.check_input(x)
        xp = get_array_module(x)
        self.y = xp.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y * self.y)


class Softplus(Activation):
    """``y = log(1 + exp(x))``;  ``dL/dx = dy * sigmoid(x)``.

    Written ``max(x, 0) + log1p(exp(-|x|))`` so that large |x| neither overflows nor loses
    precision; the derivative ``sigmoid(x)`` comes from the same ``e = exp(-|x|)`` (see
    :class:`Sigmoid`).
    """

    def forward(self, x, training=False):
        self.check_input(x)
        xp = get_array_module(x)
        e = xp.exp(-xp.abs(x))
        self.dydx = xp.where(x >= 0, 1, e) / (1 + e)  # sigmoid(x)
        return xp.maximum(x, 0) + xp.log1p(e)

    def backward(self, dy):
        return dy * self.dydx


__all__ = ["ELU", "SELU", "Activation", "LeakyReLU", "ReLU", "Sigmoid", "Softplus", "Tanh"]
