"""Exercise 11 of 15 -- KLSparsity: a penalty on each unit's activation rate over the batch.

Tutorial: tutorials/02_sparse.py (the KL variant pushes each code unit to be active 10% of the
          time).
Mirrors:  scratch_ae/layers/regularizers.py, class KLSparsity: the library's answer, to read once
          you pass.

Each unit j should be active a fraction p = target of the time. Its rate over the batch is
q_j = (1/N) sum_n h[n, j] (h in (0, 1): sigmoid codes), clipped to [EPS, 1 - EPS]. The layer is
the identity, y = h, with the penalty

    penalty = weight * sum_j [ p log(p / q_j) + (1 - p) log((1 - p) / (1 - q_j)) ]
    dL/dh[n, j] = dy[n, j] + ?       q_j depends on every sample's h[n, j]: dq_j/dh[n, j] = ?
                                     (0 where the clip is active)

Check it:  scratch-ae exercise check kl_sparsity
"""

from __future__ import annotations

import numpy as np

from scratch_ae.layers.base import Layer


class KLSparsity(Layer):
    """KL-divergence sparsity penalty (formulas in the module docstring). Shapes: (N, J) -> same.

    forward(h): compute q, store the penalty in ``self.penalty`` (a number), keep what backward
        needs, return h itself. The penalty is NOT divided by N again: q already averages.
    backward(dy): return dy plus the penalty's gradient, as a NEW array.
    """

    EPS = 1e-7

    def __init__(self, weight: float = 0.05, target: float = 0.1):
        super().__init__()
        self.weight, self.target = float(weight), float(target)

    def forward(self, x, training=False):
        raise NotImplementedError("KLSparsity.forward: q, self.penalty; return x")

    def backward(self, dy):
        raise NotImplementedError("KLSparsity.backward: dy + the penalty's gradient")
