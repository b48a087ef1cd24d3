"""im2col against its index formula, col2im as its adjoint, dtypes and clear errors.

These prove the reference (scratch_ae/layers/im2col.py, which the numpy backend runs); the
Numba and CUDA versions are proved equal to it in tests/test_fast_paths.py.
"""

import numpy as np
import pytest
from kernel_cases import CASES

from scratch_ae.geometry import output_hw
from scratch_ae.layers.im2col import col2im, im2col


@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_its_index_formula(case):
    shape, (kh, kw), (sh, sw), pads = case
    x = np.random.default_rng(0).standard_normal(shape)
    n, c, h, w = shape
    oh, ow = output_hw(shape, (kh, kw), (sh, sw), pads)
    col = im2col(x, (kh, kw), (sh, sw), pads)
    assert col.shape == (c * kh * kw, n * oh * ow)
    pt, _, pl, _ = pads
    for ci, i, j, ni, y, q in np.ndindex(c, kh, kw, n, oh, ow):
        r, s = y * sh + i - pt, q * sw + j - pl
        want = x[ni, ci, r, s] if 0 <= r < h and 0 <= s < w else 0.0
        assert col[(ci * kh + i) * kw + j, (ni * oh + y) * ow + q] == want, (ci, i, j, ni, y, q)


@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col's transpose."""
    shape, kernel, stride, pads = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    col = im2col(x, kernel, stride, pads)
    c = rng.standard_normal(col.shape)
    back = col2im(c, shape, kernel, stride, pads)
    assert back.shape == shape
    np.testing.assert_allclose(np.vdot(col, c), np.vdot(x, back), rtol=1e-12)


def test_col2im_adds_where_windows_overlap():
    # A 3x3 kernel with stride 1 on a 3x3 image, padding 1: the centre pixel is read by all
    # nine windows, a corner by four. Folding a column matrix of ones counts the reads.
    col = np.ones((9, 9))
    counts = col2im(col, (1, 1, 3, 3), (3, 3), (1, 1), (1, 1, 1, 1))[0, 0]
    np.testing.assert_array_equal(counts, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_keep_the_input_dtype(dtype):
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 5)).astype(dtype)
    args = ((3, 2), (2, 1), (1, 1, 0, 1))
    col = im2col(x, *args)
    assert col.dtype == dtype
    assert col2im(col, x.shape, *args).dtype == dtype


def test_a_window_larger_than_the_input_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.zeros((1, 1, 2, 2)), (3, 3), (1, 1), (0, 0, 0, 0))


def test_col2im_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"col2im: col of shape \(9, 5\) does not match"):
        col2im(np.zeros((9, 5)), (1, 1, 3, 3), (3, 3), (1, 1), (1, 1, 1, 1))
