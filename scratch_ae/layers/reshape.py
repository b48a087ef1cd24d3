"""Shape-only layers: ``Flatten`` and ``Reshape``. Backward just undoes the reshape."""

from __future__ import annotations

import math

from .base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...);  ``dL/dx = dy.reshape(x.shape)``."""

    def forward(self, x, training=False):
        self.check_input(x)
        self.in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.in_shape)

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)


class Reshape(Layer):
    """(N, ...) -> (N, *shape), e.g. ``Reshape((1, 28, 28))`` turns 784 pixels into an image."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x, training=False):
        self.check_input(x)
        if math.prod(x.shape[1:]) != math.prod(self.shape):
            raise ValueError(
                f"Reshape{self.shape} expected {math.prod(self.shape)} values per sample, got "
                f"input of shape {tuple(x.shape)}"
            )
        self.in_shape = x.shape
        return x.reshape((x.shape[0], *self.shape))

    def backward(self, dy):
        return dy.reshape(self.in_shape)

    def output_shape(self, input_shape):
        return self.shape

    def __repr__(self):
        return f"Reshape({self.shape})"
