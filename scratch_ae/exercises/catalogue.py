"""The exercises, from easy to hard: what each covers, where it is taught and what it mirrors.

Every exercise names the tutorial that uses the piece and the library file that holds its
answer. ``names`` are what the learner's file must define; ``solution`` are the library's own
objects under those names (``scratch-ae exercise check NAME --solution`` grades them), and
``header`` is the import block that turns the library's source of those objects into a
learner's file (:func:`solution_source`; the tests plant the classic mistakes in that copy).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from ..layers.activations import SELU, Sigmoid
from ..layers.conv import Conv2D
from ..layers.dense import Dense, DenseTranspose
from ..layers.im2col import col2im, im2col
from ..layers.noise import Dropout
from ..layers.pooling import MaxPool2D
from ..layers.regularizers import ActivityL1, KLSparsity
from ..layers.sampling import GaussianSampling, gaussian_kl, gaussian_kl_grad
from ..losses import BCE, MSE
from ..optim import SGD, RMSprop

STARTERS = Path(__file__).resolve().parent / "starters"
GUIDE = Path(__file__).resolve().parent / "README.md"


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``starters/{name}.py`` becomes the learner's ``{dir}/{name}.py``."""

    name: str
    title: str
    covers: str
    tutorial: str
    mirrors: str
    names: tuple
    solution: tuple
    header: str

    @property
    def starter(self) -> Path:
        return STARTERS / f"{self.name}.py"

    @property
    def number(self) -> int:
        return [e.name for e in EXERCISES].index(self.name) + 1


_ACT = ("from scratch_ae import backend\nfrom scratch_ae.backend import get_array_module\n"
        "from scratch_ae.layers.activations import SELU_ALPHA, SELU_SCALE, Activation\n")
_LAYER = ("import numpy as np\n\nfrom scratch_ae import backend\n"
          "from scratch_ae.layers.base import Layer, glorot_uniform\n")
_LOSS = ("from scratch_ae import backend\nfrom scratch_ae.backend import get_array_module\n"
         "from scratch_ae.losses import EPS, Loss\n")
_OPTIM = ("from scratch_ae import backend\nfrom scratch_ae.backend import get_array_module\n"
          "from scratch_ae.optim import Optimizer\n")
_CONV = ("import numpy as np\n\nfrom scratch_ae import backend\n"
         "from scratch_ae.geometry import check_padding, output_hw, pair, resolve_pads\n"
         "from scratch_ae.layers.base import Layer, glorot_uniform\n"
         "from scratch_ae.layers.conv import channel_major, to_images\n"
         "from scratch_ae.layers.im2col import col2im, im2col\n")
_POOL = ("from scratch_ae import backend\nfrom scratch_ae.geometry import output_hw\n"
         "from scratch_ae.layers.pooling import _Pool2D\n")

_T01, _T02, _T03 = "tutorials/01_stacked.py", "tutorials/02_sparse.py", "tutorials/03_conv.py"

EXERCISES = [
    Exercise("sigmoid", "Sigmoid", "forward without overflow, backward from its own output",
             _T01, "scratch_ae/layers/activations.py", ("Sigmoid",), (Sigmoid,), _ACT),
    Exercise("selu", "SELU", "two branches, scale and alpha; the derivative in terms of y",
             _T01, "scratch_ae/layers/activations.py", ("SELU",), (SELU,), _ACT),
    Exercise("dense", "Dense", "y = x @ W + b: forward, backward, the += contract",
             _T01, "scratch_ae/layers/dense.py", ("Dense",), (Dense,), _LAYER),
    Exercise("mse", "MSE", "a loss is where the batch average enters every gradient",
             "tutorials/10_linear_pca.py", "scratch_ae/losses.py", ("MSE",), (MSE,), _LOSS),
    Exercise("bce", "BCE", "binary cross-entropy, clipped like Keras, with its gradient",
             _T01, "scratch_ae/losses.py", ("BCE",), (BCE,), _LOSS),
    Exercise("sgd", "SGD", "the only code that changes parameters: in place, with momentum",
             _T01, "scratch_ae/optim.py", ("SGD",), (SGD,), _OPTIM),
    Exercise("rmsprop", "RMSprop", "a running mean of g**2 per parameter, Keras' eps",
             "tutorials/09_vae.py", "scratch_ae/optim.py", ("RMSprop",), (RMSprop,), _OPTIM),
    Exercise("dense_transpose", "DenseTranspose", "tied weights: one W used twice, gradients add",
             _T01 + " (the `tied` variant)", "scratch_ae/layers/dense.py",
             ("DenseTranspose",), (DenseTranspose,),
             "from scratch_ae import backend\nfrom scratch_ae.layers.base import Layer\n"
             "from scratch_ae.layers.dense import Dense\n"),
    Exercise("dropout", "Dropout", "inverted dropout: the 1/(1 - rate) scaling, a seeded mask",
             "tutorials/07_denoise_dropout.py", "scratch_ae/layers/noise.py",
             ("Dropout",), (Dropout,), "import numpy as np\n\nfrom scratch_ae import backend\n"
             "from scratch_ae.layers.base import Layer\n"),
    Exercise("activity_l1", "ActivityL1", "an L1 penalty on the codes: its value and gradient",
             _T02, "scratch_ae/layers/regularizers.py", ("ActivityL1",), (ActivityL1,),
             "from scratch_ae import backend\nfrom scratch_ae.layers.base import Layer\n"),
    Exercise("kl_sparsity", "KLSparsity", "a penalty on the batch mean of each unit",
             _T02, "scratch_ae/layers/regularizers.py", ("KLSparsity",), (KLSparsity,),
             "from scratch_ae import backend\nfrom scratch_ae.layers.base import Layer\n"),
    Exercise("gaussian_sampling", "GaussianSampling",
             "the VAE: reparameterization, the KL's value and gradient",
             "tutorials/09_vae.py", "scratch_ae/layers/sampling.py",
             ("gaussian_kl", "gaussian_kl_grad", "GaussianSampling"),
             (gaussian_kl, gaussian_kl_grad, GaussianSampling),
             "import numpy as np\n\nfrom scratch_ae import backend\n"
             "from scratch_ae.layers.base import Layer\n"),
    Exercise("im2col", "im2col and col2im",
             "windows into columns, and its adjoint (+= where they overlap)",
             _T03, "scratch_ae/layers/im2col.py", ("im2col", "col2im"), (im2col, col2im),
             "from scratch_ae import backend\nfrom scratch_ae.geometry import output_hw\n"),
    Exercise("conv2d", "Conv2D", "a convolution as one matrix product on im2col, and back",
             _T03, "scratch_ae/layers/conv.py", ("Conv2D",), (Conv2D,), _CONV),
    Exercise("maxpool2d", "MaxPool2D", "backward routes to the argmax; ties go to the first",
             _T03, "scratch_ae/layers/pooling.py", ("MaxPool2D",), (MaxPool2D,), _POOL),
]

BY_NAME = {e.name: e for e in EXERCISES}

#: What the finale (``scratch-ae exercise check --train stacked``) builds the stacked AE from.
FINALE_NEEDS = ("dense", "selu", "sigmoid", "bce", "sgd")


def get(name: str) -> Exercise:
    """The exercise called ``name``; a clear error lists them all."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown exercise {name!r}: expected one of "
                         f"{', '.join(BY_NAME)}") from None


def solution_source(name: str) -> str:
    """The library's answer to exercise ``name`` written as a learner's file: the header's
    imports, then the source of each object the exercise asks for."""
    ex = get(name)
    body = "\n\n".join(inspect.getsource(obj) for obj in ex.solution)
    return f'"""The library\'s own {ex.title}, as a learner\'s file."""\n\n{ex.header}\n\n{body}'


def solution_namespace(name: str) -> dict:
    """``{name: library object}``: what ``--solution`` grades."""
    ex = get(name)
    return dict(zip(ex.names, ex.solution, strict=True))
