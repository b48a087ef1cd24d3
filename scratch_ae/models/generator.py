"""Generating images with a *plain* autoencoder: fit a Gaussian to its codes, sample, decode.

The seed tutorial's "generative modelling with a regular autoencoder": store the statistics of
the latent space on the training data, draw new codes with the same mean and spread, and decode
them. The result shows why a VAE is needed -- a plain autoencoder never asked its codes to fill
a Gaussian, so many sampled codes land where the decoder has seen nothing and decode to
digit-like smudges ("it captured the broad strokes").

Two fits:

* ``full_cov=False`` (the tutorial's): each code unit independently,
  ``z_j ~ N(mean_j, std_j**2)``.
* ``full_cov=True``: one multivariate Gaussian ``z ~ N(mean, Cov)``, which keeps the correlations
  between units (sampled as ``mean + L @ e`` with ``Cov = L L^T``, the Cholesky factor).
"""

from __future__ import annotations

import numpy as np

from .. import backend


class LatentGaussianGenerator:
    """Sample new images from an autoencoder by modelling its codes as a Gaussian.

    Args:
        autoencoder: anything with ``encode(X) -> (N, J)`` codes and ``decode(Z) -> images``
            (an :class:`~scratch_ae.models.Autoencoder`). Codes of any shape are flattened
            to (N, J) for the fit and reshaped back before decoding.
        full_cov: fit a full covariance instead of independent per-unit variances.

    After :meth:`fit`: ``mean`` (J,), ``std`` (J,), ``cov`` (J, J) when ``full_cov``.
    """

    def __init__(self, autoencoder, full_cov: bool = False):
        self.autoencoder = autoencoder
        self.full_cov = bool(full_cov)
        self.mean = self.std = self.cov = None
        self.code_shape = None

    def fit(self, X, batch_size: int = 256):
        """Encode ``X`` and store the mean, std (and covariance) of its codes; returns self."""
        codes = np.asarray(backend.to_numpy(self.autoencoder.encode(X, batch_size=batch_size)))
        return self.fit_codes(codes)

    def fit_codes(self, codes):
        """Fit directly from codes (N, ...) already computed."""
        codes = np.asarray(codes)
        if codes.ndim < 2 or len(codes) < 2:
            raise ValueError(f"need at least two codes of shape (N, ...), got {codes.shape}")
        self.code_shape = codes.shape[1:]
        flat = codes.reshape(len(codes), -1).astype(np.float64)
        self.mean = flat.mean(axis=0)
        self.std = flat.std(axis=0)
        if self.full_cov:
            self.cov = np.cov(flat, rowvar=False).reshape(flat.shape[1], flat.shape[1])
            # A dead unit gives a singular covariance; a tiny ridge keeps Cholesky defined.
            ridge = 1e-6 * max(float(np.trace(self.cov)) / len(self.cov), 1e-12)
            self._chol = np.linalg.cholesky(self.cov + ridge * np.eye(len(self.cov)))
        self._dtype = codes.dtype if codes.dtype.kind == "f" else np.float32
        return self

    def sample_codes(self, n: int, seed: int | None = None):
        """``n`` codes drawn from the fitted Gaussian, shaped like the training codes."""
        if self.mean is None:
            raise RuntimeError("call fit(X) before sampling")
        rs = np.random.default_rng(seed) if seed is not None else backend.rng(np)
        e = rs.standard_normal((n, self.mean.size))
        if self.full_cov:
            z = self.mean + e @ self._chol.T
        else:
            z = self.mean + self.std * e
        return z.astype(self._dtype).reshape(n, *self.code_shape)

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256):
        """``n`` generated images: decoded samples of :meth:`sample_codes`."""
        return self.autoencoder.decode(self.sample_codes(n, seed), batch_size=batch_size)

    def __repr__(self):
        kind = "full covariance" if self.full_cov else "diagonal"
        return f"LatentGaussianGenerator({kind}, fitted={self.mean is not None})"
