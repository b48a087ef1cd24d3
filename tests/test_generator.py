"""scratch_ae/models/generator.py: ``LatentGaussianGenerator`` fits the mean and spread (or the
full covariance) of an autoencoder's codes and samples new images from them."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import data
from scratch_ae.models import LatentGaussianGenerator, zoo


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class _FixedCodes:
    """A stand-in autoencoder whose codes are known exactly."""

    def __init__(self, codes):
        self.codes = codes

    def encode(self, X, batch_size=256):
        return self.codes[: len(X)]

    def decode(self, Z, batch_size=256):
        return np.tanh(np.asarray(Z)) @ np.ones((Z.shape[1], 5), dtype=Z.dtype)


def test_generator_fits_mean_and_std_of_codes(rng):
    codes = (rng.standard_normal((5000, 3)) * [1.0, 2.0, 0.5] + [3.0, -1.0, 0.0]).astype(
        np.float32)
    gen = LatentGaussianGenerator(_FixedCodes(codes)).fit(np.zeros((5000, 1), np.float32))
    c64 = codes.astype(np.float64)
    np.testing.assert_allclose(gen.mean, c64.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gen.std, c64.std(axis=0), rtol=1e-12)
    z = gen.sample_codes(20000, seed=1)
    assert z.shape == (20000, 3) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), [3.0, -1.0, 0.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 2.0, 0.5], rtol=0.03)
    assert gen.sample(7, seed=0).shape == (7, 5)


def test_generator_full_covariance_keeps_correlation(rng):
    a = rng.standard_normal(4000)
    codes = np.stack([a, 0.9 * a + 0.1 * rng.standard_normal(4000)], axis=1)
    full = LatentGaussianGenerator(_FixedCodes(codes), full_cov=True).fit(codes)
    diag = LatentGaussianGenerator(_FixedCodes(codes)).fit(codes)
    np.testing.assert_allclose(full.cov, np.cov(codes, rowvar=False))
    zf, zd = full.sample_codes(20000, seed=0), diag.sample_codes(20000, seed=0)
    assert np.corrcoef(zf.T)[0, 1] > 0.95
    assert abs(np.corrcoef(zd.T)[0, 1]) < 0.05


def test_generator_on_a_real_autoencoder_and_errors():
    X = data.load_sample(flat=True).x_train[:200]
    model = zoo.build("stacked")
    gen = LatentGaussianGenerator(model)
    with pytest.raises(RuntimeError):
        gen.sample(2)
    gen.fit(X)
    np.testing.assert_allclose(gen.mean, model.encode(X).mean(axis=0), rtol=1e-5, atol=1e-6)
    imgs = gen.sample(6, seed=0)
    assert imgs.shape == (6, 784) and imgs.min() >= 0 and imgs.max() <= 1
