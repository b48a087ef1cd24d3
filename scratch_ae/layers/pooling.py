"""Pooling and upsampling: MaxPool2D, AvgPool2D, GlobalAvgPool2D, UpSampling2D.

Notation: :mod:`scratch_ae.geometry` (PH, PW are the window's KH, KW). Pooling never mixes
channels; the stride defaults to the window size, as in Keras. With "valid" a remainder row is
dropped (7 -> 3 for 2x2); with "same" padded cells never count, as in Keras.
"""

from __future__ import annotations

from .. import backend
from ..geometry import output_hw, pair, resolve_pads
from .base import Layer
from .im2col import col2im, im2col


def _pool_padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return padding.lower()


class _Pool2D(Layer):
    """Shared geometry of the windowed pools."""

    def __init__(self, pool=2, stride=None, padding="valid"):
        super().__init__()
        self.pool = pair(pool, "pool")
        self.stride = self.pool if stride is None else pair(stride, "stride")
        self.padding = _pool_padding(padding)

    def _pads(self, hw):
        return resolve_pads(self.padding, hw, self.pool, self.stride)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        oh, ow = output_hw((1, c, h, w), self.pool, self.stride, self._pads((h, w)))
        return (c, oh, ow)

    def __repr__(self):
        return (f"{type(self).__name__}(pool={self.pool}, stride={self.stride}, "
                f"padding={self.padding!r})")


class MaxPool2D(_Pool2D):
    """Max over each PH x PW window, channel by channel.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW).

    Backward: the max is locally "pick one input", so its gradient is routed, not spread::

        dL/dx[n, c, h, w] = sum of dy[n, c, oh, ow] over the windows (oh, ow) whose maximum
                            is x[n, c, h, w];   0 for every other input.

    Ties: when a window holds several equal maxima, the gradient goes to exactly one of them,
    the FIRST in row-major window order (top row first, then left to right). The forward
    value is the same whichever is picked, and the gradient stays a valid subgradient.
    """

    def forward(self, x, training=False):
        self.check_input(x, ndim=4)
        self.x_shape, self.pads = x.shape, self._pads(x.shape[2:])
        if fused := backend.fast("maxpool_forward", x):  # Numba, CUDA: one compiled loop
            y, self.argmax = fused(x, self.pool, self.stride, self.pads)
            return y
        xp = backend.get_array_module(x)
        n, c, _, _ = x.shape
        (ph, pw), (sh, sw), (pt, pb, pl, pr) = self.pool, self.stride, self.pads
        oh, ow = output_hw(x.shape, self.pool, self.stride, self.pads)
        # Padded cells are -inf, so they never win (Keras' "same").
        xpad = xp.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-xp.inf)
        # Every window's PH*PW cells side by side, in row-major order: (N, C, OH, OW, PH*PW).
        windows = xp.empty((n, c, oh, ow, ph * pw), dtype=x.dtype)
        for i in range(ph):
            for j in range(pw):
                windows[..., i * pw + j] = xpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
        # The winner's place in its window, i * PW + j; argmax takes the FIRST of equal maxima.
        self.argmax = xp.argmax(windows, axis=-1).astype(xp.intp, copy=False)
        return xp.take_along_axis(windows, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        if fused := backend.fast("maxpool_backward", dy, self.argmax):  # Numba, CUDA
            return fused(dy, self.argmax, self.x_shape, self.pool, self.stride, self.pads)
        xp = backend.get_array_module(dy, self.argmax, where="MaxPool2D.backward")
        n, c, h, w = self.x_shape
        (ph, pw), (sh, sw), (pt, pb, pl, pr) = self.pool, self.stride, self.pads
        oh, ow = dy.shape[2:]
        dxpad = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=dy.dtype)
        for i in range(ph):
            for j in range(pw):
                # Route dy to the window cell (i, j) where it won; "+=": overlapping windows
                # (stride < pool) may pick the same pixel.
                won = xp.where(self.argmax == i * pw + j, dy, dy.dtype.type(0))
                dxpad[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += won
        return xp.ascontiguousarray(dxpad[:, :, pt : pt + h, pl : pl + w])


class AvgPool2D(_Pool2D):
    """Mean over each PH x PW window, channel by channel.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW).
    ``y[n, c, oh, ow] = mean of x over the window``; with "same", padded cells are left out of
    the mean (Keras' rule), so an edge window divides by how many real cells it covers.

    Backward: every cell of a window gets an equal share of that window's gradient::

        dL/dx[n, c, h, w] = sum over windows containing (h, w) of dy[n, c, oh, ow] / count(oh, ow)

    Implemented with im2col / col2im on the channels folded into the batch: the forward is a
    column mean, the backward spreads ``dy / count`` over the column and folds it back.
    """

    def _counts(self, xp, hw, pads, dtype):
        """How many real (unpadded) cells each window covers, shape (OH*OW,)."""
        ones = xp.ones((1, 1, *hw), dtype=dtype)
        return im2col(ones, self.pool, self.stride, pads).sum(axis=0)

    def forward(self, x, training=False):
        self.check_input(x, ndim=4)
        xp = backend.get_array_module(x)
        n, c, h, w = x.shape
        pads = self._pads((h, w))
        oh, ow = output_hw(x.shape, self.pool, self.stride, pads)
        counts = self._counts(xp, (h, w), pads, x.dtype)
        # Folding C into the batch makes each channel an independent one-channel image.
        col = im2col(x.reshape(n * c, 1, h, w), self.pool, self.stride, pads)
        y = col.sum(axis=0).reshape(n * c, oh * ow) / counts
        self.x_shape, self.pads, self.counts = x.shape, pads, counts
        return y.reshape(n, c, oh, ow)

    def backward(self, dy):
        xp = backend.get_array_module(dy, self.counts, where="AvgPool2D.backward")
        n, c, h, w = self.x_shape
        ph, pw = self.pool
        share = (dy.reshape(n * c, -1) / self.counts).reshape(1, -1)  # (1, N*C*OH*OW)
        dcol = xp.empty((ph * pw, share.shape[1]), dtype=dy.dtype)
        dcol[...] = share
        dx = col2im(dcol, (n * c, 1, h, w), self.pool, self.stride, self.pads)
        return dx.reshape(n, c, h, w)


class GlobalAvgPool2D(Layer):
    """Mean over the whole image of each channel.

    Shapes: x (N, C, H, W) -> y (N, C).  ``y[n, c] = sum_{h,w} x[n, c, h, w] / (H*W)``.

    Backward: ``dL/dx[n, c, h, w] = dy[n, c] / (H*W)`` for every (h, w).
    """

    def forward(self, x, training=False):
        self.check_input(x, ndim=4)
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dy):
        xp = backend.get_array_module(dy, where="GlobalAvgPool2D.backward")
        _, _, h, w = self.x_shape
        dx = xp.empty(self.x_shape, dtype=dy.dtype)
        dx[...] = (dy / (h * w))[:, :, None, None]
        return dx

    def output_shape(self, input_shape):
        return (input_shape[0],)


class UpSampling2D(Layer):
    """Nearest-neighbour upsampling: each pixel becomes an FH x FW block of copies.

    Shapes: x (N, C, H, W) -> y (N, C, H*FH, W*FW).  ``y[n, c, h, w] = x[n, c, h//FH, w//FW]``.

    Backward: each input pixel was copied FH*FW times, so its gradient is the sum over its
    block: ``dL/dx[n, c, h, w] = sum_{a<FH, b<FW} dy[n, c, h*FH + a, w*FW + b]``.
    """

    def __init__(self, factor=2):
        super().__init__()
        self.factor = pair(factor, "factor")

    def forward(self, x, training=False):
        self.check_input(x, ndim=4)
        fh, fw = self.factor
        return x.repeat(fh, axis=2).repeat(fw, axis=3)

    def backward(self, dy):
        n, c, h2, w2 = dy.shape
        fh, fw = self.factor
        return dy.reshape(n, c, h2 // fh, fh, w2 // fw, fw).sum(axis=(3, 5))

    def output_shape(self, input_shape):
        c, h, w = input_shape
        return (c, h * self.factor[0], w * self.factor[1])

    def __repr__(self):
        return f"UpSampling2D(factor={self.factor})"

