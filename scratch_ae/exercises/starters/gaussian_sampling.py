"""Exercise 12 of 15 -- the VAE's sampling step: reparameterization, and the KL penalty.

Tutorial: tutorials/09_vae.py (the encoder outputs mu and log_var; z is sampled from them).
Mirrors:  scratch_ae/layers/sampling.py (gaussian_kl, gaussian_kl_grad, GaussianSampling): the
          library's answer, to read once you pass.

The math to derive, on paper first. mu and log_var are (N, J); eps ~ N(0, 1) is an INPUT:

    sigma = exp(0.5 * log_var)                 (log_var is the log of the variance)
    z     = mu + sigma * eps
    dz/dmu = ?      dz/dlog_var = ?

    KL_n = -0.5 * sum_j (1 + log_var - mu**2 - exp(log_var))     KL(N(mu, sigma^2) || N(0, 1))
    dKL/dmu = ?     dKL/dlog_var = ?

    penalty = kl_weight * (1/N) * sum_n KL_n, and its gradient joins dL/dmu and dL/dlog_var.

Check it:  scratch-ae exercise check gaussian_sampling
"""

from __future__ import annotations

import numpy as np

from scratch_ae import backend
from scratch_ae.layers.base import Layer


def gaussian_kl(mu, log_var):
    """KL_n for each sample: shape (N, J), (N, J) -> (N,)."""
    raise NotImplementedError("gaussian_kl: KL per sample, summed over the J units")


def gaussian_kl_grad(mu, log_var):
    """``(dKL/dmu, dKL/dlog_var)`` of :func:`gaussian_kl`, each (N, J), new arrays."""
    raise NotImplementedError("gaussian_kl_grad: dKL/dmu, dKL/dlog_var")


class GaussianSampling(Layer):
    """``z = mu + exp(0.5 * log_var) * eps``, with the KL divergence from N(0, I) as penalty.

    forward_stats(mu, log_var): draw eps EXACTLY as

            eps = backend.rng(np).standard_normal(mu.shape, dtype=mu.dtype)

        (the backend's seeded generator: a run, and the checker, can repeat it); store
        ``self.penalty = kl_weight * mean over the batch of gaussian_kl(mu, log_var)``; keep what
        backward needs; return z (N, J).
    backward_stats(dy): from dy = dL/dz (N, J) return ``(dL/dmu, dL/dlog_var)``, each (N, J),
        the KL penalty's gradient included. Never write into dy.

    ``forward`` and ``backward`` (given) run the same on ``[mu | log_var]`` of shape (N, 2J).
    """

    def __init__(self, kl_weight: float = 1.0):
        super().__init__()
        self.kl_weight = float(kl_weight)

    def forward_stats(self, mu, log_var):
        raise NotImplementedError("GaussianSampling.forward_stats: z; self.penalty")

    def backward_stats(self, dy):
        raise NotImplementedError("GaussianSampling.backward_stats: dL/dmu, dL/dlog_var")

    def forward(self, x, training=False):
        j = x.shape[1] // 2
        return self.forward_stats(x[:, :j], x[:, j:])

    def backward(self, dy):
        return np.concatenate(self.backward_stats(dy), axis=1)
