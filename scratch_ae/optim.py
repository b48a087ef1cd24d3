"""Optimizers. The only code that changes parameters.

``optimizer.step(model)`` walks ``model.named_parameters()`` and updates each parameter *in
place* from its gradient, keeping per-parameter state (velocities, moment estimates) in
``self.state[key]`` -- plain arrays keyed by the parameter's name, so a checkpoint can save them.
Updating in place matters: a tied decoder reads the encoder's weight array, so it must stay the
same array. ``self.hooks`` are called before a step changes anything (``fit``'s numerical guard
is one: it refuses a step on non-finite gradients by raising).

The formulas and defaults follow Keras, so that the tutorial's recipes (SGD lr 1.5, RMSprop
1e-3, ...) behave as they do there.
"""

from __future__ import annotations

import math

from . import backend
from .backend import get_array_module


class Optimizer:
    """Base class: iterates parameters, counts steps, holds state."""

    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.iterations = 0
        self.state: dict[str, dict] = {}
        self.hooks: list = []  # hook(model, params), called before a step changes anything

    def step(self, model) -> None:
        """Apply one update to every parameter of ``model`` from its accumulated gradient."""
        params = list(model.named_parameters())
        for hook in self.hooks:  # may refuse the step by raising (fit's numerical guard)
            hook(model, params)
        self.iterations += 1
        for key, layer, name in params:
            self.update(key, layer.params[name], layer.grads[name])

    def slots(self, key, p, *names):
        """This parameter's state arrays (created as zeros on first use, on p's device)."""
        st = self.state.get(key)
        if st is None:
            xp = get_array_module(p)
            st = self.state[key] = {n: xp.zeros_like(p) for n in names}
        return [st[n] for n in names]

    def update(self, key, p, g) -> None:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as in Keras.

    Plain:      ``p <- p - lr * g``
    Momentum:   ``v <- momentum * v - lr * g``;  ``p <- p + v``
    Nesterov:   ``v <- momentum * v - lr * g``;  ``p <- p + momentum * v - lr * g``
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def update(self, key, p, g):
        if self.momentum == 0.0:
            if fused := backend.fast("sgd", p, g):  # Numba: one pass, no temporary
                fused(p, g, self.lr)
                return
            p -= self.lr * g
            return
        (v,) = self.slots(key, p, "v")
        v *= self.momentum
        v -= self.lr * g
        if self.nesterov:
            p += self.momentum * v - self.lr * g
        else:
            p += v


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (rho 0.9, eps 1e-7).

    ``a <- rho * a + (1 - rho) * g**2``;  ``p <- p - lr * g / (sqrt(a) + eps)``
    """

    def __init__(self, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def update(self, key, p, g):
        (a,) = self.slots(key, p, "a")
        if fused := backend.fast("rmsprop", p, g, a):  # Numba: one pass over p, g, a, not six
            fused(p, g, a, self.lr, self.rho, self.eps)
            return
        xp = get_array_module(p)
        a *= self.rho
        a += (1 - self.rho) * g * g
        p -= self.lr * g / (xp.sqrt(a) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba), in Keras' form with the bias correction folded into the step size.

    ``m <- b1 m + (1 - b1) g``;  ``v <- b2 v + (1 - b2) g**2``;
    ``lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t)``;  ``p <- p - lr_t * m / (sqrt(v) + eps)``
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-7):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def moments(self, key, p, g):
        """Update and return the running means of ``g`` and ``g**2``, in place (written as
        ``m += (1 - b1) * (g - m)``, which equals ``b1 m + (1 - b1) g``)."""
        m, v = self.slots(key, p, "m", "v")
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        return m, v

    def update(self, key, p, g):
        xp = get_array_module(p)
        m, v = self.moments(key, p, g)
        t = self.iterations
        lr_t = self.lr * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        p -= lr_t * m / (xp.sqrt(v) + self.eps)


class Nadam(Adam):
    """Adam with Nesterov momentum (Dozat, 2016), as Keras implements it.

    With a momentum schedule ``u_t = b1 * (1 - 0.5 * 0.96**(0.004 t))`` and its running product
    ``U_t = u_1 ... u_t``::

        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g**2
        m_hat = u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t)
        v_hat = v / (1 - b2**t)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-7):
        super().__init__(lr, beta1, beta2, eps)
        self.u_product = 1.0

    def _u(self, t):
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))

    def step(self, model):
        # The momentum schedule is shared by every parameter, so advance it once per step.
        t = self.iterations + 1
        self.u_t, self.u_next = self._u(t), self._u(t + 1)
        self.U_t = self.u_product * self.u_t
        self.U_next = self.U_t * self.u_next
        super().step(model)
        self.u_product = self.U_t

    def update(self, key, p, g):
        xp = get_array_module(p)
        m, v = self.moments(key, p, g)
        t = self.iterations
        m_hat = (self.u_next / (1 - self.U_next)) * m + ((1 - self.u_t) / (1 - self.U_t)) * g
        v_hat = v / (1 - self.beta2**t)
        p -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "nadam": Nadam}


def get_optimizer(name, **kwargs) -> Optimizer:
    """By name (``"sgd"``, ``"rmsprop"``, ``"adam"``, ``"nadam"``); or passed through."""
    if isinstance(name, Optimizer):
        return name
    try:
        return OPTIMIZERS[str(name).lower()](**kwargs)
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}"
        ) from None


def cosine_schedule(lr: float, epochs: int, floor: float = 0.0):
    """Cosine decay (Loshchilov & Hutter, "SGDR", 2017, without restarts) for ``fit``'s
    ``lr_schedule``: epoch ``e`` of ``epochs`` trains at

        floor + (lr - floor) * (1 + cos(pi * e / epochs)) / 2

    so the first epoch runs at ``lr`` and the rate glides down to near ``floor`` by the last.
    Returns a function of the epoch (0-based), so a resumed run picks up the same rates.
    """
    if not lr > 0 or not isinstance(epochs, int) or epochs < 1 or not 0 <= floor < lr:
        raise ValueError(f"cosine_schedule needs lr > 0, an integer epochs >= 1 and "
                         f"0 <= floor < lr; got lr={lr!r}, epochs={epochs!r}, floor={floor!r}")

    def rate(epoch: int) -> float:
        return floor + (lr - floor) * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return rate
