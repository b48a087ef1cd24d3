"""Small helpers that several test files share (this is not a test file: it proves nothing).

Inputs for the layer tests (random arrays, values kept away from kinks and ties), tiny models
and data for the training tests, and a stand-in for a CuPy array. NumPy and scratch_ae only.
"""

import numpy as np

import scratch_ae as sa
from scratch_ae import backend

# ------------------------------------------------------------------------------ layer inputs


def randn(shape, seed=0):
    """Standard normal values from a generator of their own (the backend's is left alone)."""
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(x, gap=0.1):
    """Push every value at least ``gap`` from 0, the kink of ReLU, LeakyReLU and SELU."""
    return np.sign(x) * (np.abs(x) + gap) + (x == 0) * gap


def distinct(shape, seed=0):
    """Distinct values at least 0.1 apart, so no max-pool tie is within the checker's step."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05).reshape(shape)


# ------------------------------------------------------------------------------ models and data


def geron_stacked_ae_on_images():
    """Géron's stacked autoencoder: 784-100-30-100-784, SELU, sigmoid output."""
    return sa.Autoencoder(
        [sa.Flatten(), sa.Dense(784, 100), sa.SELU(), sa.Dense(100, 30), sa.SELU()],
        [sa.Dense(30, 100), sa.SELU(), sa.Dense(100, 784), sa.Sigmoid(), sa.Reshape((1, 28, 28))],
    )


def synthetic_digits(n, seed=0):
    """Blobs of ink on a dark 28x28 background, flattened: digit-like statistics, no files."""
    rs = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        for _ in range(3):
            cy, cx = rs.uniform(8, 20, size=2)
            out[i] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / rs.uniform(4, 12))
    return np.clip(out, 0, 1).reshape(n, 784)


def tiny_data(n=96, seed=0):
    """``n`` rows of 12 values in [0, 1), float32: the data of :func:`tiny_ae`."""
    return np.random.default_rng(seed).random((n, 12), dtype=np.float32)


def tiny_ae(seed=0):
    """A 12-5-12 autoencoder with dropout, BCE: a run of a few epochs takes milliseconds."""
    backend.seed(seed)
    return sa.Autoencoder([sa.Dropout(0.2), sa.Dense(12, 5), sa.SELU()],
                          [sa.Dense(5, 12), sa.Sigmoid()], loss="bce")


def six_wide_ae():
    """A 6-3-6 autoencoder, BCE, seeded."""
    backend.seed(0)
    return sa.Autoencoder([sa.Dense(6, 3), sa.SELU()], [sa.Dense(3, 6), sa.Sigmoid()],
                          loss="bce")


# ------------------------------------------------------------------------------ devices


class FakeCupyArray:
    """Looks like a CuPy array to the module-name check, without CuPy being installed."""

    shape = (2, 3)
    dtype = np.dtype(np.float32)
    ndim = 2


FakeCupyArray.__module__ = "cupy._core.core"
