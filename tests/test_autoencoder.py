"""scratch_ae/models/autoencoder.py: ``Autoencoder`` is its decoder after its encoder, forward
and backward; parameter keys start with ``encoder.`` and ``decoder.``; ``encode``, ``decode`` and
``reconstruct`` are the inference-mode halves and the whole."""

from helpers import geron_stacked_ae_on_images


def test_n_params_of_geron_stacked_ae():
    expected = 784 * 100 + 100 + 100 * 30 + 30 + 30 * 100 + 100 + 100 * 784 + 784
    assert expected == 163_814
    model = geron_stacked_ae_on_images()
    assert model.n_params() == expected
    keys = [k for k, _, _ in model.named_parameters()]
    assert keys == ["encoder.1.W", "encoder.1.b", "encoder.3.W", "encoder.3.b",
                    "decoder.0.W", "decoder.0.b", "decoder.2.W", "decoder.2.b"]
    assert model.output_shape((1, 28, 28)) == (1, 28, 28)
