"""Activity regularizers: identity layers that add a sparsity penalty on the codes passing through.

Put one right after a coding layer (``Dense(100, 300), Sigmoid(), ActivityL1(1e-3)``). In
forward the layer returns its input unchanged and stores the penalty in ``self.penalty``; in
backward it adds the penalty's gradient to the incoming ``dy``. The training loop adds
``model.total_penalty()`` to the reconstruction loss and logs the two parts separately
(``recon`` and ``penalty``), so a learner sees how much of the loss is the regularizer.

Shapes: any (N, ...) -> the same (N, ...); "units" are all the non-batch entries, so these work on
dense codes (N, J) and on convolutional feature maps (N, C, H, W) alike.
"""

from __future__ import annotations

from .. import backend
from .base import Layer


class ActivityL1(Layer):
    """L1 activity penalty: ``penalty = weight * sum_{n,j} |h[n, j]| / N``.

    Keras' ``ActivityRegularization(l1=weight)`` divides the summed penalty by the batch size N,
    so this is Keras' number (per-sample L1 norm of the codes, averaged over the batch).

    Forward: ``y = h`` (identity), shapes (N, ...) -> (N, ...).

    Backward (subgradient; ``sign(0) = 0``)::

        dL/dh = dy + weight * sign(h) / N

    A new array is returned: ``dy`` is never modified.
    """

    def __init__(self, weight: float = 1e-3):
        super().__init__()
        if weight < 0:
            raise ValueError(f"ActivityL1 weight must be >= 0, got {weight}")
        self.weight = float(weight)

    def forward(self, x, training=False):
        self.check_input(x)
        xp = backend.get_array_module(x)
        self.x = x
        self.penalty = self.weight * xp.abs(x).sum() / x.shape[0]
        return x

    def backward(self, dy):
        xp = backend.get_array_module(dy, self.x, where="ActivityL1.backward")
        scale = dy.dtype.type(self.weight / self.x.shape[0])
        return dy + scale * xp.sign(self.x).astype(dy.dtype, copy=False)

    def __repr__(self):
        return f"ActivityL1({self.weight:g})"


class KLSparsity(Layer):
    """KL-divergence sparsity penalty (Ng's sparse autoencoder; Géron's KLDivergenceRegularizer).

    Each unit j should be active a fraction ``p = target`` of the time. Its actual rate over the
    batch is ``q_j = (1/N) sum_n h[n, j]`` (activations must lie in (0, 1): use a sigmoid
    coding layer). The penalty is the KL divergence between two Bernoulli distributions, summed
    over units::

        penalty = weight * sum_j [ p log(p / q_j) + (1 - p) log((1 - p) / (1 - q_j)) ]

    It is 0 when every q_j = p and grows fast as q_j moves away (unlike L1, it also pushes a
    unit that is *too rarely* active back up).

    Forward: ``y = h`` (identity), shapes (N, ...) -> (N, ...).

    Backward: q_j depends on every sample's h[n, j] with ``dq_j/dh[n, j] = 1/N``, so::

        dL/dh[n, j] = dy[n, j] + weight * (-p / q_j + (1 - p) / (1 - q_j)) / N

    For safety q is clipped into ``[eps, 1 - eps]`` (eps = 1e-7, Keras' epsilon) before the
    logs, so a dead or saturated unit gives a large but finite penalty; where the clip is active
    the penalty is flat in q and its gradient is taken as 0, as for any clip.

    Note: the penalty is *not* divided by N again (the rate q_j already averages over the batch),
    as in Ng's sparse-autoencoder notes; tf.keras divides any activity penalty by N once more, so
    a Keras ``KLDivergenceRegularizer`` with the same weight adds this penalty / N.
    """

    EPS = 1e-7

    def __init__(self, weight: float = 0.05, target: float = 0.1):
        super().__init__()
        if weight < 0:
            raise ValueError(f"KLSparsity weight must be >= 0, got {weight}")
        if not 0.0 < target < 1.0:
            raise ValueError(f"KLSparsity target must be in (0, 1), got {target}")
        self.weight, self.target = float(weight), float(target)

    def forward(self, x, training=False):
        self.check_input(x)
        xp = backend.get_array_module(x)
        p = self.target
        q_raw = x.mean(axis=0)
        self.inside = (q_raw >= self.EPS) & (q_raw <= 1 - self.EPS)
        q = xp.clip(q_raw, self.EPS, 1 - self.EPS)
        self.q, self.n = q, x.shape[0]
        kl = p * xp.log(p / q) + (1 - p) * xp.log((1 - p) / (1 - q))
        self.penalty = self.weight * kl.sum()
        return x

    def backward(self, dy):
        p, q = self.target, self.q
        dq = (-p / q + (1 - p) / (1 - q)) * self.inside  # dKL/dq_j, 0 where clipped
        return dy + (self.weight / self.n) * dq.astype(dy.dtype, copy=False)

    def __repr__(self):
        return f"KLSparsity(weight={self.weight:g}, target={self.target:g})"


__all__ = ["ActivityL1", "KLSparsity"]
