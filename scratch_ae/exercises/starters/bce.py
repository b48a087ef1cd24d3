"""Exercise 5 of 15 -- BCE: binary cross-entropy, the loss of tutorial 01, with its gradient.

Tutorial: tutorials/01_stacked.py (pixels in [0, 1] are treated as probabilities).
Mirrors:  scratch_ae/losses.py, class BCE: the library's answer, to read once you pass.

The math to derive, on paper first. For predictions p in [0, 1] and targets y in [0, 1]
(grey pixels too, not only 0 and 1):

    p_c = clip(p, EPS, 1 - EPS)                       as Keras does: log(0) would be -inf
    L   = -(1 / denom) * sum (y log p_c + (1 - y) log(1 - p_c))
    dL/dp = ?    where EPS <= p <= 1 - EPS; and outside that range, where the clip is flat?

Check it:  scratch-ae exercise check bce
"""

from __future__ import annotations

import numpy as np

from scratch_ae.losses import EPS, Loss


class BCE(Loss):
    """Binary cross-entropy on probabilities, clipped to [EPS, 1 - EPS] (EPS = 1e-7).

    forward(y_pred, y_true): first call ``self._check(y_pred, y_true)`` (it sets ``self.n``
        and ``self.denom``: N*D for "mean", N for "sum"). Keep what backward needs -- the
        clipped p, the targets, and where p was inside the clip range. Return L, ONE number.
    backward(): return dL/dy_pred, of y_pred's shape and dtype (0 where p was clipped).
    (The library computes dL/dp in forward, while p is at hand, and its backward hands it on;
    either way is right.)

    Hint: ``np.clip(p, EPS, 1 - EPS)`` returns a new array; never clip y_pred in place.
    """

    def forward(self, y_pred, y_true):
        raise NotImplementedError("BCE.forward: clip p to [EPS, 1 - EPS], then the mean of "
                                  "the cross-entropy")

    def backward(self):
        raise NotImplementedError("BCE.backward: dL/dy_pred, 0 where p was clipped")
