"""``VAE``: a variational autoencoder, ``x -> h -> (mu, log_var) -> z -> x_hat``.

The loss is reconstruction + KL, and how the two are scaled against each other is a choice
that changes what the numbers mean (and how blurry the samples are), so it is explicit:

``scaling="geron"`` (Géron, HOML 2e ch. 17; the zoo's ``vae``)
    ``L = mean_{n,i} BCE(x_hat, x) + (1/N) sum_n KL_n / D``  with D = pixels per image (784).
    Keras' per-pixel mean BCE plus the latent loss divided by 784, so both parts are "per pixel";
    Géron reports about 0.1416 = 0.1188 (BCE) + 0.0228 (latent) on MNIST.

``scaling="elbo"`` (Kingma & Welling)
    ``L = (1/N) sum_n [ sum_i BCE(x_hat_ni, x_ni) + KL_n ]`` -- the negative ELBO in nats per
    image: BCE with reduction ``"sum"`` and KL per sample, averaged over the batch. Exactly D
    times the geron number for the same network; the optimizer step sizes differ accordingly.

The KL term is the :class:`~scratch_ae.layers.sampling.GaussianSampling` layer's penalty, so
``train.fit`` and ``train.evaluate`` log it as ``penalty`` beside the reconstruction ``recon``.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..layers.sampling import VariationalHead
from ..losses import BCE
from ..train import model_dtype, predict
from .sequential import Model, Sequential

SCALINGS = ("geron", "elbo")


class VAE(Model):
    """``encoder`` (x -> h, (N, H)), a :class:`VariationalHead` (h -> z, (N, J)), ``decoder``.

    Args:
        encoder: layers or a Sequential mapping x (N, ...) to hidden h (N, H).
        decoder: layers or a Sequential mapping z (N, J) to x_hat, probabilities in (0, 1).
        hidden: H, the encoder's output width.
        latent_dim: J, the coding size.
        input_size: D, pixels per image (784 for MNIST); the "geron" KL divisor.
        scaling: ``"geron"`` or ``"elbo"`` (see the module docstring).

    Backward: ``dL/dz = decoder.backward(dL/dx_hat)``; ``dL/dh = head.backward(dL/dz)`` (adds the
    KL gradients ``kl_weight * mu / N`` and ``kl_weight * 0.5 * (exp(log_var) - 1) / N``);
    ``dL/dx = encoder.backward(dL/dh)``. Parameter keys: ``encoder.*``, ``head.mu.*``,
    ``head.log_var.*``, ``decoder.*``.
    """

    def __init__(self, encoder, decoder, hidden: int, latent_dim: int, input_size: int = 784,
                 scaling: str = "geron"):
        super().__init__()
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
        self.encoder = encoder if not isinstance(encoder, list) else Sequential(encoder)
        self.decoder = decoder if not isinstance(decoder, list) else Sequential(decoder)
        self.hidden, self.latent_dim = int(hidden), int(latent_dim)
        self.input_size, self.scaling = int(input_size), scaling
        kl_weight = 1.0 / input_size if scaling == "geron" else 1.0
        self.head = VariationalHead(hidden, latent_dim, kl_weight=kl_weight)
        # The reconstruction term; fit() uses it unless given another loss.
        self.loss = "bce" if scaling == "geron" else BCE(reduction="sum")

    # -- forward / backward ------------------------------------------------------------------
    def forward(self, x, training=False):
        h = self.encoder.forward(x, training=training)
        z = self.head.forward(h, training=training)
        return self.decoder.forward(z, training=training)

    def backward(self, dy):
        return self.encoder.backward(self.head.backward(self.decoder.backward(dy)))

    def sublayers(self):
        return [self.encoder, self.head, self.decoder]

    def sublayer_names(self):
        return ["encoder", "head", "decoder"]

    def output_shape(self, input_shape):
        return self.decoder.output_shape((self.latent_dim,))

    # -- using a trained VAE -----------------------------------------------------------------
    def _mu(self, x):
        return self.head.mu.forward(self.encoder.forward(x))

    def encode(self, X, batch_size: int = 256):
        """The mean codes ``mu`` of ``X`` (N, J): deterministic, no sampling."""
        return predict(self._mu, X, batch_size=batch_size)

    def decode(self, Z, batch_size: int = 256):
        """Images decoded from codes ``Z`` (N, J)."""
        Z = np.asarray(backend.to_numpy(Z))
        return predict(self.decoder.forward, Z.astype(self._dtype(), copy=False),
                       batch_size=batch_size)

    def reconstruct(self, X, batch_size: int = 256):
        """``decode(encode(X))``: reconstructions from the mean codes (no sampling noise)."""
        return self.decode(self.encode(X, batch_size=batch_size), batch_size=batch_size)

    def sample(self, n: int, seed: int | None = None):
        """``n`` new images: decode codes drawn from the prior N(0, I). Shape (n, D)."""
        rs = np.random.default_rng(seed) if seed is not None else backend.rng(np)
        z = rs.standard_normal((n, self.latent_dim)).astype(self._dtype())
        return self.decode(z)

    def interpolate(self, a, b, steps: int = 8):
        """Decode ``steps`` codes evenly spaced on the line from ``mu(a)`` to ``mu(b)``.

        ``a`` and ``b`` are single images (any shape the encoder takes, with or without the
        batch axis). Returns (steps, D) images, the first close to a's reconstruction and the
        last close to b's.
        """
        if steps < 2:
            raise ValueError(f"steps must be >= 2, got {steps}")
        a, b = (np.asarray(backend.to_numpy(v)) for v in (a, b))
        # Accept (1, D) / (1, C, H, W) too: drop a batch axis of one (but not an image's C=1).
        a, b = (v[0] if v.ndim in (2, 4) and v.shape[0] == 1 else v for v in (a, b))
        ab = np.stack([a, b])
        mu = self.encode(ab.astype(self._dtype(), copy=False))
        t = np.linspace(0.0, 1.0, steps, dtype=mu.dtype)[:, None]
        return self.decode((1 - t) * mu[0] + t * mu[1])

    def manifold(self, n: int = 15):
        """Decode an n x n grid of 2-D codes at N(0, 1) quantiles 5%..95% (2-D latents only).

        Returns ``(images (n*n, D), z (n*n, 2))``; row r has z[1] falling, column c z[0] rising,
        the layout of :func:`scratch_ae.viz.plot_manifold` (which draws the picture).
        """
        if self.latent_dim != 2:
            raise ValueError(f"manifold needs a 2-D latent space, this VAE has {self.latent_dim}")
        from statistics import NormalDist  # noqa: PLC0415

        ppf = NormalDist().inv_cdf
        axis = np.array([ppf(p) for p in np.linspace(0.05, 0.95, n)], dtype=self._dtype())
        z1, z0 = np.meshgrid(axis[::-1], axis, indexing="ij")
        z = np.stack([z0.ravel(), z1.ravel()], axis=1)
        return self.decode(z), z

    def _dtype(self):
        return model_dtype(self)

    def __repr__(self):
        return (f"VAE(scaling={self.scaling!r},\n encoder={self.encoder!r},\n head={self.head!r},"
                f"\n decoder={self.decoder!r}\n)")

