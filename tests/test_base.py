"""scratch_ae/layers/base.py: the layer contract, checked on every core layer.

Dtypes kept forward and backward (gradients included), ``check_input``'s clear errors,
``zero_grad`` in place through nested layers, ``to``/``astype`` moving parameters and gradients,
``glorot_uniform`` drawing from the backend's seed, and ``input_grad``: a first layer may skip
dL/dx, and ``fit`` turns that on for the run only.
"""

import numpy as np
import pytest
from helpers import away_from_zero, geron_stacked_ae_on_images, randn

from scratch_ae import (
    ELU,
    SELU,
    Autoencoder,
    Dense,
    DenseTranspose,
    Dropout,
    Flatten,
    GaussianNoise,
    LeakyReLU,
    ReLU,
    Reshape,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    backend,
)
from scratch_ae.backend import BackendError, available_backends
from scratch_ae.layers.conv import Conv2D

# ------------------------------------------------------------------------------ dtypes


def _all_layers():
    d = Dense(6, 4)
    return [
        (Dense(6, 4), (3, 6)),
        (DenseTranspose(d), (3, 4)),
        (ReLU(), (3, 6)), (LeakyReLU(), (3, 6)), (ELU(), (3, 6)), (SELU(), (3, 6)),
        (Sigmoid(), (3, 6)), (Tanh(), (3, 6)), (Softplus(), (3, 6)),
        (Flatten(), (3, 2, 3)), (Reshape((2, 3)), (3, 6)),
        (Dropout(0.5), (3, 6)), (GaussianNoise(0.1), (3, 6)),
    ]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_forward_and_backward(dtype, training):
    for layer, shape in _all_layers():
        layer.astype(dtype)
        if isinstance(layer, DenseTranspose):
            layer.dense.astype(dtype)  # the tied weight belongs to the Dense
        x = away_from_zero(randn(shape)).astype(dtype)
        y = layer.forward(x, training=training)
        assert y.dtype == dtype, f"{layer!r} forward returned {y.dtype} for {dtype}"
        dx = layer.backward(randn(y.shape).astype(dtype))
        assert dx.dtype == dtype, f"{layer!r} backward returned {dx.dtype} for {dtype}"
        assert dx.shape == x.shape
        owners = [layer, layer.dense] if isinstance(layer, DenseTranspose) else [layer]
        for owner in owners:
            for name, g in owner.grads.items():
                assert g.dtype == dtype, f"{layer!r} grad {name} became {g.dtype}"


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Flatten(), Dropout(0.5)], ids=repr)
def test_other_layers_reject_integers_and_non_arrays(layer):
    with pytest.raises(TypeError, match="floating-point"):
        layer.forward(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="expected an array, got list"):
        layer.forward([[1.0, 2.0]])


# ------------------------------------------------------------------------------ bookkeeping


def test_zero_grad_resets_nested_layers():
    inner = Sequential([Dense(5, 4), Tanh(), Sequential([Dense(4, 3)])])
    model = Autoencoder(inner, [Dense(3, 5), Sigmoid()])
    x = np.random.default_rng(0).uniform(size=(2, 5)).astype(np.float32)
    model.forward(x)
    model.backward(randn((2, 5)).astype(np.float32))
    grads = [layer.grads[name] for _, layer, name in model.named_parameters()]
    assert len(grads) == 6 and all(np.abs(g).max() > 0 for g in grads)
    model.zero_grad()
    for key, layer, name in model.named_parameters():
        assert not layer.grads[name].any(), f"{key} was not zeroed"
    # zero_grad resets in place (an optimizer or a tied layer may hold the same buffer).
    assert all(g is layer.grads[name] for g, (_, layer, name)
               in zip(grads, model.named_parameters(), strict=True))


def test_to_numpy_and_astype_move_params_and_grads():
    model = geron_stacked_ae_on_images()
    assert model.to("numpy") is model
    for _, layer, name in model.named_parameters():
        assert type(layer.params[name]) is np.ndarray
    assert model.astype(np.float64) is model
    for _, layer, name in model.named_parameters():
        assert layer.params[name].dtype == np.float64
        assert layer.grads[name].dtype == np.float64
        assert layer.grads[name].shape == layer.params[name].shape
    y = model.forward(np.random.default_rng(0).uniform(size=(2, 1, 28, 28)))
    assert y.dtype == np.float64 and y.shape == (2, 1, 28, 28)


def _cupy_usable():
    return available_backends()["cupy"][0]


def test_model_to_numpy_is_a_no_op_on_the_host():
    d = Dense(3, 2)
    w = d.params["W"]
    assert d.to("numpy") is d
    np.testing.assert_array_equal(d.params["W"], w)
    if not _cupy_usable():
        with pytest.raises(BackendError, match="not usable here"):
            d.to("cupy")


def test_same_seed_gives_same_weights():
    backend.seed(42)
    a = Dense(10, 5).params["W"].copy()
    backend.seed(42)
    b = Dense(10, 5).params["W"]
    backend.seed(43)
    c = Dense(10, 5).params["W"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("make", [
    lambda: (Dense(6, 4), (5, 6)),
    lambda: (Conv2D(2, 3, 3), (2, 2, 5, 5)),
])
def test_first_layer_may_skip_the_input_gradient_and_fit_restores_it(make):
    layer, shape = make()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    layer.astype(np.float64)
    dy = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(dy)
    full = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    layer.input_grad = False
    layer.forward(x)
    assert layer.backward(dy) is None  # dL/dx skipped ...
    for k, g in layer.grads.items():  # ... the parameter gradients are the same
        np.testing.assert_array_equal(g, full[k])
    layer.input_grad = True
    assert dx is not None
    # fit switches it off for the model's first layer only, and back on afterwards.
    layer.input_grad = True
    seen = []
    orig = layer.backward

    def spy(d):
        seen.append(layer.input_grad)
        return orig(d)

    layer.backward = spy
    model = Sequential([layer], loss="mse")
    X = rng.standard_normal(shape).astype(np.float64)
    model.fit(X, model.forward(X) * 0.5, epochs=1, batch_size=shape[0], verbose=False)
    assert seen == [False] and layer.input_grad is True
