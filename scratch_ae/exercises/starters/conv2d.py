"""Exercise 14 of 15 -- Conv2D: a convolution as one matrix product on im2col, and its backward.

Tutorial: tutorials/03_conv.py (the convolutional autoencoder: Conv 3x3 "same" + SELU + pool).
Mirrors:  scratch_ae/layers/conv.py, class Conv2D: the library's answer, to read once you pass.

With col = im2col(x) of shape (C*KH*KW, N*OH*OW) (exercise 13: here the library's) and
W2 = W.reshape(OC, C*KH*KW), the convolution is

    y2 = W2 @ col + b             (OC, N*OH*OW): one row per filter, one column per position
    y  = y2 as (N, OC, OH, OW)    careful: the columns run over (n, oh, ow)

The math to derive, on paper first, with dy = dL/dy (N, OC, OH, OW) brought to the layout of y2
as dy2 (OC, N*OH*OW):

    dL/dW2 = ?        (OC, C*KH*KW), then reshaped to W's (OC, C, KH, KW)
    dL/db  = ?        (OC,): every image and every output position adds
    dL/dcol = ?       (C*KH*KW, N*OH*OW), and then dL/dx = col2im(dL/dcol)

Check it:  scratch-ae exercise check conv2d
"""

from __future__ import annotations

import numpy as np

from scratch_ae.geometry import check_padding, output_hw, pair, resolve_pads
from scratch_ae.layers.base import Layer, glorot_uniform
from scratch_ae.layers.im2col import col2im, im2col


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library), via im2col.

    Shapes: x (N, C, H, W), W (OC, C, KH, KW), b (OC,), y (N, OC, OH, OW).

    forward(x): ``pads = self.pads(x)``, then im2col, one product, the bias, the reshape to
        images; keep what backward needs (col, x's shape, pads).
    backward(dy): ADD dL/dW and dL/db into ``self.grads`` (``+=``), return dL/dx; never write
        into dy. ``col2im(dcol, x.shape, self.kernel, self.stride, pads)`` folds columns back.

    Hint: ``a.transpose(1, 0, 2, 3)`` swaps the first two axes of a 4-D array; a plain
    ``reshape`` never moves data between axes.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding="same",
                 dtype=np.float32):
        super().__init__()
        self.in_ch, self.out_ch = int(in_ch), int(out_ch)
        self.kernel = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = check_padding(padding)
        kh, kw = self.kernel
        self.add_param("W", glorot_uniform((self.out_ch, self.in_ch, kh, kw),
                                           self.in_ch * kh * kw, self.out_ch * kh * kw, dtype))
        self.add_param("b", np.zeros(self.out_ch, dtype=dtype))

    def pads(self, x):
        """``(pt, pb, pl, pr)`` for images like x ("same" as in Keras, "valid": none)."""
        return resolve_pads(self.padding, x.shape[2:], self.kernel, self.stride)

    def forward(self, x, training=False):
        raise NotImplementedError("Conv2D.forward: im2col, one matrix product, the bias")

    def backward(self, dy):
        raise NotImplementedError("Conv2D.backward: dL/dW, dL/db into self.grads; return "
                                  "dL/dx via col2im")
