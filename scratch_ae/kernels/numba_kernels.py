"""Numba kernels: the same functions, signatures and results as :mod:`.numpy_kernels`.

Read :mod:`scratch_ae.kernels.numpy_kernels` first: it has the notation, the column layout and
the reference code. What changes here is only *how* the loops run:

* padding is never materialized: an out-of-range pixel is read as 0 (im2col), skipped
  (col2im, max pooling), so no padded copy of the batch is made;
* each public function is a thin Python wrapper (shapes, allocation with the input's dtype,
  contiguity) around one compiled loop (``@njit``, cached on disk, releasing the GIL);
* every parallel loop runs one task per (image, channel) plane, so no two threads ever write
  the same element (im2col: that plane's KH*KW stretches of ``col``; col2im and pooling: that
  plane of the output). That is why none of them needs atomics or a reduction;
* the innermost copies use flat, unsigned offsets so that LLVM can vectorize them (below).

``warmup()`` compiles (or loads from Numba's on-disk cache) every loop for float32 and float64
and returns the seconds it took, so the first-call cost can be measured and reported.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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
from . import numpy_kernels as _reference  # noqa: E402 - the fallback for odd memory layouts

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


@njit(cache=True, nogil=True)
def _valid_range(ow, sw, j, pl, w):
    """Output columns q in [lo, hi) whose input column q*sw + j - pl lies inside [0, w)."""
    lo = 0
    while lo < ow and lo * sw + j - pl < 0:
        lo += 1
    hi = ow
    while hi > lo and (hi - 1) * sw + j - pl >= w:
        hi -= 1
    return lo, hi


@njit(parallel=True, cache=True, nogil=True)
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


@njit(parallel=True, cache=True, nogil=True)
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


# The same two loops compiled without threads (prange is range then), for the conv layers'
# pieces when map_pieces already runs them on several threads: a thread pool inside a thread
# pool would only oversubscribe the cores. nogil: the pieces' threads run them side by side.
_im2col_serial = njit(cache=True, nogil=True)(_im2col_loop.py_func)
_col2im_serial = njit(cache=True, nogil=True)(_col2im_loop.py_func)


@njit(parallel=True, cache=True, nogil=True)
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


@njit(parallel=True, cache=True, nogil=True)
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


@njit(parallel=True, cache=True, nogil=True)
def _maxpool_forward_unpadded(x, y, argmax, ph, pw, sh, sw):
    """The common case (no padding: every window lies inside the image), on flat offsets."""
    n_img, n_ch, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    xf, yf, af = x.reshape(-1), y.reshape(-1), argmax.reshape(-1)
    for task in prange(n_img * n_ch):
        src_plane = task * h * w
        dst = task * oh * ow
        for r in range(oh):
            for q in range(ow):
                s0 = np.uint64(src_plane + r * sh * w + q * sw)
                best = xf[s0]
                best_k = 0
                for i in range(ph):
                    for j in range(pw):
                        v = xf[s0 + np.uint64(i * w + j)]
                        if v > best:  # strict: the FIRST maximum in row-major order wins ties
                            best = v
                            best_k = i * pw + j
                o = np.uint64(dst + r * ow + q)
                yf[o] = best
                af[o] = best_k


# --------------------------------------------------------------------------------------------
# elementwise passes: each replaces several NumPy passes (and their temporaries) by one loop.
# They run on one thread, short next to the GEMMs, except over big arrays when the thread
# policy gives the Numba side several threads (the blocks below; see scratch_ae/threads.py).
#
# Each loop must compile to vector instructions (8 float32 lanes at a time), or it is several
# times slower than the NumPy passes it replaces. Three things stop LLVM from vectorizing, and
# the loops below avoid all three:
#
# * Python's division: ``a / 0`` must raise ZeroDivisionError, so by default Numba tests every
#   divisor first. ``error_model="numpy"`` gives NumPy's semantics instead (inf or nan, as in
#   the reference) and drops the test: the sigmoid and RMSprop loops ran 6x faster with it.
# * a load inside a branch (``x if c else a[i]``): LLVM may not read memory the branch might
#   not read, so values are loaded first and then chosen between (a vector select);
# * a call (libm's exp, log, expm1): exp and log are written out below, inline.

_ELEMENTWISE = dict(cache=True, nogil=True, error_model="numpy")
# The loops that evaluate polynomials (the inline exp and log) also let LLVM fuse a multiply and
# an add into one FMA instruction: fastmath={"contract"}, one rounding instead of two, so as
# accurate or more, and no other fast-math liberty (NaN and infinity behave as in NumPy). It
# made them 1.3-1.6x faster. The optimizer updates do without: they must give the reference's
# bits exactly.
_POLY = dict(_ELEMENTWISE, fastmath={"contract"})
SELU_ALPHA, SELU_SCALE = _reference.SELU_ALPHA, _reference.SELU_SCALE

# exp(w) for float32 w in [-87, 0] without a call to libm: w = k ln2 + r with |r| <= ln2/2,
# exp(r) by its Taylor polynomial to r**7 (truncation error below 0.35**8/8! < 5e-9, under a
# unit in the last place), and 2**k built from its bits: exponent field k + 127, mantissa 0.
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln2 in two parts


@njit(inline="always", **_ELEMENTWISE)
def _expm1_taylor32(r):
    """``r + r**2/2! + ... + r**7/7!``: exp(r) - 1 to float32 rounding for |r| < 0.35."""
    return r * (np.float32(1.0) + r * (np.float32(1 / 2) + r * (np.float32(1 / 6) + r * (
        np.float32(1 / 24) + r * (np.float32(1 / 120) + r * (np.float32(1 / 720) + r * (
            np.float32(1 / 5040))))))))


@njit(inline="always", **_ELEMENTWISE)
def _exp_nonpositive32(w):
    """exp(w) for float32 w in [-87, 0] (exp(-87) is float32's floor); a NaN stays NaN.

    k comes from ``w`` clamped so that it is never NaN (converting a NaN to an integer is
    undefined); the NaN, if any, reaches the result through r.
    """
    ws = w if w >= np.float32(-87.0) else np.float32(-87.0)
    k = np.floor(ws * _LOG2E + np.float32(0.5))  # in [-126, 0]: 2**k is a normal float32
    r = w - k * _LN2_HI - k * _LN2_LO
    two_k = np.int32((np.int32(k) + np.int32(127)) << np.int32(23)).view(np.float32)
    return (np.float32(1.0) + _expm1_taylor32(r)) * two_k


@njit(**_POLY)
def _selu_loop32(x, y, d):
    """SELU for float32 in one vectorized pass, to a few units in the last place.

    float32's ``expm1`` (NumPy's and libm's) costs ten to twenty times ``exp``. Here
    ``exp(v) - 1`` comes from the inline ``exp`` above, except near 0, where that subtraction
    would lose the low bits and the Taylor polynomial of ``v`` itself is exact to rounding
    instead. No branch has a side effect, so LLVM turns them into vector selects.
    """
    scale, sa = np.float32(SELU_SCALE), np.float32(SELU_SCALE * SELU_ALPHA)
    for i in range(x.size):
        v = x[i]
        w = min(max(v, np.float32(-87.0)), np.float32(0.0))  # a NaN stays NaN
        ew = _expm1_taylor32(w)
        e = _exp_nonpositive32(w)
        neg = sa * (ew if w > np.float32(-0.25) else e - np.float32(1.0))
        y[i] = scale * v if v > 0 else neg
        d[i] = scale if v > 0 else neg + sa


@njit(**_ELEMENTWISE)
def _selu_loop(x, y, d):
    scale, alpha = SELU_SCALE, SELU_ALPHA
    for i in range(x.size):
        v = x[i]
        if v > 0:
            y[i] = scale * v
            d[i] = scale
        else:
            e = scale * (alpha * math.expm1(v))
            y[i] = e
            d[i] = e + scale * alpha


@njit(**_POLY)
def _sigmoid_loop32(x, y):
    """``y = (1 if x >= 0 else e) / (1 + e)`` with ``e = exp(-|x|)`` (inline): one pass."""
    one = np.float32(1.0)
    for i in range(x.size):
        v = x[i]
        a = -abs(v)
        e = _exp_nonpositive32(a if not a < np.float32(-87.0) else np.float32(-87.0))
        y[i] = (one if v >= 0 else e) / (one + e)


@njit(**_ELEMENTWISE)
def _sigmoid_loop(x, e, y):
    """float64: ``y = (1 if x >= 0 else e) / (1 + e)`` from ``e = exp(-|x|)`` (by NumPy)."""
    for i in range(x.size):
        ei = e[i]
        y[i] = (1.0 if x[i] >= 0 else ei) / (1.0 + ei)


@njit(**_ELEMENTWISE)
def _sigmoid_backward_loop(dy, y, dx):
    for i in range(dy.size):
        dx[i] = dy[i] * y[i] * (1 - y[i])


# log(v) for a positive normal float32 v without a call to libm (Cephes' logf, within a unit
# in the last place): v = m * 2**e with m in [sqrt(1/2), sqrt(2)), read off v's bits (what
# frexp does), then log(v) = e ln2 + log(1 + x) for x = m - 1, by a minimax polynomial.
_SQRT_HALF = np.float32(0.70710678118654752)


@njit(inline="always", **_ELEMENTWISE)
def _log32(v):
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


@njit(**_POLY)
def _bce_loop32(p, t, g, terms, lo, hi, denom):
    """float32 BCE in one pass: the gradient into ``g`` and each element's
    ``t log p_c + (1 - t) log(1 - p_c)`` into ``terms`` (summed by :func:`_sum64`).
    The clip range [lo, hi] keeps p_c and 1 - p_c positive and normal, as _log32 needs."""
    one = np.float32(1.0)
    for i in range(p.size):
        v, ti = p[i], t[i]
        # clip(v, lo, hi) as two selects (min/max may branch); a NaN stays NaN, as in np.clip,
        # so that the guard sees it in the gradient and the loss
        pl = v if not v < lo else lo
        pc = pl if not pl > hi else hi
        qc = one - pc
        inside = np.float32((v >= lo) & (v <= hi))  # the reference's order: ... * inside / denom
        g[i] = (pc - ti) / (pc * qc) * inside / denom
        terms[i] = ti * _log32(pc) + (one - ti) * _log32(qc)


# Big arrays (the first conv layer's activations: 128 x 16 x 28 x 28 = 1.6 million values; a
# dense decoder's output at batch 128: 100,352) are split into blocks for the Numba side's
# threads when the thread policy gives it several (scratch_ae/threads.py); small ones (a dense
# layer's few thousand values) are not worth waking a thread for. Each block runs the same
# vectorized loop on its slice, so the values are those of one serial pass.
BLOCK, PARALLEL_MIN = 1 << 13, 1 << 16


@njit(parallel=True, cache=True, nogil=True)
def _selu_blocks32(x, y, d):
    for b in prange((x.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, x.size)
        _selu_loop32(x[lo:hi], y[lo:hi], d[lo:hi])


@njit(parallel=True, cache=True, nogil=True)
def _sigmoid_blocks32(x, y):
    for b in prange((x.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, x.size)
        _sigmoid_loop32(x[lo:hi], y[lo:hi])


@njit(parallel=True, cache=True, nogil=True)
def _sigmoid_backward_blocks(dy, y, dx):
    for b in prange((dy.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, dy.size)
        _sigmoid_backward_loop(dy[lo:hi], y[lo:hi], dx[lo:hi])


@njit(parallel=True, cache=True, nogil=True)
def _bce_blocks32(p, t, g, terms, lo_clip, hi_clip, denom):
    for b in prange((p.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, p.size)
        _bce_loop32(p[lo:hi], t[lo:hi], g[lo:hi], terms[lo:hi], lo_clip, hi_clip, denom)


def _in_blocks(size: int) -> bool:
    """Whether an elementwise pass over ``size`` values runs in blocks on the Numba side's
    threads: when it is big and the thread policy gives that side more than one thread."""
    if size < PARALLEL_MIN:
        return False
    policy = threads.current()
    return policy is not None and policy.numba > 1


@njit(**_ELEMENTWISE)
def _bce_grad_loop(p, t, g, lp, lq, lo, hi, one, denom):
    """float64: the gradient into ``g``; the clipped ``p`` and ``1 - p`` into ``lp``, ``lq``
    (to be logged by NumPy's log, exact in float64)."""
    for i in range(p.size):
        v = p[i]
        pc = min(max(v, lo), hi)
        inside = one if (v >= lo) & (v <= hi) else 0 * one
        g[i] = (pc - t[i]) / (pc * (one - pc)) * inside / denom
        lp[i] = pc
        lq[i] = one - pc


@njit(cache=True, fastmath=True, nogil=True)
def _bce_sum_loop(t, lp, lq):
    """``sum(t * log p + (1 - t) * log(1 - p))`` in float64 (fastmath: the sum may be
    reassociated, which lets it run on vector lanes)."""
    total = 0.0
    for i in range(t.size):
        total += t[i] * np.float64(lp[i]) + (1 - t[i]) * np.float64(lq[i])
    return total


@njit(cache=True, fastmath=True, nogil=True)
def _sum64(a):
    """``sum(a)`` in float64 (fastmath: reassociated, so it runs on vector lanes)."""
    total = 0.0
    for i in range(a.size):
        total += np.float64(a[i])
    return total


@njit(cache=True, nogil=True)
def _channels_first_loop(y2, out, b, n):
    """out[n, c, :] = y2[c, n*P:(n+1)*P] + b[c]: (C, N*P) -> (N, C, P) with the bias added."""
    c_all, p_all = y2.shape[0], y2.shape[1] // n
    yf, of = y2.reshape(-1), out.reshape(-1)
    for c in range(c_all):
        bc = b[c]
        for i in range(n):
            s = np.uint64((c * n + i) * p_all)
            d = np.uint64((i * c_all + c) * p_all)
            for q in range(p_all):
                of[d + np.uint64(q)] = yf[s + np.uint64(q)] + bc


@njit(cache=True, fastmath=True, nogil=True)
def _channel_major_loop(x, out, sums):
    """out[c, n*P + q] = x[n, c, q] and sums[c] = sum of x[:, c, :], in one pass over x.

    fastmath lets the float64 sums be reassociated, so that they run on vector lanes.
    """
    n_img, c_all, p_all = x.shape
    xf, of = x.reshape(-1), out.reshape(-1)
    for c in range(c_all):
        acc = 0.0
        for i in range(n_img):
            s = np.uint64((i * c_all + c) * p_all)
            d = np.uint64((c * n_img + i) * p_all)
            for q in range(p_all):
                v = xf[s + np.uint64(q)]
                of[d + np.uint64(q)] = v
                acc += v
        sums[c] = acc


@njit(**_ELEMENTWISE)
def _sgd_loop(p, g, lr):
    for i in range(p.size):
        p[i] -= lr * g[i]


@njit(**_ELEMENTWISE)
def _rmsprop_loop(p, g, a, lr, rho, one_minus_rho, eps):
    for i in range(p.size):
        gi = g[i]
        ai = a[i] * rho + one_minus_rho * gi * gi
        a[i] = ai
        p[i] -= lr * gi / (math.sqrt(ai) + eps)


# --------------------------------------------------------------------------------------------
# the public functions (same signatures as numpy_kernels)


def im2col(x, kernel, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.im2col`; returns the same array."""
    loop = _im2col_serial if _on_piece_thread() else _im2col_loop
    n, c, _, _ = x.shape
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    x = np.ascontiguousarray(x)
    col = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    loop(x, col, kh, kw, sh, sw, pt, pl, oh, ow)
    return col


# Images per im2col in a conv layer: col for 16 images of the zoo's 14x14x16 layer is 1.8 MB,
# which stays in cache between im2col, the GEMM and col2im (whole batches of 128 were 1.4x
# slower per image).
CONV_CHUNK = 16


def conv_chunk(n):
    """See :func:`scratch_ae.kernels.numpy_kernels.conv_chunk`: ``CONV_CHUNK`` images here."""
    return min(n, CONV_CHUNK)


# The pieces' threads: Python threads (the GIL is released in every loop here, nogil, and in
# NumPy's BLAS calls), as many as the thread policy gives the Numba side. They sleep on a lock
# between pieces; they never spin, so they cannot steal a core from BLAS or the main thread.
_pieces = {"size": 0, "executor": None}
_piece_thread = threading.local()


def _mark_piece_thread():
    _piece_thread.active = True


def _on_piece_thread():
    return getattr(_piece_thread, "active", False)


def map_pieces(fn, *pieces):
    """See :func:`scratch_ae.kernels.numpy_kernels.map_pieces`: the same list, in the same
    order, but the pieces run on the Numba side's threads (``threads.current().numba``).

    Each piece's im2col/col2im then runs serially on its own thread (a parallel loop per piece
    would put two thread pools on the cores), and BLAS is at 1 thread whenever the Numba side
    is parallel (threads.py), so one piece is one core. The results are the same numbers as
    one after the other: every piece is computed alone, and the caller sums them in order.
    """
    policy = threads.current()
    size = policy.numba if policy is not None else 1
    if size <= 1 or len(pieces[0]) <= 1 or _on_piece_thread():
        return _reference.map_pieces(fn, *pieces)
    if _pieces["size"] != size:
        if _pieces["executor"] is not None:
            _pieces["executor"].shutdown(wait=True)
        _pieces["executor"] = ThreadPoolExecutor(size, thread_name_prefix="scratch_ae-piece",
                                                 initializer=_mark_piece_thread)
        _pieces["size"] = size
    return list(_pieces["executor"].map(fn, *pieces))


def col2im(col, x_shape, kernel, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.col2im`; returns the same array."""
    loop = _col2im_serial if _on_piece_thread() else _col2im_loop
    n, c, h, w = (int(v) for v in x_shape)
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x_shape, kernel, stride, pads)
    if col.shape != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im: col of shape {col.shape} does not match x_shape {x_shape}")
    col = np.ascontiguousarray(col)
    dx = np.empty((n, c, h, w), dtype=col.dtype)
    loop(col, dx, kh, kw, sh, sw, pt, pl, oh, ow)
    return dx


def maxpool_forward(x, pool, stride, pads):
    """See :func:`scratch_ae.kernels.numpy_kernels.maxpool_forward`; same ``(y, argmax)``."""
    n, c, _, _ = x.shape
    (ph, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    oh, ow = output_hw(x.shape, pool, stride, pads)
    x = np.ascontiguousarray(x)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.intp)
    if any(pads):
        _maxpool_forward_loop(x, y, argmax, ph, pw, sh, sw, pt, pl)
    else:
        _maxpool_forward_unpadded(x, y, argmax, ph, pw, sh, sw)
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


def selu_forward(x):
    """See :func:`scratch_ae.kernels.numpy_kernels.selu_forward`: ``(y, dy/dx)``."""
    xc = np.ascontiguousarray(x)
    y, d = np.empty_like(xc), np.empty_like(xc)
    if xc.dtype == np.float32:
        loop = _selu_blocks32 if _in_blocks(xc.size) else _selu_loop32
        loop(xc.reshape(-1), y.reshape(-1), d.reshape(-1))
    else:  # float64 (gradient checks): libm's expm1, exact
        _selu_loop(xc.reshape(-1), y.reshape(-1), d.reshape(-1))
    return y, d


def sigmoid_forward(x):
    """See :func:`scratch_ae.kernels.numpy_kernels.sigmoid_forward`."""
    xc = np.ascontiguousarray(x)
    y = np.empty_like(xc)
    if xc.dtype == np.float32:  # one pass, exp inline
        (_sigmoid_blocks32 if _in_blocks(xc.size) else _sigmoid_loop32)(xc.reshape(-1),
                                                                          y.reshape(-1))
        return y
    e = np.exp(-np.abs(xc))  # float64 (gradient checks): NumPy's exp, exact
    _sigmoid_loop(xc.reshape(-1), e.reshape(-1), y.reshape(-1))
    return y


def sigmoid_backward(dy, y):
    """See :func:`scratch_ae.kernels.numpy_kernels.sigmoid_backward`; one pass."""
    dyc, yc = np.ascontiguousarray(dy), np.ascontiguousarray(y, dtype=dy.dtype)
    dx = np.empty_like(dyc)
    loop = _sigmoid_backward_blocks if _in_blocks(dyc.size) else _sigmoid_backward_loop
    loop(dyc.reshape(-1), yc.reshape(-1), dx.reshape(-1))
    return dx


def bce_forward(y_pred, y_true, eps, denom):
    """See :func:`scratch_ae.kernels.numpy_kernels.bce_forward`: loss and gradient."""
    p = np.ascontiguousarray(y_pred).reshape(-1)
    t = np.ascontiguousarray(y_true, dtype=p.dtype).reshape(-1)
    g, lp = np.empty_like(p), np.empty_like(p)
    dt = p.dtype.type
    if p.dtype == np.float32:  # one pass, log inline; lp holds each element's term
        loop = _bce_blocks32 if _in_blocks(p.size) else _bce_loop32
        loop(p, t, g, lp, dt(eps), dt(1 - eps), dt(denom))
        total = _sum64(lp)
    else:  # float64 (gradient checks): NumPy's log, exact
        lq = np.empty_like(p)
        _bce_grad_loop(p, t, g, lp, lq, dt(eps), dt(1 - eps), dt(1), dt(denom))
        np.log(lp, out=lp)
        np.log(lq, out=lq)
        total = _bce_sum_loop(t, lp, lq)
    return dt(-total / denom), g.reshape(y_pred.shape)


def channel_major(x):
    """See :func:`scratch_ae.kernels.numpy_kernels.channel_major`."""
    return conv_grad_output(x)[0]


def channels_first(y2, n):
    """See :func:`scratch_ae.kernels.numpy_kernels.channels_first`."""
    c = y2.shape[0]
    out = np.empty((n, c, y2.shape[1] // n), dtype=y2.dtype)
    _channels_first_loop(np.ascontiguousarray(y2), out, np.zeros(c, dtype=y2.dtype), n)
    return out


def channel_sums(dy):
    """See :func:`scratch_ae.kernels.numpy_kernels.channel_sums`."""
    return conv_grad_output(dy)[1]


def conv_output(y2, b, n, oh, ow):
    """See :func:`scratch_ae.kernels.numpy_kernels.conv_output`: layout and bias in one pass."""
    c = y2.shape[0]
    out = np.empty((n, c, oh * ow), dtype=y2.dtype)
    _channels_first_loop(np.ascontiguousarray(y2), out, np.ascontiguousarray(b, y2.dtype), n)
    return out.reshape(n, c, oh, ow)


def conv_grad_output(dy):
    """See :func:`scratch_ae.kernels.numpy_kernels.conv_grad_output`: one pass over ``dy``."""
    n, c = dy.shape[0], dy.shape[1]
    x = np.ascontiguousarray(dy).reshape(n, c, -1)
    out = np.empty((c, x.shape[0] * x.shape[2]), dtype=dy.dtype)
    sums = np.empty(c, dtype=dy.dtype)
    _channel_major_loop(x, out, sums)
    return out, sums


def total(arrays):
    """See :func:`scratch_ae.kernels.numpy_kernels.total`; summed in float64, one vectorized
    pass per array (NumPy's float32 ``sum`` took 2.5x longer on a model's gradients)."""
    out = 0.0
    for a in arrays:
        out += _sum64(a.reshape(-1)) if a.flags.c_contiguous else float(a.sum())
    return out


def sgd_update(p, g, lr):
    """See :func:`scratch_ae.kernels.numpy_kernels.sgd_update`; one pass, in place."""
    if not (p.flags.c_contiguous and g.flags.c_contiguous):
        return _reference.sgd_update(p, g, lr)
    _sgd_loop(p.reshape(-1), g.reshape(-1), p.dtype.type(lr))


def rmsprop_update(p, g, a, lr, rho, eps):
    """See :func:`scratch_ae.kernels.numpy_kernels.rmsprop_update`; one pass, in place."""
    if not (p.flags.c_contiguous and g.flags.c_contiguous and a.flags.c_contiguous):
        return _reference.rmsprop_update(p, g, a, lr, rho, eps)
    dt = p.dtype.type
    _rmsprop_loop(p.reshape(-1), g.reshape(-1), a.reshape(-1), dt(lr), dt(rho), dt(1 - rho),
                  dt(eps))


# --------------------------------------------------------------------------------------------


def warmup() -> float:
    """Compile (or load from cache) every kernel for float32 and float64; return seconds spent."""
    start = time.perf_counter()
    for dtype in (np.float32, np.float64):
        x = np.arange(2 * 2 * 5 * 5, dtype=dtype).reshape(2, 2, 5, 5)
        args = ((3, 3), (2, 2), (1, 1, 1, 1))
        for serial in (False, True):  # the parallel loops, then their serial twins
            _piece_thread.active = serial
            col = im2col(x, *args)
            col2im(col, x.shape, *args)
        _piece_thread.active = False
        y, arg = maxpool_forward(x, *args)
        maxpool_backward(y, arg, x.shape, *args)
    v = np.linspace(-3, 3, 10, dtype=np.float32)
    _selu_blocks32(v, np.empty_like(v), np.empty_like(v))
    _sigmoid_blocks32(v, np.empty_like(v))
    _sigmoid_backward_blocks(v, v, np.empty_like(v))
    p = np.linspace(0.1, 0.9, 10, dtype=np.float32)
    _bce_blocks32(p, p, np.empty_like(p), np.empty_like(p), *np.float32([1e-7, 1 - 1e-7, 10]))
    return time.perf_counter() - start
