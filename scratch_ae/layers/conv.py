"""2-D convolution and transposed convolution, each one matrix product on im2col.

The notation (N, C, OC, H, W, KH, KW, SH, SW, pads, OH, OW) and every size rule (SAME, VALID,
transposed) are in :mod:`scratch_ae.geometry`; im2col and col2im in
:mod:`scratch_ae.layers.im2col`.

How a convolution becomes one matrix product::

    col = im2col(x)                 (C*KH*KW, N*OH*OW)   one column per output position
    W2  = W.reshape(OC, C*KH*KW)    one row per filter
    y   = W2 @ col + b              (OC, N*OH*OW)  -> as images (N, OC, OH, OW)

Its backward is two more matrix products and the adjoint of im2col, ``col2im``. A transposed
convolution runs exactly the same pieces in the other order: its forward is a convolution's
backward and its backward is a convolution's forward (as in DeZero's ``functions_conv.py``).

On the numba backend each layer runs the same products a few images at a time, side by side
on the cores (``backend.fast``, :mod:`scratch_ae.kernels.numba_conv`); what runs on numpy, and
what a learner reads, is the code below.
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
from .im2col import col2im, im2col


def channel_major(x):
    """Images (N, C, H, W) -> (C, N*H*W), a copy: one row per channel, as a GEMM wants."""
    return x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)


def to_images(y2, n, h, w):
    """A GEMM's channel-major (C, N*H*W) -> images (N, C, H, W), C-contiguous (a copy), so
    that the next layer reads each image row by row."""
    xp = backend.get_array_module(y2)
    return xp.ascontiguousarray(y2.reshape(-1, n, h, w).transpose(1, 0, 2, 3))


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
        self.x, self.x_shape, self.pads = x, x.shape, self._pads(x.shape[2:])
        W2, b = self.params["W"].reshape(self.out_ch, -1), self.params["b"]  # (OC, C*KH*KW)
        if fused := backend.fast("conv2d_forward", x):  # Numba: in pieces, on every core;
            self.col = None  # its backward builds each piece's col again, from self.x
            return fused(x, W2, b, self.kernel, self.stride, self.pads)
        n = x.shape[0]
        oh, ow = output_hw(x.shape, self.kernel, self.stride, self.pads)
        self.col = im2col(x, self.kernel, self.stride, self.pads)  # (C*KH*KW, N*OH*OW)
        y = to_images(W2 @ self.col, n, oh, ow)                   # (N, OC, OH, OW)
        return y + b.reshape(1, -1, 1, 1)

    def backward(self, dy):
        backend.check_same_device(dy, self.x, where="Conv2D.backward")
        W = self.params["W"]
        W2 = W.reshape(self.out_ch, -1)
        if fused := backend.fast("conv2d_backward", dy):  # Numba: in pieces, on every core
            dW2, db, dx = fused(dy, self.x, W2, self.kernel, self.stride, self.pads,
                                self.input_grad)
        else:
            dy2 = channel_major(dy)                                # (OC, N*OH*OW)
            dW2 = dy2 @ self.col.T                                 # (OC, C*KH*KW)
            db = dy.sum(axis=(0, 2, 3))                            # (OC,)
            dx = None
            if self.input_grad:  # False on a model's first layer in fit: nobody reads dL/dx
                dx = col2im(W2.T @ dy2, self.x_shape, self.kernel, self.stride, self.pads)
        self.grads["W"] += dW2.reshape(W.shape)
        self.grads["b"] += db
        return dx

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
        n, _, h, w = x.shape
        (oh, ow), self.pads = self._geometry((h, w))
        self.x_shape, y_shape = x.shape, (n, self.out_ch, oh, ow)
        W2, b = self.params["W"].reshape(self.in_ch, -1), self.params["b"]  # (C, OC*KH*KW)
        if fused := backend.fast("conv2d_transpose_forward", x):  # Numba: in pieces
            self.x2, y = fused(x, W2, b, self.kernel, self.stride, self.pads, y_shape)
            return y
        self.x2 = channel_major(x)                                    # (C, N*H*W)
        y = col2im(W2.T @ self.x2, y_shape, self.kernel, self.stride, self.pads)
        return y + b.reshape(1, -1, 1, 1)                            # (N, OC, OH, OW)

    def backward(self, dy):
        backend.check_same_device(dy, self.x2, where="Conv2DTranspose.backward")
        W = self.params["W"]
        W2 = W.reshape(self.in_ch, -1)
        if fused := backend.fast("conv2d_transpose_backward", dy):  # Numba: in pieces
            dW2, db, dx = fused(dy, self.x2, W2, self.x_shape, self.kernel, self.stride,
                                self.pads, self.input_grad)
        else:
            n, _, h, w = self.x_shape
            dcol = im2col(dy, self.kernel, self.stride, self.pads)  # (OC*KH*KW, N*H*W)
            dW2 = self.x2 @ dcol.T                                   # (C, OC*KH*KW)
            db = dy.sum(axis=(0, 2, 3))                              # (OC,)
            dx = to_images(W2 @ dcol, n, h, w) if self.input_grad else None  # (N, C, H, W)
        self.grads["W"] += dW2.reshape(W.shape)
        self.grads["b"] += db
        return dx

    def output_shape(self, input_shape):
        c, h, w = input_shape
        if c != self.in_ch:
            raise ValueError(f"Conv2DTranspose expects {self.in_ch} input channels, got {c}")
        (oh, ow), _ = self._geometry((h, w))
        return (self.out_ch, oh, ow)

    def __repr__(self):
        return (f"Conv2DTranspose({self.in_ch}, {self.out_ch}, kernel_size={self.kernel}, "
                f"stride={self.stride}, padding={self.padding!r})")
