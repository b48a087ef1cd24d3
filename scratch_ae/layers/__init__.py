"""Layers: one concept per file. Each gives its shapes and backward formula in its docstring."""

from .activations import ELU, SELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .base import Layer
from .dense import Dense, DenseTranspose
from .noise import Dropout, GaussianNoise
from .regularizers import ActivityL1, KLSparsity
from .reshape import Flatten, Reshape
from .sampling import GaussianSampling, VariationalHead

__all__ = [
    "ELU", "SELU", "ActivityL1", "Dense", "DenseTranspose", "Dropout", "Flatten", "GaussianNoise",
    "GaussianSampling", "KLSparsity", "Layer", "VariationalHead",
    "LeakyReLU", "ReLU", "Reshape", "Sigmoid", "Softplus", "Tanh",
]
