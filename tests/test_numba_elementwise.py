"""scratch_ae/kernels/numba_elementwise.py: the Numba elementwise loops: threads give the serial
bits, SELU is exact near 0, NaN and infinities come out as the reference gives them. (Their
equality with the layers' own code is tests/test_fast_paths.py.)"""

import numpy as np
import pytest

from scratch_ae import threads
from scratch_ae.kernels import numba_elementwise as ne
from scratch_ae.layers import SELU, Sigmoid
from scratch_ae.layers.activations import SELU_ALPHA, SELU_SCALE
from scratch_ae.losses import BCE


@pytest.fixture
def numba_two_threads(threads_restored):
    threads.set_threads(blas=1, numba=2, backend_name="numba")


def test_big_float32_arrays_in_blocks_on_threads_give_the_serial_bits(numba_two_threads):
    """Big float32 arrays run in blocks on the Numba side's threads: the same values as one
    serial pass, including the ragged last block (SELU, sigmoid and its backward, BCE)."""
    n = ne.PARALLEL_MIN + 3 * ne.BLOCK + 17
    x = (np.random.default_rng(3).standard_normal(n) * 3).astype(np.float32)
    p = np.random.default_rng(4).random(n).astype(np.float32)
    t = np.random.default_rng(5).random(n).astype(np.float32)
    y0, d0, s0, ds0, g0, terms = (np.empty_like(x) for _ in range(6))
    sa = (np.float32(SELU_SCALE), np.float32(SELU_SCALE * SELU_ALPHA))
    ne._selu_loop32(x, y0, *sa)
    ne._selu_backward_loop(p, y0, d0, *sa)
    ne._sigmoid_loop32(x, s0)
    ne._sigmoid_backward_loop(x, p, ds0)
    ne._bce_loop32(p, t, g0, terms, *np.float32([1e-7, 1 - 1e-7, n]))
    loss0 = np.float32(-ne._sum64(terms) / n)
    assert ne._in_blocks(n) and not ne._in_blocks(ne.PARALLEL_MIN - 1)
    y = ne.selu_forward(x, SELU_SCALE, SELU_ALPHA)
    d = ne.selu_backward(p, y, SELU_SCALE, SELU_ALPHA)
    s = ne.sigmoid_forward(x)
    ds = ne.sigmoid_backward(x, p)
    loss, g = ne.bce_forward(p, t, 1e-7, n)
    for got, want in ((y, y0), (d, d0), (s, s0), (ds, ds0), (g, g0), (loss, loss0)):
        assert np.array_equal(got, want)


def test_one_thread_never_runs_blocks(threads_restored):
    threads.set_threads(1, backend_name="numba")
    assert not ne._in_blocks(10 * ne.PARALLEL_MIN)


def test_selu_is_exact_to_a_few_ulp_near_zero():
    # Where exp(x) - 1 would cancel, the polynomial must keep full relative precision.
    x = -np.logspace(-30, np.log10(0.3), 2000).astype(np.float32)
    want = SELU_SCALE * SELU_ALPHA * np.expm1(x.astype(np.float64))
    y = ne.selu_forward(x, SELU_SCALE, SELU_ALPHA)
    np.testing.assert_allclose(y, want, rtol=4.8e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_infinities_come_out_as_in_the_reference(dtype):
    """A NaN must come out NaN (in the loss and its gradient too): the numerical guard looks
    for it there. Infinities come out as in the reference (the layers' code on numpy)."""
    # (float32 exp is clamped at exp(-87) = 1.6e-38, float's floor: sigmoid(-inf) is that, not 0)
    tol = {"rtol": 6e-7, "atol": 1e-37} if dtype == np.float32 else {"rtol": 1e-14}
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0], dtype=dtype)
    np.testing.assert_allclose(ne.sigmoid_forward(x), Sigmoid().forward(x), **tol)
    layer = SELU()
    y_ref, dy = layer.forward(x), np.full_like(x, 2)
    y = ne.selu_forward(x, SELU_SCALE, SELU_ALPHA)
    np.testing.assert_allclose(y, y_ref, **tol)
    np.testing.assert_allclose(ne.selu_backward(dy, y, SELU_SCALE, SELU_ALPHA),
                               layer.backward(dy), **tol)
    t = np.full(5, 0.25, dtype=dtype)
    for p in (np.array([np.nan, 0.5, 0.0, 1.0, 0.2], dtype=dtype),
              np.array([np.inf, 0.5, -np.inf, 1.0, 0.2], dtype=dtype)):
        loss, g = ne.bce_forward(p, t, 1e-7, p.size)
        ref = BCE()
        with np.errstate(invalid="ignore"):
            loss_ref = ref.forward(p, t)
            g_ref = ref.backward()
        np.testing.assert_array_equal(np.isnan(g), np.isnan(g_ref))
        assert np.isnan(loss) == np.isnan(loss_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_total_sees_nan_and_inf_in_any_array(dtype):
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((784, 100), (100,), (3, 4))]
    arrays.append(np.asfortranarray(rng.standard_normal((5, 7)).astype(dtype)))  # not C order
    assert np.isfinite(ne.total(arrays))
    for bad in (np.nan, np.inf, -np.inf):
        for i in (0, 3):
            spoiled = [a.copy() for a in arrays]
            spoiled[i].flat[7] = bad
            assert not np.isfinite(ne.total(spoiled))


def test_warmup_compiles_every_loop():
    ne.warmup()  # raises if any loop fails to compile for float32 or float64
