"""Layers that corrupt their input while training: ``Dropout`` and ``GaussianNoise``.

Both are the identity at inference (``training=False``). Their random numbers come from the
backend's seeded generator (``backend.rng``), so a run, or a gradient check, can be repeated
exactly by reseeding with ``backend.seed(n)``.
"""

from __future__ import annotations

from .. import backend
from .base import Layer


class Dropout(Layer):
    """Inverted dropout: in training ``y = x * m / (1 - rate)``, ``m ~ Bernoulli(1 - rate)``.

    Dividing by the keep probability at training time keeps ``E[y] = x``, so nothing needs to be
    rescaled at inference, where ``y = x``. Backward: ``dL/dx = dy * m / (1 - rate)``.
    Shapes: any (N, ...) -> same.
    """

    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.scale = None

    def forward(self, x, training=False):
        self.check_input(x)
        xp = backend.get_array_module(x)
        if not training or self.rate == 0.0:
            self.scale = None
            return x
        keep = backend.rng(xp).random(x.shape, dtype=x.dtype) >= self.rate
        # One array holding 0 or 1/(1-rate): forward and backward are then one multiply each.
        self.scale = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self.scale

    def backward(self, dy):
        return dy if self.scale is None else dy * self.scale

    def __repr__(self):
        return f"Dropout({self.rate})"


class GaussianNoise(Layer):
    """While training, ``y = x + n`` with ``n ~ N(0, stddev**2)``; at inference ``y = x``.

    The noise does not depend on x, so ``dL/dx = dy``. Shapes: any (N, ...) -> same.
    """

    def __init__(self, stddev: float = 0.1):
        super().__init__()
        if stddev < 0:
            raise ValueError(f"GaussianNoise stddev must be >= 0, got {stddev}")
        self.stddev = float(stddev)

    def forward(self, x, training=False):
        self.check_input(x)
        xp = backend.get_array_module(x)
        if not training or self.stddev == 0.0:
            return x
        noise = backend.rng(xp).standard_normal(x.shape, dtype=x.dtype)
        return x + x.dtype.type(self.stddev) * noise

    def backward(self, dy):
        return dy

    def __repr__(self):
        return f"GaussianNoise({self.stddev})"
