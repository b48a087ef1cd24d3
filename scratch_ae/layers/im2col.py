"""im2col and col2im: how a convolution becomes ONE matrix product.

The notation (N, C, H, W, KH, KW, SH, SW, pads = (pt, pb, pl, pr), OH, OW) and the size rules
are in :mod:`scratch_ae.geometry`.

``im2col`` copies every KH x KW window of a batch of images into a column of one matrix::

    col.shape == (C * KH * KW, N * OH * OW)
    col[(c * KH + i) * KW + j,  (n * OH + oh) * OW + ow] = xpad[n, c, oh * SH + i, ow * SW + j]

where ``xpad`` is ``x`` with the zero padding added. A row is one (channel, kernel offset); a
column is one output position of one image. With the weight reshaped to ``(OC, C*KH*KW)``, the
convolution is ``W2 @ col`` of shape ``(OC, N*OH*OW)`` (see :mod:`scratch_ae.layers.conv`).

``col2im`` is the adjoint (transpose) of ``im2col``: every entry of ``col`` is ADDED back to the
pixel it was copied from, so overlapping windows sum, and padding positions are dropped. It is
how a convolution's gradient reaches its input, and how a transposed convolution draws.

Both are plain array code (``xp`` is NumPy or CuPy) that loops over the KH*KW kernel offsets
only, one strided slice each. The numba and cupy backends run compiled loops instead
(``backend.fast``); every buffer keeps the input's dtype.
"""

from __future__ import annotations

from .. import backend
from ..geometry import output_hw


def im2col(x, kernel, stride, pads):
    """Unfold every KH x KW window of ``x`` into a column.

    x      : array of shape (N, C, H, W)
    kernel : (KH, KW);  stride : (SH, SW);  pads : (pt, pb, pl, pr)
    returns: array of shape (C*KH*KW, N*OH*OW), dtype of ``x`` (layout in the module docstring)
    """
    if fused := backend.fast("im2col", x):  # Numba, CUDA: a compiled loop, no padded copy
        return fused(x, kernel, stride, pads)
    xp = backend.get_array_module(x)
    n, c, _, _ = x.shape
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, pads
    oh, ow = output_hw(x.shape, kernel, stride, pads)
    xpad = xp.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))  # pad keeps the dtype
    col = xp.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    # One strided slice per kernel offset (i, j): it picks that offset's pixel from every window
    # at once, so the Python loop runs only KH*KW times.
    for i in range(kh):
        for j in range(kw):
            patch = xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]  # (N, C, OH, OW)
            col[:, i, j] = patch.transpose(1, 0, 2, 3)
    return col.reshape(c * kh * kw, n * oh * ow)


def col2im(col, x_shape, kernel, stride, pads):
    """Fold columns back into images, summing where windows overlap (the adjoint of im2col).

    col     : array of shape (C*KH*KW, N*OH*OW)
    x_shape : (N, C, H, W) of the image that im2col would have read
    returns : array of shape (N, C, H, W), dtype of ``col``
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, pads
    oh, ow = output_hw(x_shape, kernel, stride, pads)
    if tuple(col.shape) != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im: col of shape {tuple(col.shape)} does not match x_shape "
                         f"{tuple(x_shape)}: expected {(c * kh * kw, n * oh * ow)}")
    if fused := backend.fast("col2im", col):  # Numba, CUDA: a compiled loop
        return fused(col, x_shape, kernel, stride, pads)
    xp = backend.get_array_module(col)
    col6 = col.reshape(c, kh, kw, n, oh, ow)
    xpad = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            # "+=" rather than "=": with stride < kernel, neighbouring windows share pixels and
            # each of them contributes to that pixel's gradient.
            xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += col6[:, i, j].transpose(
                1, 0, 2, 3
            )
    return xp.ascontiguousarray(xpad[:, :, pt : pt + h, pl : pl + w])


__all__ = ["col2im", "im2col"]
