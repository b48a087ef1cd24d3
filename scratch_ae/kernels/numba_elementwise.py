"""Numba elementwise fast paths: activations, the BCE loss and gradient, optimizer updates.

Each function here computes the same values as a few lines of a layer, loss or optimizer (the
reference, which the numpy backend runs), in one compiled pass instead of several NumPy passes
with their temporaries. The layer asks ``backend.fast(op, ...)`` and gets the function
registered in :data:`FAST` for that op and dtype; tests/test_fast_paths.py proves each equal to
the reference code it replaces:

==================  ==========================================  ===========================
op                  replaces                                    function
==================  ==========================================  ===========================
"selu"              ``SELU.forward`` (y; f'(x) is left to the    :func:`selu_forward`
                    backward)
"selu_backward"     ``SELU.backward``: f'(x) from y, times dy     :func:`selu_backward`
"sigmoid"           ``Sigmoid.forward``                         :func:`sigmoid_forward`
"sigmoid_backward"  ``Sigmoid.backward``                        :func:`sigmoid_backward`
"bce"               ``BCE.forward`` and ``BCE.backward``        :func:`bce_forward`
"sgd"               ``SGD.update`` (no momentum)                :func:`sgd_update`
"rmsprop"           ``RMSprop.update``                          :func:`rmsprop_update`
"total"             the guard's sum of the gradients            :func:`total`
==================  ==========================================  ===========================

float32 results agree with the reference to a few units in the last place (exp and log are
inline polynomials, :mod:`.numba_math32`); float64 ones, and the optimizer updates, to
rounding or exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import threads
from .numba_math32 import exp_nonpositive32, expm1_taylor32, log32

# Each replaces several NumPy passes (and their temporaries) by one loop.
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
# * a call (libm's exp, log, expm1): exp and log are written out, inline (numba_math32.py).

_ELEMENTWISE = dict(cache=True, nogil=True, error_model="numpy")
# The loops that evaluate polynomials (the inline exp and log) also let LLVM fuse a multiply and
# an add into one FMA instruction: fastmath={"contract"}, one rounding instead of two, so as
# accurate or more, and no other fast-math liberty (NaN and infinity behave as in NumPy). It
# made them 1.3-1.6x faster. The optimizer updates do without: they must give the reference's
# bits exactly.
_POLY = dict(_ELEMENTWISE, fastmath={"contract"})


@njit(**_POLY)
def _selu_loop32(x, y, scale, sa):
    """SELU for float32 in one vectorized pass, to a few units in the last place.

    float32's ``expm1`` (NumPy's and libm's) costs ten to twenty times ``exp``. Here
    ``exp(v) - 1`` comes from the inline ``exp`` above, except near 0, where that subtraction
    would lose the low bits and the Taylor polynomial of ``v`` itself is exact to rounding
    instead. No branch has a side effect, so LLVM turns them into vector selects.
    ``scale`` and ``sa`` (scale * alpha) are float32.
    """
    for i in range(x.size):
        v = x[i]
        w = min(max(v, np.float32(-87.0)), np.float32(0.0))  # a NaN stays NaN
        ew = expm1_taylor32(w)
        e = exp_nonpositive32(w)
        neg = sa * (ew if w > np.float32(-0.25) else e - np.float32(1.0))
        y[i] = scale * v if v > 0 else neg


@njit(**_ELEMENTWISE)
def _selu_loop(x, y, scale, alpha):
    for i in range(x.size):
        v = x[i]
        y[i] = scale * v if v > 0 else scale * (alpha * math.expm1(v))


@njit(**_ELEMENTWISE)
def _selu_backward_loop(dy, y, dx, scale, sa):
    """``dx = dy * f'(x)``, with ``f'(x)`` from the forward's y as the layer computes it:
    ``scale`` where y > 0 (exactly where x > 0), else ``y + scale * alpha`` (``sa``)."""
    for i in range(dy.size):
        v = y[i]
        dx[i] = dy[i] * (scale if v > 0 else v + sa)


@njit(**_POLY)
def _sigmoid_loop32(x, y):
    """``y = (1 if x >= 0 else e) / (1 + e)`` with ``e = exp(-|x|)`` (inline): one pass."""
    one = np.float32(1.0)
    for i in range(x.size):
        v = x[i]
        a = -abs(v)
        e = exp_nonpositive32(a if not a < np.float32(-87.0) else np.float32(-87.0))
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
        terms[i] = ti * log32(pc) + (one - ti) * log32(qc)


# Big arrays (the first conv layer's activations: 128 x 16 x 28 x 28 = 1.6 million values; a
# dense decoder's output at batch 128: 100,352) are split into blocks for the Numba side's
# threads when the thread policy gives it several (scratch_ae/threads.py); small ones (a dense
# layer's few thousand values) are not worth waking a thread for. Each block runs the same
# vectorized loop on its slice, so the values are those of one serial pass.
BLOCK, PARALLEL_MIN = 1 << 13, 1 << 16


@njit(parallel=True, cache=True, nogil=True)
def _selu_blocks32(x, y, scale, sa):
    for b in prange((x.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, x.size)
        _selu_loop32(x[lo:hi], y[lo:hi], scale, sa)


@njit(parallel=True, cache=True, nogil=True)
def _selu_backward_blocks(dy, y, dx, scale, sa):
    for b in prange((dy.size + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, dy.size)
        _selu_backward_loop(dy[lo:hi], y[lo:hi], dx[lo:hi], scale, sa)


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
# the fast paths (each takes the arguments of the reference code it replaces)


def selu_forward(x, scale, alpha):
    """``SELU.forward``'s ``y`` for the layer's ``scale`` and ``alpha``, in one pass.

    Only y: :func:`selu_backward` computes ``f'(x)`` from it, in the same pass as its product
    with dy. So the forward writes one array, not two, and the layer keeps one, not two (at
    batch 128 the zoo's first SELU is 6.4 MB an array; there, on two threads, the forward and
    backward together ran 1.6x faster than writing f'(x) here and multiplying by NumPy, timed
    A B in one process on the development VM).
    """
    xc = np.ascontiguousarray(x)
    y = np.empty_like(xc)
    if xc.dtype == np.float32:
        loop = _selu_blocks32 if _in_blocks(xc.size) else _selu_loop32
        # the constants rounded to float32 as the reference's float32 arithmetic rounds them
        loop(xc.reshape(-1), y.reshape(-1), np.float32(scale), np.float32(scale * alpha))
    else:  # float64 (gradient checks): libm's expm1, exact
        _selu_loop(xc.reshape(-1), y.reshape(-1), scale, alpha)
    return y


def selu_backward(dy, y, scale, alpha):
    """``SELU.backward``'s ``dy * f'(x)``, ``f'(x)`` = scale where y > 0, else y + scale*alpha
    (the formula ``SELU.forward`` uses), in one pass over dy and y: the same bits."""
    dyc, yc = np.ascontiguousarray(dy), np.ascontiguousarray(y)
    dx = np.empty_like(dyc)
    dt = yc.dtype.type  # the constants as the reference's arithmetic in y's dtype rounds them
    loop = _selu_backward_blocks if _in_blocks(dyc.size) else _selu_backward_loop
    loop(dyc.reshape(-1), yc.reshape(-1), dx.reshape(-1), dt(scale), dt(scale * alpha))
    return dx


def sigmoid_forward(x):
    """``Sigmoid.forward``'s ``y``: one pass with the exp inline (float32)."""
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
    """``Sigmoid.backward``: ``dy * y * (1 - y)`` in one pass."""
    dyc, yc = np.ascontiguousarray(dy), np.ascontiguousarray(y, dtype=dy.dtype)
    dx = np.empty_like(dyc)
    loop = _sigmoid_backward_blocks if _in_blocks(dyc.size) else _sigmoid_backward_loop
    loop(dyc.reshape(-1), yc.reshape(-1), dx.reshape(-1))
    return dx


def bce_forward(y_pred, y_true, eps, denom):
    """``BCE.forward``'s loss and ``BCE.backward``'s gradient, ``(loss, dL/dp)``, in one pass."""
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


def total(arrays):
    """The guard's sum of every element of ``arrays`` (``guard.grads_finite``), in float64,
    one vectorized pass per array (NumPy's float32 ``sum`` took 2.5x longer)."""
    out = 0.0
    for a in arrays:
        out += _sum64(a.reshape(-1)) if a.flags.c_contiguous else float(a.sum())
    return out


def sgd_update(p, g, lr):
    """``SGD.update`` without momentum, ``p -= lr * g``: one pass, in place (C-contiguous)."""
    _sgd_loop(p.reshape(-1), g.reshape(-1), p.dtype.type(lr))


def rmsprop_update(p, g, a, lr, rho, eps):
    """``RMSprop.update``: ``a`` and ``p`` in one pass, in place (C-contiguous arrays)."""
    dt = p.dtype.type
    _rmsprop_loop(p.reshape(-1), g.reshape(-1), a.reshape(-1), dt(lr), dt(rho), dt(1 - rho),
                  dt(eps))


# The fast paths by (op, dtype char): what backend.fast looks up.
FAST = {
    (op, dtype): fn
    for op, fn in (("selu", selu_forward), ("selu_backward", selu_backward),
                   ("sigmoid", sigmoid_forward),
                   ("sigmoid_backward", sigmoid_backward), ("bce", bce_forward),
                   ("sgd", sgd_update), ("rmsprop", rmsprop_update), ("total", total))
    for dtype in "fd"
}


def warmup() -> None:
    """Compile (or load from Numba's cache) every loop here for float32 and float64."""
    for dtype in (np.float32, np.float64):
        v = np.linspace(-3, 3, 10, dtype=dtype)
        p = np.linspace(0.1, 0.9, 10, dtype=dtype)
        selu_backward(v, selu_forward(v, 1.05, 1.67), 1.05, 1.67)
        sigmoid_backward(v, sigmoid_forward(v))
        bce_forward(p, p, 1e-7, 10)
        sgd_update(v.copy(), v, 0.1)
        rmsprop_update(v.copy(), v, p.copy(), 0.1, 0.9, 1e-7)
        total([v])
    v = np.linspace(-3, 3, 10, dtype=np.float32)
    _selu_blocks32(v, np.empty_like(v), np.float32(1.05), np.float32(1.76))
    _selu_backward_blocks(v, v, np.empty_like(v), np.float32(1.05), np.float32(1.76))
    _sigmoid_blocks32(v, np.empty_like(v))
    _sigmoid_backward_blocks(v, v, np.empty_like(v))
    p = np.linspace(0.1, 0.9, 10, dtype=np.float32)
    _bce_blocks32(p, p, np.empty_like(p), np.empty_like(p), *np.float32([1e-7, 1 - 1e-7, 10]))
