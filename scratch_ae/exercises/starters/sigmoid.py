"""Exercise 1 of 15 -- Sigmoid, the last layer of tutorial 01's autoencoder.

Tutorial: tutorials/01_stacked.py (the decoder ends with a sigmoid, so every pixel is in (0, 1)).
Mirrors:  scratch_ae/layers/activations.py, class Sigmoid: the library's answer, to read once
          you pass.

The math to derive, on paper first:

    y = sigmoid(x) = 1 / (1 + exp(-x))          element by element
    dy/dx = ?                                   write it with y alone: backward then needs
                                                only what forward kept
    dL/dx = dL/dy * dy/dx                       the chain rule, element by element

Check it:  scratch-ae exercise check sigmoid
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, element by element.

    Shapes: x (N, ...) -> y of the same shape and dtype.

    forward(x): compute y, keep on ``self`` what backward needs, return y.
        Hint: ``np.exp(-x)`` overflows (inf, and a warning) for x below about -88 in float32.
        With ``e = np.exp(-np.abs(x))``, always in (0, 1], the same function is
        ``1 / (1 + e)`` where x >= 0 and ``e / (1 + e)`` where x < 0 (``np.where``).
    backward(dy): return dL/dx, of dy's shape, as a NEW array: never write into dy.
    """

    def forward(self, x, training=False):
        raise NotImplementedError("Sigmoid.forward: y = 1 / (1 + exp(-x)); keep y")

    def backward(self, dy):
        raise NotImplementedError("Sigmoid.backward: dL/dx = dy * dy/dx")
