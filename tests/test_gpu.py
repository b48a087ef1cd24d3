"""The CuPy backend on a CUDA GPU: gradient checks, CPU/GPU parity, kernels, training, moves.

Every test here needs CuPy and a usable CUDA device. Without one the whole module is SKIPPED
with the reason ``backend.cuda_available()`` gives -- unless ``SCRATCH_AE_REQUIRE_GPU=1`` is set,
which turns the skip into a failure, so that a GPU machine can never pass by silently skipping::

    SCRATCH_AE_REQUIRE_GPU=1 python -m pytest tests/test_gpu.py -m gpu -q

What is compared with what:

* gradient checks: every layer, moved with ``.to("cupy")``, fed CuPy float64 inputs, through the
  same :func:`scratch_ae.gradcheck.check_layer` as on the CPU;
* parity: the same layer (a deep copy) on the CPU and on the GPU, fed the same host-made
  float32 input and upstream gradient: outputs, input gradients and parameter gradients agree to
  ``rtol = 1e-5`` (plus ``atol = 1e-5 * max|reference|`` for entries that cancel to ~0);
* kernels: :mod:`~scratch_ae.kernels.cupy_kernels` against the layers' own code (the reference)
  element by element (copies exactly, sums to rounding);
* training: 50 SGD steps of the zoo's ``stacked`` and ``conv`` from the same weights on the same
  batches, losses within 1e-3 relative, step by step and through ``fit``.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratch_ae import backend

pytestmark = pytest.mark.gpu

_OK, _REASON = backend.cuda_available()
if not _OK:
    if os.environ.get("SCRATCH_AE_REQUIRE_GPU", "") not in ("", "0"):
        pytest.fail(
            f"SCRATCH_AE_REQUIRE_GPU=1 but the GPU tests cannot run: {_REASON}", pytrace=False
        )
    pytest.skip(f"no usable GPU: {_REASON}", allow_module_level=True)

import cupy as cp  # noqa: E402 - only after the check above
from kernel_cases import CASES as CPU_KERNEL_CASES  # noqa: E402 - tests/ is on sys.path

import scratch_ae.layers as layers_pkg  # noqa: E402
from scratch_ae.gradcheck import check_layer  # noqa: E402
from scratch_ae.kernels import cupy_kernels  # noqa: E402
from scratch_ae.layers import (  # noqa: E402
    ELU,
    SELU,
    Dense,
    DenseTranspose,
    Dropout,
    Flatten,
    GaussianNoise,
    LeakyReLU,
    ReLU,
    Reshape,
    Sigmoid,
    Softplus,
    Tanh,
)
from scratch_ae.layers.base import Layer  # noqa: E402
from scratch_ae.layers.conv import Conv2D, Conv2DTranspose  # noqa: E402
from scratch_ae.layers.im2col import col2im, im2col  # noqa: E402
from scratch_ae.layers.pooling import (  # noqa: E402
    AvgPool2D,
    GlobalAvgPool2D,
    MaxPool2D,
    UpSampling2D,
)
from scratch_ae.losses import MSE, get_loss  # noqa: E402
from scratch_ae.models import Sequential, zoo  # noqa: E402
from scratch_ae.optim import Adam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _optional(module: str, name: str):
    """A layer class from a module that may not exist yet in this checkout (None if absent)."""
    try:
        return getattr(importlib.import_module(f"scratch_ae.layers.{module}"), name)
    except (ImportError, AttributeError):
        return None


ActivityL1 = _optional("regularizers", "ActivityL1")
KLSparsity = _optional("regularizers", "KLSparsity")
GaussianSampling = _optional("sampling", "GaussianSampling")
VariationalHead = _optional("sampling", "VariationalHead")


# --------------------------------------------------------------------------------------------
# inputs, made on the host so that CPU and GPU see the same numbers


def _host_input(shape, kind, seed=0):
    """float64 host array. ``kind``: "smooth" (normal), "away" (|x| >= 0.1: no ReLU/SELU/L1
    kink), "distinct" (all values different: no max-pool ties), "unit" (inside (0.1, 0.9))."""
    rs = np.random.default_rng(seed)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rs.permutation(n) * 0.1 - n * 0.05).reshape(shape)
    if kind == "unit":
        return rs.uniform(0.1, 0.9, size=shape)
    x = rs.standard_normal(shape)
    if kind == "away":
        x = np.sign(x) * (np.abs(x) + 0.1) + (x == 0) * 0.1
    return x


def _randomize(layer, seed=3):
    """Random (host-drawn) values for every parameter, so that zero biases hide nothing."""
    rs = np.random.default_rng(seed)
    for _, owner, name in layer.named_parameters():
        p = owner.params[name]
        owner.params[name] = (rs.standard_normal(p.shape) * 0.5).astype(p.dtype)
    return layer


def _tied():
    d = Dense(6, 3)
    return Sequential([d, Tanh(), DenseTranspose(d)])


# (id, factory, input shape, input kind). Every Layer subclass of scratch_ae.layers must appear
# here: test_every_layer_class_is_covered enforces it.
CASES = [
    ("Dense", lambda: Dense(5, 3), (2, 5), "smooth"),
    ("DenseTranspose-tied", _tied, (2, 6), "smooth"),
    ("ReLU", ReLU, (3, 4), "away"),
    ("LeakyReLU", LeakyReLU, (3, 4), "away"),
    ("ELU", ELU, (3, 4), "away"),
    ("SELU", SELU, (3, 4), "away"),
    ("Sigmoid", Sigmoid, (3, 4), "smooth"),
    ("Tanh", Tanh, (3, 4), "smooth"),
    ("Softplus", Softplus, (3, 4), "smooth"),
    ("Dropout", lambda: Dropout(0.5), (3, 4), "smooth"),
    ("GaussianNoise", lambda: GaussianNoise(0.3), (3, 4), "smooth"),
    ("Flatten", Flatten, (2, 3, 4), "smooth"),
    ("Reshape", lambda: Reshape((3, 4)), (2, 12), "smooth"),
    ("Conv2D-3x3-same", lambda: Conv2D(1, 2, 3, padding="same"), (1, 1, 5, 5), "smooth"),
    ("Conv2D-s2-same", lambda: Conv2D(2, 3, 3, stride=2, padding="same"), (2, 2, 6, 6), "smooth"),
    ("Conv2D-3x2-s2", lambda: Conv2D(2, 3, (3, 2), stride=2, padding="same"), (2, 2, 5, 7),
     "smooth"),
    ("Conv2D-valid", lambda: Conv2D(2, 2, (2, 3), stride=(1, 2), padding="valid"), (2, 2, 6, 7),
     "smooth"),
    ("Conv2D-uneven-pads", lambda: Conv2D(2, 2, 3, stride=2, padding=(1, 0, 0, 2)), (2, 2, 5, 5),
     "smooth"),
    ("Conv2DT-same", lambda: Conv2DTranspose(2, 3, 3, stride=2, padding="same"), (2, 2, 3, 4),
     "smooth"),
    ("Conv2DT-valid", lambda: Conv2DTranspose(3, 2, 3, stride=2, padding="valid"), (1, 3, 3, 3),
     "smooth"),
    ("Conv2DT-2x3", lambda: Conv2DTranspose(2, 2, (2, 3), stride=(2, 1), padding="valid"),
     (2, 2, 3, 4), "smooth"),
    ("Conv2DT-outpad", lambda: Conv2DTranspose(2, 3, 3, stride=2, padding="same",
                                               output_padding=1), (1, 2, 3, 3), "smooth"),
    ("MaxPool2D", lambda: MaxPool2D(2), (2, 2, 4, 4), "distinct"),
    ("MaxPool2D-remainder", lambda: MaxPool2D(2), (1, 3, 7, 5), "distinct"),
    ("MaxPool2D-overlap-same", lambda: MaxPool2D(3, 2, "same"), (2, 2, 5, 6), "distinct"),
    ("MaxPool2D-2x3", lambda: MaxPool2D((2, 3), (1, 2), "valid"), (2, 1, 4, 7), "distinct"),
    ("AvgPool2D", lambda: AvgPool2D(2), (2, 2, 4, 4), "smooth"),
    ("AvgPool2D-same", lambda: AvgPool2D(3, 2, "same"), (2, 2, 5, 6), "smooth"),
    ("GlobalAvgPool2D", GlobalAvgPool2D, (2, 3, 4, 5), "smooth"),
    ("UpSampling2D", lambda: UpSampling2D(2), (2, 3, 3, 4), "smooth"),
    ("UpSampling2D-1x3", lambda: UpSampling2D((1, 3)), (1, 2, 2, 3), "smooth"),
]
if ActivityL1 is not None:
    CASES.append(("ActivityL1", lambda: ActivityL1(0.1), (3, 4), "away"))
if KLSparsity is not None:
    CASES.append(("KLSparsity", lambda: KLSparsity(0.5, 0.1), (4, 5), "unit"))
if GaussianSampling is not None:
    CASES.append(("GaussianSampling", lambda: GaussianSampling(0.5), (3, 6), "smooth"))
if VariationalHead is not None:
    CASES.append(("VariationalHead", lambda: VariationalHead(6, 3, kl_weight=0.5), (3, 6),
                  "smooth"))
IDS = [c[0] for c in CASES]

RANDOM_LAYERS = (Dropout, GaussianNoise)


def _all(layer):
    return [layer, *layer.all_sublayers()]


def _assert_on_gpu(layer):
    for key, owner, name in layer.named_parameters():
        assert isinstance(owner.params[name], cp.ndarray), f"parameter {key} is not on the GPU"
        assert isinstance(owner.grads[name], cp.ndarray), f"gradient of {key} is not on the GPU"


def _close(gpu, cpu, what, rtol=1e-5):
    """GPU result vs CPU reference: same dtype, same shape, rtol plus a scale-aware atol."""
    assert isinstance(gpu, cp.ndarray), f"{what}: expected a CuPy array, got {type(gpu)}"
    g, c = cp.asnumpy(gpu), np.asarray(cpu)
    assert g.dtype == c.dtype, f"{what}: dtype {g.dtype} on the GPU, {c.dtype} on the CPU"
    atol = rtol * float(np.abs(c).max()) if c.size else 0.0
    np.testing.assert_allclose(g, c, rtol=rtol, atol=atol, err_msg=what)


# --------------------------------------------------------------------------------------------
# gradient checks on the GPU (float64)


@pytest.mark.parametrize(("make", "shape", "kind"), [c[1:] for c in CASES], ids=IDS)
def test_gradients_on_the_gpu(make, shape, kind):
    layer = _randomize(make()).to("cupy")
    x = cp.asarray(_host_input(shape, kind))
    err = check_layer(layer, x, max_elements=128)
    assert err < 1e-6
    _assert_on_gpu(layer)  # the checker's float64 cast kept everything on the device


def test_every_layer_class_is_covered():
    """A new layer class must be added to CASES, so that it is checked on the GPU too."""
    classes = set()
    for info in pkgutil.iter_modules(layers_pkg.__path__):
        mod = importlib.import_module(f"scratch_ae.layers.{info.name}")
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if (issubclass(cls, Layer) and cls is not Layer and cls.__module__ == mod.__name__
                    and not cls.__name__.startswith("_")
                    and ("forward" in vars(cls) or "_forward" in vars(cls))):
                classes.add(cls)
    covered = {type(sub) for _, make, _, _ in CASES for sub in _all(make())}
    missing = sorted(c.__name__ for c in classes - covered if c.__name__ != "Activation")
    assert not missing, f"layers with no GPU case in tests/test_gpu.py CASES: {missing}"


# --------------------------------------------------------------------------------------------
# CPU / GPU parity (float32)


@pytest.mark.parametrize(("make", "shape", "kind"), [c[1:] for c in CASES], ids=IDS)
def test_forward_backward_parity_cpu_gpu(make, shape, kind):
    cpu = _randomize(make())
    cpu.astype(np.float32)
    x = _host_input(shape, kind).astype(np.float32)
    # Sampling layers draw eps from their own backend's generator: give both the same eps.
    samplers = [s for s in _all(cpu) if hasattr(s, "fixed_eps")]
    if samplers:
        dry = copy.deepcopy(cpu)  # a dry run on a copy, to learn each eps's shape
        dry.forward(x, training=True)
        for s, d in zip(samplers, [s for s in _all(dry) if hasattr(s, "fixed_eps")], strict=True):
            s.fixed_eps = np.random.default_rng(5).standard_normal(d.eps.shape).astype(np.float32)
    gpu = copy.deepcopy(cpu).to("cupy")
    _assert_on_gpu(gpu)
    # Dropout and noise draw different random numbers on each device: compare them at inference.
    training = not any(isinstance(s, RANDOM_LAYERS) for s in _all(cpu))

    y_cpu = cpu.forward(x, training=training)
    y_gpu = gpu.forward(cp.asarray(x), training=training)
    _close(y_gpu, y_cpu, "forward")
    np.testing.assert_allclose(float(gpu.total_penalty()), float(cpu.total_penalty()),
                               rtol=1e-5, err_msg="penalty")

    dy = np.random.default_rng(1).standard_normal(y_cpu.shape).astype(np.float32)
    dx_cpu = cpu.backward(dy)
    dy_gpu = cp.asarray(dy)
    dx_gpu = gpu.backward(dy_gpu)
    _close(dx_gpu, dx_cpu, "backward dx")
    assert cp.array_equal(dy_gpu, cp.asarray(dy)), "backward modified dy"
    on_gpu = {key: owner.grads[name] for key, owner, name in gpu.named_parameters()}
    for key, owner, name in cpu.named_parameters():
        _close(on_gpu[key], owner.grads[name], f"gradient of {key}")


def test_random_layers_draw_on_the_device_and_reseed():
    x = cp.ones((64, 32), dtype=cp.float32)
    assert isinstance(backend.rng(cp), cp.random.Generator)
    for layer in (Dropout(0.5), GaussianNoise(0.3)):
        backend.seed(11)
        a = layer.forward(x, training=True)
        backend.seed(11)
        b = layer.forward(x, training=True)
        backend.seed(12)
        c = layer.forward(x, training=True)
        assert isinstance(a, cp.ndarray) and a.dtype == cp.float32
        assert cp.array_equal(a, b), f"{layer!r}: the same seed gave different numbers"
        assert not cp.array_equal(a, c), f"{layer!r}: a new seed gave the same numbers"
    # Dropout keeps about half and rescales by 2; its backward reuses the forward mask.
    d = Dropout(0.5)
    y = d.forward(x, training=True)
    assert 0.4 < float((y > 0).astype(cp.float32).mean()) < 0.6
    assert set(cp.asnumpy(cp.unique(y)).tolist()) <= {0.0, 2.0}
    assert cp.array_equal(d.backward(x), y)


# --------------------------------------------------------------------------------------------
# kernels: cupy_kernels against the reference (the layers' own NumPy code)

KERNEL_CASES = [
    *CPU_KERNEL_CASES,  # the CPU kernel tests' geometries (tests/kernel_cases.py)
    # the zoo's geometries: 3x3 same conv, 2x2 pool, the transposed convs' adjoint convs
    ((4, 16, 28, 28), (3, 3), (1, 1), (1, 1, 1, 1)),
    ((4, 16, 28, 28), (2, 2), (2, 2), (0, 0, 0, 0)),
    ((4, 64, 7, 7), (2, 2), (2, 2), (0, 0, 0, 0)),
    ((4, 32, 7, 7), (3, 3), (2, 2), (0, 0, 0, 0)),
    ((4, 16, 14, 14), (3, 3), (2, 2), (0, 1, 0, 1)),
    ((4, 1, 28, 28), (3, 3), (2, 2), (0, 1, 0, 1)),
    ((2, 3, 28, 28), (5, 5), (1, 1), (2, 2, 2, 2)),
]


def _random_geometries(n=60, seed=0):
    rs = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        kh, kw, sh, sw = (int(v) for v in rs.integers(1, 5, 4))
        pads = tuple(int(v) for v in rs.integers(0, 3, 4))
        h = int(rs.integers(max(1, kh - pads[0] - pads[1]), 9))
        w = int(rs.integers(max(1, kw - pads[2] - pads[3]), 9))
        out.append(((int(rs.integers(1, 4)), int(rs.integers(1, 4)), h, w), (kh, kw), (sh, sw),
                    pads))
    return out


ALL_KERNEL_CASES = KERNEL_CASES + _random_geometries()


def _kernel_tol(dtype):
    return 1e-5 if dtype == np.float32 else 1e-12


def _maxpool_reference(x, pool, stride, pads):
    """MaxPool2D's own code (on NumPy arrays) with the given pads: ``(layer, y)``."""
    layer = MaxPool2D(pool, stride)
    layer._pads = lambda hw: pads
    return layer, layer.forward(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_col2im_match_the_reference(dtype):
    rs = np.random.default_rng(0)
    tol = _kernel_tol(dtype)
    for shape, k, s, p in ALL_KERNEL_CASES:
        x = rs.standard_normal(shape).astype(dtype)
        col = cupy_kernels.im2col(cp.asarray(x), k, s, p)
        ref = im2col(x, k, s, p)
        assert isinstance(col, cp.ndarray) and col.dtype == dtype and col.shape == ref.shape
        assert np.array_equal(cp.asnumpy(col), ref), f"im2col {shape} {k} {s} {p}"
        c = rs.standard_normal(ref.shape).astype(dtype)
        got = cupy_kernels.col2im(cp.asarray(c), shape, k, s, p)
        want = col2im(c, shape, k, s, p)
        assert got.dtype == dtype
        np.testing.assert_allclose(cp.asnumpy(got), want, rtol=tol, atol=tol,
                                   err_msg=f"col2im {shape} {k} {s} {p}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxpool_matches_the_reference_including_ties(dtype):
    rs = np.random.default_rng(1)
    tol = _kernel_tol(dtype)
    for shape, k, s, p in ALL_KERNEL_CASES:
        if not (p[0] < k[0] and p[1] < k[0] and p[2] < k[1] and p[3] < k[1]):
            continue  # a window of padding only: Keras' "same"/"valid" never make one
        x0 = rs.standard_normal(shape)
        for x in (x0.astype(dtype), np.round(x0 * 2).astype(dtype)):  # the second has ties
            y, arg = cupy_kernels.maxpool_forward(cp.asarray(x), k, s, p)
            layer, y_ref = _maxpool_reference(x, k, s, p)
            arg_ref = layer.argmax
            assert y.dtype == dtype and arg.dtype == np.int64
            assert np.array_equal(cp.asnumpy(y), y_ref), f"maxpool y {shape} {k} {s} {p}"
            assert np.array_equal(cp.asnumpy(arg), arg_ref), f"argmax {shape} {k} {s} {p}"
            dy = rs.standard_normal(y_ref.shape).astype(dtype)
            dx = cupy_kernels.maxpool_backward(cp.asarray(dy), arg, shape, k, s, p)
            dx_ref = layer.backward(dy)
            assert dx.dtype == dtype
            np.testing.assert_allclose(cp.asnumpy(dx), dx_ref, rtol=tol, atol=tol,
                                       err_msg=f"maxpool dx {shape} {k} {s} {p}")


def test_all_equal_window_routes_to_the_first_element():
    x = cp.ones((1, 1, 4, 4), dtype=cp.float32)
    _, arg = cupy_kernels.maxpool_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
    assert (arg == 0).all()
    dx = cupy_kernels.maxpool_backward(cp.ones((1, 1, 2, 2), cp.float32), arg, x.shape, (2, 2),
                                       (2, 2), (0, 0, 0, 0))
    assert cp.asnumpy(dx)[0, 0].tolist() == [[1, 0, 1, 0], [0, 0, 0, 0]] * 2


def test_gather_kernels_are_deterministic():
    """No atomics: the same input gives the same bits, run after run."""
    rs = np.random.default_rng(2)
    shape, k, s, p = (64, 16, 14, 14), (3, 3), (1, 1), (1, 1, 1, 1)
    col = cp.asarray(rs.standard_normal((16 * 9, 64 * 14 * 14)).astype(np.float32))
    first = cupy_kernels.col2im(col, shape, k, s, p)
    x = cp.asarray(np.round(rs.standard_normal(shape) * 2).astype(np.float32))
    y, arg = cupy_kernels.maxpool_forward(x, (3, 3), (1, 1), (1, 1, 1, 1))  # overlapping
    dy = cp.asarray(rs.standard_normal(y.shape).astype(np.float32))
    dx_first = cupy_kernels.maxpool_backward(dy, arg, shape, (3, 3), (1, 1), (1, 1, 1, 1))
    for _ in range(3):
        assert cp.array_equal(cupy_kernels.col2im(col, shape, k, s, p), first)
        dx = cupy_kernels.maxpool_backward(dy, arg, shape, (3, 3), (1, 1), (1, 1, 1, 1))
        assert cp.array_equal(dx, dx_first)


def test_kernels_accept_non_contiguous_inputs_and_warm_up():
    x = cp.asarray(np.random.default_rng(3).standard_normal((4, 3, 6, 5)).astype(np.float32))
    xt = x.transpose(1, 0, 2, 3)  # a view, not C-contiguous
    ref = im2col(cp.asnumpy(xt), (3, 3), (1, 1), (1, 1, 1, 1))
    assert np.array_equal(cp.asnumpy(cupy_kernels.im2col(xt, (3, 3), (1, 1), (1, 1, 1, 1))), ref)
    assert cupy_kernels.warmup() >= 0.0


def test_backend_fast_gives_the_cupy_kernels_for_cupy_arrays():
    x = cp.zeros((2, 3, 5, 5), cp.float32)
    assert backend.fast("im2col", x) is cupy_kernels.im2col
    assert backend.fast("col2im", x) is cupy_kernels.col2im
    assert backend.fast("selu", x) is None  # elementwise: the layer's own code runs on cupy


# --------------------------------------------------------------------------------------------
# training: the same 50 SGD steps on the CPU and on the GPU

STEPS, BATCH = 50, 32


def _mnist_like(name, n, seed=0):
    """Random images in [0, 1], mostly dark like MNIST, flat or (N, 1, 28, 28) per the recipe."""
    x = (np.random.default_rng(seed).random((n, 784)) ** 4).astype(np.float32)
    return x if zoo.get_recipe(name).flat else x.reshape(n, 1, 28, 28)


def _build(name, device):
    backend.seed(0)  # weights are drawn on the host: the same seed gives the same weights
    model = zoo.get_recipe(name).build()
    return model.to(device) if device == "cupy" else model


def _step_losses(name, device):
    recipe = zoo.get_recipe(name)
    model = _build(name, device)
    optimizer = recipe.make_optimizer()
    assert type(optimizer).__name__ == "SGD", "the parity run is meant for SGD recipes"
    loss = get_loss(model.loss)
    X = _mnist_like(name, STEPS * BATCH)
    values = []
    for s in range(STEPS):
        xb = X[s * BATCH:(s + 1) * BATCH]
        xb = cp.asarray(xb) if device == "cupy" else xb
        model.zero_grad()
        y = model.forward(xb, training=True)
        values.append(loss.forward(y, xb))  # stays on the device: read once at the end
        model.backward(loss.backward())
        optimizer.step(model)
    return np.array([float(v) for v in values]), model


@pytest.mark.parametrize("name", ["stacked", "conv"])
def test_fifty_sgd_steps_match_the_cpu(name):
    cpu, m_cpu = _step_losses(name, "numpy")
    gpu, m_gpu = _step_losses(name, "cupy")
    _assert_on_gpu(m_gpu)
    rel = np.abs(gpu - cpu) / np.abs(cpu)
    assert rel.max() < 1e-3, f"{name}: worst step {rel.argmax()} differs by {rel.max():.2e}"
    assert cpu[-5:].mean() < cpu[:5].mean(), f"{name}: the loss did not go down: {cpu}"


@pytest.mark.parametrize("name", ["stacked", "conv"])
def test_fit_matches_the_cpu_with_host_and_device_data(name):
    recipe = zoo.get_recipe(name)
    X = _mnist_like(name, STEPS * BATCH + 7)  # a ragged last batch too
    kw = dict(epochs=2, batch_size=BATCH, shuffle=True, seed=3,
              verbose=False, validation_data=X[:300])
    h_cpu = _build(name, "numpy").fit(X, optimizer=recipe.make_optimizer(), **kw)
    h_gpu = _build(name, "cupy").fit(X, optimizer=recipe.make_optimizer(), **kw)
    h_dev = _build(name, "cupy").fit(cp.asarray(X), optimizer=recipe.make_optimizer(), **kw)
    for key in ("loss", "val_loss"):
        for h in (h_gpu, h_dev):
            np.testing.assert_allclose(h[key], h_cpu[key], rtol=1e-3, err_msg=key)


def test_predict_returns_host_arrays_for_host_data():
    model = _build("conv", "cupy")
    X = _mnist_like("conv", 300)
    out = model.predict(X, batch_size=128)
    assert isinstance(out, np.ndarray) and out.shape == X.shape and out.dtype == np.float32
    dev = model.predict(cp.asarray(X), batch_size=128)
    assert isinstance(dev, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(dev), out, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# mixing host and device arrays, moving models

MIXED = [
    ("Dense", lambda: Dense(5, 3), (2, 5)),
    ("DenseTranspose", lambda: DenseTranspose(Dense(3, 5)), (2, 5)),
    ("Conv2D", lambda: Conv2D(1, 2, 3), (1, 1, 5, 5)),
    ("Conv2DTranspose", lambda: Conv2DTranspose(2, 1, 3, stride=2), (1, 2, 3, 3)),
]


@pytest.mark.parametrize(("name", "make", "shape"), MIXED, ids=[m[0] for m in MIXED])
def test_mixing_numpy_and_cupy_in_forward_names_the_layer(name, make, shape):
    def _to_gpu(layer):
        for sub in _all(layer) + [getattr(layer, "dense", layer)]:
            sub.to("cupy")
        return layer

    x = np.ones(shape, dtype=np.float32)
    with pytest.raises(TypeError, match=name):
        _to_gpu(make()).forward(x)  # parameters on the GPU, data on the host
    with pytest.raises(TypeError, match=name):
        make().forward(cp.asarray(x))  # parameters on the host, data on the GPU


@pytest.mark.parametrize(("name", "make", "shape"),
                         [*MIXED[::2], ("MaxPool2D", lambda: MaxPool2D(2), (1, 1, 4, 4))],
                         ids=["Dense", "Conv2D", "MaxPool2D"])
def test_mixing_numpy_and_cupy_in_backward_names_the_layer(name, make, shape):
    layer = make().to("cupy")
    y = layer.forward(cp.ones(shape, dtype=cp.float32))
    with pytest.raises(TypeError, match=name):
        layer.backward(np.ones(y.shape, dtype=np.float32))


def test_mixing_in_a_model_and_in_a_loss_names_the_culprit():
    model = _build("stacked", "cupy")
    with pytest.raises(TypeError, match="Dense"):
        model.forward(np.zeros((2, 784), dtype=np.float32))
    with pytest.raises(TypeError, match="MSE"):
        MSE().forward(cp.zeros((2, 3), cp.float32), np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("name", ["stacked", "conv", "tied"])
def test_model_to_round_trip(name):
    if name not in zoo.RECIPES:
        pytest.skip(f"zoo has no {name!r} in this checkout")
    backend.seed(0)
    model = zoo.get_recipe(name).build()
    before = {k: o.params[n].copy() for k, o, n in model.named_parameters()}
    assert model.to("cupy") is model
    _assert_on_gpu(model)
    for key, owner, n in model.named_parameters():
        p = owner.params[n]
        assert p.dtype == before[key].dtype and np.array_equal(cp.asnumpy(p), before[key]), key
    # tied weights stay one array after the move: the decoder reads the encoder's weight
    for sub in _all(model):
        if isinstance(sub, DenseTranspose):
            owners = [o for _, o, _ in model.named_parameters()]
            assert any(o is sub.dense for o in owners)
            assert isinstance(sub.dense.params["W"], cp.ndarray)
    # optimizer state is created where the parameters are
    x = cp.asarray(_mnist_like(name, 4))
    opt = Adam(1e-3)
    model.zero_grad()
    loss = get_loss("bce")
    loss.forward(model.forward(x, training=True), x)
    model.backward(loss.backward())
    opt.step(model)
    assert all(isinstance(a, cp.ndarray) for st in opt.state.values() for a in st.values())
    model.to("numpy")
    for key, owner, n in model.named_parameters():
        assert isinstance(owner.params[n], np.ndarray) and isinstance(owner.grads[n], np.ndarray)
        assert owner.params[n].dtype == before[key].dtype
    assert not isinstance(model.forward(_mnist_like(name, 2)), cp.ndarray)


@pytest.mark.parametrize("name", ["conv", "tied", "vae"])
def test_a_model_file_moves_between_cpu_and_gpu(name, tmp_path):
    """Saved on the CPU, loaded on the GPU (and back): the same outputs, to rounding."""
    from scratch_ae import io  # noqa: PLC0415

    backend.seed(0)
    cpu_model = zoo.build(name)
    x = _mnist_like(name, 4)
    path = io.save_model(cpu_model, tmp_path / "cpu.npz")
    with backend.use_backend("cupy"):
        gpu_model = io.load_model(path)
    _assert_on_gpu(gpu_model)
    fwd = "reconstruct" if name == "vae" else "predict"  # the VAE's mean codes: no sampling
    expected = getattr(cpu_model, fwd)(x)
    np.testing.assert_allclose(getattr(gpu_model, fwd)(x), expected, rtol=1e-5, atol=1e-5)
    back = io.load_model(io.save_model(gpu_model, tmp_path / "gpu.npz"))
    np.testing.assert_array_equal(getattr(back, fwd)(x), expected)


def test_checkpoint_and_resume_on_the_gpu(tmp_path):
    """Optimizer state comes back onto the device; the resumed run goes on from epoch 1."""
    from scratch_ae import checkpoint  # noqa: PLC0415
    from scratch_ae.train import fit  # noqa: PLC0415

    x = _mnist_like("stacked", 64)
    backend.seed(0)
    model = zoo.build("stacked").to("cupy")
    fit(model, x, epochs=1, batch_size=16, optimizer=Adam(1e-3), verbose=False,
        checkpoint_dir=tmp_path)
    again, opt = zoo.build("stacked").to("cupy"), Adam(1e-3)
    h = fit(again, x, epochs=2, batch_size=16, optimizer=opt, verbose=False,
            checkpoint_dir=tmp_path, resume=True)
    assert len(h["loss"]) == 2 and checkpoint.run_info(tmp_path)["epoch"] == 2
    assert opt.iterations == 8
    assert all(isinstance(a, cp.ndarray) for st in opt.state.values() for a in st.values())
    _assert_on_gpu(again)


# --------------------------------------------------------------------------------------------
# package-level promises


def test_import_scratch_ae_does_not_import_cupy():
    env = {k: v for k, v in os.environ.items() if k != backend.ENV_VAR}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    code = ("import sys, scratch_ae, scratch_ae.train, scratch_ae.models.zoo, scratch_ae.cli; "
            "assert 'cupy' not in sys.modules, 'cupy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=120)


def test_set_backend_cupy_puts_new_parameters_on_the_gpu():
    with backend.use_backend("cupy"):
        layer = Dense(4, 2)
        assert isinstance(layer.params["W"], cp.ndarray)
        assert isinstance(backend.to_device(np.zeros(3)), cp.ndarray)


def test_cli_train_with_the_cupy_backend(tmp_path, capsys):
    """`scratch-ae train stacked --backend cupy` end to end, on a tiny MNIST-format folder.

    Needs neither the real data nor scikit-learn or matplotlib (--no-plots), which a bare GPU
    machine may lack.
    """
    from test_data import write_set  # noqa: PLC0415 - tests/ is on sys.path under pytest

    from scratch_ae import cli  # noqa: PLC0415

    write_set(tmp_path / "mnist", n_train=600, n_test=50)
    rc = cli.main(["train", "stacked", "--backend", "cupy", "--epochs", "1", "--dataset",
                   "mnist", "--data-dir", str(tmp_path / "mnist"), "--out", str(tmp_path / "out"),
                   "--quiet", "--no-plots"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "backend cupy" in out.out
    assert (tmp_path / "out" / "stacked.npz").exists()
    assert not list((tmp_path / "out").glob("*.png"))
