"""scratch_ae/models/sequential.py: ``Sequential`` runs its layers in order forward and in
reverse order backward, refuses what is not a layer, chains shapes, names parameters by
position; ``Model``'s ``fit``, ``evaluate`` and ``predict`` are those of scratch_ae/train.py,
minimising the model's own loss."""

import numpy as np
import pytest

from scratch_ae import MSE, SGD, Dense, Flatten, ReLU, Sequential, Sigmoid, Tanh, backend, train
from scratch_ae.layers.base import Layer


class _Affine(Layer):
    """``y = a * x + b``, logging each call: which layer, which pass, in which mode."""

    def __init__(self, a, b, log):
        super().__init__()
        self.a, self.b, self.log = a, b, log

    def forward(self, x, training=False):
        self.log.append(("forward", self.a, training))
        return self.a * x + self.b

    def backward(self, dy):
        self.log.append(("backward", self.a))
        return self.a * dy


def test_forward_runs_the_layers_in_order_and_backward_in_reverse():
    log = []
    model = Sequential([_Affine(2.0, 1.0, log), _Affine(3.0, 0.0, log), _Affine(5.0, -1.0, log)])
    x = np.array([[1.0, -2.0]])
    y = model.forward(x, training=True)
    np.testing.assert_array_equal(y, 5 * (3 * (2 * x + 1)) - 1)  # not 2 * (3 * (5x - 1)) + 1
    assert log == [("forward", 2.0, True), ("forward", 3.0, True), ("forward", 5.0, True)]
    log.clear()
    np.testing.assert_array_equal(model.backward(np.ones_like(x)), [[30.0, 30.0]])
    assert log == [("backward", 5.0), ("backward", 3.0), ("backward", 2.0)]
    log.clear()
    model(x)  # calling the model is forward in inference mode
    assert [t for _, _, t in log] == [False, False, False]


def test_an_item_that_is_not_a_layer_is_refused():
    with pytest.raises(TypeError, match="Sequential item 1 is not a Layer: 'relu'"):
        Sequential([Dense(3, 2), "relu"])


def test_shapes_indexing_and_parameter_keys():
    inner = Sequential([Dense(4, 3), Tanh()])
    model = Sequential([Flatten(), Dense(12, 4), ReLU(), inner])
    assert model.output_shape((3, 2, 2)) == (3,)
    assert len(model) == 4 and model[1] is model.layers[1] and model[-1] is inner
    assert [k for k, _, _ in model.named_parameters()] == ["1.W", "1.b", "3.0.W", "3.0.b"]
    assert model.n_params() == 12 * 4 + 4 + 4 * 3 + 3
    assert "(1) Dense" in repr(model) and "(3) Sequential" in repr(model)
    y = model.forward(np.ones((5, 3, 2, 2), np.float32))
    assert y.shape == (5, *model.output_shape((3, 2, 2)))


def _twins():
    """Two models with the same weights (same seed), and data."""
    backend.seed(3)
    a = Sequential([Dense(6, 4), Tanh(), Dense(4, 6), Sigmoid()], loss="mse")
    backend.seed(3)
    b = Sequential([Dense(6, 4), Tanh(), Dense(4, 6), Sigmoid()], loss="mse")
    X = np.random.default_rng(0).random((20, 6), dtype=np.float32)
    return a, b, X


def test_fit_evaluate_and_predict_are_the_train_functions_with_the_models_loss():
    a, b, X = _twins()
    ha = a.fit(X, epochs=2, batch_size=8, optimizer=SGD(0.5), verbose=False)
    hb = train.fit(b, X, epochs=2, batch_size=8, optimizer=SGD(0.5), loss=MSE(), verbose=False)
    assert ha.history == hb.history
    for (_, la, na), (_, lb, nb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(la.params[na], lb.params[nb])
    assert a.evaluate(X) == train.evaluate(b, X, loss=MSE())
    np.testing.assert_array_equal(a.predict(X, batch_size=7), train.predict(b.forward, X))
    assert a.loss == "mse" and Sequential([Dense(2, 2)]).loss is None


def test_the_models_loss_is_the_one_fit_and_evaluate_use():
    a, b, X = _twins()
    b.loss = "bce"
    hb = b.fit(X, epochs=1, batch_size=8, optimizer=SGD(0.5), verbose=False)
    ha = train.fit(a, X, epochs=1, batch_size=8, optimizer=SGD(0.5), loss="bce", verbose=False)
    assert hb.history == ha.history
    assert b.evaluate(X, batch_size=5) == train.evaluate(a, X, loss="bce", batch_size=5)
    assert b.evaluate(X) != train.evaluate(a, X, loss="mse")
    mse = _twins()[0]  # the same weights, its loss "mse": another number
    assert mse.fit(X, epochs=1, batch_size=8, optimizer=SGD(0.5), verbose=False)["loss"] != \
        hb["loss"]
