"""Readable NumPy kernels: im2col / col2im, max pooling, and the elementwise passes.

This module is the reference. :mod:`scratch_ae.kernels.numba_kernels` has the same functions with
the same signatures and is tested element by element against this one.

The notation (N, C, H, W, KH, KW, SH, SW, pads = (pt, pb, pl, pr), OH, OW) and the size rules
are in :mod:`scratch_ae.geometry`.

Column layout
-------------
``im2col`` turns a batch of images into one matrix so that a whole convolution becomes ONE
matrix product::

    col.shape == (C * KH * KW, N * OH * OW)
    col[(c * KH + i) * KW + j,  (n * OH + oh) * OW + ow] = xpad[n, c, oh * SH + i, ow * SW + j]

where ``xpad`` is ``x`` with the zero padding added. A row is one (channel, kernel offset); a
column is one output position of one image. With the weight reshaped to ``(OC, C*KH*KW)``, the
convolution is ``W2 @ col`` of shape ``(OC, N*OH*OW)``. Rows of ``col`` are long and
contiguous (N*OH*OW elements), which suits both BLAS and the parallel Numba loops.

``col2im`` is the adjoint (transpose) of ``im2col``: every entry of ``col`` is ADDED back to the
pixel it was copied from, so overlapping windows sum, and padding positions are dropped.

Every buffer is allocated with the input's dtype: float32 stays float32.
"""

from __future__ import annotations

import numpy as np

from ..geometry import output_hw, output_size  # noqa: F401 - output_size: part of the kernel API

# SELU's constants (Klambauer et al., 2017): chosen so activations keep mean 0 / variance 1.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

# --------------------------------------------------------------------------------------------
# im2col / col2im


def im2col(x, kernel, stride, pads):
    """Unfold every KH x KW window of ``x`` into a column.

    x      : array of shape (N, C, H, W)
    kernel : (KH, KW);  stride : (SH, SW);  pads : (pt, pb, pl, pr)
    returns: array of shape (C*KH*KW, N*OH*OW), dtype of ``x`` (layout in the module docstring)
    """
    n, c, _, _ = x.shape
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))  # np.pad keeps the dtype
    col = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    # One strided slice per kernel offset (i, j): it picks that offset's pixel from every window
    # at once, so the Python loop runs only KH*KW times.
    for i in range(kh):
        for j in range(kw):
            patch = xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]  # (N, C, OH, OW)
            col[:, i, j] = patch.transpose(1, 0, 2, 3)
    return col.reshape(c * kh * kw, n * oh * ow)


def conv_chunk(n):
    """How many images a conv layer sends through im2col at once: all ``n`` of them here."""
    return n


def map_pieces(fn, *pieces):
    """``[fn(*args) for args in zip(*pieces)]``: a conv layer's work on each piece of its batch,
    in order. Here one after the other; the Numba kernels run the pieces on several threads."""
    return [fn(*args) for args in zip(*pieces, strict=True)]


def col2im(col, x_shape, kernel, stride, pads):
    """Fold columns back into images, summing where windows overlap (the adjoint of im2col).

    col     : array of shape (C*KH*KW, N*OH*OW)
    x_shape : (N, C, H, W) of the image that im2col would have read
    returns : array of shape (N, C, H, W), dtype of ``col``
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, pads
    oh, ow = output_hw(x_shape, kernel, stride, pads)
    col6 = col.reshape(c, kh, kw, n, oh, ow)
    xpad = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            # "+=" rather than "=": with stride < kernel, neighbouring windows share pixels and
            # each of them contributes to that pixel's gradient.
            xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += col6[:, i, j].transpose(
                1, 0, 2, 3
            )
    return np.ascontiguousarray(xpad[:, :, pt : pt + h, pl : pl + w])


# --------------------------------------------------------------------------------------------
# max pooling


def maxpool_forward(x, pool, stride, pads):
    """Max over each PH x PW window.

    x      : array of shape (N, C, H, W);  pool : (PH, PW);  stride : (SH, SW)
    pads   : (pt, pb, pl, pr); padded cells never win (they count as -inf, as in Keras "same")
    returns: y of shape (N, C, OH, OW), dtype of ``x``, and
             argmax of shape (N, C, OH, OW), dtype intp: the winner's position inside its
             window, ``i * PW + j``. Ties go to the FIRST maximum in row-major window order
             (np.argmax's rule), so the gradient later goes to exactly one input per window.
    """
    n, c, _, _ = x.shape
    (ph, pw), (sh, sw), (pt, pb, pl, pr) = pool, stride, pads
    oh, ow = output_hw(x.shape, pool, stride, pads)
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    # Gather the windows as (N, C, OH, OW, PH*PW), row-major inside each window.
    windows = np.empty((n, c, oh, ow, ph * pw), dtype=x.dtype)
    for i in range(ph):
        for j in range(pw):
            windows[..., i * pw + j] = xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
    argmax = np.argmax(windows, axis=-1)
    y = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    return y, argmax.astype(np.intp, copy=False)


def maxpool_backward(dy, argmax, x_shape, pool, stride, pads):
    """Route each output gradient to the one input that won its window.

    dL/dx[n, c, h, w] = sum over windows containing (h, w) whose argmax is (h, w) of dy[window]

    dy, argmax : arrays of shape (N, C, OH, OW) (argmax from :func:`maxpool_forward`)
    returns    : dx of shape x_shape = (N, C, H, W), dtype of ``dy``
    """
    n, c, h, w = x_shape
    (ph, pw), (sh, sw), (pt, pb, pl, pr) = pool, stride, pads
    oh, ow = output_hw(x_shape, pool, stride, pads)
    dxpad = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=dy.dtype)
    zero = np.zeros((), dtype=dy.dtype)
    for i in range(ph):
        for j in range(pw):
            # Overlapping windows (stride < pool) may pick the same pixel: hence "+=".
            won = np.where(argmax == i * pw + j, dy, zero)
            dxpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += won
    return np.ascontiguousarray(dxpad[:, :, pt : pt + h, pl : pl + w])


# --------------------------------------------------------------------------------------------
# elementwise: activations, the BCE gradient, layout changes and optimizer updates
#
# Each is a few NumPy operations. NumPy hands its functions on to CuPy when given CuPy arrays
# (``np.exp(cupy_array)`` runs ``cupy.exp``), so the same lines serve the GPU too: cupy_kernels
# re-exports them. Every operation is a full pass over memory with a temporary array;
# numba_kernels does each function in one or two compiled passes, which is where its speed
# comes from.


def selu_forward(x):
    """SELU and its derivative: ``(y, dy/dx)``, both shaped and typed like ``x``.

    ``y = scale * (x if x > 0 else alpha * (exp(x) - 1))``;
    ``dy/dx = scale if x > 0 else y + scale * alpha`` (since d/dx scale*alpha*(e^x - 1) =
    scale*alpha*e^x = y + scale*alpha). Computing the derivative here, once, makes the layer's
    backward a single multiplication.
    """
    mask = x > 0
    # expm1 of min(x, 0): exact near 0 and never overflows for large positive x.
    y = SELU_SCALE * np.where(mask, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    d = np.where(mask, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)
    return y, d.astype(x.dtype, copy=False)


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))`` without overflow and with full relative precision in both tails.

    With ``e = exp(-|x|)`` (always in (0, 1], so it never overflows): ``1 / (1 + e)`` for
    x >= 0 and ``e / (1 + e)`` for x < 0 -- the same function, rearranged.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_backward(dy, y):
    """``dL/dx = dy * y * (1 - y)`` for ``y = sigmoid(x)``."""
    return dy * y * (1 - y)


def bce_forward(y_pred, y_true, eps, denom):
    """Keras' clipped binary cross-entropy and its gradient: ``(loss, dL/dp)``.

    ``p_c = clip(p, eps, 1 - eps)``; ``loss = -sum(y log p_c + (1 - y) log(1 - p_c)) / denom``;
    ``dL/dp = (p_c - y) / (p_c (1 - p_c)) / denom`` inside the clip range, 0 outside (the clip
    is flat there). ``loss`` is a 0-d array on the input's device.
    """
    p = np.clip(y_pred, eps, 1 - eps)
    inside = (y_pred >= eps) & (y_pred <= 1 - eps)
    terms = y_true * np.log(p) + (1 - y_true) * np.log(1 - p)
    grad = (p - y_true) / (p * (1 - p)) * inside / p.dtype.type(denom)
    return -terms.sum() / denom, grad


def channel_major(x):
    """(N, C, H, W) -> (C, N*H*W), a copy: the layout a GEMM over channels wants."""
    return x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)


def channels_first(y2, n):
    """(C, N*P) -> (N, C, P): a GEMM's channel-major result as C-contiguous images."""
    # .copy() (C order), not np.ascontiguousarray: the method works on CuPy arrays too.
    return y2.reshape(y2.shape[0], n, -1).transpose(1, 0, 2).copy()


def channel_sums(dy):
    """``dy`` (N, C, H, W) summed over n, h, w: a bias gradient (C,)."""
    return dy.sum(axis=(0, 2, 3))


def conv_output(y2, b, n, oh, ow):
    """A convolution's output from its GEMM: ``(OC, N*OH*OW) -> (N, OC, OH, OW)``, plus ``b``."""
    y = channels_first(y2, n).reshape(n, -1, oh, ow)
    y += b.reshape(1, -1, 1, 1)
    return y


def conv_grad_output(dy):
    """``(channel_major(dy), channel_sums(dy))``: the GEMM operand and the bias gradient."""
    return channel_major(dy), channel_sums(dy)


def total(arrays):
    """The sum of every element of every array: a NaN or an infinity anywhere makes it
    non-finite, which is how the numerical guard (scratch_ae/guard.py) tests the gradients with
    one number. A Python float, or a 0-d array on the arrays' device."""
    out = 0.0
    for a in arrays:
        out = out + a.sum()
    return out


def sgd_update(p, g, lr):
    """``p -= lr * g`` in place."""
    p -= lr * g


def rmsprop_update(p, g, a, lr, rho, eps):
    """RMSprop in place: ``a <- rho a + (1 - rho) g**2``; ``p <- p - lr g / (sqrt(a) + eps)``."""
    a *= rho
    a += (1 - rho) * g * g
    p -= lr * g / (np.sqrt(a) + eps)
