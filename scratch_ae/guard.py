"""The numerical guard: stop at the first step whose gradients are not finite, and say why.

A learning rate that is too high, or pixels in 0..255 fed to a model made for [0, 1], make the
weights blow up; a few steps later the loss is ``nan`` and every weight with it. ``fit`` attaches
a :class:`NumericalGuard` to the optimizer (``optimizer.hooks``): before the optimizer changes
anything, it checks that the gradients are finite (one sum over them, read back once), so a NaN
never reaches the weights. When they are not, :func:`diagnose` runs the same batch again with
every layer watched and names the first layer whose output (forward) or gradient (backward)
went non-finite.

On the numpy and numba backends every step is checked. On the GPU, where reading a number back
makes the step wait for the device, no step is: there the running loss, read every
``LOG_EVERY`` steps anyway, is what stops a run that went non-finite (without naming a layer).
The guard is also the callback that checks each epoch's loss.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .callbacks import LOG_EVERY, Callback


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or infinite value; the message says where and why."""


CAUSES = ("Usual causes: the learning rate is probably too high for this model (try a smaller "
          "one), or the inputs are not scaled to [0, 1] (divide 0..255 pixels by 255).")


class NumericalGuard(Callback):
    """Refuses an optimizer step whose gradients are not finite, and says where they went bad.

    As an optimizer hook (:meth:`before_step`) it checks every step's gradients (``check``:
    on the host; a GPU is not made to wait). As a callback it remembers the batch each step
    trains on, for the diagnosis, and checks the running loss every ``LOG_EVERY`` steps and
    each epoch's loss.
    """

    def __init__(self, model, loss_fn, check: bool = True, checkpoint_dir=None):
        self.model, self.loss_fn, self.check = model, loss_fn, check
        self.checkpoint_dir = checkpoint_dir
        self.epoch = self.step = 0
        self.batch = None

    def on_epoch_begin(self, epoch):
        self.epoch, self.step = epoch, 0

    def on_batch_begin(self, xb, tb):
        self.step += 1
        self.batch = (xb, tb)

    def before_step(self, model, params) -> None:
        """The optimizer hook: raise :class:`NonFiniteError` instead of a step on bad gradients."""
        if not self.check or grads_finite(params):
            return
        culprit = diagnose(self.model, self.loss_fn, *self.batch)
        saved = (f"; the last good checkpoint (epoch {self.epoch}) is in {self.checkpoint_dir}"
                 if self.checkpoint_dir and self.epoch else "")
        raise NonFiniteError(
            f"training stopped at epoch {self.epoch + 1}, step {self.step}: the gradients became "
            f"NaN or infinite; the first non-finite value was {culprit}. The weights are those "
            f"before this step{saved}. {CAUSES}")

    def on_batch_end(self, tally):
        if tally.steps % LOG_EVERY == 0:  # on a GPU, the only check: one read every 50 steps
            _check_finite(tally.mean("loss"), f"after {tally.seen} samples")

    def on_epoch_end(self, epoch, logs):
        _check_finite(logs["loss"], f"in epoch {epoch + 1}")


def _check_finite(value, when: str):
    if not math.isfinite(value):
        raise NonFiniteError(f"the training loss became {value} {when}. {CAUSES}")


def grads_finite(params) -> bool:
    """True when every gradient of ``params`` (``model.named_parameters()``) is finite: their
    total is, unless one is NaN or inf (one number, read back once)."""
    grads = [layer.grads[name] for _, layer, name in params]
    return not grads or math.isfinite(float(total(grads)))


def total(arrays):
    """The sum of every element of every array: a Python float, or a 0-d device array."""
    if fused := backend.fast("total", arrays[0]):  # Numba: in float64, one pass per array
        return fused(arrays)
    out = 0.0
    for a in arrays:
        out = out + a.sum()
    return out


def layer_names(model) -> dict:
    """``{id(layer): "encoder.2 (Dense)"}`` for every layer nested in ``model``."""
    names = {}

    def walk(layer, prefix):
        for sub_name, sub in zip(layer.sublayer_names(), layer.sublayers(), strict=True):
            path = f"{prefix}{sub_name}"
            names[id(sub)] = f"{path} ({type(sub).__name__})"
            walk(sub, f"{path}.")

    walk(model, "")
    return names


def _finite(a) -> bool:
    xp = backend.get_array_module(a)
    return bool(xp.isfinite(a).all())


def diagnose(model, loss_fn, xb, tb) -> str:
    """Which value went non-finite first on the batch ``(xb, tb)``, in words."""
    names = layer_names(model)
    for key, layer, name in model.named_parameters():
        if not _finite(layer.params[name]):
            return f"the weights {key} were already non-finite before this step"
    first = []
    leaves = [sub for sub in model.all_sublayers() if not sub.sublayers()]

    def watch(layer):
        forward, backward = layer.forward, layer.backward

        def watched_forward(x, training=False):
            y = forward(x, training=training)
            if not first and not _finite(y):
                first.append(f"the output of {names[id(layer)]} in the forward pass")
            return y

        def watched_backward(dy):
            dx = backward(dy)
            if not first:
                bad = [n for n, g in layer.grads.items() if not _finite(g)]
                if bad:
                    first.append(f"the gradient of {names[id(layer)]}'s {', '.join(bad)}")
                elif dx is not None and not _finite(dx):
                    first.append(f"the gradient with respect to the input of "
                                 f"{names[id(layer)]} in the backward pass")
            return dx

        layer.forward, layer.backward = watched_forward, watched_backward

    for layer in leaves:
        watch(layer)
    try:
        with np.errstate(all="ignore"):  # the overflows are what is being looked for
            model.zero_grad()
            y = model.forward(xb, training=True)
            value = loss_fn.forward(y, tb)
            if not first and not math.isfinite(float(value)):
                first.append(f"the loss ({type(loss_fn).__name__}) itself, from finite outputs")
            model.backward(loss_fn.backward())
    finally:
        for layer in leaves:  # drop the instance attributes: the class methods show again
            del layer.forward, layer.backward
    return first[0] if first else "nothing on a second run of the same batch (a random draw?)"
