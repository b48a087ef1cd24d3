"""scratch_ae: autoencoders written from scratch on NumPy, to learn how deep learning works.

Start reading at ``layers/dense.py`` (one layer, forward and backward), then ``losses.py``,
``optim.py`` and ``train.py`` (``train_step``, the loop). ``gradcheck.py`` proves every backward
right. docs/READING.md is the whole reading path, step by step.

``import scratch_ae as sa`` gives every layer, model class, loss and optimizer by name, ``fit``
(also ``model.fit``), and the modules ``sa.backend``, ``sa.data`` (MNIST loading), ``sa.io``
(saving and loading models) and ``sa.zoo`` (every model of the tutorial, with its recipe).
"""

__version__ = "0.1.0"  # before the imports: io records it in every model file

from . import backend, callbacks, data, io  # noqa: E402
from .backend import available_backends, get_backend, set_backend, use_backend  # noqa: E402
from .layers import (  # noqa: E402
    ELU,
    SELU,
    ActivityL1,
    AvgPool2D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DenseTranspose,
    Dropout,
    Flatten,
    GaussianNoise,
    GaussianSampling,
    GlobalAvgPool2D,
    KLSparsity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Reshape,
    Sigmoid,
    Softplus,
    Tanh,
    UpSampling2D,
    VariationalHead,
)
from .losses import BCE, MSE, BCEWithLogits, Loss  # noqa: E402
from .models import (  # noqa: E402
    VAE,
    Autoencoder,
    LatentGaussianGenerator,
    Model,
    Sequential,
    zoo,
)
from .optim import SGD, Adam, Nadam, Optimizer, RMSprop  # noqa: E402
from .spec import register  # noqa: E402
from .threads import set_threads  # noqa: E402
from .train import evaluate, fit, predict, train_step  # noqa: E402

# Every class a model file may name (scratch_ae.spec): a saved model is rebuilt from these only.
register(
    Dense, DenseTranspose, ELU, SELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, Dropout,
    GaussianNoise, ActivityL1, KLSparsity, Flatten, Reshape, GaussianSampling, VariationalHead,
    Conv2D, Conv2DTranspose, MaxPool2D, AvgPool2D, GlobalAvgPool2D, UpSampling2D,
    Sequential, Autoencoder, VAE, MSE, BCE, BCEWithLogits,
)

__all__ = [
    "BCE", "ELU", "MSE", "SELU", "SGD", "VAE", "ActivityL1", "Adam", "Autoencoder", "AvgPool2D",
    "BCEWithLogits", "Conv2D", "Conv2DTranspose", "Dense", "DenseTranspose", "Dropout",
    "Flatten", "GaussianNoise", "GaussianSampling", "GlobalAvgPool2D", "KLSparsity",
    "LatentGaussianGenerator", "Layer", "LeakyReLU", "Loss", "MaxPool2D", "MSE", "Model",
    "Nadam", "Optimizer", "RMSprop", "ReLU", "Reshape", "Sequential", "Sigmoid", "Softplus",
    "Tanh", "UpSampling2D", "VariationalHead", "available_backends", "backend", "callbacks",
    "data", "evaluate", "fit", "get_backend", "io", "predict", "set_backend", "set_threads",
    "train_step", "use_backend", "zoo",
]
