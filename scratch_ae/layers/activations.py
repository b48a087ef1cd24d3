"""Elementwise activations. Each keeps what its derivative needs and multiplies it into ``dy``.

All map (N, ...) -> (N, ...) with the same shape; backward is ``dL/dx = dL/dy * f'(x)``.
"""

from __future__ import annotations

from ..backend import get_array_module, kernels
from .base import Layer


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
    ``f'(x)`` too (``kernels.numpy_kernels.selu_forward`` is the reference code), so backward
    is one multiplication, ``dL/dx = dy * f'(x)``.
    """

    def forward(self, x, training=False):
        self.check_input(x)
        y, self.dydx = kernels(get_array_module(x)).selu_forward(x)
        return y

    def backward(self, dy):
        return dy * self.dydx


def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed without overflow (see
    ``kernels.numpy_kernels.sigmoid_forward``, the reference code, for how)."""
    return kernels(get_array_module(x)).sigmoid_forward(x)


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))``;  ``dL/dx = dy * y * (1 - y)``.

    Computed by :func:`sigmoid`, which never overflows (a naive ``exp(-x)`` does, with a
    warning, for very negative x).
    """

    def forward(self, x, training=False):
        self.check_input(x)
        self.y = sigmoid(x)
        return self.y

    def backward(self, dy):
        return kernels(get_array_module(dy)).sigmoid_backward(dy, self.y)


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
    precision.
    """

    def forward(self, x, training=False):
        self.check_input(x)
        xp = get_array_module(x)
        self.x = x
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, dy):
        return dy * sigmoid(self.x)


__all__ = ["ELU", "SELU", "Activation", "LeakyReLU", "ReLU", "Sigmoid", "Softplus", "Tanh"]
