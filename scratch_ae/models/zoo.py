"""Every model of the tutorial, with the recipe it is trained by.

Each entry of :data:`RECIPES` names a builder (a function returning a fresh, untrained model)
and the training recipe (loss, optimizer, epochs, batch size) taken from its source, so that
``scratch-ae train NAME`` and :mod:`benchmarks.quality` train it exactly as documented.

Recipes follow Aurélien Géron's *Hands-On Machine Learning* (2nd ed., chapter 17), whose
Keras models the seed tutorial's sections mirror: glorot-uniform weights, zero biases, SELU
hidden layers, a sigmoid output and binary cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..layers import SELU, Dense, Sigmoid
from ..layers.conv import Conv2D, Conv2DTranspose
from ..layers.pooling import MaxPool2D
from ..optim import get_optimizer
from .autoencoder import Autoencoder
from .sequential import Sequential


@dataclass(frozen=True)
class Recipe:
    """How a zoo model is built and trained.

    ``flat`` says whether the model eats (N, 784) vectors or (N, 1, 28, 28) images.
    ``optimizer`` is ``(name, kwargs)`` so that every run gets a fresh optimizer.
    """

    name: str
    build: Callable
    loss: str
    optimizer: tuple
    epochs: int
    batch_size: int
    flat: bool
    summary: str
    source: str
    extras: dict = field(default_factory=dict)

    def make_optimizer(self, lr: float | None = None):
        name, kwargs = self.optimizer
        kwargs = dict(kwargs)
        if lr is not None:
            kwargs["lr"] = lr
        return get_optimizer(name, **kwargs)


# ------------------------------------------------------------------------------------------
# builders


def stacked(coding_size: int = 30, hidden: int = 100) -> Autoencoder:
    """Géron's stacked autoencoder: 784-100-30-100-784, SELU, sigmoid output."""
    encoder = Sequential([Dense(784, hidden), SELU(), Dense(hidden, coding_size), SELU()])
    decoder = Sequential([Dense(coding_size, hidden), SELU(), Dense(hidden, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


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


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    RECIPES[recipe.name] = recipe
    return recipe


register(Recipe(
    name="stacked", build=stacked, loss="bce", optimizer=("sgd", {"lr": 1.5}), epochs=20,
    batch_size=32, flat=True,
    summary="stacked autoencoder 784-100-30-100-784 (SELU, sigmoid output)",
    source="Géron, HOML 2e ch. 17, 'Implementing a Stacked Autoencoder Using Keras'",
))
register(Recipe(
    name="conv", build=conv, loss="bce", optimizer=("sgd", {"lr": 1.0}), epochs=5,
    batch_size=32, flat=False,
    summary="convolutional autoencoder, Conv 16/32/64 + MaxPool, ConvTranspose 32/16/1",
    source="Géron, HOML 2e ch. 17, 'Convolutional Autoencoders'",
))


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

