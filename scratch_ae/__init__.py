"""scratch_ae: autoencoders written from scratch on NumPy, to learn how deep learning works.

Start reading at ``layers/dense.py`` (one layer, forward and backward), then ``losses.py``,
``optim.py`` and ``train.py`` (the loop). ``gradcheck.py`` proves every backward right.
"""

from . import backend
from .backend import available_backends, get_backend, set_backend, use_backend
from .layers import (
    ELU,
    SELU,
    Dense,
    DenseTranspose,
    Dropout,
    Flatten,
    GaussianNoise,
    LeakyReLU,
    ReLU,
    Reshape,
    Sigmoid,
    Softplus,
    Tanh,
)
from .losses import BCE, MSE, BCEWithLogits
from .models import Autoencoder, Sequential
from .optim import SGD, Adam, Nadam, RMSprop

__version__ = "0.1.0"

__all__ = [
    "BCE", "ELU", "MSE", "SELU", "SGD", "Adam", "Autoencoder", "BCEWithLogits", "Dense",
    "DenseTranspose", "Dropout", "Flatten", "GaussianNoise", "LeakyReLU", "Nadam", "RMSprop",
    "ReLU", "Reshape", "Sequential", "Sigmoid", "Softplus", "Tanh", "available_backends",
    "backend", "get_backend", "set_backend", "use_backend",
]
