"""The kernels: im2col against its index formula, col2im as its adjoint, max pooling against a
naive loop, ties, dtypes, and the Numba kernels against the NumPy reference."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kernel_cases import CASES

from scratch_ae.kernels import numba_kernels, numpy_kernels

MODULES = [numpy_kernels, numba_kernels]
IDS = ["numpy", "numba"]



@pytest.fixture(scope="module", autouse=True)
def _compiled():
    numba_kernels.warmup()


def _pad(x, pads, value=0.0):
    pt, pb, pl, pr = pads
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=value)


@pytest.mark.parametrize("K", MODULES, ids=IDS)
@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_its_index_formula(K, case):
    shape, (kh, kw), (sh, sw), pads = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    n, c, h, w = shape
    oh, ow = numpy_kernels.output_hw(shape, (kh, kw), (sh, sw), pads)
    col = K.im2col(x, (kh, kw), (sh, sw), pads)
    assert col.shape == (c * kh * kw, n * oh * ow)
    pt, _, pl, _ = pads
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                for ni in range(n):
                    for y in range(oh):
                        for q in range(ow):
                            r, s = y * sh + i - pt, q * sw + j - pl
                            want = x[ni, ci, r, s] if 0 <= r < h and 0 <= s < w else 0.0
                            got = col[(ci * kh + i) * kw + j, (ni * oh + y) * ow + q]
                            assert got == want, (ci, i, j, ni, y, q)


@pytest.mark.parametrize("K", MODULES, ids=IDS)
@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(K, case):
    shape, kernel, stride, pads = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    col = K.im2col(x, kernel, stride, pads)
    c = rng.standard_normal(col.shape)
    back = K.col2im(c, shape, kernel, stride, pads)
    assert back.shape == shape
    np.testing.assert_allclose(np.vdot(col, c), np.vdot(x, back), rtol=1e-12)


def _naive_maxpool(x, pool, stride, pads):
    (ph, pw), (sh, sw) = pool, stride
    xpad = _pad(x, pads, -np.inf)
    oh, ow = numpy_kernels.output_hw(x.shape, pool, stride, pads)
    y = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    arg = np.empty(y.shape, dtype=np.intp)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for r in range(oh):
                for q in range(ow):
                    win = xpad[n, c, r * sh : r * sh + ph, q * sw : q * sw + pw]
                    y[n, c, r, q] = win.max()
                    arg[n, c, r, q] = int(np.argmax(win))  # first max, row-major
    return y, arg


POOL_CASES = [
    ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0, 0, 0)),
    ((1, 2, 7, 7), (2, 2), (2, 2), (0, 0, 0, 0)),  # 7 -> 3: remainder dropped
    ((2, 1, 5, 6), (3, 3), (2, 2), (1, 1, 1, 1)),  # overlapping windows
    ((1, 2, 5, 5), (2, 2), (2, 2), (0, 1, 0, 1)),  # Keras "same": extra pad bottom/right
    ((2, 2, 4, 7), (2, 3), (1, 2), (0, 1, 1, 1)),
]


@pytest.mark.parametrize("K", MODULES, ids=IDS)
@pytest.mark.parametrize("case", POOL_CASES)
def test_maxpool_forward_matches_naive_loop(K, case):
    shape, pool, stride, pads = case
    x = np.random.default_rng(2).permutation(np.prod(shape)).reshape(shape).astype(np.float64)
    y, arg = K.maxpool_forward(x, pool, stride, pads)
    y_ref, arg_ref = _naive_maxpool(x, pool, stride, pads)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    assert arg.dtype == np.intp


@pytest.mark.parametrize("K", MODULES, ids=IDS)
@pytest.mark.parametrize("case", POOL_CASES)
def test_maxpool_backward_routes_to_the_winner(K, case):
    shape, pool, stride, pads = case
    rng = np.random.default_rng(3)
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64)
    y, arg = K.maxpool_forward(x, pool, stride, pads)
    dy = rng.standard_normal(y.shape)
    dx = K.maxpool_backward(dy, arg, shape, pool, stride, pads)
    # Reference: with distinct values, the winner is the input equal to the window's max.
    want = np.zeros(shape)
    (_, pw), (sh, sw), (pt, _, pl, _) = pool, stride, pads
    for n, c, r, q in np.ndindex(*y.shape):
        k = arg[n, c, r, q]
        hh, ww = r * sh + k // pw - pt, q * sw + k % pw - pl
        assert x[n, c, hh, ww] == y[n, c, r, q]
        want[n, c, hh, ww] += dy[n, c, r, q]
    np.testing.assert_allclose(dx, want, rtol=1e-15)


@pytest.mark.parametrize("K", MODULES, ids=IDS)
def test_maxpool_ties_send_gradient_to_the_first_maximum_only(K):
    # Every window is all ties except the one with a clear max in its last cell.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 3, 3] = 1.0
    _, arg = K.maxpool_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
    np.testing.assert_array_equal(arg[0, 0], [[0, 0], [0, 3]])
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = K.maxpool_backward(dy, arg, x.shape, (2, 2), (2, 2), (0, 0, 0, 0))
    want = np.zeros((4, 4))
    want[0, 0], want[0, 2], want[2, 0], want[3, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(dx[0, 0], want)
    # Ties in the middle of a window: the first in row-major order wins.
    x = np.array([[[[0.0, 5.0], [5.0, 5.0]]]])
    _, arg = K.maxpool_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
    assert arg.item() == 1
    dx = K.maxpool_backward(np.ones((1, 1, 1, 1)), arg, x.shape, (2, 2), (2, 2), (0, 0, 0, 0))
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("K", MODULES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_keep_the_input_dtype(K, dtype):
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 5)).astype(dtype)
    args = ((3, 2), (2, 1), (1, 1, 0, 1))
    col = K.im2col(x, *args)
    assert col.dtype == dtype
    assert K.col2im(col, x.shape, *args).dtype == dtype
    y, arg = K.maxpool_forward(x, *args)
    assert y.dtype == dtype
    assert K.maxpool_backward(y, arg, x.shape, *args).dtype == dtype


def test_kernels_accept_non_contiguous_input():
    x = np.random.default_rng(5).standard_normal((3, 2, 6, 6)).transpose(1, 0, 3, 2)
    args = ((3, 3), (1, 1), (1, 1, 1, 1))
    np.testing.assert_array_equal(numba_kernels.im2col(x, *args), numpy_kernels.im2col(x, *args))


def test_warmup_reports_seconds():
    seconds = numba_kernels.warmup()
    assert isinstance(seconds, float) and seconds >= 0.0


geometry = st.tuples(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9),  # N, C, H, W
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),  # KH KW SH SW
    st.tuples(*[st.integers(0, 2)] * 4),  # pads
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**31 - 1),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometry)
def test_numba_kernels_equal_numpy_kernels(g):
    n, c, h, w, kh, kw, sh, sw, pads, dtype, seed = g
    pt, pb, pl, pr = pads
    # A window that does not fit is an error in both modules (tested below), not a case here.
    assume(h + pt + pb >= kh and w + pl + pr >= kw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    args = ((kh, kw), (sh, sw), pads)
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}

    col_np, col_nb = numpy_kernels.im2col(x, *args), numba_kernels.im2col(x, *args)
    assert col_nb.dtype == col_np.dtype == dtype
    np.testing.assert_array_equal(col_nb, col_np)  # pure copies: bit-identical

    dcol = rng.standard_normal(col_np.shape).astype(dtype)
    a, b = numpy_kernels.col2im(dcol, x.shape, *args), numba_kernels.col2im(dcol, x.shape, *args)
    assert a.dtype == b.dtype == dtype
    np.testing.assert_allclose(b, a, **tol)  # sums in a different order

    if max(pt, pb) < kh and max(pl, pr) < kw:  # every pool window holds a real cell
        y_np, arg_np = numpy_kernels.maxpool_forward(x, *args)
        y_nb, arg_nb = numba_kernels.maxpool_forward(x, *args)
        assert y_nb.dtype == y_np.dtype == dtype
        np.testing.assert_array_equal(y_nb, y_np)
        np.testing.assert_array_equal(arg_nb, arg_np)
        dy = rng.standard_normal(y_np.shape).astype(dtype)
        a = numpy_kernels.maxpool_backward(dy, arg_np, x.shape, *args)
        b = numba_kernels.maxpool_backward(dy, arg_nb, x.shape, *args)
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(b, a, **tol)


@pytest.mark.parametrize("K", MODULES, ids=IDS)
def test_window_larger_than_input_is_a_clear_error(K):
    with pytest.raises(ValueError, match="does not fit"):
        K.im2col(np.zeros((1, 1, 2, 2)), (3, 3), (1, 1), (0, 0, 0, 0))
