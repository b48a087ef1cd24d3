"""CuPy fast paths: CUDA kernels for im2col, col2im and max pooling.

On the GPU every layer runs its own array code with ``xp = cupy``; the four pieces that the
array code does with a Python loop over the window (:mod:`scratch_ae.layers.im2col`,
``MaxPool2D.forward`` and ``backward``) get one CUDA kernel each instead, registered in
:data:`FAST` for ``backend.fast``. Read the reference code first: it has the notation and the
column layout. This module is imported only when a layer meets a CuPy array, so
``import scratch_ae`` never imports CuPy.

How a GPU kernel is written here
--------------------------------
Each function is one ``cupy.ElementwiseKernel``: a few lines of CUDA C that CuPy runs once per
element of the *output*, with ``i`` the element's flat (C-order) index. The body turns ``i``
back into coordinates and computes that one element. ``T`` is a type placeholder: CuPy compiles
one version per dtype it meets (float32, float64), so the dtype follows the input as on the CPU.

* ``im2col``: one thread per element of ``col``. It reads one input pixel, or writes 0 for a
  padding position. Neighbouring threads write neighbouring columns, so writes are coalesced.
* ``col2im``: one thread per *input pixel* -- a gather, not a scatter. A scatter (one thread
  per element of ``col``, adding into its pixel) would need atomic adds, whose order, and so
  whose float rounding, changes from run to run. Here each pixel finds the few (window,
  offset) pairs that covered it and sums them itself, in a fixed order: no atomics, the same
  bits every run. This is Chainer's ``col2im_gpu`` (``chainer/utils/conv.py``), adapted to our
  column layout and to uneven padding.
* ``maxpool_forward``: one thread per output element; the strict ``>`` keeps the FIRST maximum
  of the window in row-major order, the tie rule of the reference (``np.argmax``'s).
* ``maxpool_backward``: one thread per input pixel, again a gather: it visits the windows that
  contain it and adds ``dy`` of those whose ``argmax`` points at it. Deterministic too.

Sums may be added in another order than the reference's (col2im adds the windows of a pixel in
the opposite order), so results agree to rounding, not bit for bit; copies (im2col, the max
pooling forward) agree exactly.

Indices are 32-bit ``int`` inside the kernels (64-bit division is several times slower on a
GPU); the wrappers refuse arrays of 2**31 elements or more with a clear error.
"""

from __future__ import annotations

import time

import cupy
import numpy as np

from ..geometry import output_hw

_INT32_LIMIT = 2**31

# --------------------------------------------------------------------------------------------
# the CUDA bodies (one element each; ``i`` is the flat index of the element)
#
# They are kept as plain strings, (in_params, out_params, body), so that they can be read here
# in one place -- and compiled by any C++ compiler for a check on a machine without a GPU.
# The image index is called ``img``, never ``n``: CuPy wraps each body in code of its own, with
# its own names (``i``, ``_ind``), and its documentation has described ``n`` as one of them (the
# element count; chainer/chainer#1031), so a local ``n`` could clash with CuPy's in some version.
# tests/test_kernels.py checks that no body declares or uses an ``n``.

IM2COL = (
    "raw T x, int32 n_img, int32 n_ch, int32 h, int32 w, int32 kh, int32 kw, "
    "int32 sh, int32 sw, int32 pt, int32 pl, int32 oh, int32 ow",
    "T col",
    """
    // col[(c*KH + ki)*KW + kj, (img*OH + y)*OW + q] = xpad[img, c, y*SH + ki, q*SW + kj]
    int t = i;
    const int q = t % ow;      t /= ow;
    const int y = t % oh;      t /= oh;
    const int img = t % n_img; t /= n_img;
    const int kj = t % kw;     t /= kw;
    const int ki = t % kh;
    const int c = t / kh;
    const int r = y * sh + ki - pt;  // row and column in the unpadded input
    const int s = q * sw + kj - pl;
    col = (r >= 0 && r < h && s >= 0 && s < w) ? x[((img * n_ch + c) * h + r) * w + s] : (T)0;
    """,
)

COL2IM = (
    "raw T col, int32 n_img, int32 n_ch, int32 h, int32 w, int32 kh, int32 kw, "
    "int32 sh, int32 sw, int32 pt, int32 pl, int32 oh, int32 ow",
    "T x",
    """
    // x[img, c, r, s] = sum of col over every (window y, q; offset ki, kj) that read this pixel.
    int t = i;
    const int s = t % w;    t /= w;
    const int r = t % h;    t /= h;
    const int c = t % n_ch;
    const int img = t / n_ch;
    const int rp = r + pt;  // the pixel's row and column in the padded image
    const int sp = s + pl;
    // Window rows y with y*SH <= rp < y*SH + KH: y from ceil((rp - KH + 1) / SH) to rp / SH.
    // (rp - KH + SH) / SH is that ceiling when the numerator is >= 0; when it is negative C
    // rounds toward zero, giving a value <= 0 that the max with 0 discards.
    const int y0 = max(0, (rp - kh + sh) / sh);
    const int y1 = min(oh, rp / sh + 1);
    const int q0 = max(0, (sp - kw + sw) / sw);
    const int q1 = min(ow, sp / sw + 1);
    const int n_cols = n_img * oh * ow;
    T val = 0;
    for (int y = y0; y < y1; ++y) {
        const int ki = rp - y * sh;
        for (int q = q0; q < q1; ++q) {
            const int kj = sp - q * sw;
            val += col[((c * kh + ki) * kw + kj) * n_cols + (img * oh + y) * ow + q];
        }
    }
    x = val;
    """,
)

MAXPOOL_FORWARD = (
    "raw T x, int32 n_ch, int32 h, int32 w, int32 ph, int32 pw, "
    "int32 sh, int32 sw, int32 pt, int32 pl, int32 oh, int32 ow",
    "T y, int64 argmax",
    """
    int t = i;
    const int q = t % ow;   t /= ow;
    const int r = t % oh;   t /= oh;
    const int c = t % n_ch;
    const int img = t / n_ch;
    const int plane = (img * n_ch + c) * h * w;
    T best = 0;
    int best_k = -1;
    for (int ki = 0; ki < ph; ++ki) {
        const int src = r * sh + ki - pt;
        if (src < 0 || src >= h) continue;  // padding never wins
        for (int kj = 0; kj < pw; ++kj) {
            const int s = q * sw + kj - pl;
            if (s < 0 || s >= w) continue;
            const T v = x[plane + src * w + s];
            // Strict ">" keeps the FIRST maximum in row-major window order on ties.
            if (best_k < 0 || v > best) {
                best = v;
                best_k = ki * pw + kj;
            }
        }
    }
    y = best;
    argmax = best_k;
    """,
)

MAXPOOL_BACKWARD = (
    "raw T dy, raw int64 argmax, int32 n_ch, int32 h, int32 w, int32 ph, int32 pw, "
    "int32 sh, int32 sw, int32 pt, int32 pl, int32 oh, int32 ow",
    "T dx",
    """
    // dx[img, c, r, s] = sum of dy over the windows containing (r, s) whose argmax is (r, s).
    int t = i;
    const int s = t % w;    t /= w;
    const int r = t % h;    t /= h;
    const int c = t % n_ch;
    const int img = t / n_ch;
    const int rp = r + pt;
    const int sp = s + pl;
    const int y0 = max(0, (rp - ph + sh) / sh);
    const int y1 = min(oh, rp / sh + 1);
    const int q0 = max(0, (sp - pw + sw) / sw);
    const int q1 = min(ow, sp / sw + 1);
    const int plane = (img * n_ch + c) * oh * ow;
    T val = 0;
    for (int y = y0; y < y1; ++y) {
        for (int q = q0; q < q1; ++q) {
            const int k = (rp - y * sh) * pw + (sp - q * sw);  // this pixel's place in window
            if (argmax[plane + y * ow + q] == k) val += dy[plane + y * ow + q];
        }
    }
    dx = val;
    """,
)


def _elementwise(spec, name):
    in_params, out_params, body = spec
    return cupy.ElementwiseKernel(in_params, out_params, body, name)


# Built once at import; CuPy compiles each on first use per dtype and caches the binary on disk.
_im2col_kernel = _elementwise(IM2COL, "scratch_ae_im2col")
_col2im_kernel = _elementwise(COL2IM, "scratch_ae_col2im")
_maxpool_forward_kernel = _elementwise(MAXPOOL_FORWARD, "scratch_ae_maxpool_forward")
_maxpool_backward_kernel = _elementwise(MAXPOOL_BACKWARD, "scratch_ae_maxpool_backward")


def _check_size(fn: str, *arrays) -> None:
    for a in arrays:
        if a.size >= _INT32_LIMIT:
            raise ValueError(
                f"{fn}: an array of {a.size} elements is too large for these kernels' 32-bit "
                "indices; use a smaller batch"
            )


# --------------------------------------------------------------------------------------------
# the fast paths (each takes the arguments of the reference code it replaces)


def im2col(x, kernel, stride, pads):
    """:func:`scratch_ae.layers.im2col.im2col` on the GPU: the same matrix."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    x = cupy.ascontiguousarray(x)  # the kernel reads x by flat index
    col = cupy.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    _check_size("im2col", x, col)
    _im2col_kernel(x, n, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, col)
    return col


def col2im(col, x_shape, kernel, stride, pads):
    """:func:`scratch_ae.layers.im2col.col2im` on the GPU: the same images."""
    n, c, h, w = (int(v) for v in x_shape)
    (kh, kw), (sh, sw), (pt, _, pl, _) = kernel, stride, pads
    oh, ow = output_hw(x_shape, kernel, stride, pads)
    if col.shape != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im: col of shape {col.shape} does not match x_shape {x_shape}")
    col = cupy.ascontiguousarray(col)
    x = cupy.empty((n, c, h, w), dtype=col.dtype)
    _check_size("col2im", col, x)
    _col2im_kernel(col, n, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, x)
    return x


def maxpool_forward(x, pool, stride, pads):
    """``MaxPool2D.forward`` on the GPU: the same ``(y, argmax)``; ``argmax`` is int64, NumPy's
    ``intp`` on 64-bit machines."""
    n, c, h, w = x.shape
    (ph, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    oh, ow = output_hw(x.shape, pool, stride, pads)
    x = cupy.ascontiguousarray(x)
    y = cupy.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = cupy.empty((n, c, oh, ow), dtype=np.int64)
    _check_size("maxpool_forward", x)
    _maxpool_forward_kernel(x, c, h, w, ph, pw, sh, sw, pt, pl, oh, ow, y, argmax)
    return y, argmax


def maxpool_backward(dy, argmax, x_shape, pool, stride, pads):
    """``MaxPool2D.backward`` on the GPU: the same dL/dx."""
    n, c, h, w = (int(v) for v in x_shape)
    (ph, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    oh, ow = output_hw(x_shape, pool, stride, pads)
    if tuple(dy.shape) != (n, c, oh, ow) or tuple(argmax.shape) != (n, c, oh, ow):
        raise ValueError(
            f"maxpool_backward: dy {tuple(dy.shape)} and argmax {tuple(argmax.shape)} must both "
            f"have shape {(n, c, oh, ow)} for x_shape {tuple(x_shape)}"
        )
    dy = cupy.ascontiguousarray(dy)
    argmax = cupy.ascontiguousarray(argmax, dtype=np.int64)
    dx = cupy.empty((n, c, h, w), dtype=dy.dtype)
    _check_size("maxpool_backward", dx)
    _maxpool_backward_kernel(dy, argmax, c, h, w, ph, pw, sh, sw, pt, pl, oh, ow, dx)
    return dx


FAST = {
    (op, dtype): fn
    for op, fn in (("im2col", im2col), ("col2im", col2im),
                   ("maxpool_forward", maxpool_forward), ("maxpool_backward", maxpool_backward))
    for dtype in "fd"
}


# --------------------------------------------------------------------------------------------


def warmup() -> float:
    """Compile (or load from CuPy's cache) every kernel for float32 and float64; return seconds."""
    start = time.perf_counter()
    for dtype in (np.float32, np.float64):
        x = cupy.arange(2 * 2 * 5 * 5, dtype=dtype).reshape(2, 2, 5, 5)
        args = ((3, 3), (2, 2), (1, 1, 1, 1))
        col = im2col(x, *args)
        col2im(col, x.shape, *args)
        y, arg = maxpool_forward(x, *args)
        maxpool_backward(y, arg, x.shape, *args)
    cupy.cuda.get_current_stream().synchronize()
    return time.perf_counter() - start
