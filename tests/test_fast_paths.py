"""Every fast path equals the layer code it replaces: one table, one test per row and dtype.

A layer's own array code is the reference (the numpy backend runs nothing else). A backend may
register a faster function for one named piece of it (``backend.fast(op, ...)``). Each row of
:data:`ROWS` names that piece (op), a function that runs the layer code containing it, and the
inputs to try. The test runs the row twice on the same inputs -- the reference, and the
reference with exactly that one piece substituted by the backend's function -- and compares
every output. Another test checks that the table covers every registered fast path and that
each row's code really asks for its op.

Numba's rows run here; CuPy's run only on a machine with a GPU (they are skipped, i.e.
unverified, elsewhere; tests/test_gpu.py has more GPU checks).
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scratch_ae import backend, guard, threads
from scratch_ae.kernels import numba_conv
from scratch_ae.layers import SELU, Conv2D, Conv2DTranspose, MaxPool2D, Sigmoid
from scratch_ae.layers.im2col import col2im, im2col
from scratch_ae.losses import BCE
from scratch_ae.optim import SGD, RMSprop

# float32 elementwise results agree to a few units in the last place (the Numba loops compute
# exp and log by inline polynomials and round in another order); float64 ones to rounding.
ELEM = {np.float32: {"rtol": 6e-7, "atol": 1e-37}, np.float64: {"rtol": 1e-14, "atol": 1e-300}}
# Sums in another order (col2im, conv layers in pieces): a few roundings of the sum's terms,
# so an error relative to the output's scale (an element near 0 may come from cancellation).
SUMS = {np.float32: {"rtol": 2e-5, "atol": 0, "scale": 1e-6},
        np.float64: {"rtol": 1e-12, "atol": 0, "scale": 1e-14}}
EXACT = {np.float32: {"rtol": 0, "atol": 0}, np.float64: {"rtol": 0, "atol": 0}}

# Values that test the edges: 0 and -0, SELU's polynomial switch at -1/4, far tails.
EDGES = [0.0, -0.0, -1e-30, -1e-6, -0.2499999, -0.25, -0.2500001, -1.0, -20.0, -100.0, 1e-6,
         3.0, 50.0, -80.0, 80.0]


def _elementwise(dtype, shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)
    x.flat[: min(len(EDGES), x.size)] = EDGES[: x.size]
    return x


def _probabilities(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    p, t = rng.random(shape).astype(dtype), rng.random(shape).astype(dtype)
    p.flat[:6] = [0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 0.5]  # outside, at and inside the clip
    t.flat[6:9] = [0.0, 1.0, 0.5]
    return p, t


# -- what each row runs: the layer code that holds the op ---------------------------------------


def run_selu(x):
    return (SELU().forward(x),)


def run_selu_backward(x, dy):
    layer = SELU()
    layer.forward(x)  # the reference: only the row's op is substituted
    return (layer.backward(dy),)


def run_sigmoid(x):
    return (Sigmoid().forward(x),)


def run_sigmoid_backward(x, dy):
    layer = Sigmoid()
    layer.forward(x)  # the reference: only the row's op is substituted
    return (layer.backward(dy),)


def run_bce(p, t):
    loss = BCE()
    return loss.forward(p, t), loss.backward()


def run_sgd(p, g):
    p = p.copy()
    SGD(lr=1.5).update("w", p, g)
    return (p,)


def run_rmsprop(p, g):
    p, opt = p.copy(), RMSprop(lr=1e-3)
    opt.update("w", p, g)
    opt.update("w", p, g * 0.5)
    return p, opt.state["w"]["a"]


def run_total(a, b):
    return (np.asarray(float(guard.total([a, b]))),)


def run_im2col(x, kernel, stride, pads):
    return (im2col(x, kernel, stride, pads),)


def run_col2im(col, x_shape, kernel, stride, pads):
    return (col2im(col, x_shape, kernel, stride, pads),)


def run_maxpool_forward(x, pool, stride, padding):
    layer = MaxPool2D(pool, stride, padding)
    return layer.forward(x), layer.argmax


def run_maxpool_backward(x, pool, stride, padding):
    layer = MaxPool2D(pool, stride, padding)
    y = layer.forward(x)
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(x.dtype)
    return (layer.backward(dy),)


def _conv(transposed, x, stride, padding, seed=0):
    c = x.shape[1]
    backend.seed(seed)
    cls = Conv2DTranspose if transposed else Conv2D
    layer = cls(c, 3, 3, stride=stride, padding=padding).astype(x.dtype)
    layer.params["b"][...] = np.arange(3, dtype=x.dtype) / 7  # a bias that is not zero
    return layer


def run_conv_forward(x, stride, padding, transposed):
    """y, and what the layer keeps for its backward: x2 (transposed), x (Conv2D; the
    reference keeps its col too, the Numba path builds col again in its backward)."""
    layer = _conv(transposed, x, stride, padding)
    y = layer.forward(x)
    return y, (layer.x2 if transposed else layer.x)


def run_conv_backward(x, stride, padding, transposed, input_grad=True):
    layer = _conv(transposed, x, stride, padding)
    layer.input_grad = input_grad
    y = layer.forward(x)
    dy = np.random.default_rng(8).standard_normal(y.shape).astype(x.dtype)
    dx = layer.backward(dy)
    return (np.zeros(1) if dx is None else dx), layer.grads["W"], layer.grads["b"]


# -- the inputs ---------------------------------------------------------------------------------

ELEMENTWISE_SHAPES = [(3, 4, 7, 5), (32, 100), (1,), (5, 784)]


def _elementwise_inputs(dtype):
    return [(_elementwise(dtype, s, i),) for i, s in enumerate(ELEMENTWISE_SHAPES)]


def _pairs(dtype):
    return [(_elementwise(dtype, s, i), _elementwise(dtype, s, i + 10))
            for i, s in enumerate(ELEMENTWISE_SHAPES)]


def _selu_backward_inputs(dtype):
    """x with the edges, dy without them (dy = 0 where x = 0 would hide f'(0))."""
    rng = np.random.default_rng(11)
    return [(x, rng.standard_normal(x.shape).astype(dtype) + 1)
            for x in (_elementwise(dtype, s, i) for i, s in enumerate(ELEMENTWISE_SHAPES))]


def _sigmoid_backward_inputs(dtype):
    return [(x, dy) for x, dy in _pairs(dtype)]


def _bce_inputs(dtype):
    return [_probabilities(dtype, s, i) for i, s in enumerate([(16, 784), (3, 10)])]


def _update_inputs(dtype):
    rng = np.random.default_rng(4)
    return [tuple(rng.standard_normal(s).astype(dtype) for _ in range(2))
            for s in [(30, 20), (784, 100), (7,)]]


def _total_inputs(dtype):
    ok = _pairs(dtype)
    bad = []
    for value in (np.nan, np.inf, -np.inf):
        a, b = (v.copy() for v in ok[0])
        b.flat[3] = value
        bad.append((a, b))
    return ok + bad


# (N, C, H, W), kernel, stride, pads: odd/even sizes, non-square kernels, strides 1-3,
# uneven pads (tests/kernel_cases.py holds the same list for the GPU tests)
from kernel_cases import CASES  # noqa: E402


def _im2col_inputs(dtype):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(s).astype(dtype), k, st_, p) for s, k, st_, p in CASES]


def _col2im_inputs(dtype):
    rng = np.random.default_rng(1)
    out = []
    for shape, k, st_, p in CASES:
        col = im2col(rng.standard_normal(shape).astype(dtype), k, st_, p)
        out.append((rng.standard_normal(col.shape).astype(dtype), shape, k, st_, p))
    return out


POOLS = [((2, 3, 6, 6), 2, None, "valid"), ((1, 2, 7, 7), 2, None, "valid"),
         ((2, 1, 5, 6), 3, 2, "valid"), ((1, 2, 5, 5), 2, None, "same"),
         ((2, 2, 4, 7), (2, 3), (1, 2), "same"), ((3, 4, 28, 28), 2, None, "valid")]


def _pool_inputs(dtype):
    rng = np.random.default_rng(2)
    out = []
    for shape, pool, stride, padding in POOLS:
        distinct = rng.permutation(np.prod(shape)).reshape(shape).astype(dtype)
        ties = rng.integers(0, 3, shape).astype(dtype)  # many equal maxima in a window
        out += [(distinct, pool, stride, padding), (ties, pool, stride, padding)]
    return out


def _conv_inputs(dtype, transposed):
    rng = np.random.default_rng(3)
    # 37 images: two full pieces of 16 and a ragged one, on the Numba side
    cases = [((37, 2, 7, 7), 2, "same"), ((5, 2, 6, 5), 1, "valid"),
             ((20, 1, 8, 8), 2, "valid" if transposed else "same"),
             ((19, 1, 9, 7), 1, "same")]  # a first layer: 1 channel (Numba: the direct loops)
    if not transposed:  # uneven pads that keep the size: the direct loops' other offsets
        cases += [((3, 1, 5, 8), 1, (2, 0, 0, 2)), ((2, 1, 4, 3), 1, (0, 2, 2, 0)),
                  ((2, 1, 6, 6), 1, "valid")]  # 1 channel, stride 1, smaller: im2col
    return [(rng.standard_normal(s).astype(dtype), stride, padding, transposed)
            for s, stride, padding in cases]


def _without_input_grad(dtype, transposed):
    """The first input, and the 1-channel ones (a first layer's), with input_grad False."""
    inputs = _conv_inputs(dtype, transposed)
    return [*inputs, (*inputs[0], False), *((*a, False) for a in inputs if a[0].shape[1] == 1)]


@dataclass
class Row:
    op: str
    run: object
    inputs: object  # dtype -> list of argument tuples
    tol: dict = field(default_factory=lambda: ELEM)


ROWS = [
    Row("selu", run_selu, _elementwise_inputs),
    # f'(x) from the reference's y, by the reference's formula: the same bits
    Row("selu_backward", run_selu_backward, _selu_backward_inputs, EXACT),
    Row("sigmoid", run_sigmoid, _elementwise_inputs),
    Row("sigmoid_backward", run_sigmoid_backward, _sigmoid_backward_inputs),
    Row("bce", run_bce, _bce_inputs, {np.float32: {"rtol": 1e-6, "atol": 1e-37},
                                     np.float64: {"rtol": 1e-13, "atol": 1e-300}}),
    Row("sgd", run_sgd, _update_inputs, EXACT),
    Row("rmsprop", run_rmsprop, _update_inputs, EXACT),
    Row("total", run_total, _total_inputs, {np.float32: {"rtol": 1e-5, "atol": 1e-3},
                                           np.float64: {"rtol": 1e-12, "atol": 1e-9}}),
    Row("im2col", run_im2col, _im2col_inputs, EXACT),
    Row("col2im", run_col2im, _col2im_inputs, SUMS),
    Row("maxpool_forward", run_maxpool_forward, _pool_inputs, EXACT),
    Row("maxpool_backward", run_maxpool_backward, _pool_inputs, SUMS),
    Row("conv2d_forward", run_conv_forward, lambda d: _conv_inputs(d, False), SUMS),
    Row("conv2d_backward", run_conv_backward, lambda d: _without_input_grad(d, False), SUMS),
    Row("conv2d_transpose_forward", run_conv_forward, lambda d: _conv_inputs(d, True), SUMS),
    Row("conv2d_transpose_backward", run_conv_backward,
        lambda d: _without_input_grad(d, True), SUMS),
]
BY_OP = {row.op: row for row in ROWS}


# -- substituting one piece ---------------------------------------------------------------------


@contextmanager
def _reference():
    """Every piece runs the layer's own code (what the numpy backend does)."""
    saved = backend._state["name"]
    backend._state["name"] = "numpy"
    try:
        yield
    finally:
        backend._state["name"] = saved


@contextmanager
def substituting(op, table, asked):
    """Only ``op`` is replaced by ``table``'s function (``asked`` records that it was)."""
    real = backend.fast

    def fast(name, *arrays):
        if name != op:
            return None
        fn = real(name, *arrays)
        if fn is not None:
            assert fn is table[(name, arrays[0].dtype.char)]
            asked.append(name)
        return fn

    backend.fast = fast
    try:
        yield
    finally:
        backend.fast = real


def _same(got, want, tol, what):
    assert len(got) == len(want)
    tols = tol if isinstance(tol, list) else [tol] * len(want)  # one for all, or one each
    for i, (g, w, t) in enumerate(zip(got, want, tols, strict=True)):
        g, w = backend.to_numpy(g), backend.to_numpy(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (what, i, g.shape, w.shape, g.dtype)
        finite = w[np.isfinite(w)]
        atol = t["atol"] + t.get("scale", 0) * (np.abs(finite).max() if finite.size else 0)
        np.testing.assert_allclose(g, w, rtol=t["rtol"], atol=atol, err_msg=f"{what}: {i}")
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what}: NaN {i}")


def check_row(row, name, dtype, thread_settings=((1, 1),)):
    table = backend.registered_fast_paths(name)
    for args in row.inputs(dtype):
        with _reference():
            want = row.run(*args)
        for blas, numba in thread_settings:
            threads.set_threads(blas=blas, numba=numba, backend_name=name)
            asked = []
            with backend.use_backend(name), substituting(row.op, table, asked):
                got = row.run(*args)
            assert asked, f"{row.op}: the layer code never asked for its fast path"
            _same(got, want, row.tol[dtype], f"{row.op} {dtype.__name__} threads {numba}")


NUMBA_OPS = sorted({op for op, _ in backend.registered_fast_paths("numba")})


@pytest.mark.usefixtures("threads_restored")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", NUMBA_OPS)
def test_numba_fast_path_equals_the_layer_code(op, dtype, monkeypatch):
    # The conv layers' pieces also run side by side on two threads: the same numbers.
    settings_ = ((1, 1), (1, 2)) if op.startswith("conv") else ((1, 1),)
    check_row(BY_OP[op], "numba", dtype, settings_)
    if op.startswith("conv"):
        # These small layers go through in one piece; again in pieces of 16 (a ragged last).
        monkeypatch.setattr(numba_conv, "MIN_PIECE_MACS", 0)
        check_row(BY_OP[op], "numba", dtype, settings_)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["im2col", "col2im", "maxpool_forward", "maxpool_backward"])
def test_cupy_fast_path_equals_the_layer_code(op, dtype):
    ok, why = backend.cuda_available()
    if not ok:
        pytest.skip(f"no usable GPU ({why}): the CUDA kernels are unverified here")
    import cupy  # noqa: PLC0415

    row = BY_OP[op]
    table = backend.registered_fast_paths("cupy")
    for args in row.inputs(dtype):
        with _reference():
            want = row.run(*args)
        dev = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        asked = []
        with backend.use_backend("cupy"), substituting(op, table, asked):
            got = row.run(*dev)
        assert asked
        _same(got, want, SUMS[dtype] if op != "im2col" else EXACT[dtype], f"cupy {op}")


def test_the_table_covers_every_registered_fast_path_and_each_row_asks_for_its_op():
    registered = set(NUMBA_OPS)
    try:
        registered |= {op for op, _ in backend.registered_fast_paths("cupy")}
    except ImportError:  # no CuPy here: its ops are the four named in the GPU test above
        registered |= {"im2col", "col2im", "maxpool_forward", "maxpool_backward"}
    assert registered == set(BY_OP), "every fast path needs a row, every row a fast path"
    for op in registered:
        assert {(op, "f"), (op, "d")} <= set(backend.registered_fast_paths("numba")), op


def test_the_fast_lookup_gives_none_on_numpy_for_strided_arrays_and_unknown_ops():
    x = np.ones((4, 6), np.float32)
    assert backend.fast("selu", x) is None  # the numpy backend: the reference runs
    with backend.use_backend("numba"):
        assert backend.fast("selu", x) is not None
        assert backend.fast("selu", x[:, ::2]) is None  # not C-contiguous
        assert backend.fast("selu", x.astype(np.float16)) is None  # no such dtype
        assert backend.fast("no such op", x) is None


# Random geometries for the window ops (the table's fixed cases above, plus these).
geometry = st.tuples(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9),  # N, C, H, W
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),  # KH KW SH SW
    st.tuples(*[st.integers(0, 2)] * 4),  # pads
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**31 - 1),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometry)
def test_numba_window_ops_equal_the_reference_on_random_geometries(g):
    n, c, h, w, kh, kw, sh, sw, pads, dtype, seed = g
    pt, pb, pl, pr = pads
    assume(h + pt + pb >= kh and w + pl + pr >= kw)  # a window that fits
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    args = ((kh, kw), (sh, sw), pads)
    table = backend.registered_fast_paths("numba")
    with _reference():
        col = im2col(x, *args)
        dcol = rng.standard_normal(col.shape).astype(dtype)
        back = col2im(dcol, x.shape, *args)
    asked = []
    with backend.use_backend("numba"):
        with substituting("im2col", table, asked):
            _same((im2col(x, *args),), (col,), EXACT[dtype], "im2col")
        with substituting("col2im", table, asked):
            _same((col2im(dcol, x.shape, *args),), (back,), SUMS[dtype], "col2im")
    assert asked == ["im2col", "col2im"]


def test_each_rows_code_holds_the_fast_lookup_of_its_op():
    """The layer code a row runs really contains ``backend.fast("<op>"``: the substitution the
    row proves is the one the layer makes."""
    source = "".join(inspect.getsource(fn) for fn in (
        SELU, Sigmoid, BCE, SGD, RMSprop, guard.total, im2col, col2im, MaxPool2D, Conv2D,
        Conv2DTranspose))
    for op in BY_OP:
        assert f'backend.fast("{op}"' in source, op
