"""Exercise 15 of 15 -- MaxPool2D: the gradient of a max is routed, not spread.

Tutorial: tutorials/03_conv.py (each encoder block ends with MaxPool2D(2): 28 -> 14 -> 7 -> 3).
Mirrors:  scratch_ae/layers/pooling.py, class MaxPool2D: the library's answer, to read once you
          pass.

Each output is the max of one PH x PW window of one channel, windows starting every (SH, SW)
("valid": a remainder row or column is dropped, OH = (H - PH) // SH + 1). The max picks ONE
input, so:

    dL/dx[n, c, h, w] = the sum of dy[n, c, oh, ow] over the windows (oh, ow) that picked
                        x[n, c, h, w];  0 for every other input

Two things to get right: windows may overlap (stride < pool), so a pixel can win more than once
and its gradients add; and a window may hold several equal maxima (ties) -- then the gradient
goes to exactly one of them, the FIRST in row-major window order (top row first, then left to
right), which is what ``np.argmax`` returns.

Check it:  scratch-ae exercise check maxpool2d
"""

from __future__ import annotations

import numpy as np

from scratch_ae.geometry import pair
from scratch_ae.layers.base import Layer


class MaxPool2D(Layer):
    """Max over each PH x PW window, channel by channel, no padding.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW).

    forward(x): return y, and keep which cell of each window won (its index i * PW + j in the
        window, from ``np.argmax`` over the window's cells) and x's shape.
        Hint: one strided slice per window cell (i, j), ``x[:, :, i : i + SH*OH : SH,
        j : j + SW*OW : SW]``, stacked on a last axis of size PH*PW, gives every window at once.
    backward(dy): return dL/dx of x's shape and dtype (buffers made with ``dtype=dy.dtype``).
    """

    def __init__(self, pool=2, stride=None):
        super().__init__()
        self.pool = pair(pool, "pool")
        self.stride = self.pool if stride is None else pair(stride, "stride")

    def forward(self, x, training=False):
        raise NotImplementedError("MaxPool2D.forward: the max of each window, and its argmax")

    def backward(self, dy):
        raise NotImplementedError("MaxPool2D.backward: route dy to each window's winner")
