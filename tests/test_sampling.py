"""scratch_ae/layers/sampling.py: ``GaussianSampling`` (the reparameterization
``z = mu + exp(0.5 * log_var) * eps``, its KL penalty and gradient per sample), ``gaussian_kl`` and
``gaussian_kl_grad`` against the closed form, PyTorch and finite differences, and
``VariationalHead``'s gradient."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import backend
from scratch_ae.gradcheck import check_layer
from scratch_ae.layers import GaussianSampling, VariationalHead
from scratch_ae.layers.sampling import gaussian_kl, gaussian_kl_grad


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices on a shared machine: one BLAS thread avoids spin-waiting (~25x faster)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_sampling_uses_half_log_var_as_log_std(rng):
    """z = mu + exp(0.5*log_var)*eps exactly; exp(log_var) as the std would fail here."""
    mu = rng.standard_normal((3, 4))
    log_var = rng.uniform(-2, 2, size=(3, 4))
    eps = rng.standard_normal((3, 4))
    layer = GaussianSampling()
    layer.fixed_eps = eps
    z = layer.forward(np.concatenate([mu, log_var], axis=1))
    np.testing.assert_allclose(z, mu + np.exp(0.5 * log_var) * eps, rtol=1e-14)
    assert not np.allclose(z, mu + np.exp(log_var) * eps)


def test_sample_variance_is_exp_log_var():
    backend.seed(1)
    n, mu, lv = 200_000, np.array([1.0, -2.0]), np.array([np.log(4.0), np.log(0.25)])
    h = np.tile(np.concatenate([mu, lv]), (n, 1))
    z = GaussianSampling().forward(h, training=True)
    np.testing.assert_allclose(z.mean(axis=0), mu, atol=0.02)
    np.testing.assert_allclose(z.var(axis=0), [4.0, 0.25], rtol=0.02)  # exp(log_var)


def test_gaussian_kl_value_against_the_closed_form():
    rs = np.random.default_rng(21)
    mu, log_var = rs.standard_normal((4, 3)), rs.uniform(-2, 2, size=(4, 3))
    var = np.exp(log_var)
    # KL(N(mu, var) || N(0, 1)) = 0.5 * (var + mu^2 - 1 - ln var), summed over units.
    expected = (0.5 * (var + mu**2 - 1 - log_var)).sum(axis=1)
    kl = gaussian_kl(mu, log_var)
    assert kl.shape == (4,)
    np.testing.assert_allclose(kl, expected, rtol=1e-13)
    assert np.all(kl >= 0)
    np.testing.assert_array_equal(gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))), 0.0)


def test_gaussian_kl_matches_torch_distributions():
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(22)
    mu, log_var = rs.standard_normal((3, 5)), rs.uniform(-1, 1, size=(3, 5))
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(torch.zeros(3, 5, dtype=torch.float64),
                                   torch.ones(3, 5, dtype=torch.float64))
    ref = torch.distributions.kl_divergence(q, p).sum(dim=1).numpy()
    np.testing.assert_allclose(gaussian_kl(mu, log_var), ref, rtol=1e-12)


def test_gaussian_kl_grad_against_finite_differences():
    rs = np.random.default_rng(23)
    mu, log_var = rs.standard_normal((2, 3)), rs.uniform(-1.5, 1.5, size=(2, 3))
    d_mu, d_lv = gaussian_kl_grad(mu, log_var)
    np.testing.assert_allclose(d_mu, mu, rtol=0)
    np.testing.assert_allclose(d_lv, 0.5 * (np.exp(log_var) - 1), rtol=1e-15)
    h = 1e-5

    def total(m, lv):
        return float(gaussian_kl(m, lv).sum())

    for idx in np.ndindex(mu.shape):
        e = np.zeros_like(mu)
        e[idx] = h
        num_mu = (total(mu + e, log_var) - total(mu - e, log_var)) / (2 * h)
        num_lv = (total(mu, log_var + e) - total(mu, log_var - e)) / (2 * h)
        assert d_mu[idx] == pytest.approx(num_mu, rel=1e-7, abs=1e-9)
        assert d_lv[idx] == pytest.approx(num_lv, rel=1e-7, abs=1e-9)
    # The gradient for mu is a copy: changing it must not change mu.
    d_mu[...] = 0
    assert mu.any()


def test_kl_penalty_and_gradient_per_sample(rng):
    n, j, w = 5, 3, 0.7
    mu, lv = rng.standard_normal((n, j)), rng.uniform(-1, 1, (n, j))
    layer = GaussianSampling(kl_weight=w)
    layer.fixed_eps = np.zeros((n, j))
    layer.forward(np.concatenate([mu, lv], axis=1))
    kl = -0.5 * (1 + lv - mu**2 - np.exp(lv)).sum(axis=1)
    assert layer.penalty == pytest.approx(w * kl.mean(), rel=1e-12)
    # With zero upstream gradient, backward is the KL gradient alone: scaled mu and
    # 0.5*(exp(log_var) - 1), per sample, times kl_weight / N.
    d = layer.backward(np.zeros((n, j)))
    np.testing.assert_allclose(d[:, :j] * n / w, mu, rtol=1e-12)
    np.testing.assert_allclose(d[:, j:] * n / w, 0.5 * (np.exp(lv) - 1), rtol=1e-12)


def test_kl_is_zero_for_the_prior():
    layer = GaussianSampling()
    layer.forward(np.zeros((4, 6)))
    assert layer.penalty == 0.0


def test_sampling_and_head_gradcheck(rng):
    assert check_layer(GaussianSampling(0.9), rng.standard_normal((4, 6))) < 1e-6
    # Not sampling (z = mu), at another KL weight: the KL gradient alone reaches log_var.
    assert check_layer(GaussianSampling(2.5, sample=False), rng.standard_normal((4, 6))) < 1e-6
    backend.seed(2)
    assert check_layer(VariationalHead(5, 3, kl_weight=0.5), rng.standard_normal((4, 5))) < 1e-6
