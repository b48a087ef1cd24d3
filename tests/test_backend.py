"""scratch_ae/backend.py: the backend switch: selection, the environment variable, availability
reports, lazy CuPy, the mixed-array check (simulated without CuPy), seeded generators, and the
CUDA probe (on fake_cupy)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import FakeCupyArray

from scratch_ae import Dense, backend
from scratch_ae.backend import (
    BackendError,
    available_backends,
    get_array_module,
    get_backend,
    set_backend,
    use_backend,
)


def test_get_array_module_of_numpy_arrays():
    assert get_array_module(np.zeros(3)) is np
    assert get_array_module(np.zeros(3), np.ones((2, 2), np.float32)) is np
    assert get_array_module(np.zeros(3), None) is np  # None (a missing bias) is skipped
    assert get_array_module() is np


def test_default_backend_is_numpy(monkeypatch):
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    backend._state["name"] = None
    assert get_backend() == "numpy"


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(BackendError, match=r"unknown backend 'jax': expected one of numpy, "
                                           r"numba, cupy"):
        set_backend("jax")
    assert get_backend() == "numpy"
    with pytest.raises(BackendError, match="unknown backend"):
        backend.array_module_for("tpu")


def test_backend_names_are_case_insensitive():
    set_backend("NumPy")
    assert get_backend() == "numpy"


def test_environment_variable_is_honoured(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv(backend.ENV_VAR, "numba")
    backend._state["name"] = None
    assert get_backend() == "numba"
    assert backend.fast("selu", np.ones(3, np.float32)) is not None  # numba's fast paths


def test_bad_environment_variable_says_where_it_came_from(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "fortran")
    backend._state["name"] = None
    with pytest.raises(BackendError, match=r"\$SCRATCH_AE_BACKEND='fortran': unknown backend"):
        get_backend()


def test_available_backends_reports_every_backend_with_a_reason():
    report = available_backends()
    assert set(report) == {"numpy", "numba", "cupy"}
    for name, (ok, reason) in report.items():
        assert isinstance(ok, bool), name
        assert isinstance(reason, str) and reason, name
    assert report["numpy"][0] is True


def test_cupy_is_reported_unusable_with_a_reason_here():
    ok, reason = available_backends()["cupy"]
    if ok:
        pytest.skip("this machine has a usable CuPy; the CPU-only report cannot be checked")
    assert "CuPy" in reason
    # Asking for it says why, instead of failing later on.
    with pytest.raises(BackendError, match=r"backend 'cupy' is not usable here: .*CuPy"):
        set_backend("cupy")
    with pytest.raises(BackendError, match="not usable here"):
        backend.to_device(np.zeros(2), "cupy")
    assert get_backend() == "numpy"


def test_use_backend_restores_the_previous_backend():
    pytest.importorskip("numba")
    assert get_backend() == "numpy"
    with use_backend("numba") as ctx:
        assert get_backend() == "numba"
        assert isinstance(ctx, use_backend)
    assert get_backend() == "numpy"
    with pytest.raises(RuntimeError, match="boom"), use_backend("numba"):
        raise RuntimeError("boom")
    assert get_backend() == "numpy"


def test_use_backend_with_an_unusable_backend_leaves_the_selection_alone():
    with pytest.raises(BackendError), use_backend("nope"):
        pass
    assert get_backend() == "numpy"


def test_fast_paths_follow_the_selection_for_numpy_arrays():
    x = np.ones((2, 3), np.float32)
    assert backend.fast("selu", x) is None  # numpy: the layer's own code, always
    with backend.use_backend("numba"):
        from scratch_ae.kernels import numba_elementwise  # noqa: PLC0415

        assert backend.fast("selu", x) is numba_elementwise.selu_forward
    assert backend.fast("selu", x) is None


def test_import_does_not_import_cupy():
    code = ("import sys, scratch_ae; import scratch_ae.train, scratch_ae.gradcheck; "
            "assert 'cupy' not in sys.modules, 'cupy imported'; "
            "assert scratch_ae.get_backend() == 'numpy'; print('ok')")
    env = {k: v for k, v in os.environ.items() if k != backend.ENV_VAR}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, check=False, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_mixing_host_and_device_arrays_is_a_type_error():
    with pytest.raises(TypeError, match=r"arrays from different backends were mixed in MyLayer "
                                        r"\(numpy, cupy\).*same backend"):
        get_array_module(np.zeros(3), FakeCupyArray(), where="MyLayer")
    assert backend.is_cupy_array(FakeCupyArray())
    assert not backend.is_cupy_array(np.zeros(2))


def test_to_numpy_and_to_device_on_the_host():
    x = np.arange(4.0)
    assert backend.to_numpy(x) is x
    assert backend.to_device(x) is x
    assert backend.array_module_for() is np
    assert backend.array_module_for("numba") is np


def test_seed_makes_generators_repeatable():
    backend.seed(7)
    a = backend.rng(np).random(5)
    b = backend.rng(np).random(5)  # the same generator keeps going
    backend.seed(7)
    np.testing.assert_array_equal(backend.rng(np).random(5), a)
    assert not np.array_equal(a, b)
    backend.seed(7)
    w1 = Dense(4, 3).params["W"].copy()
    backend.seed(7)
    np.testing.assert_array_equal(Dense(4, 3).params["W"], w1)


# --------------------------------------------------------------------------------------------
# cuda_available's probe, run against fake_cupy (scripts/fake_cupy: NumPy posing as CuPy; the
# fixture is in conftest.py), so that its logic is checked on a machine without a GPU. (A wrong
# expected value in this probe once made every GPU test report "a test kernel returned a wrong
# result".)

def test_cuda_probe_says_yes_when_the_kernels_compute_right(fake_cupy):
    assert backend.cuda_available() == (True, "1 CUDA device(s)")


def test_cuda_probe_catches_a_wrong_matrix_product(fake_cupy, monkeypatch):
    monkeypatch.setattr(fake_cupy.ndarray, "__matmul__", lambda a, b: a[:, :2] * 0 + 1)
    ok, reason = backend.cuda_available()
    assert not ok and "returned a wrong result" in reason


def test_cuda_probe_reports_a_failing_kernel(fake_cupy, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA_ERROR_NO_BINARY_FOR_GPU")

    monkeypatch.setattr(fake_cupy.ndarray, "__matmul__", broken)
    ok, reason = backend.cuda_available()
    assert not ok and "a test kernel failed: CUDA_ERROR_NO_BINARY_FOR_GPU" in reason


def test_cuda_probe_reports_no_device(fake_cupy, monkeypatch):
    monkeypatch.setattr(fake_cupy.cuda.runtime, "getDeviceCount", lambda: 0)
    assert backend.cuda_available() == (False, "CuPy is installed but no CUDA device was found")

    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver")

    monkeypatch.setattr(fake_cupy.cuda.runtime, "getDeviceCount", no_driver)
    backend.cuda_available.cache_clear()
    ok, reason = backend.cuda_available()
    assert not ok and "no CUDA device is usable: cudaErrorInsufficientDriver" in reason


def test_cuda_probe_answer_is_cached(fake_cupy, monkeypatch):
    assert backend.cuda_available()[0]
    monkeypatch.setattr(fake_cupy.cuda.runtime, "getDeviceCount", lambda: 0)
    assert backend.cuda_available()[0], "the probe ran again instead of using its cached answer"
