"""Shared fixtures: every test starts and ends on the numpy backend with a fresh seed."""

import numpy as np
import pytest

from scratch_ae import backend


@pytest.fixture(autouse=True)
def _fresh_backend():
    """Select numpy and reseed before each test; restore both afterwards.

    Tests that switch backends or draw random numbers then cannot leak into the next test.
    """
    backend._state["name"] = "numpy"
    backend.seed(0)
    yield
    backend._state["name"] = "numpy"
    backend.seed(0)


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, for test data."""
    return np.random.default_rng(1234)
