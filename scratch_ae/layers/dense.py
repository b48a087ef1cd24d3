"""Fully connected layers: ``Dense`` and its tied-weight mirror ``DenseTranspose``."""

from __future__ import annotations

import numpy as np

from .. import backend
from .base import Layer, glorot_uniform


class Dense(Layer):
    """``y = x @ W + b``.

    Shapes: x (N, D_in), W (D_in, D_out), b (D_out,), y (N, D_out).

    Backward, with ``dy = dL/dy`` of shape (N, D_out)::

        dL/dx = dy @ W.T          (N, D_in)
        dL/dW = x.T @ dy          (D_in, D_out)   -- summed over the batch by the matmul
        dL/db = sum_n dy[n]       (D_out,)

    Weights start glorot-uniform and biases at zero, as in Keras.
    """

    def __init__(self, in_features: int, out_features: int, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.add_param("W", glorot_uniform((in_features, out_features), in_features,
                                           out_features, dtype))
        self.add_param("b", backend.to_device(np.zeros(out_features, dtype=dtype)))

    def forward(self, x, training=False):
        self.check_input(x, ndim=2, features=(self.in_features,))
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dy):
        backend.check_same_device(dy, self.x, where="Dense.backward")
        self.grads["W"] += self.x.T @ dy
        self.grads["b"] += dy.sum(axis=0)
        if not self.input_grad:  # the model's first layer, in fit: dL/dx is not wanted
            return None
        return dy @ self.params["W"].T

    def output_shape(self, input_shape):
        return (self.out_features,)

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


class DenseTranspose(Layer):
    """A decoder layer that reuses an encoder ``Dense``'s weights, transposed (tied weights).

    ``y = x @ W.T + b`` where ``W`` (D_in_of_dense, D_out_of_dense) belongs to ``dense`` and only
    the bias ``b`` (dense.in_features,) is this layer's own.

    Shapes: x (N, dense.out_features) -> y (N, dense.in_features).

    Backward::

        dL/dx = dy @ W                 (N, dense.out_features)
        dL/dW += dy.T @ x              added into dense.grads["W"]: the weight is used twice
                                       (encoder and decoder), so its gradient is the sum of both
        dL/db = sum_n dy[n]

    The weight is fetched from ``dense.params`` at every call (never cached), so moving or
    re-casting the model keeps the two layers tied.
    """

    def __init__(self, dense: Dense):
        super().__init__()
        if not isinstance(dense, Dense):
            raise TypeError(f"DenseTranspose ties to a Dense layer, got {type(dense).__name__}")
        self.dense = dense
        W = dense.params["W"]
        xp = backend.get_array_module(W)
        self.add_param("b", xp.zeros(dense.in_features, dtype=W.dtype))

    def forward(self, x, training=False):
        self.check_input(x, ndim=2, features=(self.dense.out_features,))
        self.x = x
        return x @ self.dense.params["W"].T + self.params["b"]

    def backward(self, dy):
        backend.check_same_device(dy, self.x, where="DenseTranspose.backward")
        self.dense.grads["W"] += dy.T @ self.x
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.dense.params["W"]

    def output_shape(self, input_shape):
        return (self.dense.in_features,)

    def __repr__(self):
        return f"DenseTranspose(tied to {self.dense!r})"
