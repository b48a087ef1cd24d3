"""Numba kernels: the same functions, signatures and results as :mod:`.numpy_kernels`.

Read :mod:`scratch_ae.kernels.numpy_kernels` first: it has the notation, the column layout and
the reference code. What changes here is only *how* the loops run:

* padding is never materialized: an out-of-range pixel is read as 0 (im2col), skipped
  (col2im, max pooling), so no padded copy of the batch is made;
* each public function is a thin Python wrapper (shapes, allocation with the input's dtype,
  contiguity) around one ``@njit(parallel=True, cache=True)`` loop;
* every parallel loop runs one task per (image, channel) plane, so no two threads ever write
  the same element (im2col: that plane's KH*KW stretches of ``col``; col2im and pooling: that
  plane of the output). That is why none of them needs atomics or a reduction;
* the innermost copies use flat, unsigned offsets so that LLVM can vectorize them (below).

``warmup()`` compiles (or loads from Numba's on-disk cache) every loop for float32 and float64
and returns the seconds it took, so the first-call cost can be measured and reported.
"""

from __future__ import annotations

import os
import time

# Numba's default OpenMP thread pool lets idle workers spin on the cores for a while after each
# parallel loop. These kernels are short (about a millisecond) and alternate with BLAS calls, so
# the spinning workers steal the cores that BLAS and the main thread need next; on a loaded
# machine a parallel call then waits up to a scheduler tick (4-12 ms) for a descheduled worker.
# Passive waiting (sleep at once) avoids that. setdefault: a value the user set always wins. It
# must be set before OpenMP starts, i.e. before the first parallel call in this process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402 - after the environment variable on purpose
from numba import njit, prange  # noqa: E402

from .. import threads  # noqa: E402
from ..geometry import output_hw, output_size  # noqa: F401, E402 - re-exported: same API

# Numba's pool and BLAS's must not both run parallel (see scratch_ae/threads.py): choosing
# here covers code that calls these kernels without going through fit.
threads.ensure("numba")

# --------------------------------------------------------------------------------------------
# the compiled loops
#
# Why the loops index flat, unsigned offsets: Numba, like NumPy, lets x[-1] mean the last
# element, so every *signed* index is tested for a negative sign before it is used. That test
# in the innermost loop stops LLVM from turning the copy into vector instructions; an unsigned
# index (np.uint64) cannot be negative, so the test disappears. Offsets are computed in signed
# arithmetic first and only converted once they are known to be in range.


@njit(cache=True)
def _valid_range(ow, sw, j, pl, w):
    """Output columns q in [lo, hi) whose input column q*sw + j - pl lies inside [0, w)."""
    lo = 0
    while lo < ow and lo * sw + j - pl < 0:
        lo += 1
    hi = ow
    while hi > lo and (hi - 1) * sw + j - pl >= w:
        hi -= 1
    return lo, hi


@njit(parallel=True, cache=True)
def _im2col_loop(x, col, kh, kw, sh, sw, pt, pl, oh, ow):
    n_img, n_ch, h, w = x.shape
    xf = x.reshape(-1)  # both arrays are C-contiguous, so these are views
    cf = col.reshape(-1)
    n_cols = n_img * oh * ow
    # One task per (image, channel) plane: the plane stays in cache while its KH*KW rows of
    # col are written, and no two tasks write the same element of col.
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        plane = (n * n_ch + c) * h * w
        for i in range(kh):
            for j in range(kw):
                lo, hi = _valid_range(ow, sw, j, pl, w)
                row_start = ((c * kh + i) * kw + j) * n_cols + n * oh * ow
                for y in range(oh):
                    d = np.uint64(row_start + y * ow)
                    src = y * sh + i - pt
                    if src < 0 or src >= h:  # a padding row
                        for q in range(ow):
                            cf[d + np.uint64(q)] = 0
                        continue
                    for q in range(lo):  # padding columns on the left ...
                        cf[d + np.uint64(q)] = 0
                    for q in range(hi, ow):  # ... and on the right
                        cf[d + np.uint64(q)] = 0
                    s = np.uint64(plane + src * w + lo * sw + j - pl)  # input of column lo
                    d += np.uint64(lo)
                    if sw == 1:  # the common case gets its own loop: a plain vectorized copy
                        for q in range(hi - lo):
                            cf[d + np.uint64(q)] = xf[s + np.uint64(q)]
                    else:
                        for q in range(hi - lo):
                            cf[d + np.uint64(q)] = xf[s + np.uint64(q * sw)]


@njit(parallel=True, cache=True)
def _col2im_loop(col, dx, kh, kw, sh, sw, pt, pl, oh, ow):
    n_img, n_ch, h, w = dx.shape
    cf = col.reshape(-1)
    df = dx.reshape(-1)
    n_cols = n_img * oh * ow
    # One task per (image, channel) plane of dx: every addition into a plane comes from the
    # same task, so overlapping windows need no atomics.
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        plane = (n * n_ch + c) * h * w
        for k in range(h * w):
            df[np.uint64(plane + k)] = 0
        for i in range(kh):
            for j in range(kw):
                lo, hi = _valid_range(ow, sw, j, pl, w)
                row_start = ((c * kh + i) * kw + j) * n_cols + n * oh * ow
                for y in range(oh):
                    dst = y * sh + i - pt
                    if dst < 0 or dst >= h:
                        continue  # a padding row: its gradient is dropped
                    d = np.uint64(plane + dst * w + lo * sw + j - pl)
                    s = np.uint64(row_start + y * ow + lo)
                    for q in range(hi - lo):
                        df[d + np.uint64(q * sw)] += cf[s + np.uint64(q)]


@njit(parallel=True, cache=True)
def _maxpool_forward_loop(x, y, argmax, ph, pw, sh, sw, pt, pl):
    n_img, n_ch, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        for r in range(oh):
            for q in range(ow):
                best = x[n, c, 0, 0]
                best_k = -1
                for i in range(ph):
                    src = r * sh + i - pt
                    if src < 0 or src >= h:
                        continue  # padding never wins
                    for j in range(pw):
                        s = q * sw + j - pl
                        if s < 0 or s >= w:
                            continue
                        v = x[n, c, src, s]
                        # Strict ">" keeps the FIRST maximum in row-major order on ties.
                        if best_k < 0 or v > best:
                            best = v
                            best_k = i * pw + j
                y[n, c, r, q] = best
                argmax[n, c, r, q] = best_k


@njit(parallel=True, cache=True)
def _maxpool_backward_loop(dy, argmax, dx, pw, sh, sw, pt, pl):
    n_img, n_ch, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        for r in range(h):
            for s in range(w):
                dx[n, c, r, s] = 0
        for r in range(oh):
            for q in range(ow):
                k = argmax[n, c, r, q]
                dx[n, c, r * sh + k // pw - pt, q * sw + k % pw - pl] += dy[n, c, r, q]


# --------------------------------------------------------------------------------------------
# the public functions (same signatures as numpy_kernels)


def im2col(x, kernel, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.im2col`; returns the same array."""
    n, c, _, _ = x.shape
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    x = np.ascontiguousarray(x)
    col = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    _im2col_loop(x, col, kh, kw, sh, sw, pt, pl, oh, ow)
    return col


def col2im(col, x_shape, kernel, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.col2im`; returns the same array."""
    n, c, h, w = (int(v) for v in x_shape)
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x_shape, kernel, stride, pads)
    if col.shape != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im: col of shape {col.shape} does not match x_shape {x_shape}")
    col = np.ascontiguousarray(col)
    dx = np.empty((n, c, h, w), dtype=col.dtype)
    _col2im_loop(col, dx, kh, kw, sh, sw, pt, pl, oh, ow)
    return dx


def maxpool_forward(x, pool, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.maxpool_forward`; same ``(y, argmax)``."""
    n, c, _, _ = x.shape
    (ph, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    oh, ow = output_hw(x.shape, pool, stride, pads)
    x = np.ascontiguousarray(x)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.intp)
    _maxpool_forward_loop(x, y, argmax, ph, pw, sh, sw, pt, pl)
    return y, argmax


def maxpool_backward(dy, argmax, x_shape, pool, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.maxpool_backward`; returns the same array."""
    n, c, h, w = (int(v) for v in x_shape)
    (_, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    dy = np.ascontiguousarray(dy)
    argmax = np.ascontiguousarray(argmax, dtype=np.intp)
    dx = np.empty((n, c, h, w), dtype=dy.dtype)
    _maxpool_backward_loop(dy, argmax, dx, pw, sh, sw, pt, pl)
    return dx


# --------------------------------------------------------------------------------------------


def warmup() -> float:
    """Compile (or load from cache) every kernel for float32 and float64; return seconds spent."""
    start = time.perf_counter()
    for dtype in (np.float32, np.float64):
        x = np.arange(2 * 2 * 5 * 5, dtype=dtype).reshape(2, 2, 5, 5)
        args = ((3, 3), (2, 2), (1, 1, 1, 1))
        col = im2col(x, *args)
        col2im(col, x.shape, *args)
        y, arg = maxpool_forward(x, *args)
        maxpool_backward(y, arg, x.shape, *args)
    return time.perf_counter() - start
