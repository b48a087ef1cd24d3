"""``Autoencoder``: an encoder and a decoder, trained to give back their input."""

from __future__ import annotations

from ..train import predict
from .sequential import Model, Sequential


class Autoencoder(Model):
    """``x -> z = encoder(x) -> x_hat = decoder(z)``.

    Backward goes through the decoder then the encoder:
    ``dL/dz = decoder.backward(dL/dx_hat)``, ``dL/dx = encoder.backward(dL/dz)``.
    Parameter keys are prefixed ``encoder.`` and ``decoder.``.
    """

    def __init__(self, encoder, decoder, loss="bce"):
        super().__init__()
        self.encoder = encoder if not isinstance(encoder, list) else Sequential(encoder)
        self.decoder = decoder if not isinstance(decoder, list) else Sequential(decoder)
        self.loss = loss

    def forward(self, x, training=False):
        return self.decoder.forward(self.encoder.forward(x, training=training), training=training)

    def backward(self, dy):
        return self.encoder.backward(self.decoder.backward(dy))

    def sublayers(self):
        return [self.encoder, self.decoder]

    def sublayer_names(self):
        return ["encoder", "decoder"]

    def output_shape(self, input_shape):
        return self.decoder.output_shape(self.encoder.output_shape(input_shape))

    def encode(self, X, batch_size: int = 256):
        """The codes of ``X`` (inference mode, batched)."""
        return predict(self.encoder.forward, X, batch_size=batch_size)

    def decode(self, Z, batch_size: int = 256):
        """Images decoded from codes ``Z`` (inference mode, batched)."""
        return predict(self.decoder.forward, Z, batch_size=batch_size)

    def reconstruct(self, X, batch_size: int = 256):
        """``decode(encode(X))`` in one pass."""
        return self.predict(X, batch_size=batch_size)

    def __repr__(self):
        return f"Autoencoder(\n encoder={self.encoder!r},\n decoder={self.decoder!r}\n)"
