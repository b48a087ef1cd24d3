"""Every model of the tutorial, each registered with the recipe it is trained by.

Each builder (a function returning a fresh, untrained model) carries its recipe right above it:
``@recipe(optimizer=..., epochs=..., batch_size=..., flat=...)``, taken from its source. The
loss is the model's own (``model.loss``, kept in its model file), so it is said once. One
method, :meth:`Recipe.train`, turns a recipe into a trained model: ``scratch-ae train NAME``,
the tutorials and :mod:`benchmarks.quality` all train through it, exactly as documented.

Recipes follow Aurélien Géron's *Hands-On Machine Learning* (2nd ed., chapter 17), whose
Keras models the tutorial's sections mirror: glorot-uniform weights, zero biases, SELU
hidden layers, a sigmoid output and binary cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import backend
from ..layers import (
    SELU,
    ActivityL1,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    GaussianNoise,
    KLSparsity,
    MaxPool2D,
    ReLU,
    Sigmoid,
)
from ..losses import describe_loss
from ..optim import cosine_schedule, get_optimizer
from .autoencoder import Autoencoder
from .greedy import tied_stacked
from .sequential import Sequential
from .vae import VAE


@dataclass(frozen=True)
class Recipe:
    """How a zoo model is built and trained.

    ``flat`` says whether the model eats (N, 784) vectors or (N, 1, 28, 28) images.
    ``optimizer`` is ``(name, kwargs)`` so that every run gets a fresh optimizer;
    ``lr_schedule`` is "constant" or "cosine" (:func:`~scratch_ae.optim.cosine_schedule`).
    """

    name: str
    build: Callable
    optimizer: tuple
    epochs: int
    batch_size: int
    flat: bool
    summary: str
    source: str
    lr_schedule: str = "constant"

    def make_optimizer(self, lr: float | None = None):
        name, kwargs = self.optimizer
        kwargs = dict(kwargs)
        if lr is not None:
            kwargs["lr"] = lr
        return get_optimizer(name, **kwargs)

    def lr_schedule_for(self, optimizer, epochs: int):
        """``fit``'s ``lr_schedule`` for a run of ``epochs`` epochs, starting at
        ``optimizer.lr``: None (a constant rate) or :func:`~scratch_ae.optim.cosine_schedule`."""
        if self.lr_schedule == "constant" or epochs < 1:
            return None
        if self.lr_schedule == "cosine":
            return cosine_schedule(optimizer.lr, epochs)
        raise ValueError(f"recipe {self.name}: unknown lr_schedule {self.lr_schedule!r}; "
                         "expected 'constant' or 'cosine'")

    def train(self, x_train, x_valid=None, *, model=None, epochs: int | None = None,
              batch_size: int | None = None, lr: float | None = None, say=None, **fit_kwargs):
        """Train by this recipe: ``(model, history)``.

        Builds the model (or takes ``model``, e.g. one already loaded or pretrained) on the
        selected backend, makes the recipe's optimizer (``lr`` overrides its rate) and
        learning-rate schedule, and calls ``model.fit`` on ``x_train`` with ``x_valid`` for
        validation. ``epochs``/``batch_size`` override the recipe's; ``say(line)``, when given,
        is told the plan first; every other keyword goes to :func:`scratch_ae.train.fit`
        (``seed``, ``verbose``, ``max_steps``, ``checkpoint_dir``, ``resume``, ...).
        """
        model = self.build() if model is None else model
        if backend.get_backend() == "cupy":
            model.to("cupy")
        epochs = self.epochs if epochs is None else epochs
        batch_size = self.batch_size if batch_size is None else batch_size
        optimizer = self.make_optimizer(lr)
        schedule = self.lr_schedule_for(optimizer, epochs)
        if say is not None:
            say(f"recipe: {describe_loss(model.loss)}, {optimizer!r} ({self.lr_schedule} rate), "
                f"batch {batch_size}, {epochs} epoch{'s' if epochs != 1 else ''}, backend "
                f"{backend.get_backend()}")
        history = model.fit(x_train, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                            validation_data=x_valid, lr_schedule=schedule, **fit_kwargs)
        return model, history


RECIPES: dict[str, Recipe] = {}


def recipe(*, optimizer: tuple, epochs: int, batch_size: int, flat: bool, summary: str,
           source: str, lr_schedule: str = "constant"):
    """Register the decorated builder in :data:`RECIPES` under its name, with this recipe."""
    def register(build: Callable) -> Callable:
        RECIPES[build.__name__] = Recipe(build.__name__, build, optimizer, epochs, batch_size,
                                         flat, summary, source, lr_schedule)
        return build
    return register


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; a clear error lists the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}: expected one of {', '.join(sorted(RECIPES))}"
        ) from None


def build(name: str):
    """A fresh, untrained model from the zoo (weights drawn from the backend's seeded RNG)."""
    return get_recipe(name).build()


# ------------------------------------------------------------------------------------------
# the seed tutorial's models


@recipe(optimizer=("sgd", {"lr": 1.5}), epochs=20, batch_size=32, flat=True,
        summary="stacked autoencoder 784-100-30-100-784 (SELU, sigmoid output)",
        source="Géron, HOML 2e ch. 17, 'Implementing a Stacked Autoencoder Using Keras'")
def stacked(coding_size: int = 30, hidden: int = 100) -> Autoencoder:
    """Géron's stacked autoencoder: 784-100-30-100-784, SELU, sigmoid output."""
    encoder = Sequential([Dense(784, hidden), SELU(), Dense(hidden, coding_size), SELU()])
    decoder = Sequential([Dense(coding_size, hidden), SELU(), Dense(hidden, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=5, batch_size=32, flat=False,
        summary="convolutional autoencoder, Conv 16/32/64 + MaxPool, ConvTranspose 32/16/1",
        source="Géron, HOML 2e ch. 17, 'Convolutional Autoencoders'")
def conv() -> Autoencoder:
    """Géron's convolutional autoencoder: (1,28,28) -> (64,3,3) -> (1,28,28).

    Encoder: three blocks of Conv 3x3 SAME + SELU + MaxPool 2 with 16, 32, 64 filters
    (28 -> 14 -> 7 -> 3). Decoder: transposed convs 64->32 (stride 2, VALID: 3 -> 7),
    32->16 (stride 2, SAME: 7 -> 14), 16->1 (stride 2, SAME: 14 -> 28) with a sigmoid.
    23,296 encoder and 23,233 decoder parameters.
    """
    encoder = Sequential([
        Conv2D(1, 16, 3, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(16, 32, 3, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same"), SELU(), MaxPool2D(2),
    ])
    decoder = Sequential([
        Conv2DTranspose(64, 32, 3, stride=2, padding="valid"), SELU(),
        Conv2DTranspose(32, 16, 3, stride=2, padding="same"), SELU(),
        Conv2DTranspose(16, 1, 3, stride=2, padding="same"), Sigmoid(),
    ])
    return Autoencoder(encoder, decoder, loss="bce")


@recipe(optimizer=("sgd", {"lr": 1.5}), epochs=10, batch_size=32, flat=True,
        summary="stacked 784-100-30-100-784 with tied weights (decoder = encoder transposed)",
        source="Géron, HOML 2e ch. 17, 'Tying Weights'")
def tied(coding_size: int = 30, hidden: int = 100) -> Autoencoder:
    """``stacked`` with the decoder tied to the encoder (W_dec = W_enc.T): 82,414 parameters.

    See :func:`scratch_ae.models.greedy.tied_stacked`.
    """
    return tied_stacked(coding_size=coding_size, hidden=hidden)


def _sparse_dense(regularizer) -> Autoencoder:
    """784-100(SELU)-300(sigmoid)+regularizer | 300-100(SELU)-784(sigmoid)."""
    encoder = Sequential([Dense(784, 100), SELU(), Dense(100, 300), Sigmoid(), regularizer])
    decoder = Sequential([Dense(300, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=10, batch_size=32, flat=True,
        summary="784-100-300(sigmoid)-100-784, L1 activity penalty 1e-3 on the 300 codes",
        source="Géron, HOML 2e ch. 17, 'Sparse Autoencoders' (sparse_l1_ae)")
def sparse_l1(weight: float = 1e-3) -> Autoencoder:
    """Géron's ``sparse_l1_ae``: a *wide* 300-unit sigmoid coding layer kept sparse by an L1
    activity penalty ``weight * sum|h| / N`` (Keras ``ActivityRegularization(l1=1e-3)``).
    """
    return _sparse_dense(ActivityL1(weight))


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=10, batch_size=32, flat=True,
        summary="784-100-300(sigmoid)-100-784, KL sparsity (weight 0.05, target 0.1) on the codes",
        source="Géron, HOML 2e ch. 17, 'Sparse Autoencoders' (KLDivergenceRegularizer)")
def sparse_kl(weight: float = 0.05, target: float = 0.1) -> Autoencoder:
    """Géron's ``sparse_kl_ae``: the same 300-unit sigmoid coding layer with a KL-divergence
    sparsity penalty pushing each unit's mean activation towards ``target`` = 0.1.
    """
    return _sparse_dense(KLSparsity(weight, target))


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=5, batch_size=32, flat=False,
        summary="convolutional AE with different filters: Conv 5x5/32, 3x3/64, 3x3/64 + MaxPool",
        source="seed tutorial, 'Another Convolutional Autoencoder (With Different Filters)'")
def conv_wide() -> Autoencoder:
    """A second convolutional AE "with different filters": wider, with a 5x5 first kernel.

    Encoder: Conv 5x5 SAME 1->32, Conv 3x3 SAME 32->64, Conv 3x3 SAME 64->64, each followed by
    SELU and MaxPool 2 (28 -> 14 -> 7 -> 3): the code is (64, 3, 3), the same 576 numbers as
    ``conv``'s, so any gain comes from the filters, not a bigger bottleneck. Decoder: transposed
    convs 64->64 (3x3, stride 2, VALID: 3 -> 7), 64->32 (SAME: 7 -> 14), 32->1 (SAME: 14 -> 28)
    with a sigmoid. 56,256 encoder and 55,681 decoder parameters (conv: 23,296 and 23,233);
    about three times conv's multiply-adds per image.
    """
    encoder = Sequential([
        Conv2D(1, 32, 5, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(64, 64, 3, padding="same"), SELU(), MaxPool2D(2),
    ])
    decoder = Sequential([
        Conv2DTranspose(64, 64, 3, stride=2, padding="valid"), SELU(),
        Conv2DTranspose(64, 32, 3, stride=2, padding="same"), SELU(),
        Conv2DTranspose(32, 1, 3, stride=2, padding="same"), Sigmoid(),
    ])
    return Autoencoder(encoder, decoder, loss="bce")


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=5, batch_size=32, flat=False,
        summary="conv AE with a ReLU code and an L1 activity penalty 1e-4 on its (64,3,3) maps",
        source="seed tutorial, 'Sparse Autoencoder - Using Convolutions'")
def sparse_conv(weight: float = 1e-4) -> Autoencoder:
    """``conv`` with a ReLU code and an L1 activity penalty on its (64, 3, 3) feature maps.

    The code layer's SELU becomes a ReLU: an L1 penalty pulls activations towards 0, and only a
    ReLU can *reach* 0 (and stay there, which is what sparse means). On a SELU code the penalty
    instead drove every unit into SELU's flat negative tail at -1.758, where |h| is large but
    the gradient vanishes -- the model stopped learning (validation BCE 0.40 against conv's
    0.074). The code holds 576 values per image (the dense sparse AE's has 300, mostly near 0),
    so the weight is ten times smaller than ``sparse_l1``'s 1e-3.
    """
    model = conv()
    layers = model.encoder.layers
    code_act = max(i for i, layer in enumerate(layers) if isinstance(layer, SELU))
    layers[code_act] = ReLU()
    layers.append(ActivityL1(weight))
    return model


def _denoising(corruption) -> Autoencoder:
    model = stacked()
    model.encoder.layers.insert(0, corruption)
    return model


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=10, batch_size=32, flat=True,
        summary="stacked AE with GaussianNoise(0.2) on its input",
        source="Géron, HOML 2e ch. 17, 'Denoising Autoencoders' (Gaussian noise)")
def denoise_gauss(stddev: float = 0.2) -> Autoencoder:
    """``stacked`` with ``GaussianNoise(0.2)`` on its input (active in training only)."""
    return _denoising(GaussianNoise(stddev))


@recipe(optimizer=("sgd", {"lr": 1.0}), epochs=10, batch_size=32, flat=True,
        summary="stacked AE with Dropout(0.5) on its input",
        source="Géron, HOML 2e ch. 17, 'Denoising Autoencoders' (dropout)")
def denoise_dropout(rate: float = 0.5) -> Autoencoder:
    """``stacked`` with ``Dropout(0.5)`` on its input pixels (active in training only)."""
    return _denoising(Dropout(rate))


@recipe(optimizer=("rmsprop", {"lr": 1e-3}), epochs=25, batch_size=128, flat=True,
        summary="variational AE 784-150-100-(mu, log_var: 10)-100-150-784, BCE + KL/784",
        source="Géron, HOML 2e ch. 17, 'Variational Autoencoders'")
def vae(latent_dim: int = 10, scaling: str = "geron") -> VAE:
    """Géron's variational autoencoder: 784-150-100 (SELU) -> mu, log_var (J) -> z ->
    100-150-784 (SELU, sigmoid output); loss = per-pixel BCE + KL / 784 ("geron" scaling).
    """
    encoder = Sequential([Dense(784, 150), SELU(), Dense(150, 100), SELU()])
    decoder = Sequential([Dense(latent_dim, 100), SELU(), Dense(100, 150), SELU(),
                          Dense(150, 784), Sigmoid()])
    return VAE(encoder, decoder, hidden=100, latent_dim=latent_dim, input_size=784,
               scaling=scaling)


@recipe(optimizer=("rmsprop", {"lr": 1e-3}), epochs=25, batch_size=128, flat=True,
        summary="the same variational AE with a 2-D latent space (manifold picture)",
        source="Géron's VAE with codings_size=2; manifold as in Kingma & Welling, fig. 4")
def vae2d() -> VAE:
    """``vae`` with a 2-D latent space, so the decoder's whole manifold fits in one picture."""
    return vae(latent_dim=2)


# ------------------------------------------------------------------------------------------
# models past the seed tutorial (tutorials 10 and 12)


@recipe(optimizer=("adam", {"lr": 1e-3}), epochs=20, batch_size=128, flat=True,
        summary="linear autoencoder 784-30-784 (no activations), MSE: learns PCA's subspace",
        source='Baldi & Hornik (1989); Goodfellow et al., Deep Learning, sec. 14.1')
def linear(coding_size: int = 30) -> Autoencoder:
    """784-30-784 with no activation at all, trained with MSE: a linear autoencoder.

    Its best solution spans the same subspace as the first ``coding_size`` principal
    components (Baldi & Hornik, 1989), so its reconstruction error can only approach PCA's.
    The biases let it learn the data mean that PCA subtracts.
    """
    return Autoencoder(Sequential([Dense(784, coding_size)]),
                       Sequential([Dense(coding_size, 784)]), loss="mse")


@recipe(optimizer=("adam", {"lr": 1e-3}), epochs=40, batch_size=128, flat=True,
        lr_schedule="cosine",
        summary="deep autoencoder 784-1000-500-250-30-250-500-1000-784 (SELU, linear code)",
        source="Hinton & Salakhutdinov, Science 313 (2006), fig. 2; trained directly with Adam "
               "and a cosine learning-rate decay")
def deep(sizes: tuple = (1000, 500, 250, 30)) -> Autoencoder:
    """Hinton & Salakhutdinov's (Science, 2006) deep autoencoder: 784-1000-500-250-30 and back.

    SELU hidden layers where the paper had logistic units (it needed RBM pretraining to train
    them at all); a *linear* 30-unit code as in the paper, and a sigmoid output. 2.8 million
    parameters.
    """
    widths = (784, *sizes)
    enc, dec = [], []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        enc += [Dense(a, b)] + ([SELU()] if i < len(sizes) - 1 else [])
    rev = widths[::-1]
    for i, (a, b) in enumerate(zip(rev[:-1], rev[1:], strict=True)):
        dec += [Dense(a, b), SELU() if i < len(sizes) - 1 else Sigmoid()]
    return Autoencoder(Sequential(enc), Sequential(dec), loss="bce")
