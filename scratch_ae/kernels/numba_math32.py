"""float32 exp and log written out for Numba, so that elementwise loops can inline them.

A call to libm's ``expf``/``logf`` inside a loop stops LLVM from turning the loop into vector
instructions; these are the same functions as plain arithmetic on the float's bits, which it
can inline and vectorize (8 float32 lanes at a time on AVX2). Used by
:mod:`scratch_ae.kernels.numba_elementwise` (SELU, sigmoid, BCE); float64 paths keep libm's.

* :func:`exp_nonpositive32` -- exp(w) for w in [-87, 0] (what SELU's and sigmoid's exp need):
  ``w = k ln2 + r``, ``exp(r)`` by a Taylor polynomial, ``2**k`` built from its bits;
* :func:`expm1_taylor32` -- exp(r) - 1 for |r| < 0.35, exact near 0;
* :func:`log32` -- log(v) for a positive normal float32 (Cephes' logf).

Each agrees with float64 libm to about a unit in the last place (tests/test_numba_math32.py).

Numba caches compiled loops per source file and does not notice when a function they inline
from *another* file changes: after editing this file, delete the caches
(``find scratch_ae -name '*.nbi' -delete``) before measuring anything.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# error_model="numpy": division by zero gives inf/nan as in NumPy, instead of a test per
# division that would stop vectorization (see numba_elementwise).
_INLINE = dict(inline="always", cache=True, nogil=True, error_model="numpy")

# exp(w) for float32 w in [-87, 0] without a call to libm: w = k ln2 + r with |r| <= ln2/2,
# exp(r) by its Taylor polynomial to r**7 (truncation error below 0.35**8/8! < 5e-9, under a
# unit in the last place), and 2**k built from its bits: exponent field k + 127, mantissa 0.
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln2 in two parts


@njit(**_INLINE)
def expm1_taylor32(r):
    """``r + r**2/2! + ... + r**7/7!``: exp(r) - 1 to float32 rounding for |r| < 0.35."""
    return r * (np.float32(1.0) + r * (np.float32(1 / 2) + r * (np.float32(1 / 6) + r * (
        np.float32(1 / 24) + r * (np.float32(1 / 120) + r * (np.float32(1 / 720) + r * (
            np.float32(1 / 5040))))))))


@njit(**_INLINE)
def exp_nonpositive32(w):
    """exp(w) for float32 w in [-87, 0] (exp(-87) is float32's floor); a NaN stays NaN.

    k comes from ``w`` clamped so that it is never NaN (converting a NaN to an integer is
    undefined); the NaN, if any, reaches the result through r.
    """
    ws = w if w >= np.float32(-87.0) else np.float32(-87.0)
    k = np.floor(ws * _LOG2E + np.float32(0.5))  # in [-126, 0]: 2**k is a normal float32
    r = w - k * _LN2_HI - k * _LN2_LO
    two_k = np.int32((np.int32(k) + np.int32(127)) << np.int32(23)).view(np.float32)
    return (np.float32(1.0) + expm1_taylor32(r)) * two_k


# log(v) for a positive normal float32 v without a call to libm (Cephes' logf, within a unit
# in the last place): v = m * 2**e with m in [sqrt(1/2), sqrt(2)), read off v's bits (what
# frexp does), then log(v) = e ln2 + log(1 + x) for x = m - 1, by a minimax polynomial.
_SQRT_HALF = np.float32(0.70710678118654752)


@njit(**_INLINE)
def log32(v):
    """log(v) for a positive normal float32 v; NaN for NaN."""
    one = np.float32(1.0)
    bits = np.float32(v).view(np.int32)
    e = np.float32((bits >> 23) - 126)  # the exponent field, for m in [0.5, 1)
    m = np.int32((bits & np.int32(0x007FFFFF)) | np.int32(0x3F000000)).view(np.float32)
    small = m < _SQRT_HALF  # move m to [sqrt(1/2), sqrt(2)), where the polynomial is accurate
    e = e - one if small else e
    x = (m + m - one) if small else (m - one)
    z = x * x
    y = ((((((((np.float32(7.0376836292e-2) * x - np.float32(1.1514610310e-1)) * x
                + np.float32(1.1676998740e-1)) * x - np.float32(1.2420140846e-1)) * x
              + np.float32(1.4249322787e-1)) * x - np.float32(1.6668057665e-1)) * x
            + np.float32(2.0000714765e-1)) * x - np.float32(2.4999993993e-1)) * x
         + np.float32(3.3333331174e-1)) * x * z
    y = y + np.float32(-2.12194440e-4) * e - np.float32(0.5) * z
    log = x + y + np.float32(0.693359375) * e
    return v if np.isnan(v) else log  # a NaN's bits would give a number: keep the NaN


__all__ = ["exp_nonpositive32", "expm1_taylor32", "log32"]
