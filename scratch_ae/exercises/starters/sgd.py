"""Exercise 6 of 15 -- SGD with momentum: the only code that changes the parameters.

Tutorial: tutorials/01_stacked.py (plain SGD, lr 1.5); momentum is the first improvement on it.
Mirrors:  scratch_ae/optim.py, class SGD: the library's answer, to read once you pass.

The math, as Keras writes it (lr > 0, 0 <= momentum < 1):

    momentum == 0:   p <- p - lr * g
    otherwise:       v <- momentum * v - lr * g      (v starts at 0, one per parameter)
                     p <- p + v

Check it:  scratch-ae exercise check sgd
"""

from __future__ import annotations

from scratch_ae.optim import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (formulas in the module docstring).

    The base class's ``step(model)`` calls ``update(key, p, g)`` for every parameter ``p`` of
    the model, with its gradient ``g`` and a stable name ``key`` (e.g. ``"encoder.0.W"``).
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0):
        super().__init__(lr)
        self.momentum = float(momentum)

    def update(self, key, p, g):
        """Change ``p`` IN PLACE (``p -= ...``, ``p += ...``, ``p[...] = ...``): the model holds
        this very array, so ``p = p - ...`` would only rebind a local name. Never write into
        ``g``. ``self.slots(key, p, "v")`` returns ``[v]``, this parameter's velocity, created
        as zeros on first use and kept between steps."""
        raise NotImplementedError("SGD.update: p -= lr * g, or the momentum step")
