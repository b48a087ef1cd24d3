"""scratch_ae/kernels/numba_math32.py: the float32 exp and log that the Numba elementwise loops
inline, against float64 libm."""

import numpy as np
from numba import njit

from scratch_ae.kernels.numba_math32 import exp_nonpositive32, expm1_taylor32, log32


@njit
def _apply(fn_id, v, out):
    for i in range(v.size):
        if fn_id == 0:
            out[i] = log32(v[i])
        elif fn_id == 1:
            out[i] = exp_nonpositive32(v[i])
        else:
            out[i] = expm1_taylor32(v[i])


def _ulps(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32))


def test_log32_is_within_an_ulp():
    """Over [1e-7, 1) (BCE's clip range) and beyond."""
    v = np.concatenate([np.random.default_rng(5).random(200_000), np.logspace(-7, 0, 5000,
                        endpoint=False), [1e-7, 0.5, 1 - 6e-8, 2.0, 3e5]]).astype(np.float32)
    got = np.empty_like(v)
    _apply(0, v, got)
    assert _ulps(got, np.log(v.astype(np.float64))).max() <= 1.0


def test_exp_nonpositive32_is_within_two_ulps_down_to_floats_floor():
    v = np.concatenate([-np.random.default_rng(6).random(100_000) * 87,
                        [0.0, -0.0, -1e-30, -0.34657, -0.34658, -87.0]]).astype(np.float32)
    got = np.empty_like(v)
    _apply(1, v, got)
    assert _ulps(got, np.exp(v.astype(np.float64))).max() <= 2.0


def test_expm1_taylor32_keeps_full_precision_near_zero():
    v = np.concatenate([-np.logspace(-30, np.log10(0.34), 2000),
                        np.logspace(-30, np.log10(0.34), 2000)]).astype(np.float32)
    got = np.empty_like(v)
    _apply(2, v, got)
    assert _ulps(got, np.expm1(v.astype(np.float64))).max() <= 2.0


def test_nan_stays_nan():
    v = np.array([np.nan], np.float32)
    for fn_id in (0, 1, 2):
        out = np.empty_like(v)
        _apply(fn_id, v, out)
        assert np.isnan(out[0]), fn_id
