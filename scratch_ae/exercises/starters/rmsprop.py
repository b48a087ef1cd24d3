"""Exercise 7 of 15 -- RMSprop: a step size per parameter element, from a running mean of g**2.

Tutorial: tutorials/09_vae.py (the VAE trains with RMSprop, lr 1e-3).
Mirrors:  scratch_ae/optim.py, class RMSprop: the library's answer, to read once you pass.

The math, as Keras writes it:

    a <- rho * a + (1 - rho) * g**2          a starts at 0, one per parameter, kept between steps
    p <- p - lr * g / (sqrt(a) + eps)

Why does dividing by sqrt(a) help when some weights get large gradients and others tiny ones?

Check it:  scratch-ae exercise check rmsprop
"""

from __future__ import annotations

import numpy as np

from scratch_ae.optim import Optimizer


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (formulas in the module docstring)."""

    def __init__(self, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def update(self, key, p, g):
        """Change ``p`` IN PLACE, never write into ``g``. ``self.slots(key, p, "a")`` returns
        ``[a]``, this parameter's running mean of g**2 (zeros on first use; update it in place
        too, so that it is kept). ``np.sqrt`` is the square root."""
        raise NotImplementedError("RMSprop.update: the running mean a, then p")
