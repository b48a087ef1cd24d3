"""The variational autoencoder's sampling step (the "reparameterization trick") and its KL penalty.

Two layers:

* :class:`GaussianSampling` -- parameter-free. From ``mu`` and ``log_var`` (each (N, J)) it
  returns ``z = mu + exp(0.5 * log_var) * eps``, eps ~ N(0, I), shape (N, J). Its penalty is the
  KL divergence of N(mu, exp(log_var)) from the prior N(0, I): :func:`gaussian_kl`, with its
  gradient :func:`gaussian_kl_grad`, both defined here and nowhere else.
* :class:`VariationalHead` -- what a VAE's encoder ends with: two separate ``Dense(H, J)`` heads,
  one for ``mu`` and one for ``log_var``, read from the same hidden vector, followed by a
  ``GaussianSampling``. Two heads (rather than one ``Dense(H, 2J)`` split in half) is exactly
  Géron's Keras model (``codings_mean = Dense(J)(z)``, ``codings_log_var = Dense(J)(z)``): each
  head gets its own glorot-uniform init with fans (H, J), and parameter names say what they are
  (``head.mu.W``, ``head.log_var.W``).

Why ``log_var`` and not sigma: any real number is a valid log-variance, so the network needs no
positivity constraint. The standard deviation is ``exp(0.5 * log_var)`` -- *not* ``exp(log_var)``,
a bug two well-known libraries shipped; a test pins this down.
"""

from __future__ import annotations

from .. import backend
from .base import Layer
from .dense import Dense


def gaussian_kl(mu, log_var):
    """KL( N(mu, exp(log_var)) || N(0, 1) ) per sample, summed over latent units.

    ``KL_n = -0.5 * sum_j (1 + log_var - mu**2 - exp(log_var))``;  shape (N, J) -> (N,).

    Gradients (per sample, per unit)::

        dKL/dmu      = mu
        dKL/dlog_var = 0.5 * (exp(log_var) - 1)
    """
    xp = backend.get_array_module(mu, log_var, where="gaussian_kl")
    return -0.5 * (1 + log_var - mu * mu - xp.exp(log_var)).sum(axis=1)


def gaussian_kl_grad(mu, log_var):
    """``(dKL/dmu, dKL/dlog_var)`` of :func:`gaussian_kl`, each of shape (N, J)."""
    xp = backend.get_array_module(mu, log_var, where="gaussian_kl_grad")
    return mu.copy(), 0.5 * (xp.exp(log_var) - 1)


class GaussianSampling(Layer):
    """``z = mu + exp(0.5 * log_var) * eps``, with the KL divergence from N(0, I) as its penalty.

    Two ways in, the same math:

    * ``forward_stats(mu, log_var) -> z`` and ``backward_stats(dz) -> (d_mu, d_lv)``, each
      array (N, J): what :class:`VariationalHead` calls, with its two heads' outputs;
    * the layer contract ``forward(h) -> z`` and ``backward(dz) -> dh`` on ``h = [mu | log_var]``
      of shape (N, 2J), for use on its own (it splits h and joins the two gradients).

    Penalty (``kl_weight`` sets the VAE's scaling; see :mod:`scratch_ae.models.vae`)::

        KL_n    = -0.5 * sum_j (1 + log_var - mu**2 - exp(log_var))
        penalty = kl_weight * (1/N) * sum_n KL_n

    Backward, with ``dy = dL/dz`` and ``sigma = exp(0.5 * log_var)``::

        dL/dmu      = dy                            + kl_weight * mu / N
        dL/dlog_var = dy * 0.5 * sigma * eps        + kl_weight * 0.5 * (exp(log_var) - 1) / N

    (dz/dmu = 1 and dz/dlog_var = 0.5 * sigma * eps: the noise is an *input*, not a function of
    the parameters -- that is the whole trick.)

    ``eps`` comes from the backend's seeded generator (``backend.rng``); a test may set
    ``layer.fixed_eps`` to an (N, J) array to make the output exact. With ``sample=False`` (or
    ``layer.sample = False``) the layer returns ``z = mu`` (the penalty is still computed).
    The layer samples in inference too, as Géron's Keras ``Sampling`` layer does, so evaluation
    numbers are those of the same stochastic objective; use ``VAE.encode`` for the deterministic
    code ``mu``.
    """

    def __init__(self, kl_weight: float = 1.0, sample: bool = True):
        super().__init__()
        if kl_weight < 0:
            raise ValueError(f"kl_weight must be >= 0, got {kl_weight}")
        self.kl_weight = float(kl_weight)
        self.sample = bool(sample)
        self.fixed_eps = None

    def forward_stats(self, mu, log_var):
        """``z`` (N, J) from ``mu`` and ``log_var`` (N, J); stores the KL penalty."""
        xp = backend.get_array_module(mu, log_var, where="GaussianSampling")
        if not self.sample:
            eps = xp.zeros_like(mu)
        elif self.fixed_eps is not None:
            eps = xp.asarray(self.fixed_eps).astype(mu.dtype, copy=False)
            if eps.shape != mu.shape:
                raise ValueError(f"fixed_eps has shape {eps.shape}, expected {mu.shape}")
        else:
            eps = backend.rng(xp).standard_normal(mu.shape, dtype=mu.dtype)
        sigma = xp.exp(0.5 * log_var)
        self.mu, self.log_var, self.sigma, self.eps = mu, log_var, sigma, eps
        self.penalty = self.kl_weight * gaussian_kl(mu, log_var).sum() / mu.shape[0]
        return mu + sigma * eps

    def backward_stats(self, dy):
        """``(dL/dmu, dL/dlog_var)`` from ``dy = dL/dz``, the KL's gradient included."""
        g_mu, g_lv = gaussian_kl_grad(self.mu, self.log_var)
        w = self.kl_weight / dy.shape[0]
        d_mu = dy + w * g_mu
        d_lv = dy * (0.5 * self.sigma * self.eps) + w * g_lv
        return d_mu, d_lv

    def forward(self, x, training=False):
        self.check_input(x, ndim=2)
        if x.shape[1] % 2:
            raise ValueError(
                f"GaussianSampling expects [mu | log_var] of shape (N, 2J), got {tuple(x.shape)}"
            )
        j = x.shape[1] // 2
        return self.forward_stats(x[:, :j], x[:, j:])

    def backward(self, dy):
        self.check_input(dy, ndim=2)
        xp = backend.get_array_module(dy)
        return xp.concatenate(self.backward_stats(dy), axis=1)

    def output_shape(self, input_shape):
        return (input_shape[0] // 2,)

    def __repr__(self):
        return f"GaussianSampling(kl_weight={self.kl_weight:g})"


class VariationalHead(Layer):
    """A VAE encoder's last stage: ``mu = Dense(h)``, ``log_var = Dense'(h)``, then sampling.

    Shapes: h (N, H) -> z (N, J). Sublayers ``mu`` and ``log_var`` are ``Dense(H, J)``;
    ``sampling`` is a :class:`GaussianSampling` (its penalty is the KL term).

    Backward: with ``d_mu, d_lv = sampling.backward_stats(dy)``,
    ``dL/dh = mu.backward(d_mu) + log_var.backward(d_lv)`` (h feeds both heads, so the two
    gradients add).
    """

    def __init__(self, in_features: int, latent_dim: int, kl_weight: float = 1.0):
        super().__init__()
        self.in_features, self.latent_dim = int(in_features), int(latent_dim)
        self.mu = Dense(in_features, latent_dim)
        self.log_var = Dense(in_features, latent_dim)
        self.sampling = GaussianSampling(kl_weight)

    @property
    def kl_weight(self) -> float:
        """The KL term's weight (kept by ``sampling``; read here so model files can save it)."""
        return self.sampling.kl_weight

    def forward(self, x, training=False):
        self.check_input(x, ndim=2, features=(self.in_features,))
        return self.sampling.forward_stats(self.mu.forward(x), self.log_var.forward(x))

    def backward(self, dy):
        d_mu, d_lv = self.sampling.backward_stats(dy)
        return self.mu.backward(d_mu) + self.log_var.backward(d_lv)

    def sublayers(self):
        return [self.mu, self.log_var, self.sampling]

    def sublayer_names(self):
        return ["mu", "log_var", "sampling"]

    def output_shape(self, input_shape):
        return (self.latent_dim,)

    def __repr__(self):
        return (f"VariationalHead({self.in_features} -> mu, log_var ({self.latent_dim}), "
                f"kl_weight={self.sampling.kl_weight:g})")


__all__ = ["GaussianSampling", "VariationalHead", "gaussian_kl", "gaussian_kl_grad"]
