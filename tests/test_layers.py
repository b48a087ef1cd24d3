"""Every core layer: gradient checks on several shapes, forward values against independent
formulas, randomness, dtypes, input errors, parameter bookkeeping."""

import math
import warnings

import numpy as np
import pytest

from scratch_ae import (
    BCE,
    ELU,
    MSE,
    SELU,
    SGD,
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
from scratch_ae.gradcheck import check_layer, check_model
from scratch_ae.layers import ActivityL1, KLSparsity
from scratch_ae.layers.conv import Conv2D


def _scipy_special():
    """scipy.special for an independent sigmoid (the library itself does not need scipy)."""
    return pytest.importorskip("scipy.special")


def _away_from_zero(x, gap=0.1):
    """Push every value at least ``gap`` from 0, the kink of ReLU, LeakyReLU and SELU."""
    return np.sign(x) * (np.abs(x) + gap) + (x == 0) * gap


def _randn(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _random_bias(layer, seed=7):
    b = layer.params["b"]
    b[...] = np.random.default_rng(seed).standard_normal(b.shape).astype(b.dtype)
    return layer


# ------------------------------------------------------------------------------ gradient checks

ELEMENTWISE = {
    "ReLU": ReLU,
    "LeakyReLU": LeakyReLU,
    "ELU": ELU,
    "SELU": SELU,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "Softplus": Softplus,
}
SHAPES = [(1, 5), (3, 4), (2, 3, 4), (2, 1, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_activation_gradients(name, shape):
    x = 2.0 * _away_from_zero(_randn(shape, seed=len(shape)))
    err = check_layer(ELEMENTWISE[name](), x)
    assert err < 1e-6


# Every constructor parameter that changes a backward, at values other than its default: a
# backward that ignored the parameter (ELU's alpha fixed at 1, LeakyReLU's slope fixed at 0.3,
# a KL target fixed at 0.1, ...) passes a check at the default and fails here.
NON_DEFAULT = [
    ("LeakyReLU(0.01)", lambda: LeakyReLU(0.01), "any"),
    ("LeakyReLU(0.7)", lambda: LeakyReLU(0.7), "any"),
    ("LeakyReLU(-0.5)", lambda: LeakyReLU(-0.5), "any"),
    ("ELU(0.5)", lambda: ELU(alpha=0.5), "any"),
    ("ELU(2.5)", lambda: ELU(alpha=2.5), "any"),
    ("Dropout(0.8)", lambda: Dropout(0.8), "any"),
    ("Dropout(0.05)", lambda: Dropout(0.05), "any"),
    ("GaussianNoise(2.0)", lambda: GaussianNoise(2.0), "any"),
    ("ActivityL1(0.02)", lambda: ActivityL1(0.02), "any"),
    ("ActivityL1(3.0)", lambda: ActivityL1(3.0), "any"),
    ("KLSparsity(1.3, 0.35)", lambda: KLSparsity(weight=1.3, target=0.35), "rates"),
    ("KLSparsity(0.2, 0.8)", lambda: KLSparsity(weight=0.2, target=0.8), "rates"),
]


@pytest.mark.parametrize(("make", "inputs"), [case[1:] for case in NON_DEFAULT],
                         ids=[case[0] for case in NON_DEFAULT])
def test_gradients_at_non_default_parameters(make, inputs):
    x = 2.0 * _away_from_zero(_randn((3, 5), seed=5))
    if inputs == "rates":  # KL sparsity needs activations in (0, 1)
        x = np.random.default_rng(5).uniform(0.05, 0.95, size=(3, 5))
    assert check_layer(make(), x, training=True) < 1e-6


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4)], ids=str)
def test_leaky_relu_and_elu_backward_use_their_parameter(shape):
    """dL/dx on the negative side is exactly ``slope * dy`` and ``(y + alpha) * dy``."""
    x = -np.abs(_away_from_zero(_randn(shape, seed=1)))
    dy = _randn(shape, seed=2)
    leaky = LeakyReLU(0.07)
    leaky.forward(x)
    np.testing.assert_allclose(leaky.backward(dy), 0.07 * dy, rtol=1e-14)
    elu = ELU(alpha=1.9)
    elu.forward(x)
    np.testing.assert_allclose(elu.backward(dy), 1.9 * np.exp(x) * dy, rtol=1e-12)


@pytest.mark.parametrize(("n", "d_in", "d_out"), [(1, 3, 2), (4, 5, 3), (7, 2, 6)])
def test_dense_gradients(n, d_in, d_out):
    layer = _random_bias(Dense(d_in, d_out))
    assert check_layer(layer, _randn((n, d_in))) < 1e-6


@pytest.mark.parametrize("n", [1, 3])
def test_dense_transpose_gradients_through_a_tied_model(n):
    backend.seed(1)
    d = _random_bias(Dense(6, 3))
    dt = _random_bias(DenseTranspose(d), seed=8)
    model = Sequential([d, SELU(), dt, Sigmoid()])
    x = np.random.default_rng(n).uniform(0.05, 0.95, size=(n, 6))
    err = check_model(model, x, BCE())
    assert err < 1e-6
    assert check_model(model, x, MSE()) < 1e-6


def test_tied_weight_is_one_array_and_its_gradient_sums_both_uses():
    backend.seed(2)
    d = _random_bias(Dense(5, 3)).astype(np.float64)
    dt = _random_bias(DenseTranspose(d), seed=9).astype(np.float64)
    assert dt.dense.params["W"] is d.params["W"]
    tied = Sequential([d, Tanh(), dt])
    # The same network with two independent weights, W and a copy of W.T.
    enc = Dense(5, 3).astype(np.float64)
    dec = Dense(3, 5).astype(np.float64)
    enc.params["W"][...] = d.params["W"]
    enc.params["b"][...] = d.params["b"]
    dec.params["W"][...] = d.params["W"].T
    dec.params["b"][...] = dt.params["b"]
    untied = Sequential([enc, Tanh(), dec])

    x = _randn((4, 5), seed=3)
    g = _randn((4, 5), seed=4)
    np.testing.assert_allclose(tied.forward(x), untied.forward(x), rtol=1e-13)
    tied.zero_grad()
    untied.zero_grad()
    tied.backward(g)
    untied.backward(g)
    # One weight used twice: its gradient is the encoder's plus the (transposed) decoder's.
    np.testing.assert_allclose(d.grads["W"], enc.grads["W"] + dec.grads["W"].T, rtol=1e-12)
    np.testing.assert_allclose(dt.grads["b"], dec.grads["b"], rtol=1e-12)
    # Both contributions are non-trivial, so the sum really has two parts.
    assert np.abs(enc.grads["W"]).max() > 1e-3
    assert np.abs(dec.grads["W"]).max() > 1e-3
    # The tied weight is counted once, and updating it in place keeps the two layers tied.
    assert [k for k, _, _ in tied.named_parameters()] == ["0.W", "0.b", "2.b"]
    w = d.params["W"]
    SGD(lr=0.1).step(tied)
    assert d.params["W"] is w and dt.dense.params["W"] is w


def test_dense_transpose_follows_a_recast_dense():
    d = Dense(4, 2)
    dt = DenseTranspose(d)
    Sequential([d, dt]).astype(np.float64)
    y = dt.forward(np.ones((1, 2)))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y[0], d.params["W"].sum(axis=1))


def test_dense_transpose_requires_a_dense():
    with pytest.raises(TypeError, match="ties to a Dense layer, got ReLU"):
        DenseTranspose(ReLU())


@pytest.mark.parametrize("shape", [(1, 6), (2, 3, 4), (3, 1, 2, 2)], ids=str)
def test_flatten_gradient_and_shape(shape):
    x = _randn(shape)
    layer = Flatten()
    y = layer.forward(x)
    assert y.shape == (shape[0], math.prod(shape[1:]))
    np.testing.assert_array_equal(y.ravel(), x.ravel())
    assert check_layer(Flatten(), x) < 1e-6


@pytest.mark.parametrize(("shape", "target"), [((1, 12), (3, 4)), ((2, 12), (1, 3, 4)),
                                                ((3, 2, 6), (12,))], ids=str)
def test_reshape_gradient_and_shape(shape, target):
    x = _randn(shape)
    y = Reshape(target).forward(x)
    assert y.shape == (shape[0], *target)
    assert check_layer(Reshape(target), x) < 1e-6


def test_reshape_wrong_size_message():
    with pytest.raises(ValueError, match=r"expected 784 values per sample, got input of shape "
                                         r"\(2, 100\)"):
        Reshape((1, 28, 28)).forward(np.zeros((2, 100)))


@pytest.mark.parametrize("shape", [(1, 5), (4, 6), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_gradient_in_training_mode(shape, rate):
    assert check_layer(Dropout(rate), _randn(shape), training=True) < 1e-6


@pytest.mark.parametrize("shape", [(1, 5), (4, 6), (2, 3, 4)], ids=str)
def test_gaussian_noise_gradient_in_training_mode(shape):
    assert check_layer(GaussianNoise(0.3), _randn(shape), training=True) < 1e-6


# ------------------------------------------------------------------------------ forward values


def test_selu_matches_its_published_constants():
    # Klambauer et al. 2017: alpha ~ 1.6733, lambda ~ 1.0507 (the closed forms, not the code's).
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    x = np.array([[-3.0, -1.0, -0.25, 0.25, 1.0, 3.0]])
    expected = np.where(x > 0, scale * x, scale * alpha * (np.exp(x) - 1))
    np.testing.assert_allclose(SELU().forward(x), expected, rtol=1e-14)


def test_elu_leaky_relu_relu_tanh_values():
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    np.testing.assert_allclose(ELU(alpha=0.7).forward(x)[0],
                               [0.7 * (math.exp(-2) - 1), 0.7 * (math.exp(-0.5) - 1), 0.5, 2.0],
                               rtol=1e-14)
    np.testing.assert_allclose(LeakyReLU().forward(x)[0], [-0.6, -0.15, 0.5, 2.0], rtol=1e-14)
    np.testing.assert_allclose(LeakyReLU(0.01).forward(x)[0], [-0.02, -0.005, 0.5, 2.0],
                               rtol=1e-14)
    np.testing.assert_array_equal(ReLU().forward(x)[0], [0.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(Tanh().forward(x)[0], [math.tanh(v) for v in x[0]], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_matches_expit_without_overflow(dtype):
    special = _scipy_special()
    x = np.array([[-1000.0, -100.0, -30.0, -5.0, -1.0, 0.0, 1.0, 5.0, 30.0, 100.0, 1000.0]],
                 dtype=dtype)
    expected = special.expit(x.astype(np.float64))
    # Overflow would be a bug; exp(-1000) underflowing to 0 is the right answer.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Sigmoid().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    eps = np.finfo(dtype).eps
    # Within a few ulps of 1 in absolute terms everywhere, and within a few ulps *relatively*
    # wherever the true value is representable: the left tail (sigmoid(-30) ~ 9e-14) must not
    # be flushed to 0, as 0.5 * (1 + tanh(x / 2)) would do.
    np.testing.assert_allclose(y, expected, rtol=0, atol=4 * eps)
    normal = expected > np.finfo(dtype).tiny
    np.testing.assert_allclose(y[normal], expected[normal], rtol=4 * eps)
    assert y[0, 0] == 0.0 and y[0, -1] == 1.0 and y[0, 5] == 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_is_finite_and_exact_at_extremes(dtype):
    special = _scipy_special()
    x = np.array([[-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0]], dtype=dtype)
    # Overflow or NaN would be a bug; exp(-1000) underflowing to 0 is the right answer.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = Softplus().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    assert y[0, -1] == 1000.0 and y[0, 0] == 0.0
    expected = np.logaddexp(0.0, x.astype(np.float64))  # log(1 + e^x), independently
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps)
    layer = Softplus()
    layer.forward(x)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        d = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(d, special.expit(x.astype(np.float64)), rtol=0,
                               atol=4 * np.finfo(dtype).eps)


def test_dense_forward_is_x_w_plus_b():
    layer = Dense(3, 2).astype(np.float64)
    layer.params["W"][...] = [[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]]
    layer.params["b"][...] = [0.25, -0.5]
    y = layer.forward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y, [[1 + 4 + 0 + 0.25, -1 + 1 + 9 - 0.5]])


def test_dense_init_is_glorot_uniform_with_zero_bias():
    layer = Dense(300, 200)
    limit = math.sqrt(6 / 500)
    w = layer.params["W"]
    assert w.dtype == np.float32 and w.shape == (300, 200)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit  # std of U(-l, l) is l/sqrt(3)
    assert not layer.params["b"].any()


# ------------------------------------------------------------------------------ noise layers


@pytest.mark.parametrize("layer_cls", [lambda: Dropout(0.4), lambda: GaussianNoise(0.5)])
def test_noise_layers_are_reproducible_and_identity_at_inference(layer_cls):
    x = _randn((8, 20)).astype(np.float32)
    layer = layer_cls()
    backend.seed(11)
    a = layer.forward(x, training=True)
    backend.seed(11)
    b = layer.forward(x, training=True)
    backend.seed(12)
    c = layer.forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, x)
    y = layer.forward(x, training=False)
    assert y is x or np.array_equal(y, x)
    np.testing.assert_array_equal(y, x)
    g = _randn((8, 20)).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(g), g)  # identity after an inference forward


def test_dropout_keeps_the_mean_by_inverted_scaling():
    rate = 0.3
    x = np.ones((200, 500))
    y = Dropout(rate).forward(x, training=True)
    kept = y != 0
    # Survivors are scaled by exactly 1 / (1 - rate); the rest are 0.
    np.testing.assert_allclose(y[kept], 1 / (1 - rate), rtol=1e-15)
    # 100,000 Bernoulli draws: the standard error of the mean is ~0.002.
    assert abs(kept.mean() - (1 - rate)) < 0.01
    assert abs(y.mean() - 1.0) < 0.01


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5)
    x = _randn((6, 7)) + 5.0  # never exactly 0, so zeros in y mark dropped units
    y = layer.forward(x, training=True)
    g = _randn((6, 7), seed=1)
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g * (y / x), rtol=1e-14)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        Dropout(rate)


def test_gaussian_noise_statistics_and_validation():
    x = np.zeros((100, 1000))
    y = GaussianNoise(0.2).forward(x, training=True)
    assert abs(y.mean()) < 0.005 and abs(y.std() - 0.2) < 0.005
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        GaussianNoise(-1.0)


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
        x = _away_from_zero(_randn(shape)).astype(dtype)
        y = layer.forward(x, training=training)
        assert y.dtype == dtype, f"{layer!r} forward returned {y.dtype} for {dtype}"
        dx = layer.backward(_randn(y.shape).astype(dtype))
        assert dx.dtype == dtype, f"{layer!r} backward returned {dx.dtype} for {dtype}"
        assert dx.shape == x.shape
        owners = [layer, layer.dense] if isinstance(layer, DenseTranspose) else [layer]
        for owner in owners:
            for name, g in owner.grads.items():
                assert g.dtype == dtype, f"{layer!r} grad {name} became {g.dtype}"


# ------------------------------------------------------------------------------ bad input


def test_dense_wrong_width_names_expected_and_got():
    with pytest.raises(ValueError, match=r"Dense expected input of shape \(N, 784\), got "
                                         r"\(5, 100\)"):
        Dense(784, 10).forward(np.zeros((5, 100), np.float32))


def test_dense_integer_input_says_to_convert():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype uint8.*astype\('float32'\)"):
        Dense(4, 2).forward(np.zeros((2, 4), np.uint8))


def test_dense_one_d_input():
    with pytest.raises(ValueError, match=r"expected a 2-D input \(batch first\), got shape "
                                         r"\(784,\)"):
        Dense(784, 10).forward(np.zeros(784, np.float32))


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Flatten(), Dropout(0.5)], ids=repr)
def test_other_layers_reject_integers_and_non_arrays(layer):
    with pytest.raises(TypeError, match="floating-point"):
        layer.forward(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="expected an array, got list"):
        layer.forward([[1.0, 2.0]])


# ------------------------------------------------------------------------------ bookkeeping


def geron_stacked_ae():
    """Géron's stacked autoencoder: 784-100-30-100-784, SELU, sigmoid output."""
    return Autoencoder(
        [Flatten(), Dense(784, 100), SELU(), Dense(100, 30), SELU()],
        [Dense(30, 100), SELU(), Dense(100, 784), Sigmoid(), Reshape((1, 28, 28))],
    )


def test_n_params_of_geron_stacked_ae():
    expected = 784 * 100 + 100 + 100 * 30 + 30 + 30 * 100 + 100 + 100 * 784 + 784
    assert expected == 163_814
    model = geron_stacked_ae()
    assert model.n_params() == expected
    keys = [k for k, _, _ in model.named_parameters()]
    assert keys == ["encoder.1.W", "encoder.1.b", "encoder.3.W", "encoder.3.b",
                    "decoder.0.W", "decoder.0.b", "decoder.2.W", "decoder.2.b"]
    assert model.output_shape((1, 28, 28)) == (1, 28, 28)


def test_n_params_of_tied_ae_counts_the_shared_weight_once():
    d1, d2 = Dense(784, 100), Dense(100, 30)
    model = Autoencoder([d1, SELU(), d2, SELU()],
                        [DenseTranspose(d2), SELU(), DenseTranspose(d1), Sigmoid()])
    assert model.n_params() == 784 * 100 + 100 + 100 * 30 + 30 + 100 + 784


def test_zero_grad_resets_nested_layers():
    inner = Sequential([Dense(5, 4), Tanh(), Sequential([Dense(4, 3)])])
    model = Autoencoder(inner, [Dense(3, 5), Sigmoid()])
    x = np.random.default_rng(0).uniform(size=(2, 5)).astype(np.float32)
    model.forward(x)
    model.backward(_randn((2, 5)).astype(np.float32))
    grads = [layer.grads[name] for _, layer, name in model.named_parameters()]
    assert len(grads) == 6 and all(np.abs(g).max() > 0 for g in grads)
    model.zero_grad()
    for key, layer, name in model.named_parameters():
        assert not layer.grads[name].any(), f"{key} was not zeroed"
    # zero_grad resets in place (an optimizer or a tied layer may hold the same buffer).
    assert all(g is layer.grads[name] for g, (_, layer, name)
               in zip(grads, model.named_parameters(), strict=True))


def test_to_numpy_and_astype_move_params_and_grads():
    model = geron_stacked_ae()
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
