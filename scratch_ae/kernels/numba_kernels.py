"""Numba kernels: the same functions, signatures and results as :mod:`.numpy_kernels`.

Read :mod:`scratch_ae.kernels.numpy_kernels` first: it has the notation, the column layout and
the reference code. What changes here is only *how* the loops run:

* padding is never materialized: an out-of-range pixel is read as 0 (im2col), skipped
  (col2im, max pooling), so no padded copy of the batch is made;
* each public function is a thin Python wrapper (shapes, allocation with the input's dtype,
  contiguity) around one ``@njit(parallel=True, cache=True)`` loop;
* the parallel loops are split so that no two threads ever write the same element: im2col
  over (row, image) pairs of ``col``, col2im and pooling over (image, channel) planes. That is
  why none of them needs atomics or a reduction.

``warmup()`` compiles (or loads from Numba's on-disk cache) every loop for float32 and float64
and returns the seconds it took, so the first-call cost can be measured and reported.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

from .numpy_kernels import output_hw, output_size  # noqa: F401 - re-exported: same API

# --------------------------------------------------------------------------------------------
# the compiled loops


@njit(parallel=True, cache=True)
def _im2col_loop(x, col, kh, kw, sh, sw, pt, pl, oh, ow):
    n_img, _, h, w = x.shape
    rows = col.shape[0]
    for task in prange(rows * n_img):
        row = task // n_img
        n = task % n_img
        c = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        # Output columns whose input column ow*sw + j - pl falls inside [0, w): computing the
        # range once keeps the innermost loop free of bounds tests.
        lo = 0
        while lo < ow and lo * sw + j - pl < 0:
            lo += 1
        hi = ow
        while hi > lo and (hi - 1) * sw + j - pl >= w:
            hi -= 1
        base = n * oh * ow
        for y in range(oh):
            start = base + y * ow
            src = y * sh + i - pt
            if src < 0 or src >= h:
                for q in range(ow):
                    col[row, start + q] = 0
                continue
            for q in range(lo):
                col[row, start + q] = 0
            for q in range(lo, hi):
                col[row, start + q] = x[n, c, src, q * sw + j - pl]
            for q in range(hi, ow):
                col[row, start + q] = 0


@njit(parallel=True, cache=True)
def _col2im_loop(col, dx, kh, kw, sh, sw, pt, pl, oh, ow):
    n_img, n_ch, h, w = dx.shape
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        for r in range(h):
            for s in range(w):
                dx[n, c, r, s] = 0
        base = n * oh * ow
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                for y in range(oh):
                    dst = y * sh + i - pt
                    if dst < 0 or dst >= h:
                        continue
                    start = base + y * ow
                    for q in range(ow):
                        s = q * sw + j - pl
                        if 0 <= s < w:
                            dx[n, c, dst, s] += col[row, start + q]


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
