"""scratch_ae/models/vae.py: the whole VAE's gradient includes the KL, its two scalings ("geron",
"elbo") differ by the input size, and its API (fit, encode, sample, interpolate, manifold).

(The sampling step and its KL term, which the VAE is built on: test_sampling.py.)
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import backend
from scratch_ae.gradcheck import check_model
from scratch_ae.layers import SELU, Dense, Sigmoid
from scratch_ae.losses import BCE, get_loss
from scratch_ae.models import VAE
from scratch_ae.optim import RMSprop


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices on a shared machine: one BLAS thread avoids spin-waiting (~25x faster)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _small_vae(scaling):
    enc = [Dense(12, 7), SELU()]
    dec = [Dense(3, 7), SELU(), Dense(7, 12), Sigmoid()]
    return VAE(enc, dec, hidden=7, latent_dim=3, input_size=12, scaling=scaling)


@pytest.mark.parametrize("scaling", ["geron", "elbo"])
def test_whole_vae_gradcheck_includes_kl(scaling, rng):
    backend.seed(5)
    model = _small_vae(scaling)
    x = rng.uniform(0.05, 0.95, size=(4, 12))
    assert check_model(model, x, get_loss(model.loss)) < 1e-6
    assert model.total_penalty() > 0


def test_scalings_differ_by_input_size(rng):
    x = rng.uniform(0.05, 0.95, size=(6, 12))
    backend.seed(9)
    g = _small_vae("geron")
    backend.seed(9)
    e = _small_vae("elbo")
    backend.seed(0)
    lg = float(get_loss(g.loss)(g.forward(x), x)) + g.total_penalty()
    backend.seed(0)
    le = float(get_loss(e.loss)(e.forward(x), x)) + e.total_penalty()
    assert le == pytest.approx(12 * lg, rel=1e-5)  # ELBO in nats = D x per-pixel geron loss
    assert isinstance(e.loss, BCE) and e.loss.reduction == "sum"
    with pytest.raises(ValueError):
        _small_vae("bogus")


def test_vae_api_and_training_reduces_loss(rng):
    backend.seed(11)
    X = rng.uniform(0, 1, size=(256, 12)).astype(np.float32)
    X = (X > 0.5).astype(np.float32) * 0.9 + 0.05
    enc = [Dense(12, 16), SELU()]
    dec = [Dense(2, 16), SELU(), Dense(16, 12), Sigmoid()]
    model = VAE(enc, dec, hidden=16, latent_dim=2, input_size=12)
    hist = model.fit(X, epochs=15, batch_size=32, optimizer=RMSprop(1e-2), verbose=False)
    assert hist["loss"][-1] < hist["loss"][0]
    assert "penalty" in hist.history and hist["penalty"][-1] > 0
    mu = model.encode(X[:5])
    assert mu.shape == (5, 2) and mu.dtype == np.float32
    np.testing.assert_array_equal(mu, model.encode(X[:5]))  # deterministic: mu, no sampling
    assert model.sample(7, seed=0).shape == (7, 12)
    path = model.interpolate(X[0], X[1], steps=5)
    assert path.shape == (5, 12)
    np.testing.assert_allclose(path[0], model.reconstruct(X[:1])[0], rtol=1e-5)
    np.testing.assert_allclose(path[-1], model.reconstruct(X[1:2])[0], rtol=1e-5)
    imgs, z = model.manifold(4)
    assert imgs.shape == (16, 12) and z.shape == (16, 2)
    assert z[0, 0] < z[-1, 0] and z[0, 1] > z[-1, 1]


def test_manifold_needs_2d():
    with pytest.raises(ValueError, match="2-D"):
        _small_vae("geron").manifold(3)
