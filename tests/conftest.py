"""Shared fixtures: every test starts and ends on the numpy backend with a fresh seed."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from scratch_ae import backend

FAKE_CUPY = Path(__file__).resolve().parents[1] / "scripts" / "fake_cupy" / "cupy" / "__init__.py"


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
def threads_restored():
    """Whatever thread policy a test sets, the next test finds the one it left."""
    from scratch_ae import threads  # noqa: PLC0415

    saved = dict(threads._state)
    yield threads
    threads._state.update(saved)
    if saved["policy"] is not None:
        threads.apply(saved["policy"])
        threads._state.update(saved)


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, for test data."""
    return np.random.default_rng(1234)


@pytest.fixture
def fake_cupy(monkeypatch):
    """scripts/fake_cupy (NumPy posing as CuPy) as ``cupy`` for one test, then gone again.

    A fresh copy each time (its transfer counters start at zero). ``import cupy`` finds it for
    the test's duration, and the cupy kernels module, which binds ``cupy`` when imported, is
    dropped afterwards so that nothing later sees the fake.
    """
    spec = importlib.util.spec_from_file_location("cupy", FAKE_CUPY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "cupy", module)
    backend.cuda_available.cache_clear()
    _forget_cupy_kernels()
    yield module
    backend.cuda_available.cache_clear()
    _forget_cupy_kernels()
    sys.modules.pop("scratch_ae.kernels.cupy_kernels", None)
    import scratch_ae.kernels  # noqa: PLC0415

    if hasattr(scratch_ae.kernels, "cupy_kernels"):
        del scratch_ae.kernels.cupy_kernels


def _forget_cupy_kernels():
    """The backend keeps the CuPy fast paths once loaded: drop them (they bind one cupy)."""
    backend._FAST.pop("cupy", None)
    backend._FAST_MODULES.pop("cupy", None)


def pytest_report_header(config):
    """Say so at the top of the report when "cupy" is fake_cupy (NumPy posing as CuPy)."""
    spec = importlib.util.find_spec("cupy")  # finds the module without importing it
    if spec is not None and "fake_cupy" in str(spec.origin):
        return ("cupy: fake_cupy (NumPy on the CPU). The gpu tests run as a REHEARSAL of the "
                "Python path; they verify nothing about a GPU or the CUDA kernels.")
    return None
