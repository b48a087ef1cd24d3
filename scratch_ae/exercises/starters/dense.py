"""Exercise 3 of 15 -- Dense: y = x @ W + b, the layer tutorial 01 is made of.

Tutorial: tutorials/01_stacked.py (the stacked autoencoder is four of these, each followed by an
          activation).
Mirrors:  scratch_ae/layers/dense.py, class Dense: the library's answer, to read once you pass.

The math to derive, on paper first. Write y[n, k] = sum_i x[n, i] W[i, k] + b[k] and, with
dy = dL/dy of shape (N, D_out), find:

    dL/dx = ?     shape (N, D_in)
    dL/dW = ?     shape (D_in, D_out): every sample n contributes -- where does the sum go?
    dL/db = ?     shape (D_out,)

(The loss already averages over the batch: nothing here divides by N.)

Check it:  scratch-ae exercise check dense
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer, glorot_uniform


class Dense(Layer):
    """``y = x @ W + b``.

    Shapes: x (N, D_in), W (D_in, D_out), b (D_out,), y (N, D_out).

    forward(x): keep what backward needs on ``self`` (x), return y.
    backward(dy): ADD dL/dW and dL/db into ``self.grads["W"]`` and ``self.grads["b"]`` -- with
        ``+=``, never ``=``: a weight used twice (tied autoencoders) must keep both
        contributions -- and return dL/dx. Never write into dy, never change ``self.params``
        (that is the optimizer's job).

    Hint: one matrix product gives dL/dW already summed over the batch.
    """

    def __init__(self, in_features: int, out_features: int, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.add_param("W", glorot_uniform((in_features, out_features), in_features,
                                           out_features, dtype))
        self.add_param("b", np.zeros(out_features, dtype=dtype))

    def forward(self, x, training=False):
        raise NotImplementedError("Dense.forward: y = x @ W + b; keep x")

    def backward(self, dy):
        raise NotImplementedError("Dense.backward: add dL/dW, dL/db to self.grads; "
                                  "return dL/dx")

    def output_shape(self, input_shape):
        return (self.out_features,)
