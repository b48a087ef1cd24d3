"""scratch_ae/kernels/numba_conv.py: the Numba conv fast paths' own promises: pieces of 16 images,
side by side on the Numba side's threads with the serial loops inside each, and the same bits as
one piece after the other. (Their equality with the layers' own code is
tests/test_fast_paths.py.)"""

import threading

import numpy as np
import pytest

from scratch_ae import backend, threads
from scratch_ae.kernels import numba_conv as nc
from scratch_ae.layers import Conv2D, Conv2DTranspose


def test_a_batch_is_cut_into_pieces_of_16_images():
    assert [s.stop - s.start for s in nc._pieces(37)] == [16, 16, 5]
    assert [s.stop - s.start for s in nc._pieces(16)] == [16]


@pytest.mark.parametrize("transpose", [False, True])
def test_pieces_on_threads_give_the_same_bits_with_the_serial_loops(transpose, monkeypatch,
                                                                   threads_restored):
    """With the Numba side parallel, run_pieces runs a conv layer's pieces on its own threads
    (each with the serial im2col/col2im): forward, dL/dx and the summed dL/dW, dL/db are the
    same bits as the pieces one after the other. The calling thread takes the first group of
    pieces itself, a helper thread the rest, both with the serial loops."""
    monkeypatch.setattr(nc, "MIN_PIECE_MACS", 0)  # pieces of 16 images, however small the layer
    seen = []  # (loop, thread) of every im2col/col2im loop that ran

    def spy(name):
        real = getattr(nc, name)

        def loop(*args):
            seen.append((name, threading.current_thread().name))
            return real(*args)
        monkeypatch.setattr(nc, name, loop)

    for name in ("_im2col_loop", "_col2im_loop", "_im2col_serial", "_col2im_serial",
                 "_im2col_same1_loop", "_col2im_same1_loop", "_im2col_same1_serial",
                 "_col2im_same1_serial"):
        spy(name)
    rng = np.random.default_rng(7)
    layer = (Conv2DTranspose(3, 4, 3, stride=2, padding="same") if transpose
             else Conv2D(3, 4, 3, padding="same"))
    x = rng.standard_normal((53, 3, 8, 8)).astype(np.float32)  # 4 pieces: 16+16+16+5
    out = {}
    for numba_threads in (1, 2):
        threads.set_threads(blas=1, numba=numba_threads, backend_name="numba")
        seen.clear()
        with backend.use_backend("numba"):
            layer.zero_grad()
            y = layer.forward(x)
            dx = layer.backward(np.random.default_rng(8).standard_normal(y.shape)
                                .astype(np.float32))
        out[numba_threads] = (y, dx, *(g.copy() for g in layer.grads.values()))
        # 4 pieces, forward and backward (Conv2D's backward builds each piece's col again);
        # with 2 threads, only the serial twins, on the calling thread and a helper.
        serial = numba_threads == 2
        assert len(seen) == (8 if transpose else 12), seen
        assert all(loop.endswith("_serial") == serial for loop, _ in seen)
        where = {thread.split("_")[0] for _, thread in seen}  # "scratch" or "MainThread"
        assert where == ({"MainThread", "scratch"} if serial else {"MainThread"}), seen
        # a "same" stride-1 Conv2D takes the flat-shift loops; the transposed one cannot
        assert all(("same1" in loop) != transpose for loop, _ in seen), seen
    for got, want in zip(out[2], out[1], strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("name", ["_im2col", "_col2im", "_im2col_same1", "_col2im_same1"])
def test_the_serial_twins_have_a_cache_of_their_own(name):
    """Numba's disk cache keys a function on its name, first line and bytecode, not on its
    compile flags: a twin compiled from the parallel loop's own function loaded the parallel
    machine code from the cache, and each piece's thread ran a thread pool of its own. The
    twins are compiled without ``parallel`` and filed under their own names."""
    loop, twin = getattr(nc, name + "_loop"), getattr(nc, name + "_serial")
    assert loop.targetoptions.get("parallel") and not twin.targetoptions.get("parallel")
    assert twin.py_func.__code__ is loop.py_func.__code__  # the same loop, line for line
    assert twin._cache._cache_file._index_path != loop._cache._cache_file._index_path


def test_light_layers_take_bigger_pieces_that_share_out_evenly():
    """16 images a piece, or 32, 64, ... for a layer with few multiply-adds per image (the
    zoo's first conv and its transposed convs), decided by the layer and the batch alone."""
    def sizes(n, macs):
        pieces = nc._pieces(n, macs)
        assert pieces[0].start == 0 and pieces[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(pieces, pieces[1:], strict=False))
        return [s.stop - s.start for s in pieces]

    assert sizes(128, 32 * 144 * 196) == [16] * 8      # Conv2D(16, 32) on 14x14
    assert sizes(37, 32 * 144 * 196) == [16, 16, 5]
    assert sizes(128, 16 * 9 * 784) == [64, 64]        # Conv2D(1, 16) on 28x28
    assert sizes(32, 16 * 9 * 784) == [32]             # never more than the batch
    assert sizes(128, 16 * 9 * 196) == [128]           # Conv2DTranspose(16, 1): 14x14 -> 28
    assert sizes(128, 0) == [16] * 8                   # no work given: PIECE


@pytest.mark.parametrize("input_grad", [False, True])
def test_a_one_channel_3x3_first_layer_goes_straight_from_the_images(input_grad, monkeypatch):
    """Conv2D(1, OC, 3) with stride 1 and SAME padding (the zoo's first layer) takes the direct
    loops, no im2col; its backward too when nobody reads dL/dx. A stride of 2 or dL/dx wanted
    go through the columns. (That both give the reference's numbers is test_fast_paths.)"""
    seen = []

    def spy(name):
        real = getattr(nc, name)

        def loop(*args):
            seen.append(name)
            return real(*args)
        monkeypatch.setattr(nc, name, loop)

    for name in ("_conv1_3x3_forward_loop", "_conv1_3x3_weight_grad_loop", "_im2col_loop",
                 "_im2col_serial", "_im2col_same1_loop", "_im2col_same1_serial"):
        spy(name)
    x = np.random.default_rng(10).random((37, 1, 9, 8)).astype(np.float32)
    for stride in (1, 2):
        layer = Conv2D(1, 4, 3, stride=stride, padding="same")
        layer.input_grad = input_grad
        seen.clear()
        with backend.use_backend("numba"):
            y = layer.forward(x)
            layer.backward(np.ones_like(y))
        direct = [n for n in seen if n.startswith("_conv1")]
        columns = [n for n in seen if n.startswith("_im2col")]
        if stride == 1:
            assert direct[0] == "_conv1_3x3_forward_loop"
            assert ("_conv1_3x3_weight_grad_loop" in direct) == (not input_grad)
            assert bool(columns) == input_grad, seen  # the backward's columns, only for dL/dx
        else:
            assert not direct and columns, seen


def test_numba_conv2d_keeps_its_input_not_its_columns():
    """On Numba, Conv2D keeps x (not col, 9 times x's size for a 3x3 kernel) for its backward,
    which builds each piece's col again; its gradients are the reference's (test_fast_paths)."""
    x = np.random.default_rng(9).standard_normal((37, 2, 6, 6)).astype(np.float32)
    layer = Conv2D(2, 4, 3, padding="same")
    with backend.use_backend("numba"):
        layer.forward(x)
    assert layer.col is None and layer.x is x
    with backend.use_backend("numpy"):
        layer.forward(x)
    assert layer.col.shape == (2 * 9, 37 * 6 * 6)


def test_a_window_larger_than_the_input_is_the_references_clear_error():
    with pytest.raises(ValueError, match="does not fit"):
        nc.im2col(np.zeros((1, 1, 2, 2)), (3, 3), (1, 1), (0, 0, 0, 0))


def test_warmup_compiles_every_loop_and_the_backend_times_it():
    nc.warmup()
    seconds = backend.warmup("numba")
    assert isinstance(seconds, float) and seconds >= 0.0


def test_importing_the_kernel_modules_changes_no_environment_variable():
    """The thread policy (threads.apply) sets OMP_WAIT_POLICY when it first configures the
    threads, not an import: loading a kernel module leaves the environment alone."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = ("import os; before = dict(os.environ); import scratch_ae; "
            "import scratch_ae.kernels.numba_conv, scratch_ae.kernels.numba_elementwise, "
            "scratch_ae.kernels.numba_math32; "
            "changed = sorted(set(os.environ.items()) ^ set(before.items())); print(changed)")
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize("shape,k", [((3, 2, 7, 7), 3), ((2, 3, 6, 5), 3), ((2, 1, 9, 8), 5),
                                     ((1, 2, 3, 3), 3), ((2, 2, 4, 4), 1)])
def test_the_flat_shift_loops_give_the_row_loops_bits(shape, k):
    """A "same" stride-1 convolution's im2col and col2im by one flat shifted copy or add per
    (plane, offset): the same numbers as the row-by-row loops, bit for bit (col2im adds the
    offsets in the same order; the padding entries it zeroes in its scratch col are dropped)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    p = (k - 1) // 2
    args = ((k, k), (1, 1), (p, k - 1 - p, p, k - 1 - p))
    n, c, h, w = shape
    want = np.empty((c * k * k, n * h * w), np.float32)
    nc._im2col_loop(x, want, 0, k, k, 1, 1, p, p, h, w)
    got = np.full_like(want, np.nan)
    nc._im2col_into(x, got, 0, *args)
    assert np.array_equal(got, want)
    dcol = rng.standard_normal(want.shape).astype(np.float32)
    ref = np.empty_like(x)
    nc._col2im_loop(dcol, ref, k, k, 1, 1, p, p, h, w)
    out = np.full_like(x, np.nan)
    nc._col2im_into(dcol.copy(), out, *args, scratch=True)
    assert np.array_equal(out, ref)
