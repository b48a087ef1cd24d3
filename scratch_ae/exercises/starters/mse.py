"""Exercise 4 of 15 -- MSE: a loss, where the batch average enters every gradient.

Tutorial: tutorials/10_linear_pca.py (a linear autoencoder trained with MSE finds PCA's
          subspace).
Mirrors:  scratch_ae/losses.py, class MSE: the library's answer, to read once you pass.

The math to derive, on paper first. For predictions p and targets y of shape (N, D):

    L = (1 / denom) * sum_{n,i} (p[n, i] - y[n, i])**2
        denom = N*D for reduction "mean" (the default), N for "sum"
    dL/dp[n, i] = ?

Check it:  scratch-ae exercise check mse
"""

from __future__ import annotations

from scratch_ae.losses import Loss


class MSE(Loss):
    """Mean squared error (formulas in the module docstring).

    forward(y_pred, y_true): first call ``self._check(y_pred, y_true)``: it checks the shapes
        and sets ``self.n`` (the batch size N) and ``self.denom`` (N*D for "mean", N for
        "sum"). Keep what backward needs; return L, ONE number.
    backward(): return dL/dy_pred, of y_pred's shape and dtype.
    """

    def forward(self, y_pred, y_true):
        raise NotImplementedError("MSE.forward: the mean of the squared errors")

    def backward(self):
        raise NotImplementedError("MSE.backward: dL/dy_pred")
