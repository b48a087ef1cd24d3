"""``scratch-ae check``: the gradient check of every layer, loss and dense zoo model, as a table.

The same :mod:`scratch_ae.gradcheck` the test suite runs, on the backend you choose, so that a
user can ask "are this backend's gradients right on my machine?" -- on a GPU, ``--backend cupy``
is the proof that the CUDA path computes the gradients that the layers' formulas say.

What is checked, in float64 (finite differences need it):

* every layer class, on small inputs kept away from its kinks (ReLU at 0, max-pool ties), with
  random parameters (a zero bias would hide a forgotten one): :data:`LAYER_CASES`;
* every loss, both reductions: :data:`LOSS_CASES`;
* every dense model of the zoo at full size on 2 images (12 sampled elements and 2 random
  directions per tensor, up to 3 points skipped where a step crosses a SELU kink), ``deep`` at
  narrow widths, and a small conv autoencoder. The full-size conv models are left out: one
  step of a first-layer weight moves thousands of SELU units and pooling windows, so kinks are
  everywhere (tests/test_zoo.py says more); their layers are all checked one by one.

Each row is a :class:`Row`; :func:`run` returns them, :func:`report` prints the table. A row
fails on a wrong gradient, a broken layer contract (``dy`` modified, gradients assigned instead
of added) or any error, never with a traceback.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from . import backend
from .gradcheck import check_layer, check_loss, check_model
from .layers import (
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
from .losses import BCE, MSE, BCEWithLogits, get_loss
from .models import Autoencoder, Sequential, zoo

RTOL = 1e-6


def _tied():
    d = Dense(6, 3)
    return Sequential([d, Tanh(), DenseTranspose(d)])


#: (name, factory, input shape, input kind); see :func:`make_input` for the kinds.
LAYER_CASES = [
    ("Dense", lambda: Dense(5, 3), (2, 5), "smooth"),
    ("DenseTranspose (tied)", _tied, (2, 6), "smooth"),
    ("ReLU", ReLU, (3, 4), "away"),
    ("LeakyReLU", lambda: LeakyReLU(0.2), (3, 4), "away"),
    ("ELU", lambda: ELU(1.5), (3, 4), "away"),
    ("SELU", SELU, (3, 4), "away"),
    ("Sigmoid", Sigmoid, (3, 4), "smooth"),
    ("Tanh", Tanh, (3, 4), "smooth"),
    ("Softplus", Softplus, (3, 4), "smooth"),
    ("Dropout", lambda: Dropout(0.5), (3, 4), "smooth"),
    ("GaussianNoise", lambda: GaussianNoise(0.3), (3, 4), "smooth"),
    ("ActivityL1", lambda: ActivityL1(0.1), (3, 4), "away"),
    ("KLSparsity", lambda: KLSparsity(0.5, 0.1), (4, 5), "unit"),
    ("Flatten", Flatten, (2, 3, 4), "smooth"),
    ("Reshape", lambda: Reshape((3, 4)), (2, 12), "smooth"),
    ("GaussianSampling", lambda: GaussianSampling(0.5), (3, 6), "smooth"),
    ("VariationalHead", lambda: VariationalHead(6, 3, kl_weight=0.5), (3, 6), "smooth"),
    ("Conv2D 3x3 same", lambda: Conv2D(1, 2, 3, padding="same"), (1, 1, 5, 5), "smooth"),
    ("Conv2D 3x3 stride 2", lambda: Conv2D(2, 3, 3, stride=2, padding="same"), (2, 2, 6, 6),
     "smooth"),
    ("Conv2D 2x3 valid", lambda: Conv2D(2, 2, (2, 3), stride=(1, 2), padding="valid"),
     (2, 2, 6, 7), "smooth"),
    ("Conv2DTranspose same", lambda: Conv2DTranspose(2, 3, 3, stride=2, padding="same"),
     (2, 2, 3, 4), "smooth"),
    ("Conv2DTranspose valid", lambda: Conv2DTranspose(3, 2, 3, stride=2, padding="valid"),
     (1, 3, 3, 3), "smooth"),
    ("MaxPool2D 2x2", lambda: MaxPool2D(2), (2, 2, 4, 4), "distinct"),
    ("MaxPool2D 3x3 stride 2", lambda: MaxPool2D(3, 2, "same"), (2, 2, 5, 6), "distinct"),
    ("AvgPool2D", lambda: AvgPool2D(3, 2, "same"), (2, 2, 5, 6), "smooth"),
    ("GlobalAvgPool2D", GlobalAvgPool2D, (2, 3, 4, 5), "smooth"),
    ("UpSampling2D", lambda: UpSampling2D(2), (2, 3, 3, 4), "smooth"),
]

#: (name, factory, prediction kind); the targets are in [0, 1] (an image's pixels).
LOSS_CASES = [
    (f"{cls.__name__} ({reduction})", (lambda cls=cls, r=reduction: cls(reduction=r)), kind)
    for cls, kind in ((MSE, "smooth"), (BCE, "unit"), (BCEWithLogits, "smooth"))
    for reduction in ("mean", "sum")
]


def _small_conv():
    return Autoencoder([Conv2D(1, 2, 3, padding="same"), SELU(), MaxPool2D(2)],
                       [Conv2DTranspose(2, 1, 3, stride=2, padding="same"), Sigmoid()])


#: (name, factory, input shape): the dense zoo at full size, deep narrowed, a small conv AE.
MODEL_CASES = [
    *((name, recipe.build, (2, 784)) for name, recipe in zoo.RECIPES.items()
      if recipe.flat and name != "deep"),
    ("deep (widths 16-8-6-3)", lambda: zoo.deep(sizes=(16, 8, 6, 3)), (2, 784)),
    ("small conv autoencoder", _small_conv, (2, 1, 6, 6)),
]


def make_input(shape, kind: str, seed: int = 0) -> np.ndarray:
    """A float64 host array: "smooth" (normal), "away" (|x| >= 0.1: no ReLU/SELU/L1 kink),
    "distinct" (all values different: no max-pool ties), "unit" (inside (0.1, 0.9))."""
    rs = np.random.default_rng(seed)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rs.permutation(n) * 0.1 - n * 0.05).reshape(shape)
    if kind == "unit":
        return rs.uniform(0.1, 0.9, size=shape)
    x = rs.standard_normal(shape)
    if kind == "away":
        x = np.sign(x) * (np.abs(x) + 0.1) + (x == 0) * 0.1
    return x


def _randomize(layer, seed: int = 3):
    """Random values for every parameter (drawn on the host), so that zero biases hide nothing."""
    rs = np.random.default_rng(seed)
    for _, owner, name in layer.named_parameters():
        p = owner.params[name]
        owner.params[name] = (rs.standard_normal(p.shape) * 0.5).astype(p.dtype)
    return layer


@dataclass
class Row:
    """One line of the table: ``error`` is the largest relative error (None when it failed),
    ``kinks`` the points skipped, ``problem`` why it failed ("" when it passed)."""

    group: str
    name: str
    error: float | None
    kinks: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _row(group: str, name: str, check, *args) -> Row:
    """The row for ``check(*args)``: a CheckResult, or an exception that says what is wrong."""
    try:
        result = check(*args)
    except Exception as exc:  # GradientCheckError, or anything the backend raised
        what = "" if isinstance(exc, AssertionError) else f"{type(exc).__name__}: "
        return Row(group, name, None, problem=what + " ".join(str(exc).split()))
    skipped = len(getattr(result, "skipped", []))
    problem = "" if result <= RTOL else f"max relative error {float(result):.3g} > {RTOL:g}"
    return Row(group, name, float(result), skipped, problem)


def run(backend_name: str = "numpy") -> list[Row]:
    """Every case on ``backend_name``: its parameters and inputs live there (``cupy``: the GPU),
    and the ``numba`` backend's fast paths serve the NumPy arrays. Raises BackendError when that
    backend cannot be used here."""
    with backend.use_backend(backend_name):
        return ([_row("layers", name, _check_layer, make, shape, kind)
                 for name, make, shape, kind in LAYER_CASES]
                + [_row("losses", name, _check_loss, make, kind)
                   for name, make, kind in LOSS_CASES]
                + [_row("models", name, _check_model, make, shape)
                   for name, make, shape in MODEL_CASES])


def _check_layer(make, shape, kind):
    layer = _on_device(_randomize(make()))
    result = check_layer(layer, backend.to_device(make_input(shape, kind)), max_elements=128)
    _still_on_device(layer)
    return result


def _check_loss(make, kind):
    return check_loss(make(), backend.to_device(make_input((3, 5), kind, seed=1)),
                      backend.to_device(make_input((3, 5), "unit", seed=2)))


def _check_model(make, shape):
    backend.seed(5)  # the zoo draws its initial weights from the backend's generator
    model = _on_device(make())
    x = np.random.default_rng(5).uniform(0.05, 0.95, size=shape)
    result = check_model(model, backend.to_device(x), get_loss(model.loss), training=True,
                         max_elements=12, n_directions=2, max_kinks=3)
    _still_on_device(model)
    return result


def _on_device(layer):
    return layer.to(backend.get_backend())


def _still_on_device(layer) -> None:
    """Every parameter and gradient is still on the selected backend's device after the check:
    a check on the GPU that quietly ran on the host would prove nothing."""
    name = backend.get_backend()
    for key, owner, p in layer.named_parameters():
        for what, a in (("parameter", owner.params[p]), ("gradient", owner.grads[p])):
            if backend.is_cupy_array(a) != (name == "cupy"):
                raise AssertionError(f"the {what} {key} left the {name} backend's device "
                                     "during the check")


def device_note(backend_name: str) -> str | None:
    """A warning line when "cupy" is scripts/fake_cupy (NumPy posing as CuPy), else None."""
    cupy = sys.modules.get("cupy")
    if backend_name == "cupy" and getattr(cupy, "FAKE", False):
        return ("note: cupy here is fake_cupy (NumPy posing as CuPy): a rehearsal of the code "
                "path, NOT evidence about a GPU")
    return None


def report(rows: list[Row], say=print) -> bool:
    """Print the table (and each failure's reason under it); return whether every row passed."""
    say(f"{'':<2}{'layer, loss or model':<34} {'max rel. error':>14} {'kinks skipped':>14}"
        "  result")
    group = None
    for r in rows:
        if r.group != group:
            group = r.group
            say(f"{group}:")
        err = "-" if r.error is None else f"{r.error:.1e}"
        say(f"{'':<2}{r.name:<34} {err:>14} {r.kinks:>14}  {'pass' if r.ok else 'FAIL'}")
    failed = [r for r in rows if not r.ok]
    for r in failed:
        say(f"FAIL {r.name}: {r.problem}")
    say(f"{len(rows)} checks: {len(rows) - len(failed)} passed, {len(failed)} failed "
        f"(float64, central differences, tolerance {RTOL:g})")
    return not failed
