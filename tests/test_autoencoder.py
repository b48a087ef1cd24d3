"""scratch_ae/models/autoencoder.py: ``Autoencoder`` is its decoder after its encoder, forward
and backward; parameter keys start with ``encoder.`` and ``decoder.``; ``encode``, ``decode`` and
``reconstruct`` are the inference-mode halves and the whole."""

import numpy as np
from helpers import geron_stacked_ae_on_images

from scratch_ae import MSE, Autoencoder, Dense, Dropout, Sequential, Sigmoid, Tanh, backend
from scratch_ae.gradcheck import check_model


def test_n_params_of_geron_stacked_ae():
    expected = 784 * 100 + 100 + 100 * 30 + 30 + 30 * 100 + 100 + 100 * 784 + 784
    assert expected == 163_814
    model = geron_stacked_ae_on_images()
    assert model.n_params() == expected
    keys = [k for k, _, _ in model.named_parameters()]
    assert keys == ["encoder.1.W", "encoder.1.b", "encoder.3.W", "encoder.3.b",
                    "decoder.0.W", "decoder.0.b", "decoder.2.W", "decoder.2.b"]
    assert model.output_shape((1, 28, 28)) == (1, 28, 28)


def _small(dropout=0.0):
    backend.seed(4)
    enc = [Dropout(dropout), Dense(6, 3), Tanh()] if dropout else [Dense(6, 3), Tanh()]
    return Autoencoder(enc, [Dense(3, 6), Sigmoid()]).astype(np.float64)


def test_lists_become_sequentials_named_encoder_and_decoder():
    model = _small()
    assert isinstance(model.encoder, Sequential) and isinstance(model.decoder, Sequential)
    assert [k for k, _, _ in model.named_parameters()] == [
        "encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b"]
    assert model.loss == "bce"  # an autoencoder's default: pixels in [0, 1]
    enc = Sequential([Dense(6, 3)])
    assert Autoencoder(enc, [Dense(3, 6)], loss="mse").encoder is enc  # used as given
    assert model.output_shape((6,)) == (6,) and model.encoder.output_shape((6,)) == (3,)


def test_forward_is_the_decoder_after_the_encoder_and_backward_the_reverse():
    model = _small()
    rng = np.random.default_rng(0)
    x, dy = rng.random((4, 6)), rng.standard_normal((4, 6))
    y = model.forward(x)
    np.testing.assert_array_equal(y, model.decoder.forward(model.encoder.forward(x)))
    model.zero_grad()
    model.forward(x)
    dx = model.backward(dy)
    grads = {k: layer.grads[n].copy() for k, layer, n in model.named_parameters()}
    model.zero_grad()
    model.decoder.forward(model.encoder.forward(x))
    np.testing.assert_array_equal(dx, model.encoder.backward(model.decoder.backward(dy)))
    for k, layer, n in model.named_parameters():
        np.testing.assert_array_equal(layer.grads[n], grads[k], err_msg=k)
    assert check_model(model, x, MSE()) < 1e-6


def test_encode_decode_and_reconstruct_run_the_halves_in_inference_mode():
    model = _small(dropout=0.5)  # dropout would change the codes if training were on
    X = np.random.default_rng(1).random((10, 6))
    Z = model.encode(X, batch_size=3)
    assert Z.shape == (10, 3)
    np.testing.assert_array_equal(Z, model.encoder.forward(X, training=False))
    np.testing.assert_array_equal(model.decode(Z, batch_size=4),
                                  model.decoder.forward(Z, training=False))
    np.testing.assert_array_equal(model.reconstruct(X), model.decode(model.encode(X)))
    np.testing.assert_array_equal(model.reconstruct(X), model.predict(X))
    assert not np.array_equal(model.encoder.forward(X, training=True), Z)
