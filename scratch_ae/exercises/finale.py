"""The finale: the learner's own Dense, SELU, Sigmoid, BCE and SGD train tutorial 01's model.

``scratch-ae exercise check --train stacked`` builds the stacked autoencoder of tutorial 01
(784-100-30-100-784, SELU, sigmoid output, BCE, SGD lr 1.5, batch 32) twice -- once from the
learner's five classes, once from the library's -- with the same initial weights, and trains
both for one epoch on MNIST (or the offline sample) with the same batches, on the numpy backend.
The two validation losses, measured with the library's BCE, are printed side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import backend, data
from ..losses import BCE
from ..models.autoencoder import Autoencoder
from ..models.sequential import Sequential
from ..models.zoo import get_recipe
from . import catalogue, checker

#: The two losses may differ by float32 rounding done in another order; past this relative
#: gap the learner's code computes something else than the library's.
AGREE = 1e-2


@dataclass
class Outcome:
    passed: bool
    text: str
    yours: float | None = None
    library: float | None = None


def not_ready(directory, solution: bool) -> str | None:
    """Which of the five exercises the finale needs do not pass yet (None: all pass)."""
    failing = []
    for name in catalogue.FINALE_NEEDS:
        report = checker.check(name, directory, solution=solution)
        if not report.passed:
            state = f"not passed: {report.step}" if report.started else "not started"
            failing.append(f"{name} ({state})")
    if not failing:
        return None
    return ("the finale builds the stacked autoencoder from your Dense, SELU, Sigmoid, BCE and "
            f"SGD, so those five must pass first; still to do: {', '.join(failing)}. "
            "See each with: scratch-ae exercise check NAME")


def build(impl: dict, coding_size: int = 30, hidden: int = 100) -> Autoencoder:
    """Tutorial 01's stacked autoencoder (``zoo.stacked``) from the classes in ``impl``."""
    dense, selu, sigmoid = impl["Dense"], impl["SELU"], impl["Sigmoid"]
    encoder = Sequential([dense(784, hidden), selu(), dense(hidden, coding_size), selu()])
    decoder = Sequential([dense(coding_size, hidden), selu(), dense(hidden, 784), sigmoid()])
    return Autoencoder(encoder, decoder, loss=impl["BCE"]())


def _classes(directory, solution: bool) -> dict:
    impl = {}
    for name in catalogue.FINALE_NEEDS:
        found = (catalogue.solution_namespace(name) if solution
                 else checker.load(name, directory))
        impl.update(found)
    return impl


def _data(dataset: str, limit: int | None, say):
    ds, message = data.load_dataset(dataset, flat=True)
    if message:
        say(message)
    x_train, x_valid = ds.x_train[:limit], ds.x_valid[:limit]
    say(f"data: {ds.name} from {ds.source}: {len(x_train)} train, {len(x_valid)} validation "
        "images" + (f" (the first {limit})" if limit else ""))
    return x_train, x_valid


def train_stacked(directory="exercises", *, solution: bool = False, dataset: str = "auto",
                  limit: int | None = None, seed: int = 42, say=print) -> Outcome:
    """Train the learner's stacked AE and the library's for one epoch; compare their losses."""
    waiting = not_ready(directory, solution)
    if waiting:
        return Outcome(False, waiting)
    recipe = get_recipe("stacked")
    lr, batch = recipe.optimizer[1]["lr"], recipe.batch_size
    who = "the library's own classes" if solution else f"your {directory}/" + "{" + ",".join(
        catalogue.FINALE_NEEDS) + "}.py"
    say(f"The finale: tutorial 01's stacked autoencoder 784-100-30-100-784 (SELU, sigmoid "
        f"output, BCE, SGD lr {lr:g}, batch {batch}), built once from {who} and once from the "
        "library, from the same initial weights, trained on the same batches for one epoch.")
    x_train, x_valid = _data(dataset, limit, say)
    impl = _classes(directory, solution)
    with checker.numpy_backend():
        backend.seed(seed)
        library = recipe.build()
        yours = build(impl)
        weights = {key: layer.params[name] for key, layer, name in library.named_parameters()}
        for key, layer, name in yours.named_parameters():
            layer.params[name][...] = weights[key]
        start = library.evaluate(x_valid)["loss"]
        say(f"untrained: validation loss (BCE) {start:.4f}")
        yours.fit(x_train, epochs=1, batch_size=batch, optimizer=impl["SGD"](lr=lr),
                  validation_data=x_valid, seed=seed, verbose=False)
        recipe.train(x_train, x_valid, model=library, epochs=1, seed=seed, verbose=False)
        mine = yours.evaluate(x_valid, loss=BCE())["loss"]
        theirs = library.evaluate(x_valid)["loss"]
    say(f"your layers:  validation loss (BCE) after 1 epoch {mine:.4f}")
    say(f"the library:  validation loss (BCE) after 1 epoch {theirs:.4f}")
    return _verdict(mine, theirs, start)


def _verdict(mine: float, theirs: float, start: float) -> Outcome:
    if not math.isfinite(mine) or mine >= start:
        return Outcome(False, f"Your model did not learn: its validation loss went from "
                              f"{start:.4f} to {mine:.4f}. Every exercise passes on its own, so "
                              "look at what they share: the data's dtype (float32), and SGD's "
                              "in-place update.", mine, theirs)
    gap = abs(mine - theirs) / theirs
    if gap > AGREE:
        return Outcome(False, f"Your code trains (the loss fell from {start:.4f} to {mine:.4f}), "
                              f"but it ends {100 * gap:.1f}% away from the library's: the layers "
                              "compute something slightly different.", mine, theirs)
    same = ("exactly the library's" if gap == 0 else
            f"within {gap:.1e} of the library's (float32 rounding in another order)")
    return Outcome(True, f"Your code trained the tutorial's autoencoder: its validation loss "
                         f"fell from {start:.4f} to {mine:.4f}, {same}. Every piece of this "
                         "network is now yours.", mine, theirs)
