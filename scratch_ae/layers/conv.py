"""2-D convolution and transposed convolution on im2col.

The notation (N, C, OC, H, W, KH, KW, SH, SW, pads, OH, OW) and every size rule (SAME, VALID,
transposed) are in :mod:`scratch_ae.geometry`.

How a convolution becomes one matrix product (see :mod:`scratch_ae.kernels.numpy_kernels`)::

    col = im2col(x)                 (C*KH*KW, N*OH*OW)   one column per output position
    W2  = W.reshape(OC, C*KH*KW)    one row per filter
    y   = W2 @ col                  (OC, N*OH*OW)  -> reshaped to (N, OC, OH, OW)

Its backward is two more matrix products and the adjoint of im2col, ``col2im``. A transposed
convolution runs exactly the same pieces in the other order: its forward is a convolution's
backward and its backward is a convolution's forward (as in DeZero's ``functions_conv.py``).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..geometry import (
    check_padding,
    output_hw,
    pair,
    pair_or_zero,
    resolve_pads,
    transpose_geometry,
)
from .base import Layer, glorot_uniform


def pieces(K, n: int) -> list[slice]:
    """The slices of a batch of ``n`` images that go through im2col together.

    The kernels decide (``K.conv_chunk(n)``): NumPy, the reference, and CuPy take the whole
    batch at once; Numba a few images at a time, so that each piece's ``col`` matrix (KH*KW
    times the size of its images) stays in the CPU's cache between im2col and the GEMM. That
    was 1.4x faster per layer at batch 128, and gives the same numbers to rounding.
    """
    c = K.conv_chunk(n)
    return [slice(i, min(i + c, n)) for i in range(0, n, c)]


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    ``y[n, o, oh, ow] = b[o] + sum_{c,i,j} W[o, c, i, j] * xpad[n, c, oh*SH + i, ow*SW + j]``

    Shapes: x (N, C, H, W), W (OC, C, KH, KW) as in PyTorch, b (OC,), y (N, OC, OH, OW) with

    * ``padding="same"``  (Keras/TF SAME): OH = ceil(H / SH), extra pad at the bottom/right;
    * ``padding="valid"``: OH = (H - KH) // SH + 1;
    * ``padding=p`` (int, pair or (pt, pb, pl, pr)): OH = (H + pt + pb - KH) // SH + 1.

    Backward, with ``dy = dL/dy`` reshaped to ``dy2`` (OC, N*OH*OW) and ``col = im2col(x)``::

        dL/dW = dy2 @ col.T                 (OC, C*KH*KW) -> (OC, C, KH, KW)
        dL/db = sum over n, oh, ow of dy    (OC,)
        dL/dx = col2im(W2.T @ dy2)          (N, C, H, W)

    i.e. each input pixel collects ``W[o, c, i, j] * dy[n, o, oh, ow]`` from every output
    position whose window covered it. Weights are glorot-uniform with Keras' fans
    (fan_in = C*KH*KW, fan_out = OC*KH*KW); biases start at zero.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding="same",
                 dtype=np.float32):
        super().__init__()
        self.in_ch, self.out_ch = int(in_ch), int(out_ch)
        self.kernel = self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = check_padding(padding)
        kh, kw = self.kernel
        shape = (self.out_ch, self.in_ch, kh, kw)
        self.add_param("W", glorot_uniform(shape, self.in_ch * kh * kw, self.out_ch * kh * kw,
                                           dtype))
        self.add_param("b", backend.to_device(np.zeros(self.out_ch, dtype=dtype)))

    def _pads(self, hw):
        return resolve_pads(self.padding, hw, self.kernel, self.stride)

    def forward(self, x, training=False):
        self.check_input(x, ndim=4, features=(self.in_ch, None, None))
        xp = backend.get_array_module(x)
        K = backend.kernels(xp)
        n = x.shape[0]
        pads = self._pads(x.shape[2:])
        oh, ow = output_hw(x.shape, self.kernel, self.stride, pads)
        W2, b = self.params["W"].reshape(self.out_ch, -1), self.params["b"]

        def one(s):  # one piece of the batch: its columns and its output
            col = K.im2col(x[s], self.kernel, self.stride, pads)  # (C*KH*KW, n*OH*OW)
            # W2 @ col comes out channel-major; one copy makes it C-contiguous NCHW so that the
            # next layer reads it row by row, and adds the bias on the way: y = W2 @ col + b.
            return col, K.conv_output(W2 @ col, b, s.stop - s.start, oh, ow)

        # One piece, the whole batch, except on Numba, which may also run them side by side.
        self.pieces = pieces(K, n)
        self.cols, ys = zip(*K.map_pieces(one, self.pieces), strict=True)
        self.x_shape, self.pads = x.shape, pads
        return ys[0] if len(ys) == 1 else xp.concatenate(ys)

    def backward(self, dy):
        xp = backend.get_array_module(dy, self.cols[0], where="Conv2D.backward")
        K = backend.kernels(xp)
        W = self.params["W"]

        def one(s, col):  # one piece: its share of dL/dW and dL/db, and its dL/dx
            # dy2: dy as (OC, n*OH*OW), a copy (dy is only read); db: dy summed over n, oh, ow.
            dy2, db = K.conv_grad_output(dy[s])
            dx = None
            if self.input_grad:  # False on the model's first layer in fit: nobody reads dL/dx
                dcol = W.reshape(self.out_ch, -1).T @ dy2  # (C*KH*KW, n*OH*OW)
                shape = (s.stop - s.start, *self.x_shape[1:])
                dx = K.col2im(dcol, shape, self.kernel, self.stride, self.pads)
            return dy2 @ col.T, db, dx

        dxs = []
        for dW, db, dx in K.map_pieces(one, self.pieces, self.cols):  # summed in piece order
            self.grads["W"] += dW.reshape(W.shape)
            self.grads["b"] += db
            dxs.append(dx)
        if not self.input_grad:
            return None
        return dxs[0] if len(dxs) == 1 else xp.concatenate(dxs)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        if c != self.in_ch:
            raise ValueError(f"Conv2D expects {self.in_ch} input channels, got {c}")
        pads = self._pads((h, w))
        oh, ow = output_hw((1, c, h, w), self.kernel, self.stride, pads)
        return (self.out_ch, oh, ow)

    def __repr__(self):
        return (f"Conv2D({self.in_ch}, {self.out_ch}, kernel_size={self.kernel}, "
                f"stride={self.stride}, padding={self.padding!r})")


class Conv2DTranspose(Layer):
    """Transposed convolution ("deconvolution"): the adjoint of :class:`Conv2D`.

    Each input pixel ``x[n, c, h, w]`` stamps the kernel ``W[c, :, :, :]``, scaled by its value,
    onto the output at ``(h*SH - pt, w*SW - pl)``; overlapping stamps add up::

        y = col2im(W2.T @ x2) + b      x2 = x as (C, N*H*W),  W2 = W.reshape(C, OC*KH*KW)

    Shapes: x (N, C, H, W), W (C, OC, KH, KW) (PyTorch's transposed layout), b (OC,),
    y (N, OC, OH, OW) with Keras' sizes: "valid": OH = (H-1)*SH + KH (when KH >= SH; H*SH
    otherwise), "same": OH = H*SH; ``output_padding`` as in Keras (see
    :func:`transpose_geometry`).

    Backward, with ``dcol = im2col(dy)`` of shape (OC*KH*KW, N*H*W) -- a forward convolution::

        dL/dx = W2 @ dcol               (C, N*H*W) -> (N, C, H, W)
        dL/dW = x2 @ dcol.T             (C, OC*KH*KW) -> (C, OC, KH, KW)
        dL/db = sum over n, oh, ow of dy

    With the same weight array, ``<Conv2D(x), y> == <x, Conv2DTranspose(y)>`` (biases zero):
    this layer is exactly the transpose of a convolution from (OC, OH, OW) to (C, H, W).
    Weights are glorot-uniform with Keras' fans for a transposed conv (fan_in = OC*KH*KW,
    fan_out = C*KH*KW; the sum, hence the limit, is symmetric anyway); biases start at zero.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding="same",
                 output_padding=None, dtype=np.float32):
        super().__init__()
        self.in_ch, self.out_ch = int(in_ch), int(out_ch)
        self.kernel = self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = check_padding(padding, allowed_ints=False)
        self.output_padding = None if output_padding is None else pair_or_zero(output_padding)
        kh, kw = self.kernel
        shape = (self.in_ch, self.out_ch, kh, kw)
        self.add_param("W", glorot_uniform(shape, self.out_ch * kh * kw, self.in_ch * kh * kw,
                                           dtype))
        self.add_param("b", backend.to_device(np.zeros(self.out_ch, dtype=dtype)))

    def _geometry(self, hw):
        """``(OH, OW)`` and the pads of the convolution this layer is the transpose of."""
        op = self.output_padding or (None, None)
        (oh, (pt, pb)), (ow, (pl, pr)) = (
            transpose_geometry(size, k, s, self.padding, p)
            for size, k, s, p in zip(hw, self.kernel, self.stride, op, strict=True)
        )
        return (oh, ow), (pt, pb, pl, pr)

    def forward(self, x, training=False):
        self.check_input(x, ndim=4, features=(self.in_ch, None, None))
        xp = backend.get_array_module(x)
        K = backend.kernels(xp)
        n, _, h, w = x.shape
        (oh, ow), pads = self._geometry((h, w))
        W2 = self.params["W"].reshape(self.in_ch, -1)

        def one(s):  # one piece of the batch: its input, channel-major, and its output
            x2 = K.channel_major(x[s])  # (C, n*H*W)
            col = W2.T @ x2  # (OC*KH*KW, n*H*W)
            return x2, K.col2im(col, (s.stop - s.start, self.out_ch, oh, ow), self.kernel,
                                self.stride, pads)

        # One piece, the whole batch, except on Numba, which may also run them side by side.
        self.pieces = pieces(K, n)
        self.x2s, ys = zip(*K.map_pieces(one, self.pieces), strict=True)
        y = ys[0] if len(ys) == 1 else xp.concatenate(ys)
        y += self.params["b"].reshape(1, -1, 1, 1)
        self.x_shape, self.pads = x.shape, pads
        return y

    def backward(self, dy):
        xp = backend.get_array_module(dy, self.x2s[0], where="Conv2DTranspose.backward")
        K = backend.kernels(xp)
        W = self.params["W"]
        _, c, h, w = self.x_shape

        def one(s, x2):  # one piece: its share of dL/dW, and its dL/dx
            dcol = K.im2col(dy[s], self.kernel, self.stride, self.pads)  # (OC*KH*KW, n*H*W)
            dx = None
            if self.input_grad:  # False on the model's first layer in fit: nobody reads dL/dx
                dx2 = W.reshape(self.in_ch, -1) @ dcol  # (C, n*H*W)
                m = s.stop - s.start
                dx = K.channels_first(dx2, m).reshape(m, c, h, w)
            return x2 @ dcol.T, dx

        dxs = []
        for dW, dx in K.map_pieces(one, self.pieces, self.x2s):  # summed in piece order
            self.grads["W"] += dW.reshape(W.shape)
            dxs.append(dx)
        self.grads["b"] += K.channel_sums(dy)
        if not self.input_grad:
            return None
        return dxs[0] if len(dxs) == 1 else xp.concatenate(dxs)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        if c != self.in_ch:
            raise ValueError(f"Conv2DTranspose expects {self.in_ch} input channels, got {c}")
        (oh, ow), _ = self._geometry((h, w))
        return (self.out_ch, oh, ow)

    def __repr__(self):
        return (f"Conv2DTranspose({self.in_ch}, {self.out_ch}, kernel_size={self.kernel}, "
                f"stride={self.stride}, padding={self.padding!r})")
