"""Exercise 8 of 15 -- DenseTranspose: a decoder layer that reuses the encoder's weight.

Tutorial: tutorials/01_stacked.py, its tied variant (scratch-ae train tied): the decoder's
          weights are the encoder's, transposed, which halves the parameters.
Mirrors:  scratch_ae/layers/dense.py, class DenseTranspose: the library's answer, to read once
          you pass.

The math to derive, on paper first. The encoder ``dense`` holds W of shape (D, J); this layer
computes y = x @ W.T + b, with x (N, J), b (D,), y (N, D). With dy = dL/dy (N, D):

    dL/dx = ?     shape (N, J)
    dL/dW = ?     shape (D, J), W's shape. W is used twice -- by the encoder and by this
                  layer -- so its gradient is the SUM of both uses: add yours into the
                  encoder's ``dense.grads["W"]``
    dL/db = ?     shape (D,)

Check it:  scratch-ae exercise check dense_transpose
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer


class DenseTranspose(Layer):
    """``y = x @ W.T + b`` where W is the tied ``dense`` layer's weight; b is this layer's own.

    forward(x): keep x, return y. Read W from ``self.dense.params["W"]`` at EVERY call: never
        keep a copy or a reference of your own -- an optimizer step changes W, and
        ``model.astype`` or ``model.to`` replace it by a new array.
    backward(dy): ADD dL/dW into ``self.dense.grads["W"]`` and dL/db into
        ``self.grads["b"]`` (``+=``), return dL/dx; never write into dy.
    """

    def __init__(self, dense):
        super().__init__()
        self.dense = dense  # a Dense(D, J): its W (D, J) is shared
        W = dense.params["W"]
        self.add_param("b", np.zeros(W.shape[0], dtype=W.dtype))

    def forward(self, x, training=False):
        raise NotImplementedError("DenseTranspose.forward: y = x @ W.T + b; keep x")

    def backward(self, dy):
        raise NotImplementedError("DenseTranspose.backward: add dL/dW into the encoder's "
                                  "grads, dL/db into yours; return dL/dx")

    def output_shape(self, input_shape):
        return (self.dense.params["W"].shape[0],)
