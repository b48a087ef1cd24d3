"""Exercise 2 of 15 -- SELU, the hidden activation of tutorial 01's autoencoder.

Tutorial: tutorials/01_stacked.py (every hidden layer is Dense + SELU).
Mirrors:  scratch_ae/layers/activations.py, class SELU: the library's answer, to read once you
          pass.

The math to derive, on paper first (scale and alpha are the constants below, chosen by
Klambauer et al. so that activations keep mean 0 and variance 1):

    y = scale * x                         for x > 0
    y = scale * alpha * (exp(x) - 1)      for x <= 0
    dy/dx = ?                             on each side; on the negative side write it with y
                                          (y + ...), so that exp runs once, in forward

Check it:  scratch-ae exercise check selu
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer

SCALE = 1.0507009873554805
ALPHA = 1.6732632423543772


class SELU(Layer):
    """Scaled ELU, element by element (formulas in the module docstring).

    Shapes: x (N, ...) -> y of the same shape and dtype.

    forward(x): compute y and keep dy/dx (or what it needs) on ``self``; return y.
        Hints: ``np.where(mask, a, b)`` picks a or b element by element;
        ``np.expm1(np.minimum(x, 0))`` is exp(x) - 1, exact near 0, and never overflows for
        large positive x. Keep the dtype of x (float32 in, float32 out).
    backward(dy): return dL/dx = dy * dy/dx as a NEW array: never write into dy.
    """

    def forward(self, x, training=False):
        raise NotImplementedError("SELU.forward: y, and dy/dx for backward")

    def backward(self, dy):
        raise NotImplementedError("SELU.backward: dL/dx = dy * dy/dx")
