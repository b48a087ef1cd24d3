"""scratch_ae/layers/reshape.py: ``Flatten`` and ``Reshape`` keep every value in order, pass the
gradient back to the input's shape, and name the size they expected when it does not fit."""

import math

import numpy as np
import pytest
from helpers import randn

from scratch_ae import Flatten, Reshape
from scratch_ae.gradcheck import check_layer


@pytest.mark.parametrize("shape", [(1, 6), (2, 3, 4), (3, 1, 2, 2)], ids=str)
def test_flatten_gradient_and_shape(shape):
    x = randn(shape)
    layer = Flatten()
    y = layer.forward(x)
    assert y.shape == (shape[0], math.prod(shape[1:]))
    np.testing.assert_array_equal(y.ravel(), x.ravel())
    assert check_layer(Flatten(), x) < 1e-6


@pytest.mark.parametrize(("shape", "target"), [((1, 12), (3, 4)), ((2, 12), (1, 3, 4)),
                                                ((3, 2, 6), (12,))], ids=str)
def test_reshape_gradient_and_shape(shape, target):
    x = randn(shape)
    y = Reshape(target).forward(x)
    assert y.shape == (shape[0], *target)
    assert check_layer(Reshape(target), x) < 1e-6


def test_reshape_wrong_size_message():
    with pytest.raises(ValueError, match=r"expected 784 values per sample, got input of shape "
                                         r"\(2, 100\)"):
        Reshape((1, 28, 28)).forward(np.zeros((2, 100)))
