"""scratch_ae/geometry.py: the shape arithmetic of conv and pooling, one function per size rule:
window positions, TensorFlow's "same" padding (the odd cell at the bottom/right), the forms a
padding argument takes, and the transposed convolution's length (Keras' rule) with its pads.
"""

import numpy as np

from scratch_ae.geometry import same_pads
from scratch_ae.layers.conv import Conv2D


def test_same_padding_puts_the_extra_row_at_the_bottom_right():
    assert same_pads(5, 2, 1) == (0, 1)
    assert same_pads(6, 3, 2) == (0, 1)
    assert same_pads(5, 3, 2) == (1, 1)
    assert same_pads(4, 4, 1) == (1, 2)
    # A 2x2 all-ones kernel on "same": the last row/column sums a single row/column + zeros.
    layer = Conv2D(1, 1, 2, padding="same").astype(np.float64)
    layer.params["W"][...] = 1.0
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y = layer.forward(x)[0, 0]
    np.testing.assert_array_equal(y, [[8, 12, 7], [20, 24, 13], [13, 15, 8]])
