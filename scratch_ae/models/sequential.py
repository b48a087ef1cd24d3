"""``Sequential``: layers applied one after another, and the ``Model`` methods every model has."""

from __future__ import annotations

from .. import train
from ..layers.base import Layer


class Model(Layer):
    """A layer that can also be trained: adds ``fit``, ``evaluate`` and ``predict``.

    ``loss`` (a :class:`~scratch_ae.losses.Loss` or its name) is what ``fit`` minimises unless
    another is passed to it. The loop itself lives in :mod:`scratch_ae.train`.
    """

    loss = None

    def fit(self, X, Y=None, **kwargs):
        """Train on ``X`` (targets ``Y``, default ``X``); see :func:`scratch_ae.train.fit`."""
        return train.fit(self, X, Y, **kwargs)

    def evaluate(self, X, Y=None, **kwargs):
        """Mean loss (and its parts) on ``X`` in inference mode; see ``train.evaluate``."""
        return train.evaluate(self, X, Y, **kwargs)

    def predict(self, X, batch_size: int = 256):
        """``forward(X)`` in inference mode, in batches; see :func:`scratch_ae.train.predict`."""
        return train.predict(self.forward, X, batch_size=batch_size)


class Sequential(Model):
    """``y = f_L(... f_2(f_1(x)))``; backward runs the layers in reverse:
    ``dL/dx = b_1(b_2(... b_L(dL/dy)))``.
    """

    def __init__(self, layers, loss=None):
        super().__init__()
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential item {i} is not a Layer: {layer!r}")
        if loss is not None:
            self.loss = loss

    def forward(self, x, training=False):
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def sublayers(self):
        return self.layers

    def output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
