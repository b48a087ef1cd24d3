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


def pytest_report_header(config):
    """Say so at the top of the report when "cupy" is fake_cupy (NumPy posing as CuPy)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("cupy")  # finds the module without importing it
    if spec is not None and "fake_cupy" in str(spec.origin):
        return ("cupy: fake_cupy (NumPy on the CPU). The gpu tests run as a REHEARSAL of the "
                "Python path; they verify nothing about a GPU or the CUDA kernels.")
    return None
