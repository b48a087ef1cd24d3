"""scratch_ae/geometry.py: the shape arithmetic of conv and pooling, one function per size rule:
window positions, TensorFlow's "same" padding (the odd cell at the bottom/right), the forms a
padding argument takes, and the transposed convolution's length (Keras' rule) with its pads.
"""

import numpy as np
import pytest

from scratch_ae.geometry import (
    check_padding,
    output_hw,
    output_size,
    pair,
    pair_or_zero,
    resolve_pads,
    same_pads,
    transpose_geometry,
)
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


def test_output_size_counts_the_window_positions():
    for size in range(1, 9):
        for k in range(1, 5):
            for s in range(1, 4):
                for before, after in [(0, 0), (1, 0), (0, 1), (2, 1)]:
                    padded = size + before + after
                    if padded < k:
                        with pytest.raises(ValueError, match="does not fit"):
                            output_size(size, k, s, before, after)
                        continue
                    starts = range(0, padded - k + 1, s)  # every top-left corner of the window
                    assert output_size(size, k, s, before, after) == len(starts)
    assert output_hw((2, 3, 28, 20), (3, 2), (2, 1), (1, 1, 0, 1)) == (14, 20)


def test_same_pads_give_ceil_of_size_over_stride_outputs():
    for size in range(1, 10):
        for k in range(1, 6):
            for s in range(1, 4):
                before, after = same_pads(size, k, s)
                assert after - before in (0, 1), (size, k, s)  # the odd one at the end
                assert output_size(size, k, s, before, after) == -(-size // s), (size, k, s)


def test_pair_and_the_forms_of_a_padding_argument():
    assert pair(3) == (3, 3) and pair((3, 1)) == (3, 1) and pair(np.int64(2)) == (2, 2)
    with pytest.raises(ValueError, match=r"stride must be positive, got \(0, 0\)"):
        pair(0, "stride")
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair of ints"):
        pair("ab", "kernel_size")
    assert pair_or_zero((0, 1)) == (0, 1)
    with pytest.raises(ValueError, match="output_padding must be non-negative"):
        pair_or_zero(-1)
    hw, kernel, stride = (5, 6), (3, 2), (2, 2)
    assert resolve_pads("valid", hw, kernel, stride) == (0, 0, 0, 0)
    assert resolve_pads("SAME", hw, kernel, stride) == (*same_pads(5, 3, 2), *same_pads(6, 2, 2))
    assert resolve_pads(2, hw, kernel, stride) == (2, 2, 2, 2)
    assert resolve_pads((1, 2), hw, kernel, stride) == (1, 1, 2, 2)  # (rows, columns)
    assert resolve_pads([0, 1, 2, 3], hw, kernel, stride) == (0, 1, 2, 3)
    for bad in ("full", -1, (1, 2, 3), (0, 0, -1, 0)):
        with pytest.raises(ValueError, match="padding"):
            resolve_pads(bad, hw, kernel, stride)
    assert check_padding("Same") == "same" and check_padding([1, 0]) == (1, 0)
    for bad, ints in [("full", True), (1, False), ((1, -1), True)]:
        with pytest.raises(ValueError, match="padding"):
            check_padding(bad, allowed_ints=ints)


def test_a_transposed_conv_is_accepted_exactly_when_a_conv_maps_it_back():
    """Keras' length, and pads with which the forward convolution lands on the input length;
    a geometry is refused when no convolution from Keras' length gives that input length."""
    assert transpose_geometry(3, 3, 2, "valid") == (7, (0, 0))
    assert transpose_geometry(7, 3, 2, "same") == (14, (0, 1))
    assert transpose_geometry(3, 3, 2, "same", 1) == (6, (0, 1))
    for size in range(1, 6):
        for k in range(1, 5):
            for s in range(1, 4):
                for padding in ("same", "valid"):
                    for op in (None, 0, 1, 2, 3):
                        if op is None:
                            out = size * s + (max(k - s, 0) if padding == "valid" else 0)
                        else:
                            out = (size - 1) * s + k - 2 * (k // 2 if padding == "same" else 0) + op
                        if padding == "valid":
                            fits = out >= k and (out - k) // s + 1 == size
                        else:
                            fits = out >= 1 and -(-out // s) == size
                        case = (size, k, s, padding, op)
                        if not fits:
                            with pytest.raises(ValueError, match="output_padding"):
                                transpose_geometry(size, k, s, padding, op)
                            continue
                        length, (before, after) = transpose_geometry(size, k, s, padding, op)
                        assert length == out, case
                        assert output_size(length, k, s, before, after) == size, case
