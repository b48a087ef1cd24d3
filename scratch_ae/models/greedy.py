"""Tied weights and greedy layer-wise training (Géron, HOML 2e ch. 17).

**Tied weights.** In a symmetric autoencoder the decoder's layer k can simply reuse the
transpose of the encoder's layer k: ``W_dec = W_enc.T``. That halves the weights (only the
decoder biases are new) and often trains faster with less overfitting. :func:`tied_stacked`
builds 784-100-30-100-784 with :class:`~scratch_ae.layers.DenseTranspose` decoder layers; the
shared weight gets the *sum* of its encoder and decoder gradients.

**Greedy layer-wise training.** Before good initialisations and SELU, deep autoencoders were
trained one level at a time: train a shallow AE 784-100-784, encode the data with it, train a
second shallow AE 100-30-100 on those codes, then stack the encoders and decoders into one
784-100-30-100-784 network and fine-tune it end to end. :func:`train_greedy` does exactly
Géron's recipe:

* AE1: ``Dense(784, 100) SELU | Dense(100, 784) sigmoid``, BCE, SGD lr 1.5;
* AE2 on AE1's codes: ``Dense(100, 30) SELU | Dense(30, 100) SELU``, MSE, SGD lr 0.05;
* the stack ``enc1, enc2, dec2, dec1``, BCE, SGD lr 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..layers import SELU, Dense, DenseTranspose, Sigmoid
from ..optim import SGD
from .autoencoder import Autoencoder
from .sequential import Sequential


def tied_stacked(coding_size: int = 30, hidden: int = 100, n_inputs: int = 784) -> Autoencoder:
    """784-100-30-100-784 with the decoder tied to the encoder (Géron's ``tied_ae``).

    Parameters: 784*100 + 100 + 100*30 + 30 (encoder) + 100 + 784 (decoder biases) = 82,414,
    against 163,814 for the untied ``stacked``.
    """
    dense_1, dense_2 = Dense(n_inputs, hidden), Dense(hidden, coding_size)
    encoder = Sequential([dense_1, SELU(), dense_2, SELU()])
    decoder = Sequential([DenseTranspose(dense_2), SELU(), DenseTranspose(dense_1), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


@dataclass
class GreedyResult:
    """What :func:`train_greedy` returns: the fine-tuned stack and each stage's history."""

    model: Autoencoder
    histories: dict = field(default_factory=dict)  # "level1", "level2", ..., "finetune"


# Géron's per-level recipe: (loss, learning rate, output activation of the shallow decoder).
FIRST_LEVEL = ("bce", 1.5, "sigmoid")
INNER_LEVEL = ("mse", 0.05, "selu")


def _shallow(n_in: int, n_hidden: int, out_activation: str) -> Autoencoder:
    out = Sigmoid() if out_activation == "sigmoid" else SELU()
    return Autoencoder(Sequential([Dense(n_in, n_hidden), SELU()]),
                       Sequential([Dense(n_hidden, n_in), out]))


def train_greedy(X, X_valid=None, sizes=(100, 30), *, epochs: int = 10,
                 finetune_epochs: int = 10, finetune_lr: float = 0.1, batch_size: int = 32,
                 seed: int = 0, verbose: bool = False, max_steps: int | None = None
                 ) -> GreedyResult:
    """Train one shallow autoencoder per level, then stack and fine-tune them.

    Args:
        X: (N, D) flat training images in [0, 1]; X_valid optional, same width.
        sizes: the encoder widths, outermost first (Géron: 100 then 30).
        epochs: epochs for each shallow AE; finetune_epochs for the whole stack (0: none).
        max_steps: cap on the steps of *each* stage (quick runs and tests).

    Level 1 reconstructs pixels (BCE, SGD 1.5, sigmoid output); deeper levels reconstruct the
    previous level's SELU codes (MSE, SGD 0.05, SELU output). The stack is then fine-tuned with
    BCE and SGD ``finetune_lr``. Returns a :class:`GreedyResult`.
    """
    encoders, decoders, histories = [], [], {}
    codes, codes_val = X, X_valid
    for level, width in enumerate(sizes, start=1):
        loss, lr, out_act = FIRST_LEVEL if level == 1 else INNER_LEVEL
        ae = _shallow(codes.shape[1], width, out_act)
        histories[f"level{level}"] = ae.fit(
            codes, epochs=epochs, batch_size=batch_size, optimizer=SGD(lr=lr), loss=loss,
            validation_data=codes_val, seed=seed, verbose=verbose, max_steps=max_steps)
        encoders.append(ae.encoder)
        decoders.append(ae.decoder)
        codes = ae.encode(codes)
        codes_val = ae.encode(codes_val) if codes_val is not None else None
    # Stack: enc1, enc2, ..., then the decoders in reverse order (dec2, dec1).
    enc_layers = [layer for enc in encoders for layer in enc.layers]
    dec_layers = [layer for dec in reversed(decoders) for layer in dec.layers]
    model = Autoencoder(Sequential(enc_layers), Sequential(dec_layers), loss="bce")
    if finetune_epochs:  # 0: the stack as pretrained, for the caller to fine-tune its own way
        histories["finetune"] = model.fit(
            X, epochs=finetune_epochs, batch_size=batch_size, optimizer=SGD(lr=finetune_lr),
            loss="bce", validation_data=X_valid, seed=seed, verbose=verbose, max_steps=max_steps)
    return GreedyResult(model=model, histories=histories)
