"""Layers: one concept per file. Each gives its shapes and backward formula in its docstring."""

from .activations import ELU, SELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, get_activation
from .base import Layer
from .dense import Dense, DenseTranspose
from .noise import Dropout, GaussianNoise
from .reshape import Flatten, Reshape

__all__ = [
    "ELU", "SELU", "Dense", "DenseTranspose", "Dropout", "Flatten", "GaussianNoise", "Layer",
    "LeakyReLU", "ReLU", "Reshape", "Sigmoid", "Softplus", "Tanh", "get_activation",
]
