"""scratch_ae/layers/conv.py: ``Conv2D`` and ``Conv2DTranspose``: gradient checks, naive-loop
references (a sliding window, a scatter-add), the conv/transposed-conv adjoint identity, Keras'
output sizes, Glorot init, clear errors, backend parity and Geron's conv autoencoder shapes.

A few checks run over the conv and the pooling layers together (float32 kept on both CPU
backends, ``dy`` never written into, numba equal to numpy); the pooling layers' own promises are
in test_pooling.py.
"""

import numpy as np
import pytest
from helpers import distinct, randn

from scratch_ae import backend
from scratch_ae.geometry import same_pads
from scratch_ae.gradcheck import check_layer
from scratch_ae.layers.conv import Conv2D, Conv2DTranspose
from scratch_ae.layers.pooling import (
    AvgPool2D,
    GlobalAvgPool2D,
    MaxPool2D,
    UpSampling2D,
)


def _randomize(layer, seed=1):
    """Non-zero biases so that their gradients are checked against something non-trivial."""
    rng = np.random.default_rng(seed)
    for name, p in layer.params.items():
        p[...] = rng.standard_normal(p.shape).astype(p.dtype) * (0.5 if name == "W" else 1.0)
    return layer


# --------------------------------------------------------------------------------------------
# gradient checks (float64)


CONV_CASES = [
    # in, out, kernel, stride, padding, x shape
    (1, 1, 3, 1, "same", (1, 1, 5, 5)),
    (2, 3, 3, 2, "same", (2, 2, 6, 6)),
    (2, 3, (3, 2), 2, "same", (2, 2, 5, 7)),
    (3, 2, 2, 2, "same", (1, 3, 5, 4)),
    (2, 2, (2, 3), (1, 2), "valid", (2, 2, 6, 7)),
    (2, 3, 3, 1, 1, (1, 2, 4, 5)),
    (2, 2, 3, 2, (1, 0, 0, 2), (2, 2, 5, 5)),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradients(case):
    cin, cout, k, s, pad, shape = case
    layer = _randomize(Conv2D(cin, cout, k, stride=s, padding=pad))
    assert check_layer(layer, randn(shape)) < 1e-6


TCONV_CASES = [
    (1, 1, 3, 1, "same", None, (1, 1, 4, 4)),
    (2, 3, 3, 2, "same", None, (2, 2, 3, 4)),
    (3, 2, 3, 2, "valid", None, (1, 3, 3, 3)),
    (2, 2, (2, 3), (2, 1), "valid", None, (2, 2, 3, 4)),
    (2, 2, 2, 2, "same", None, (2, 2, 3, 3)),
    (2, 2, 1, 3, "valid", None, (1, 2, 2, 3)),  # kernel < stride: Keras gives in*s
    (2, 3, 3, 2, "same", 1, (1, 2, 3, 3)),
    (2, 2, 3, 2, "valid", (1, 0), (1, 2, 3, 3)),
]


@pytest.mark.parametrize("case", TCONV_CASES)
def test_conv2d_transpose_gradients(case):
    cin, cout, k, s, pad, op, shape = case
    layer = _randomize(Conv2DTranspose(cin, cout, k, stride=s, padding=pad, output_padding=op))
    assert check_layer(layer, randn(shape)) < 1e-6


# --------------------------------------------------------------------------------------------
# forward values


def _naive_conv(x, W, b, stride, pads):
    sh, sw = stride
    pt, pb, pl, pr = pads
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, _, hp, wp = xpad.shape
    oc, _, kh, kw = W.shape
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    for ni in range(n):
        for o in range(oc):
            for r in range(oh):
                for q in range(ow):
                    for c in range(x.shape[1]):
                        for i in range(kh):
                            for j in range(kw):
                                pixel = xpad[ni, c, r * sh + i, q * sw + j]
                                y[ni, o, r, q] += W[o, c, i, j] * pixel
                    y[ni, o, r, q] += b[o]
    return y


@pytest.mark.parametrize("seed", range(6))
def test_conv2d_forward_matches_naive_loops(seed):
    rng = np.random.default_rng(seed)
    n, cin, cout = (int(v) for v in rng.integers(1, 4, size=3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    sh, sw = (int(v) for v in rng.integers(1, 3, size=2))
    h, w = int(rng.integers(kh, 9)), int(rng.integers(kw, 9))
    padding = ["same", "valid", int(rng.integers(0, 2))][seed % 3]
    layer = _randomize(Conv2D(cin, cout, (kh, kw), (sh, sw), padding).astype(np.float64), seed)
    x = rng.standard_normal((n, cin, h, w))
    if padding == "same":
        pads = (*same_pads(h, kh, sh), *same_pads(w, kw, sw))
        assert layer.forward(x).shape[2:] == (-(-h // sh), -(-w // sw))  # ceil(H / SH)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        pads = (padding,) * 4
    want = _naive_conv(x, layer.params["W"], layer.params["b"], (sh, sw), pads)
    np.testing.assert_allclose(layer.forward(x), want, rtol=1e-12, atol=1e-12)


def _keras_transpose_length(size, k, s, padding, output_padding):
    """Keras' ``deconv_output_length``, written out again here."""
    if output_padding is None:
        return size * s + max(k - s, 0) if padding == "valid" else size * s
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * s + k - 2 * pad + output_padding


def _transpose_axis(size, k, s, padding, output_padding):
    """``(length, pad_before)`` of a transposed conv along one axis, or None when no forward
    convolution maps that length back to ``size`` (then the layer must refuse it)."""
    out = _keras_transpose_length(size, k, s, padding, output_padding)
    if padding == "valid":
        return (out, 0) if out >= k and (out - k) // s + 1 == size else None
    # TensorFlow's SAME conv from `out` positions: ceil(out / s) outputs; the total padding
    # (out_positions - 1) * s + k - out is split with the odd cell at the end.
    if out < 1 or -(-out // s) != size:
        return None
    return out, max((size - 1) * s + k - out, 0) // 2


def _naive_conv_transpose(x, W, b, stride, pads_before, out_hw):
    """The scatter-add definition: input pixel (r, q) stamps ``x * W[c, o]`` onto the output
    with its top-left corner at ``(r*SH - pt, q*SW - pl)``; stamps add, cells outside drop."""
    n, c, h, w = x.shape
    _, oc, kh, kw = W.shape
    (sh, sw), (pt, pl), (oh, ow) = stride, pads_before, out_hw
    y = np.zeros((n, oc, oh, ow)) + b.reshape(1, oc, 1, 1)
    for ni in range(n):
        for ci in range(c):
            for r in range(h):
                for q in range(w):
                    for o in range(oc):
                        for i in range(kh):
                            for j in range(kw):
                                rr, qq = r * sh - pt + i, q * sw - pl + j
                                if 0 <= rr < oh and 0 <= qq < ow:
                                    y[ni, o, rr, qq] += x[ni, ci, r, q] * W[ci, o, i, j]
    return y


def _transpose_case_values(k, s, padding, op, hw, seed=0):
    """Layer output vs the naive loops; False when the geometry is (rightly) refused."""
    (kh, kw), (sh, sw), (oph, opw), (h, w) = k, s, op, hw
    rows = _transpose_axis(h, kh, sh, padding, oph)
    cols = _transpose_axis(w, kw, sw, padding, opw)
    output_padding = None if oph is None else (oph, opw)
    if rows is None or cols is None:
        with pytest.raises(ValueError, match="output_padding"):
            Conv2DTranspose(2, 3, k, s, padding, output_padding).forward(np.zeros((1, 2, h, w)))
        return False
    layer = _randomize(Conv2DTranspose(2, 3, k, s, padding, output_padding), seed)
    layer.astype(np.float64)
    x = randn((2, 2, h, w), seed)
    want = _naive_conv_transpose(x, layer.params["W"], layer.params["b"], s,
                                 (rows[1], cols[1]), (rows[0], cols[0]))
    y = layer.forward(x)
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    assert layer.output_shape((2, h, w)) == want.shape[1:]
    return True


@pytest.mark.parametrize(
    "k, s, padding, op, hw",
    [
        (3, 1, "same", None, (4, 5)),
        (3, 2, "same", None, (3, 4)),
        (2, 2, "same", None, (3, 3)),  # even kernel
        (4, 2, "same", None, (3, 2)),  # even kernel, padding on both sides
        ((3, 2), (2, 1), "valid", None, (3, 4)),
        (1, 3, "valid", None, (2, 3)),  # kernel < stride: gaps between the stamps
        (3, 2, "same", (1, 1), (3, 3)),  # output padding, odd kernel
        (3, 2, "same", (0, 1), (3, 4)),
        (2, 2, "same", (1, 1), (3, 2)),  # output padding, even kernel: pad = k // 2
        (4, 2, "same", (1, 1), (2, 3)),
        (4, 3, "same", (2, 1), (2, 2)),
        ((4, 2), (3, 2), "same", (1, 1), (3, 2)),
        (3, 2, "valid", (1, 0), (3, 3)),
        (2, 3, "valid", (2, 1), (2, 2)),
    ],
    ids=str,
)
def test_conv2d_transpose_forward_matches_naive_scatter_add(k, s, padding, op, hw):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    assert _transpose_case_values((kh, kw), (sh, sw), padding, op or (None, None), hw)


def test_conv2d_transpose_every_small_geometry_matches_or_is_refused():
    """Kernels 1-4, strides 1-3, both paddings, output_padding None/0/1/2, on a 3x2 input:
    each either matches the naive loops or is refused exactly when no conv maps it back."""
    accepted = refused = 0
    for k in range(1, 5):
        for s in range(1, 4):
            for padding in ("same", "valid"):
                for op in (None, 0, 1, 2):
                    kernel, stride = (k, k % 4 + 1), (s, s % 3 + 1)
                    ops = (op, None) if op is None else (op, min(op, stride[1] - 1))
                    if _transpose_case_values(kernel, stride, padding, ops, (3, 2), seed=k + s):
                        accepted += 1
                    else:
                        refused += 1
    assert (accepted, refused) == (60, 36)


# --------------------------------------------------------------------------------------------
# conv and transposed conv are adjoint


@pytest.mark.parametrize(
    "k, s, pad, out_hw",
    [(3, 1, "same", (5, 6)), (3, 2, "same", (6, 8)), (2, 2, "same", (4, 6)),
     ((3, 2), (2, 1), "valid", (7, 5)), (1, 3, "valid", (6, 9))],
)
def test_conv_and_transposed_conv_are_adjoint(k, s, pad, out_hw):
    # conv maps (C=3, out_hw) -> (OC=2, in_hw); the transposed conv, same weights, maps back.
    conv = Conv2D(3, 2, k, stride=s, padding=pad).astype(np.float64)
    tconv = Conv2DTranspose(2, 3, k, stride=s, padding=pad).astype(np.float64)
    rng = np.random.default_rng(0)
    conv.params["W"][...] = rng.standard_normal(conv.params["W"].shape)
    tconv.params["W"] = conv.params["W"]  # same (OC, C, KH, KW) array for both
    x = rng.standard_normal((2, 3, *out_hw))
    cx = conv.forward(x)
    y = rng.standard_normal(cx.shape)
    ty = tconv.forward(y)
    assert ty.shape == x.shape  # the transposed conv lands exactly on the conv's input shape
    lhs, rhs = np.vdot(cx, y), np.vdot(x, ty)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


# --------------------------------------------------------------------------------------------
# shapes


@pytest.mark.parametrize(
    "h, k, s, pad, op, want",
    [(3, 3, 2, "valid", None, 7), (7, 3, 2, "same", None, 14), (14, 3, 2, "same", None, 28),
     (5, 4, 1, "valid", None, 8), (5, 2, 3, "valid", None, 15), (4, 4, 2, "same", None, 8),
     (3, 3, 2, "same", 1, 6), (3, 3, 2, "valid", 1, 8)],
)
def test_conv2d_transpose_output_size_follows_keras(h, k, s, pad, op, want):
    layer = Conv2DTranspose(1, 1, k, stride=s, padding=pad, output_padding=op)
    assert layer.output_shape((1, h, h)) == (1, want, want)
    assert layer.forward(np.zeros((1, 1, h, h), dtype=np.float32)).shape == (1, 1, want, want)


def test_geron_conv_autoencoder_shapes_and_parameter_counts():
    encoder = [Conv2D(1, 16, 3, padding="same"), MaxPool2D(2),
               Conv2D(16, 32, 3, padding="same"), MaxPool2D(2),
               Conv2D(32, 64, 3, padding="same"), MaxPool2D(2)]
    decoder = [Conv2DTranspose(64, 32, 3, stride=2, padding="valid"),
               Conv2DTranspose(32, 16, 3, stride=2, padding="same"),
               Conv2DTranspose(16, 1, 3, stride=2, padding="same")]
    assert [layer.n_params() for layer in encoder[::2]] == [160, 4640, 18496]
    assert sum(layer.n_params() for layer in encoder) == 23_296
    assert [layer.n_params() for layer in decoder] == [18464, 4624, 145]
    assert sum(layer.n_params() for layer in decoder) == 23_233
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    shape = (1, 28, 28)
    for layer in encoder:
        shape = layer.output_shape(shape)
        x = layer.forward(x)
        assert x.shape[1:] == shape
    assert x.shape == (2, 64, 3, 3)
    sizes = []
    for layer in decoder:
        x = layer.forward(x)
        sizes.append(x.shape[2])
        assert x.shape[1:] == layer.output_shape(shape)
        shape = x.shape[1:]
    assert sizes == [7, 14, 28] and x.shape == (2, 1, 28, 28)
    assert x.dtype == np.float32


# --------------------------------------------------------------------------------------------
# initialization, dtypes, errors


def test_conv_init_is_glorot_with_keras_fans_and_zero_bias():
    backend.seed(0)
    layer = Conv2D(16, 32, 3)
    assert layer.params["W"].shape == (32, 16, 3, 3) and layer.params["W"].dtype == np.float32
    limit = np.sqrt(6.0 / (16 * 9 + 32 * 9))
    W = layer.params["W"]
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.9 * limit
    assert np.all(layer.params["b"] == 0) and layer.params["b"].shape == (32,)
    t = Conv2DTranspose(64, 32, 3)
    assert t.params["W"].shape == (64, 32, 3, 3) and t.params["b"].shape == (32,)


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_layers_keep_float32(name):
    x = np.random.default_rng(0).random((2, 2, 6, 6), dtype=np.float32)
    with backend.use_backend(name):
        for layer in [Conv2D(2, 3, 3, 2), Conv2DTranspose(2, 3, 3, 2), MaxPool2D(2),
                      AvgPool2D(2), GlobalAvgPool2D(), UpSampling2D(2)]:
            y = layer.forward(x)
            dx = layer.backward(np.ones_like(y))
            assert y.dtype == np.float32 and dx.dtype == np.float32, layer
            assert all(g.dtype == np.float32 for g in layer.grads.values()), layer


def test_clear_errors():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, \?, \?\)"):
        Conv2D(3, 4, 3).forward(np.zeros((1, 2, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="4-D"):
        MaxPool2D().forward(np.zeros((2, 5, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        Conv2D(1, 1, 3).forward(np.zeros((1, 1, 5, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(1, 1, 3, stride=2, output_padding=2).output_shape((1, 4, 4))


def test_backward_does_not_mutate_dy():
    x = np.random.default_rng(0).random((2, 2, 6, 6))
    for layer in [Conv2D(2, 3, 3, 2).astype(np.float64), Conv2DTranspose(2, 3, 3, 2).astype(
            np.float64), MaxPool2D(2), AvgPool2D(2), GlobalAvgPool2D(), UpSampling2D(2)]:
        y = layer.forward(x)
        dy = np.random.default_rng(1).standard_normal(y.shape)
        before = dy.copy()
        layer.backward(dy)
        np.testing.assert_array_equal(dy, before)


# --------------------------------------------------------------------------------------------
# the numba backend computes the same thing


LAYERS = [
    lambda: Conv2D(3, 4, 3, stride=1, padding="same"),
    lambda: Conv2D(3, 4, (2, 3), stride=2, padding="same"),
    lambda: Conv2D(3, 2, 3, stride=(2, 1), padding="valid"),
    lambda: Conv2DTranspose(3, 2, 3, stride=2, padding="same"),
    lambda: Conv2DTranspose(3, 2, (3, 2), stride=2, padding="valid"),
    lambda: MaxPool2D(2),
    lambda: MaxPool2D(3, 2, "same"),
    lambda: AvgPool2D(2, 1, "same"),
]


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_and_numpy_backends_agree(make, dtype):
    x = distinct((2, 3, 7, 6), seed=3).astype(dtype)
    results = {}
    for name in ("numpy", "numba"):
        backend.seed(0)
        layer = _randomize(make().astype(dtype), seed=2)
        with backend.use_backend(name):
            y = layer.forward(x)
            dy = np.random.default_rng(5).standard_normal(y.shape).astype(dtype)
            dx = layer.backward(dy)
        results[name] = (y, dx, {k: g.copy() for k, g in layer.grads.items()})
    tol = 1e-5 if dtype == np.float32 else 1e-12
    (y0, dx0, g0), (y1, dx1, g1) = results["numpy"], results["numba"]
    assert y1.dtype == dx1.dtype == dtype
    np.testing.assert_allclose(y1, y0, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx1, dx0, rtol=tol, atol=tol)
    for k in g0:
        np.testing.assert_allclose(g1[k], g0[k], rtol=tol, atol=tol * 10)
