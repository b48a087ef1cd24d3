"""Small helpers that several test files share (this is not a test file: it proves nothing).

Inputs for the layer tests (random arrays, values kept away from kinks and ties) and a model.
NumPy and scratch_ae only.
"""

import numpy as np

import scratch_ae as sa

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
