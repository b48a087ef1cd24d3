"""Layers: one concept per file. Each gives its shapes and backward formula in its docstring.

``from scratch_ae.layers import Conv2D`` (or ``from scratch_ae import Conv2D``) gives any of them.
"""

from .activations import ELU, SELU, Activation, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .base import Layer
from .conv import Conv2D, Conv2DTranspose
from .dense import Dense, DenseTranspose
from .noise import Dropout, GaussianNoise
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D, UpSampling2D
from .regularizers import ActivityL1, KLSparsity
from .reshape import Flatten, Reshape
from .sampling import GaussianSampling, VariationalHead

__all__ = [
    "ELU", "SELU", "Activation", "ActivityL1", "AvgPool2D", "Conv2D", "Conv2DTranspose", "Dense",
    "DenseTranspose", "Dropout", "Flatten", "GaussianNoise", "GaussianSampling",
    "GlobalAvgPool2D", "KLSparsity", "Layer", "LeakyReLU", "MaxPool2D", "ReLU", "Reshape",
    "Sigmoid", "Softplus", "Tanh", "UpSampling2D", "VariationalHead",
]
