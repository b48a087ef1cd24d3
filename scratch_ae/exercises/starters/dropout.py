"""Exercise 9 of 15 -- Dropout, inverted: what tutorial 07 corrupts its input with.

Tutorial: tutorials/07_denoise_dropout.py (a denoising autoencoder: Dropout(0.5) on the input
          pixels, in training only).
Mirrors:  scratch_ae/layers/noise.py, class Dropout: the library's answer, to read once you pass.

The math to derive, on paper first. In training every unit is kept with probability 1 - rate:

    y = x * m / (1 - rate)        m[i] = 1 with probability 1 - rate, else 0
    E[y] = ?                      and at inference, where y = x?  (that is why we divide)
    dL/dx = ?                     with the same m as forward

Check it:  scratch-ae exercise check dropout
"""

from __future__ import annotations

import numpy as np

from scratch_ae import backend
from scratch_ae.layers.base import Layer


class Dropout(Layer):
    """Inverted dropout (formulas in the module docstring). Shapes: any (N, ...) -> same.

    forward(x, training): with ``training=False`` (or rate 0), return x unchanged. Otherwise
        draw the mask from the backend's seeded generator, EXACTLY as

            keep = backend.rng(np).random(x.shape, dtype=x.dtype) >= self.rate

        (so that a run, and the checker, can repeat it), keep on ``self`` what backward needs,
        and return y, of x's dtype.
    backward(dy): return dL/dx as a NEW array (never write into dy).
    """

    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)

    def forward(self, x, training=False):
        raise NotImplementedError("Dropout.forward: x * mask / (1 - rate) in training")

    def backward(self, dy):
        raise NotImplementedError("Dropout.backward: dL/dx, with the same mask")
