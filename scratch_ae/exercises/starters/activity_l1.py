"""Exercise 10 of 15 -- ActivityL1: a penalty is a layer too.

Tutorial: tutorials/02_sparse.py (an L1 penalty on 300 sigmoid codes keeps most of them near 0).
Mirrors:  scratch_ae/layers/regularizers.py, class ActivityL1: the library's answer, to read once
          you pass.

An activity regularizer sits after a coding layer. Its forward is the identity, y = h, and it
adds a penalty to the loss (``fit`` adds ``model.total_penalty()`` to it):

    penalty = weight * sum_{n,j} |h[n, j]| / N          (Keras divides by the batch size N)
    dL/dh   = dy + ?                                     the penalty's gradient (sign(0) = 0)

Check it:  scratch-ae exercise check activity_l1
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer


class ActivityL1(Layer):
    """L1 activity penalty (formulas in the module docstring). Shapes: (N, ...) -> same.

    forward(h): store the penalty in ``self.penalty`` (a number), keep what backward needs,
        return h itself.
    backward(dy): return dy plus the penalty's gradient, as a NEW array (never write into dy).
    """

    def __init__(self, weight: float = 1e-3):
        super().__init__()
        self.weight = float(weight)

    def forward(self, x, training=False):
        raise NotImplementedError("ActivityL1.forward: set self.penalty, return x")

    def backward(self, dy):
        raise NotImplementedError("ActivityL1.backward: dy + the penalty's gradient")
