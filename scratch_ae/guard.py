"""The numerical guard: stop at the first step whose gradients are not finite, and say why.

A learning rate that is too high, or pixels in 0..255 fed to a model made for [0, 1], make the
weights blow up; a few steps later the loss is ``nan`` and every weight with it. The guard stands
in for the optimizer inside :func:`scratch_ae.train.train_step`: before the real optimizer
changes anything it checks that the gradients are finite (one sum over them, read back once),
so a NaN never reaches the weights. When they are not, :func:`diagnose` runs the same batch
again with every layer watched and names the first layer whose output (forward) or gradient
(backward) went non-finite.

On the numpy and numba backends every step is checked. On the GPU, where reading a number back
makes the step wait for the device, no step is: there the running loss, read every
``LOG_EVERY`` steps anyway, is what stops a run that went non-finite (without naming a layer).
"""

from __future__ import annotations

import math

import numpy as np

from . import backend


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or infinite value; the message says where and why."""


CAUSES = ("Usual causes: the learning rate is probably too high for this model (try a smaller "
          "one), or the inputs are not scaled to [0, 1] (divide 0..255 pixels by 255).")


class GuardedOptimizer:
    """Checks the gradients are finite, then lets ``optimizer`` take its step."""

    def __init__(self, optimizer, check: bool = True):
        self.optimizer, self.check = optimizer, check

    def step(self, model) -> None:
        params = list(model.named_parameters())  # one walk of the model for both
        if self.check and not grads_finite(params):
            raise _BadGradients
        self.optimizer.step(model, params)


class _BadGradients(Exception):
    pass


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
                elif not _finite(dx):
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
