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


# --------------------------------------------------------------------------------------------
# the elementwise kernels: numba against the NumPy reference, on values that test the edges
# (0 and -0, the switch of the SELU polynomial at -1/4, far tails, BCE's clip range)

EDGES = [0.0, -0.0, -1e-30, -1e-6, -0.2499999, -0.25, -0.2500001, -1.0, -20.0, -100.0, 1e-6,
         3.0, 50.0, -80.0, 80.0]
# float32 results agree to a few units in the last place (4 ulp = 4.8e-7 relative): the Numba
# kernels compute exp, expm1 and log by inline polynomials, and round in another order; float64
# ones use libm's (and NumPy's) functions and agree to rounding.
ELEM_TOL = {np.float32: {"rtol": 6e-7, "atol": 1e-37}, np.float64: {"rtol": 1e-14, "atol": 1e-300}}


def _elem_inputs(dtype, shape=(3, 4, 7, 5), seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.flat[: len(EDGES)] = EDGES
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4, 7, 5), (32, 100), (1,), (5, 784)])
def test_numba_selu_and_sigmoid_match_the_reference(dtype, shape):
    x = _elem_inputs(dtype, shape)
    tol = ELEM_TOL[dtype]
    y_ref, d_ref = numpy_kernels.selu_forward(x)
    y, d = numba_kernels.selu_forward(x)
    assert y.dtype == d.dtype == dtype and y.shape == d.shape == x.shape
    np.testing.assert_allclose(y, y_ref, **tol)
    # dy/dx = y + scale*alpha cancels for very negative x (in the reference too): its error is
    # absolute, a couple of units in the last place of scale*alpha = 1.76.
    np.testing.assert_allclose(d, d_ref, rtol=tol["rtol"], atol=2 * np.finfo(dtype).eps * 1.76)
    s_ref = numpy_kernels.sigmoid_forward(x)
    s = numba_kernels.sigmoid_forward(x)
    assert s.dtype == dtype
    np.testing.assert_allclose(s, s_ref, **tol)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    np.testing.assert_allclose(numba_kernels.sigmoid_backward(dy, s_ref),
                               numpy_kernels.sigmoid_backward(dy, s_ref), **tol)


def test_numba_elementwise_in_blocks_on_threads_gives_the_serial_bits():
    """Big float32 arrays run in blocks on the Numba side's threads: the same values as one
    serial pass, including the ragged last block (SELU, sigmoid and its backward, BCE)."""
    from scratch_ae import threads

    n = numba_kernels.PARALLEL_MIN + 3 * numba_kernels.BLOCK + 17
    x = _elem_inputs(np.float32, (n,), seed=3)
    p = np.random.default_rng(4).random(n).astype(np.float32)
    t = np.random.default_rng(5).random(n).astype(np.float32)
    y0, d0, s0, ds0 = (np.empty_like(x) for _ in range(4))
    numba_kernels._selu_loop32(x, y0, d0)
    numba_kernels._sigmoid_loop32(x, s0)
    numba_kernels._sigmoid_backward_loop(x, p, ds0)
    g0, terms = np.empty_like(p), np.empty_like(p)
    numba_kernels._bce_loop32(p, t, g0, terms, *np.float32([1e-7, 1 - 1e-7, n]))
    loss0 = np.float32(-numba_kernels._sum64(terms) / n)
    saved = dict(threads._state)
    try:
        threads.set_threads(blas=1, numba=2, backend_name="numba")
        assert numba_kernels._in_blocks(n) and not numba_kernels._in_blocks(
            numba_kernels.PARALLEL_MIN - 1)
        y, d = numba_kernels.selu_forward(x)
        s = numba_kernels.sigmoid_forward(x)
        ds = numba_kernels.sigmoid_backward(x, p)
        loss, g = numba_kernels.bce_forward(p, t, 1e-7, n)
    finally:
        threads._state.update(saved)
        if saved["policy"] is not None:
            threads.apply(saved["policy"])
            threads._state.update(saved)
    for got, want in ((y, y0), (d, d0), (s, s0), (ds, ds0), (g, g0), (loss, loss0)):
        assert np.array_equal(got, want)


def test_numba_selu_is_exact_to_a_few_ulp_near_zero():
    # Where exp(x) - 1 would cancel, the polynomial must keep full relative precision.
    x = -np.logspace(-30, np.log10(0.3), 2000).astype(np.float32)
    want = 1.0507009873554805 * 1.6732632423543772 * np.expm1(x.astype(np.float64))
    y, _ = numba_kernels.selu_forward(x)
    np.testing.assert_allclose(y, want, rtol=4.8e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_bce_matches_the_reference(dtype):
    rng = np.random.default_rng(2)
    p = rng.random((16, 784)).astype(dtype)
    p.flat[:6] = [0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 0.5]  # outside, at and inside the clip range
    t = rng.random(p.shape).astype(dtype)
    t.flat[6:9] = [0.0, 1.0, 0.5]
    loss_ref, g_ref = numpy_kernels.bce_forward(p, t, 1e-7, p.size)
    loss, g = numba_kernels.bce_forward(p, t, 1e-7, p.size)
    assert g.dtype == dtype and g.shape == p.shape
    np.testing.assert_allclose(g, g_ref, **ELEM_TOL[dtype])
    assert g[0, 0] == g[0, 1] == g[0, 2] == g[0, 3] == 0  # the clip is flat outside
    # The NumPy reference sums float32 terms pairwise; the kernel sums in float64.
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_numba_inline_log_is_within_an_ulp():
    """The BCE loop's inline float32 log, over [1e-7, 1) (the clip range) and beyond."""
    v = np.concatenate([np.random.default_rng(5).random(200_000), np.logspace(-7, 0, 5000,
                        endpoint=False), [1e-7, 0.5, 1 - 6e-8, 2.0, 3e5]]).astype(np.float32)
    got = np.empty_like(v)
    _log_all(v, got)
    want = np.log(v.astype(np.float64))
    ulps = np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32))
    assert ulps.max() <= 1.0


def _log_all(v, out):
    from numba import njit

    @njit
    def run(v, out):
        for i in range(v.size):
            out[i] = numba_kernels._log32(v[i])

    run(v, out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_elementwise_kernels_keep_nan_as_the_reference_does(dtype):
    """A NaN must come out NaN (in the loss and its gradient too): the numerical guard looks
    for it there. Infinities come out as in the reference."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0], dtype=dtype)
    np.testing.assert_allclose(numba_kernels.sigmoid_forward(x),
                               numpy_kernels.sigmoid_forward(x), **ELEM_TOL[dtype])
    for got, want in zip(numba_kernels.selu_forward(x), numpy_kernels.selu_forward(x),
                         strict=True):
        np.testing.assert_allclose(got, want, **ELEM_TOL[dtype])
    t = np.full(5, 0.25, dtype=dtype)
    for p in (np.array([np.nan, 0.5, 0.0, 1.0, 0.2], dtype=dtype),
              np.array([np.inf, 0.5, -np.inf, 1.0, 0.2], dtype=dtype)):
        loss, g = numba_kernels.bce_forward(p, t, 1e-7, p.size)
        loss_ref, g_ref = numpy_kernels.bce_forward(p, t, 1e-7, p.size)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(g_ref))
        assert np.isnan(loss) == np.isnan(loss_ref)
    assert np.isnan(numba_kernels.bce_forward(np.array([np.nan, 0.5], dtype=dtype),
                                              t[:2], 1e-7, 2)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_layout_kernels_match_the_reference(dtype):
    rng = np.random.default_rng(3)
    n, c, oh, ow = 5, 6, 7, 3
    y2 = rng.standard_normal((c, n * oh * ow)).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    np.testing.assert_array_equal(numba_kernels.conv_output(y2, b, n, oh, ow),
                                  numpy_kernels.conv_output(y2, b, n, oh, ow))
    np.testing.assert_array_equal(numba_kernels.channels_first(y2, n),
                                  numpy_kernels.channels_first(y2, n))
    dy = rng.standard_normal((n, c, oh, ow)).astype(dtype)
    dy_before = dy.copy()
    for fn in ("channel_major", "channel_sums", "conv_grad_output"):
        got, want = getattr(numba_kernels, fn)(dy), getattr(numpy_kernels, fn)(dy)
        for g, w in zip(got if isinstance(got, tuple) else [got],
                        want if isinstance(want, tuple) else [want], strict=True):
            assert g.dtype == dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == np.float32 else 1e-13)
    np.testing.assert_array_equal(dy, dy_before)
    # A non-contiguous dy (a transposed view) is read correctly too.
    dyt = np.ascontiguousarray(dy.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    np.testing.assert_array_equal(numba_kernels.channel_major(dyt), numpy_kernels.channel_major(dy))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_optimizer_updates_equal_the_reference(dtype):
    rng = np.random.default_rng(4)
    p0, g = (rng.standard_normal((30, 20)).astype(dtype) for _ in range(2))
    a0 = rng.random((30, 20)).astype(dtype)
    for K_args in [("sgd_update", (1.5,)), ("rmsprop_update", (1e-3, 0.9, 1e-7))]:
        name, args = K_args
        p_ref, p_nb, a_ref, a_nb = p0.copy(), p0.copy(), a0.copy(), a0.copy()
        extra_ref, extra_nb = ((a_ref,), (a_nb,)) if name == "rmsprop_update" else ((), ())
        getattr(numpy_kernels, name)(p_ref, g, *extra_ref, *args)
        getattr(numba_kernels, name)(p_nb, g, *extra_nb, *args)
        # Same operations in the same order and precision: the same bits.
        np.testing.assert_array_equal(p_nb, p_ref)
        np.testing.assert_array_equal(a_nb, a_ref)
        assert not np.array_equal(p_nb, p0)
    # A non-contiguous parameter is updated in place too (the reference path).
    p = np.asfortranarray(p0.copy())
    numba_kernels.sgd_update(p, g, 0.5)
    np.testing.assert_allclose(p, p0 - np.float32(0.5) * g if dtype == np.float32
                               else p0 - 0.5 * g, rtol=1e-7)


def test_every_kernel_module_has_the_references_functions_and_signatures(fake_cupy):
    """The contract of scratch_ae/kernels: a layer may call any public function of the NumPy
    reference on any backend, so the Numba and CuPy modules define (or re-export) each one with
    the same signature."""
    import inspect  # noqa: PLC0415

    from scratch_ae.kernels import cupy_kernels  # noqa: PLC0415

    def public(module):
        return {name: inspect.signature(f) for name, f in vars(module).items()
                if inspect.isfunction(f) and not name.startswith("_")}

    reference = public(numpy_kernels)
    assert {"bce_forward", "im2col", "map_pieces", "sgd_update", "total"} <= set(reference)
    for module in (numba_kernels, cupy_kernels):
        theirs = public(module)
        for name, signature in reference.items():
            assert name in theirs, f"{module.__name__} lacks {name}"
            assert theirs[name] == signature, f"{module.__name__}.{name}{theirs[name]}"


def test_cuda_bodies_have_no_local_named_n(fake_cupy):
    """The CuPy kernels' CUDA code never declares or uses a name ``n``.

    CuPy wraps each elementwise body in code of its own, and has documented ``n`` as one of its
    names (the element count), so a local ``n`` could clash with it in some CuPy version. The
    image index is ``img``. Read from the module's own strings (fake_cupy lets it import).
    """
    import re  # noqa: PLC0415

    from scratch_ae.kernels import cupy_kernels  # noqa: PLC0415

    specs = [v for k, v in vars(cupy_kernels).items() if k.isupper() and isinstance(v, tuple)
             and len(v) == 3 and all(isinstance(s, str) for s in v)]
    assert len(specs) == 4, "expected the four kernels: im2col, col2im, maxpool fwd/bwd"
    for in_params, out_params, body in specs:
        code = re.sub(r"//[^\n]*", "", body)  # comments may say what they like
        params = re.findall(r"(\w+)\s*(?:,|$)", f"{in_params}, {out_params}")
        assert "n" not in params, f"a kernel parameter is called n: {in_params}"
        assert not re.search(r"\bn\b", code), f"a CUDA body uses the name n:\n{body}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_total_matches_the_reference_and_sees_nan_and_inf(dtype):
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in ((784, 100), (100,), (3, 4))]
    arrays.append(np.asfortranarray(rng.standard_normal((5, 7)).astype(dtype)))  # not C order
    np.testing.assert_allclose(numba_kernels.total(arrays), numpy_kernels.total(arrays),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
    for bad in (np.nan, np.inf, -np.inf):
        for i in (0, 3):
            spoiled = [a.copy() for a in arrays]
            spoiled[i].flat[7] = bad
            assert not np.isfinite(numba_kernels.total(spoiled))
            assert not np.isfinite(numpy_kernels.total(spoiled))
