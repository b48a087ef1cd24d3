"""Numba fast paths for the conv and pooling layers: im2col, col2im, max pooling, and whole
conv layers run a few images at a time, side by side on the cores.

Each function computes the same values as a piece of a layer's own code (the reference, which
the numpy backend runs); :data:`FAST` registers them by op and dtype for ``backend.fast``, and
tests/test_fast_paths.py proves each equal to the code it replaces:

==========================  ===============================================================
op                          replaces
==========================  ===============================================================
"im2col", "col2im"          :func:`scratch_ae.layers.im2col.im2col` and ``col2im``
"maxpool_forward/backward"  ``MaxPool2D.forward`` / ``MaxPool2D.backward``
"conv2d_forward/backward"   ``Conv2D.forward`` / ``Conv2D.backward``
"conv2d_transpose_forward"  ``Conv2DTranspose.forward`` (and ``_backward``)
==========================  ===============================================================

How the loops differ from the reference's array code:

* padding is never materialized: an out-of-range pixel is read as 0 (im2col), skipped
  (col2im, max pooling), so no padded copy of the batch is made;
* each public function is a thin Python wrapper (shapes, allocation with the input's dtype,
  contiguity) around compiled loops (``@njit``, cached on disk, releasing the GIL);
* every parallel loop runs one task per (image, channel) plane, so no two threads ever write
  the same element (im2col: that plane's KH*KW stretches of ``col``; col2im and pooling: that
  plane of the output). That is why none of them needs atomics or a reduction;
* the innermost copies use flat, unsigned offsets so that LLVM can vectorize them (below);
* a conv layer goes through in pieces of :data:`PIECE` images (:func:`_pieces`): each piece's
  columns are built where they are used and stay in the CPU's cache between im2col and the
  GEMMs, and the pieces run side by side on the Numba side's threads
  (:func:`scratch_ae.threads.run_pieces`), with serial twins of the loops inside each piece
  and BLAS at one thread, so no two thread pools share the cores. dL/dW is summed in piece
  order, so the numbers do not depend on the threads;
* so a Conv2D keeps its input x for the backward, not ``col`` (9 times x for a 3x3 kernel):
  the backward builds each piece's columns again, in cache, which costs less than writing the
  whole batch's columns to memory and reading them back;
* a 3x3 SAME Conv2D with one input channel and stride 1 (a first layer, on the images) skips
  the columns altogether: direct loops compute its output and its dL/dW, dL/db from the images
  (:func:`_conv1_3x3_forward_loop`; why, in the comment above it).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

from .. import threads
from ..geometry import output_hw

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
def _im2col_loop(x, col, n0, kh, kw, sh, sw, pt, pl, oh, ow):
    """The columns of images ``x`` into ``col``, whose column block of image 0 of ``x`` starts
    at image ``n0`` (0 for a whole batch; a piece's first image for a conv layer's pieces)."""
    n_img, n_ch, h, w = x.shape
    xf = x.reshape(-1)  # both arrays are C-contiguous, so these are views
    cf = col.reshape(-1)
    n_cols = col.shape[1]
    # One task per (image, channel) plane: the plane stays in cache while its KH*KW rows of
    # col are written, and no two tasks write the same element of col.
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        plane = (n * n_ch + c) * h * w
        for i in range(kh):
            for j in range(kw):
                lo, hi = _valid_range(ow, sw, j, pl, w)
                row_start = ((c * kh + i) * kw + j) * n_cols + (n0 + n) * oh * ow
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


# Stride 1 with as many output columns as input columns (a "same" 3x3 or 5x5 convolution: every
# Conv2D of the zoo) has a faster way: output row y of offset (i, j) reads input row y + i - pt
# shifted by j - pl, so a whole (plane, offset) is ONE flat copy of OH*OW values at a fixed
# shift -- a long loop that vectorizes, where the loops above copy rows of only 7 to 28 values,
# shorter than a vector's worth. The values that wrap around from the neighbouring row (the
# padding columns) are then set to 0. 1.5-2x the row-by-row loop (CPU time, 16 images).


@njit(inline="always", cache=True, nogil=True)
def _zero_padding_columns(cf, row, ylo, yhi, lo, hi, ow):
    """Set to 0 the entries of a ``col`` row whose output column q is outside [lo, hi), for the
    output rows [ylo, yhi): the padding columns of one (plane, offset).

    Column by column: a 3x3 kernel has at most one padding column per offset, so this is one
    loop of OH stores, not OH loops of one store each (conv 32->64 on 7x7 planes, backward:
    1.07-1.18x the whole layer, timed A B in one process on the development VM)."""
    for q in range(lo):
        for y in range(ylo, yhi):
            cf[np.uint64(row + y * ow + q)] = 0
    for q in range(hi, ow):
        for y in range(ylo, yhi):
            cf[np.uint64(row + y * ow + q)] = 0


@njit(parallel=True, cache=True, nogil=True)
def _im2col_same1_loop(x, col, n0, kh, kw, pt, pl, oh, ow):
    n_img, n_ch, h, w = x.shape
    xf, cf = x.reshape(-1), col.reshape(-1)
    n_cols = col.shape[1]
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        plane = (n * n_ch + c) * h * w
        for i in range(kh):
            ylo, yhi = max(0, pt - i), min(oh, h + pt - i)  # output rows that read the image
            for j in range(kw):
                lo, hi = _valid_range(ow, 1, j, pl, w)
                row = ((c * kh + i) * kw + j) * n_cols + (n0 + n) * oh * ow
                shift = (i - pt) * w + (j - pl)
                for t in range(ylo * ow):  # padding rows, top ...
                    cf[np.uint64(row + t)] = 0
                for t in range(yhi * ow, oh * ow):  # ... and bottom
                    cf[np.uint64(row + t)] = 0
                t0, t1 = max(ylo * ow, -shift), min(yhi * ow, h * w - shift)
                d, src = np.uint64(row + t0), np.uint64(plane + t0 + shift)
                for t in range(t1 - t0):  # the one long copy
                    cf[d + np.uint64(t)] = xf[src + np.uint64(t)]
                _zero_padding_columns(cf, row, ylo, yhi, lo, hi, ow)  # copied across rows


@njit(parallel=True, cache=True, nogil=True)
def _col2im_same1_loop(col, dx, kh, kw, pt, pl, oh, ow):
    """The adjoint, for a ``col`` this may overwrite (a conv layer's temporary dL/dcol): its
    padding entries are set to 0 first -- they are dropped anyway -- so that each (plane,
    offset) is one flat shifted add, in the same offset order as the loop above (the same
    sums). 1.3x the row-by-row loop."""
    n_img, n_ch, h, w = dx.shape
    cf, df = col.reshape(-1), dx.reshape(-1)
    n_cols = n_img * oh * ow
    for task in prange(n_img * n_ch):
        n = task // n_ch
        c = task % n_ch
        plane = (n * n_ch + c) * h * w
        for k in range(h * w):
            df[np.uint64(plane + k)] = 0
        for i in range(kh):
            ylo, yhi = max(0, pt - i), min(oh, h + pt - i)
            for j in range(kw):
                lo, hi = _valid_range(ow, 1, j, pl, w)
                row = ((c * kh + i) * kw + j) * n_cols + n * oh * ow
                shift = (i - pt) * w + (j - pl)
                _zero_padding_columns(cf, row, ylo, yhi, lo, hi, ow)
                t0, t1 = max(ylo * ow, -shift), min(yhi * ow, h * w - shift)
                d, src = np.uint64(plane + t0 + shift), np.uint64(row + t0)
                for t in range(t1 - t0):
                    df[d + np.uint64(t)] += cf[src + np.uint64(t)]


# The same loops compiled without threads (prange is range then), for the conv layers'
# pieces when run_pieces already runs them on several threads: a thread pool inside a thread
# pool would only oversubscribe the cores. nogil: the pieces' threads run them side by side.


def _serial_twin(loop):
    """``loop``'s Python code compiled without ``parallel``, under a name of its own.

    The name matters: Numba's disk cache files a function under its module, name and first
    line, and its index keys on the signature, the CPU and the bytecode -- not on the compile
    flags. A twin of the same function (``njit(loop.py_func)``) therefore loaded the parallel
    loop's machine code from the cache, and every piece's "serial" loop ran Numba's thread pool
    inside run_pieces' threads (tests/test_numba_conv.py checks the twins' cache files).
    """
    f = loop.py_func
    twin = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial",
                              f.__defaults__, f.__closure__)
    twin.__qualname__ = f.__qualname__ + "_serial"
    twin.__doc__ = f"{f.__name__}, compiled without threads (see _serial_twin)."
    return njit(cache=True, nogil=True)(twin)


_im2col_serial = _serial_twin(_im2col_loop)
_col2im_serial = _serial_twin(_col2im_loop)
_im2col_same1_serial = _serial_twin(_im2col_same1_loop)
_col2im_same1_serial = _serial_twin(_col2im_same1_loop)


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


@njit(parallel=True, cache=True, nogil=True)
def _maxpool2x2_forward(x, y, argmax):
    """The zoo's pooling (2x2 windows, stride 2, no padding), four loads and three selects per
    window, so that it vectorizes: 4.5x the general loop on 28x28x16 planes (CPU time)."""
    n_img, n_ch, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    xf, yf, af = x.reshape(-1), y.reshape(-1), argmax.reshape(-1)
    for task in prange(n_img * n_ch):
        src, dst = task * h * w, task * oh * ow
        for r in range(oh):
            a = np.uint64(src + 2 * r * w)  # the window's top row; b its bottom row
            b = a + np.uint64(w)
            o = np.uint64(dst + r * ow)
            for q in range(ow):
                qq = np.uint64(2 * q)
                v0, v1 = xf[a + qq], xf[a + qq + np.uint64(1)]
                v2, v3 = xf[b + qq], xf[b + qq + np.uint64(1)]
                # strict ">": the FIRST maximum in row-major order wins ties
                m, k = v0, 0
                k = 1 if v1 > m else k
                m = v1 if v1 > m else m
                k = 2 if v2 > m else k
                m = v2 if v2 > m else m
                k = 3 if v3 > m else k
                m = v3 if v3 > m else m
                yf[o + np.uint64(q)] = m
                af[o + np.uint64(q)] = k


@njit(parallel=True, cache=True, nogil=True)
def _maxpool2x2_backward(dy, argmax, dx):
    """dx for 2x2 windows of stride 2, written row by row in one pass (each input cell gets its
    window's dy when it won, else 0), with no separate zeroing pass: 1.3x the general loop."""
    n_img, n_ch, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    df, gf, af = dx.reshape(-1), dy.reshape(-1), argmax.reshape(-1)
    zero = dx.dtype.type(0)
    for task in prange(n_img * n_ch):
        plane, src = task * h * w, task * oh * ow
        for r in range(oh):
            o = np.uint64(src + r * ow)
            for half in range(2):  # the window's top row, then its bottom row
                d = np.uint64(plane + (2 * r + half) * w)
                for s in range(2 * ow):
                    i = o + np.uint64(s >> 1)
                    g, k = gf[i], af[i]
                    df[d + np.uint64(s)] = g if k == 2 * half + (s & 1) else zero
                for s in range(2 * ow, w):  # a last column no window covers (odd width)
                    df[d + np.uint64(s)] = zero
        for s in range(2 * oh * w, h * w):  # a last row no window covers (odd height)
            df[np.uint64(plane + s)] = zero


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
def _channel_major_loop(x, out, sums, n0):
    """out[c, (n0 + n)*P + q] = x[n, c, q] and sums[c] = sum of x[:, c, :], in one pass over x
    (``out`` may be wider than x: its columns for images n0, n0 + 1, ... are written).

    fastmath lets the float64 sums be reassociated, so that they run on vector lanes.
    """
    n_img, c_all, p_all = x.shape
    xf, of = x.reshape(-1), out.reshape(-1)
    width = out.shape[1]
    for c in range(c_all):
        acc = 0.0
        for i in range(n_img):
            s = np.uint64((i * c_all + c) * p_all)
            d = np.uint64(c * width + (n0 + i) * p_all)
            for q in range(p_all):
                v = xf[s + np.uint64(q)]
                of[d + np.uint64(q)] = v
                acc += v
        sums[c] = acc


@njit(cache=True, fastmath=True, nogil=True)
def _channel_sums_loop(x, sums):
    """sums[c] = sum of x[:, c, :], in float64 on vector lanes: the sums of
    :func:`_channel_major_loop` without its copy."""
    n_img, c_all, p_all = x.shape
    xf = x.reshape(-1)
    for c in range(c_all):
        acc = 0.0
        for i in range(n_img):
            s = np.uint64((i * c_all + c) * p_all)
            for q in range(p_all):
                acc += xf[s + np.uint64(q)]
        sums[c] = acc


# A 3x3 "same" conv layer with ONE input channel and stride 1 (the zoo's first layer, on the
# images themselves) is better off without im2col: its GEMM has only 9 rows to sum over, so it
# spends its time writing and reading columns, not multiplying (27 GFLOP/s forward and 14 for
# dL/dW on the development VM, where SGEMM reaches 80). The loops below compute the same sums
# straight from the image, one (image, filter) plane at a time:
#
# * output t = r*W + q of offset (i, j) reads input t + (i - pt)*W + (j - pl): a fixed shift of
#   the flat plane, as in the flat-shift im2col above. So each image is copied three times, once
#   per kernel column j, into a plane with pt rows of zeros above it and 2 - pt below, and with
#   the columns that offset j's shifted reads would wrap into (from the row before or after) set
#   to 0. Those are the padding of the reference's columns, 3 small planes an image instead of 9
#   rows of col;
# * then every output of a filter is the 9 products, summed in registers, in ONE long loop over
#   t that vectorizes (the kernel is unrolled: a loop over rows of 28 would not, since LLVM's
#   vector loop takes 32 at a time);
# * dL/dW[o, i, j] and dL/db[o] are 10 dot products of the dy plane, summed in one pass, in the
#   input's dtype on vector lanes, then added up over the images in float64.
#
# The sums run in another order than the GEMM's (within float rounding: tests/test_fast_paths.py).


@njit(inline="always", cache=True, nogil=True)
def _shifted_planes(xf, start, h, w, pt, pl, src):
    """src[j] (flat, (H + 2)*W + 2): the plane ``xf[start : start + H*W]`` from offset pt*W + pl
    on, zeros around it, and the columns that kernel column j's reads wrap into set to 0."""
    for j in range(3):
        dj = j - pl  # offset j reads input column q + dj for output column q
        row = src[j]
        for t in range(row.size):
            row[t] = 0
        c_lo, c_hi = max(0, dj), min(w, w + dj)  # columns outside are only read by wrapping
        for r in range(h):
            d, s = np.uint64(pt * w + pl + r * w), np.uint64(start + r * w)
            for c in range(c_lo, c_hi):
                row[d + np.uint64(c)] = xf[s + np.uint64(c)]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _conv1_3x3_forward_loop(x, W2, b, y, pt, pl):
    """y (m, OC, H, W) = the 3x3 stride-1 "same" convolution of the 1-channel images x
    (m, 1, H, W) with the filters W2 (OC, 9), plus b."""
    n_img, _, h, w = x.shape
    oc, p = y.shape[1], h * w
    src = np.empty((3, (h + 2) * w + 2), dtype=x.dtype)
    xf, yf = x.reshape(-1), y.reshape(-1)
    one, w1, w2 = np.uint64(1), np.uint64(w), np.uint64(2 * w)
    for n in range(n_img):
        _shifted_planes(xf, n * p, h, w, pt, pl, src)
        s0, s1, s2 = src[0], src[1], src[2]
        for o in range(oc):
            k0, k1, k2, k3, k4, k5, k6, k7, k8 = W2[o, 0], W2[o, 1], W2[o, 2], W2[o, 3], \
                W2[o, 4], W2[o, 5], W2[o, 6], W2[o, 7], W2[o, 8]
            bo, out = b[o], np.uint64((n * oc + o) * p)
            for t in range(p):
                u = np.uint64(t)
                v = k0 * s0[u] + k1 * s1[u + one] + k2 * s2[u + one + one]
                v += k3 * s0[u + w1] + k4 * s1[u + w1 + one] + k5 * s2[u + w1 + one + one]
                v += k6 * s0[u + w2] + k7 * s1[u + w2 + one] + k8 * s2[u + w2 + one + one]
                yf[out + u] = v + bo


@njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def _conv1_3x3_weight_grad_loop(dy, x, pt, pl, dW, db):
    """Adds dL/dW2 (OC, 9) and dL/db (OC,) of the images into the float64 ``dW``, ``db``."""
    n_img, _, h, w = x.shape
    oc, p = dy.shape[1], h * w
    src = np.empty((3, (h + 2) * w + 2), dtype=x.dtype)
    xf, gf = x.reshape(-1), dy.reshape(-1)
    one, w1, w2 = np.uint64(1), np.uint64(w), np.uint64(2 * w)
    zero = dy.dtype.type(0)
    for n in range(n_img):
        _shifted_planes(xf, n * p, h, w, pt, pl, src)
        s0, s1, s2 = src[0], src[1], src[2]
        for o in range(oc):
            g = np.uint64((n * oc + o) * p)
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = total = zero
            for t in range(p):
                u = np.uint64(t)
                v = gf[g + u]
                total += v
                a0 += v * s0[u]
                a1 += v * s1[u + one]
                a2 += v * s2[u + one + one]
                a3 += v * s0[u + w1]
                a4 += v * s1[u + w1 + one]
                a5 += v * s2[u + w1 + one + one]
                a6 += v * s0[u + w2]
                a7 += v * s1[u + w2 + one]
                a8 += v * s2[u + w2 + one + one]
            dW[o, 0] += a0
            dW[o, 1] += a1
            dW[o, 2] += a2
            dW[o, 3] += a3
            dW[o, 4] += a4
            dW[o, 5] += a5
            dW[o, 6] += a6
            dW[o, 7] += a7
            dW[o, 8] += a8
            db[o] += total


# --------------------------------------------------------------------------------------------
# the fast paths (each takes the arguments of the reference code it replaces)


def _im2col_into(x, col, n0, kernel, stride, pads):
    """Write the columns of images ``x`` into ``col`` from image ``n0`` on (the serial loop on
    a piece's thread, the parallel one otherwise)."""
    serial = threads.on_piece_thread()
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    x = np.ascontiguousarray(x)
    if (sh, sw) == (1, 1) and ow == x.shape[3]:
        loop = _im2col_same1_serial if serial else _im2col_same1_loop
        loop(x, col, n0, kh, kw, pt, pl, oh, ow)
    else:
        loop = _im2col_serial if serial else _im2col_loop
        loop(x, col, n0, kh, kw, sh, sw, pt, pl, oh, ow)


def _col2im_into(col, dx, kernel, stride, pads, scratch=False):
    """Fold ``col`` (C*KH*KW, N*OH*OW) into the images ``dx`` (N, C, H, W), in place.

    ``scratch``: ``col`` is the caller's temporary and may be overwritten (the faster loop).
    """
    serial = threads.on_piece_thread()
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(dx.shape, kernel, stride, pads)
    col = np.ascontiguousarray(col)
    if scratch and (sh, sw) == (1, 1) and ow == dx.shape[3]:
        loop = _col2im_same1_serial if serial else _col2im_same1_loop
        loop(col, dx, kh, kw, pt, pl, oh, ow)
    else:
        loop = _col2im_serial if serial else _col2im_loop
        loop(col, dx, kh, kw, sh, sw, pt, pl, oh, ow)


def im2col(x, kernel, stride, pads):
    """:func:`scratch_ae.layers.im2col.im2col`: the same matrix, by a compiled loop."""
    n, c, _, _ = x.shape
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    col = np.empty((c * kernel[0] * kernel[1], n * oh * ow), dtype=x.dtype)
    _im2col_into(x, col, 0, kernel, stride, pads)
    return col


def col2im(col, x_shape, kernel, stride, pads):
    """:func:`scratch_ae.layers.im2col.col2im`: the same images, by a compiled loop."""
    dx = np.empty(tuple(int(v) for v in x_shape), dtype=col.dtype)
    _col2im_into(col, dx, kernel, stride, pads)
    return dx


def maxpool_forward(x, pool, stride, pads):
    """``MaxPool2D.forward``: ``(y, argmax)``, argmax the winner's place ``i * PW + j`` in its
    window (intp), the first of equal maxima."""
    n, c, _, _ = x.shape
    (ph, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    oh, ow = output_hw(x.shape, pool, stride, pads)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.intp)
    if any(pads):
        _maxpool_forward_loop(x, y, argmax, ph, pw, sh, sw, pt, pl)
    elif pool == stride == (2, 2):
        _maxpool2x2_forward(x, y, argmax)
    else:
        _maxpool_forward_unpadded(x, y, argmax, ph, pw, sh, sw)
    return y, argmax


def maxpool_backward(dy, argmax, x_shape, pool, stride, pads):
    """``MaxPool2D.backward``: each dy routed to its window's winner."""
    (_, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    dx = np.empty(tuple(int(v) for v in x_shape), dtype=dy.dtype)
    argmax = argmax.astype(np.intp, copy=False)
    if pool == stride == (2, 2) and not any(pads):
        _maxpool2x2_backward(dy, argmax, dx)
    else:
        _maxpool_backward_loop(dy, argmax, dx, pw, sh, sw, pt, pl)
    return dx


# Images per piece of a conv layer: the columns of 16 images of the zoo's 14x14x16 layer are
# 1.8 MB, which stay in cache between im2col and the GEMMs that read them (whole batches of 128
# were 1.4x slower per image). A layer with little work per image (the zoo's first conv and
# its transposed convs) takes 32, 64, ... images per piece, enough for MIN_PIECE_MACS
# multiply-adds: handing a piece to a thread and back costs tens of microseconds, more than
# such a layer's 16 images take.
# (Powers of two: a batch of 128 then splits into pieces that share out evenly over 2 or 4
# threads.)
PIECE, MIN_PIECE_MACS = 16, 4e6


def _pieces(n: int, macs_per_image: float = 0.0) -> list[slice]:
    """The slices of a batch of ``n`` images that go through a conv layer together: PIECE
    images each, or PIECE times a power of two when ``macs_per_image`` (its GEMM's
    multiply-adds per image) is small. The size depends on the layer and the batch only, never
    on the threads, so neither do the sums of dL/dW over the pieces."""
    size = PIECE
    while macs_per_image and size * macs_per_image < MIN_PIECE_MACS and size < n:
        size *= 2
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _times_transpose(a, b):
    """``a @ b.T`` for ``a`` (M, K) and ``b`` (N, K), as the transpose of ``b @ a.T`` when
    M < N: the same products, summed in another order. With K in the thousands and M, N in
    the tens to hundreds (dL/dW of the zoo's conv layers), OpenBLAS runs the product with more
    rows 1.2-1.4x faster (conv 16->32's dL/dW of 16 images, 619 -> 426 us, timed A B A B
    in one process on the development VM)."""
    return (b @ a.T).T if a.shape[0] < b.shape[0] else a @ b.T


def _columns(x, s, kernel, stride, pads, rows):
    """im2col of the images ``x[s]``: a piece's own (rows, m*OH*OW) matrix, built where it is
    used, so that it is still in the core's cache when the GEMM reads it."""
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    col = np.empty((rows, (s.stop - s.start) * oh * ow), dtype=x.dtype)
    _im2col_into(x[s], col, 0, kernel, stride, pads)
    return col


def _direct(x, kernel, stride, out_hw) -> bool:
    """Whether a Conv2D takes the direct loops: 1 input channel, a 3x3 kernel, stride 1 and an
    output the size of the input (SAME padding)."""
    return (x.shape[1] == 1 and tuple(kernel) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(out_hw) == tuple(x.shape[2:]))


def conv2d_forward(x, W2, b, kernel, stride, pads):
    """``Conv2D.forward``'s ``y = W2 @ im2col(x) + b``, as images, a piece at a time.

    The layer keeps ``x``, not the columns: :func:`conv2d_backward` builds each piece's columns
    again. For a 3x3 kernel the columns are 9 times the size of x; writing them out for the
    backward and reading them back cost more, at batch 128, than building them twice in cache
    (conv 16->32 at batch 128: forward 1.4-1.6x faster, backward about 10% slower).
    """
    n = x.shape[0]
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    p = oh * ow
    x = np.ascontiguousarray(x)
    y = np.empty((n, W2.shape[0], oh, ow), dtype=x.dtype)
    b = np.ascontiguousarray(b, dtype=x.dtype)
    if _direct(x, kernel, stride, (oh, ow)):  # one input channel: no columns
        W2, (pt, _, pl, _) = np.ascontiguousarray(W2), pads
        threads.run_pieces(lambda s: _conv1_3x3_forward_loop(x[s], W2, b, y[s], pt, pl),
                           _pieces(n, W2.size * p))
        return y

    def piece(s):
        m = s.stop - s.start
        y2 = W2 @ _columns(x, s, kernel, stride, pads, W2.shape[1])  # (OC, m*OH*OW)
        _channels_first_loop(y2, y[s].reshape(m, -1, p), b, m)

    threads.run_pieces(piece, _pieces(n, W2.size * p))
    return y


def conv2d_backward(dy, x, W2, kernel, stride, pads, need_dx):
    """``Conv2D.backward``: ``(dL/dW2, dL/db, dL/dx or None)`` from the layer's input ``x``, a
    piece at a time, the pieces' shares of dL/dW2 and dL/db summed in piece order."""
    n, oc = dy.shape[0], dy.shape[1]
    p = dy.shape[2] * dy.shape[3]
    dy, x = np.ascontiguousarray(dy), np.ascontiguousarray(x)
    dx = np.empty(x.shape, dtype=dy.dtype) if need_dx else None
    if not need_dx and _direct(x, kernel, stride, dy.shape[2:]):  # a first layer: no columns
        (pt, _, pl, _) = pads

        def direct(s):
            dW, db = np.zeros(W2.shape), np.zeros(oc)  # float64 sums over the piece
            _conv1_3x3_weight_grad_loop(dy[s], x[s], pt, pl, dW, db)
            return dW, db

        dW, db = _sum_in_order(threads.run_pieces(direct, _pieces(n, W2.size * p)))
        return dW.astype(dy.dtype), db.astype(dy.dtype), None

    def piece(s):
        m = s.stop - s.start
        dy2, db = np.empty((oc, m * p), dtype=dy.dtype), np.empty(oc, dtype=dy.dtype)
        _channel_major_loop(dy[s].reshape(m, oc, p), dy2, db, 0)  # dy2 and its row sums
        if need_dx:  # dL/dcol is a temporary: col2im may reuse it
            _col2im_into(W2.T @ dy2, dx[s], kernel, stride, pads, scratch=True)
        col = _columns(x, s, kernel, stride, pads, W2.shape[1])
        return _times_transpose(dy2, col), db

    return (*_sum_in_order(threads.run_pieces(piece, _pieces(n, W2.size * p))), dx)


def _sum_in_order(parts):
    """``(sum of the first items, sum of the second items)``, added in list order."""
    total = [a.copy() for a in parts[0]]
    for more in parts[1:]:
        for t, a in zip(total, more, strict=True):
            t += a
    return total


def conv2d_transpose_forward(x, W2, b, kernel, stride, pads, y_shape):
    """``Conv2DTranspose.forward``: ``(x2, y)`` with ``x2`` = x channel-major (C, N*H*W) and
    ``y = col2im(W2.T @ x2) + b``, a piece at a time."""
    n, c = x.shape[0], x.shape[1]
    p = x.shape[2] * x.shape[3]
    x = np.ascontiguousarray(x)
    x2 = np.empty((c, n * p), dtype=x.dtype)
    y = np.empty(y_shape, dtype=x.dtype)

    def piece(s):
        m = s.stop - s.start
        _channel_major_loop(x[s].reshape(m, c, p), x2, np.empty(c, dtype=x.dtype), s.start)
        _col2im_into(W2.T @ x2[:, s.start * p : s.stop * p], y[s], kernel, stride, pads)
        y[s] += b.reshape(1, -1, 1, 1)  # while the piece is in cache

    threads.run_pieces(piece, _pieces(n, W2.size * p))
    return x2, y


def conv2d_transpose_backward(dy, x2, W2, x_shape, kernel, stride, pads, need_dx):
    """``Conv2DTranspose.backward``: ``(dL/dW2, dL/db, dL/dx or None)``, a piece at a time."""
    n, c, h, w = (int(v) for v in x_shape)
    dy = np.ascontiguousarray(dy)
    dx = np.empty((n, c, h, w), dtype=dy.dtype) if need_dx else None

    def piece(s):
        dcol = np.empty((W2.shape[1], (s.stop - s.start) * h * w), dtype=dy.dtype)
        _im2col_into(dy[s], dcol, 0, kernel, stride, pads)  # (OC*KH*KW, m*H*W)
        if need_dx:
            dx2 = W2 @ dcol  # (C, m*H*W), channel-major
            m = s.stop - s.start
            _channels_first_loop(dx2, dx[s].reshape(m, c, h * w), np.zeros(c, dy.dtype), m)
        return (_times_transpose(x2[:, s.start * h * w : s.stop * h * w], dcol),)

    (dW2,) = _sum_in_order(threads.run_pieces(piece, _pieces(n, W2.size * h * w)))
    db = np.empty(dy.shape[1], dtype=dy.dtype)  # dy summed over n, oh, ow
    _channel_sums_loop(dy.reshape(n, dy.shape[1], -1), db)
    return dW2, db, dx


FAST = {
    (op, dtype): fn
    for op, fn in (("im2col", im2col), ("col2im", col2im),
                   ("maxpool_forward", maxpool_forward), ("maxpool_backward", maxpool_backward),
                   ("conv2d_forward", conv2d_forward), ("conv2d_backward", conv2d_backward),
                   ("conv2d_transpose_forward", conv2d_transpose_forward),
                   ("conv2d_transpose_backward", conv2d_transpose_backward))
    for dtype in "fd"
}


def warmup() -> None:
    """Compile (or load from Numba's cache) every loop here for float32 and float64."""
    for dtype in (np.float32, np.float64):
        x = np.arange(2 * 2 * 5 * 5, dtype=dtype).reshape(2, 2, 5, 5)
        args = ((3, 3), (2, 2), (1, 1, 1, 1))
        same1 = ((3, 3), (1, 1), (1, 1, 1, 1))
        for serial in (False, True):  # the parallel loops, then their serial twins
            with threads.as_piece_thread(serial):
                col2im(im2col(x, *args), x.shape, *args)
                col = im2col(x, *same1)
                _col2im_into(col, np.empty_like(x), *same1, scratch=True)
        for pool, pads in (((2, 2), (1, 1, 1, 1)), ((2, 2), (0, 0, 0, 0)),
                           ((3, 3), (0, 0, 0, 0))):
            y, arg = maxpool_forward(x, pool, (2, 2), pads)
            maxpool_backward(y, arg, x.shape, pool, (2, 2), pads)
        W2, b = np.ones((3, 2 * 9), dtype), np.zeros(3, dtype)  # Conv2D(2, 3, 3)
        y = conv2d_forward(x, W2, b, *args)
        conv2d_backward(y, x, W2, *args, True)
        x1, W1 = x[:, :1].copy(), np.ones((3, 9), dtype)  # Conv2D(1, 3, 3): the direct loops
        conv2d_backward(conv2d_forward(x1, W1, b, *same1), x1, W1, *same1, False)
        W2t = np.ones((2, 3 * 9), dtype)  # Conv2DTranspose(2, 3, 3): 5x5 -> 9x9
        x2, y = conv2d_transpose_forward(x, W2t, b, *args, (2, 3, 9, 9))
        conv2d_transpose_backward(y, x2, W2t, x.shape, *args, True)
