"""scratch_ae: autoencoders written from scratch on NumPy, to learn how deep learning works.

Start reading at ``layers/dense.py`` (one layer, forward and backward), then ``losses.py``,
``optim.py`` and ``train.py`` (``train_step``, the loop). ``gradcheck.py`` proves every backward
right. docs/READING.md is the whole reading path, step by step.

``import scratch_ae as sa`` gives the layers, losses and optimizers by name, and the modules
``sa.backend``, ``sa.data`` (MNIST loading) and ``sa.io`` (saving and loading models).
"""

__version__ = "0.1.0"  # before the imports: submodules may read it while the package loads

from . import backend, data, io  # noqa: E402
from .backend import available_backends, get_backend, set_backend, use_backend  # noqa: E402
from .layers import (  # noqa: E402
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
from .losses import BCE, MSE, BCEWithLogits  # noqa: E402
from .models import Autoencoder, Sequential  # noqa: E402
from .optim import SGD, Adam, Nadam, RMSprop  # noqa: E402
from .threads import set_threads  # noqa: E402

__all__ = [
    "BCE", "ELU", "MSE", "SELU", "SGD", "Adam", "Autoencoder", "BCEWithLogits", "Dense",
    "DenseTranspose", "Dropout", "Flatten", "GaussianNoise", "LeakyReLU", "Nadam", "RMSprop",
    "ReLU", "Reshape", "Sequential", "Sigmoid", "Softplus", "Tanh", "available_backends",
    "backend", "data", "get_backend", "io", "set_backend", "set_threads", "use_backend",
]
