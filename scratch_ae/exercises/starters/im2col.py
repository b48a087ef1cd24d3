"""Exercise 13 of 15 -- im2col and col2im: how a convolution becomes ONE matrix product.

Tutorial: tutorials/03_conv.py (every Conv2D of the convolutional autoencoder runs on these).
Mirrors:  scratch_ae/layers/im2col.py: the library's answer, to read once you pass.

Notation: x is (N, C, H, W); the kernel is KH x KW, the stride (SH, SW), the zero padding
pads = (pt, pb, pl, pr) (top, bottom, left, right); xpad is x with that padding, and
OH = (H + pt + pb - KH) // SH + 1, OW likewise (``output_hw`` computes both).

    col[(c * KH + i) * KW + j,  (n * OH + oh) * OW + ow] = xpad[n, c, oh * SH + i, ow * SW + j]

One row per (channel, kernel offset), one column per output position of one image: then a
convolution is ``W.reshape(OC, C*KH*KW) @ col``. col2im is its adjoint (the transpose of the
linear map im2col): every entry of col is ADDED back to the pixel it came from -- where windows
overlap, several entries add up -- and the padding is dropped. It is how a convolution's
gradient reaches its input; the checker checks col2im as the backward of im2col.

Check it:  scratch-ae exercise check im2col
"""

from __future__ import annotations

import numpy as np

from scratch_ae.geometry import output_hw


def im2col(x, kernel, stride, pads):
    """x (N, C, H, W) -> col (C*KH*KW, N*OH*OW), dtype of x; layout in the module docstring.

    ``kernel`` is (KH, KW), ``stride`` (SH, SW), ``pads`` (pt, pb, pl, pr).
    Hint: ``np.pad`` adds the padding; a loop over the KH*KW kernel offsets (i, j), each taking
    the strided slice ``xpad[:, :, i : i + SH*OH : SH, j : j + SW*OW : SW]`` (N, C, OH, OW),
    fills a buffer of shape (C, KH, KW, N, OH, OW) -- made with ``dtype=x.dtype`` -- that
    reshapes to col.
    """
    raise NotImplementedError("im2col: one column per window")


def col2im(col, x_shape, kernel, stride, pads):
    """col (C*KH*KW, N*OH*OW) -> dx (N, C, H, W), dtype of col: the adjoint of im2col.

    Hint: the same loop as im2col, in reverse, ADDING (``+=``) each offset's slice into a
    zero-padded image, then cropping the padding off.
    """
    raise NotImplementedError("col2im: add every column back where it came from")
