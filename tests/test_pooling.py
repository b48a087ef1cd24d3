"""scratch_ae/layers/pooling.py: ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D`` and
``UpSampling2D``: gradient checks, values worked out by hand (Keras' "same" average leaves the
padded cells out), max-pool ties routed to the first maximum, output sizes.

(Float32 on both CPU backends, ``dy`` never written into and numba equal to numpy are checked
for these layers together with the conv layers, in test_conv.py.)
"""

import numpy as np
import pytest
from helpers import distinct, randn

from scratch_ae.gradcheck import check_layer
from scratch_ae.layers.pooling import (
    AvgPool2D,
    GlobalAvgPool2D,
    MaxPool2D,
    UpSampling2D,
)

# --------------------------------------------------------------------------------------------
# gradient checks (float64)


@pytest.mark.parametrize(
    "pool, stride, pad, shape",
    [
        (2, None, "valid", (2, 2, 4, 4)),
        (2, None, "valid", (1, 3, 7, 5)),  # remainder row and column dropped
        (3, 2, "same", (2, 2, 5, 6)),  # overlapping windows
        (2, None, "same", (1, 2, 5, 5)),
        ((2, 3), (1, 2), "valid", (2, 1, 4, 7)),
    ],
)
def test_maxpool_gradients(pool, stride, pad, shape):
    assert check_layer(MaxPool2D(pool, stride, pad), distinct(shape)) < 1e-6


@pytest.mark.parametrize(
    "pool, stride, pad, shape",
    [
        (2, None, "valid", (2, 2, 4, 4)),
        (2, None, "valid", (1, 3, 7, 5)),
        (3, 2, "same", (2, 2, 5, 6)),
        ((2, 3), (1, 2), "same", (2, 1, 4, 7)),
    ],
)
def test_avgpool_gradients(pool, stride, pad, shape):
    assert check_layer(AvgPool2D(pool, stride, pad), randn(shape)) < 1e-6


def test_global_avgpool_gradients():
    assert check_layer(GlobalAvgPool2D(), randn((2, 3, 4, 5))) < 1e-6


@pytest.mark.parametrize("factor, shape", [(2, (2, 3, 3, 4)), ((1, 3), (1, 2, 2, 3))])
def test_upsampling_gradients(factor, shape):
    assert check_layer(UpSampling2D(factor), randn(shape)) < 1e-6


# --------------------------------------------------------------------------------------------
# forward values and routing


def test_maxpool_avgpool_upsample_globalavg_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(MaxPool2D(2).forward(x)[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(AvgPool2D(2).forward(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    # "same" average pooling leaves padded cells out of the mean (Keras).
    x3 = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_allclose(AvgPool2D(2, padding="same").forward(x3)[0, 0],
                               [[2.0, 3.5], [6.5, 8.0]])
    np.testing.assert_array_equal(GlobalAvgPool2D().forward(x), [[7.5]])
    up = UpSampling2D(2).forward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(up[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4],
                                             [3, 3, 4, 4]])


def test_maxpool_layer_ties_go_to_first_maximum():
    layer = MaxPool2D(2)
    x = np.ones((1, 1, 2, 4))
    layer.forward(x)
    dx = layer.backward(np.array([[[[2.0, 3.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[2, 0, 3, 0], [0, 0, 0, 0]])


# --------------------------------------------------------------------------------------------
# shapes


def test_pool_output_sizes():
    assert MaxPool2D(2).output_shape((4, 7, 7)) == (4, 3, 3)
    assert MaxPool2D(2, padding="same").output_shape((4, 7, 7)) == (4, 4, 4)
    assert MaxPool2D(3, 1).output_shape((1, 5, 6)) == (1, 3, 4)
    assert AvgPool2D((2, 3)).output_shape((1, 6, 6)) == (1, 3, 2)
    assert GlobalAvgPool2D().output_shape((5, 3, 3)) == (5,)
    assert UpSampling2D((2, 3)).output_shape((2, 3, 4)) == (2, 6, 12)
    for layer, shape in [(MaxPool2D(2), (2, 3, 7, 7)), (AvgPool2D(3, 2, "same"), (1, 2, 5, 6)),
                         (UpSampling2D(3), (1, 1, 2, 3))]:
        assert layer.forward(np.zeros(shape)).shape[1:] == layer.output_shape(shape[1:])
