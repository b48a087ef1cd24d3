"""The layer contract every layer follows.

A layer is two functions and some state::

    y  = layer.forward(x, training=False)   # caches what backward needs on self
    dx = layer.backward(dy)                 # dL/dx from dL/dy; ADDS dL/dp into self.grads[p]

* ``self.params[name]`` holds each parameter array; ``self.grads[name]`` has the same shape and
  dtype and is only ever *added* to by ``backward`` (so two uses of one weight, as in tied
  autoencoders, simply accumulate). ``zero_grad`` resets them; the optimizer is the only code
  that changes ``params``.
* ``backward`` never writes into ``dy`` (the caller may still need it).
* ``self.input_grad`` is True unless ``fit`` has set it False on a model's first layer for
  the duration of training: nobody reads dL/dx of the data, so Dense and Conv2D then skip that
  product and return None (a third of the layer's backward arithmetic).
* ``self.penalty`` is the extra loss this layer added in its last forward (an activity
  regularizer's L1 term, the VAE's KL term); it is ``0.0`` for ordinary layers. Its gradient is
  already included in what ``backward`` returns.
* ``forward`` starts with ``self.check_input(x, ...)`` (a clear error for a wrong shape, dtype
  or device), then takes the array module from the input: ``xp = backend.get_array_module(x)``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend


class Layer:
    """Base class: parameter bookkeeping, device/dtype moves, input checks."""

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.penalty = 0.0
        self.input_grad = True

    # -- the two functions every layer defines --------------------------------------------
    def forward(self, x, training: bool = False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x, training: bool = False):
        return self.forward(x, training=training)

    # -- shapes ---------------------------------------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one output sample given one input sample's shape (batch axis left out)."""
        return tuple(input_shape)

    # -- parameters -----------------------------------------------------------------------
    def add_param(self, name: str, value) -> None:
        self.params[name] = value
        xp = backend.get_array_module(value)
        self.grads[name] = xp.zeros_like(value)

    def zero_grad(self) -> None:
        """Reset the gradients of this layer and of every layer nested in it."""
        for layer in [self, *self.all_sublayers()]:
            for g in layer.grads.values():
                g[...] = 0

    def sublayers(self) -> list:
        """Layers nested inside this one (containers override)."""
        return []

    def sublayer_names(self) -> list[str]:
        """Names used in parameter keys for ``sublayers()``: their positions by default."""
        return [str(i) for i in range(len(self.sublayers()))]

    def named_parameters(self, prefix: str = ""):
        """Yield ``(key, layer, name)`` for every parameter, depth first.

        Keys look like ``"encoder.0.W"``: stable names for optimizer state and model files.
        """
        for name in self.params:
            yield f"{prefix}{name}", self, name
        for sub_name, sub in zip(self.sublayer_names(), self.sublayers(), strict=True):
            yield from sub.named_parameters(f"{prefix}{sub_name}.")

    def total_penalty(self):
        """This layer's penalty plus those of every layer nested in it (last forward)."""
        return self.penalty + sum(sub.total_penalty() for sub in self.sublayers())

    def n_params(self) -> int:
        return int(sum(layer.params[name].size for _, layer, name in self.named_parameters()))

    def _map_params(self, fn) -> None:
        for layer in [self, *self.all_sublayers()]:
            for name in list(layer.params):
                layer.params[name] = fn(layer.params[name])
                layer.grads[name] = fn(layer.grads[name])

    def all_sublayers(self) -> list:
        out = []
        for sub in self.sublayers():
            out.append(sub)
            out.extend(sub.all_sublayers())
        return out

    def to(self, name: str):
        """Move every parameter to backend ``name`` ("numpy", "numba" or "cupy"); returns self."""
        if name in ("numpy", "numba"):
            self._map_params(backend.to_numpy)
        else:
            self._map_params(lambda a: backend.to_device(a, name))
        return self

    def astype(self, dtype):
        """Cast every parameter (and gradient buffer) to ``dtype``; returns self."""
        self._map_params(lambda a: a.astype(dtype, copy=False))
        return self

    # -- input checks ---------------------------------------------------------------------
    def check_input(self, x, ndim: int | None = None, features: tuple | None = None) -> None:
        """Raise a clear error when ``x`` is not what this layer expects (validation only: the
        array module is looked up separately, ``xp = backend.get_array_module(x)``).

        ``features`` is the expected per-sample shape; ``None`` entries match any size.
        """
        name = type(self).__name__
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            raise TypeError(f"{name} expected an array, got {type(x).__name__}")
        if x.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"{name} expected a floating-point array (float32 or float64), got dtype "
                f"{x.dtype}; convert with x.astype('float32')"
            )
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"{name} expected a batch of at least one sample, shape (N, ...), "
                             f"got shape {tuple(x.shape)}")
        if ndim is not None and x.ndim != ndim:
            raise ValueError(f"{name} expected a {ndim}-D input (batch first), got shape "
                             f"{tuple(x.shape)}{_flat_hint(x.shape, ndim, features)}")
        if features is not None:
            got = tuple(x.shape[1:])
            if len(got) != len(features) or any(
                f is not None and f != g for f, g in zip(features, got, strict=False)
            ):
                want = "(N, " + ", ".join("?" if f is None else str(f) for f in features) + ")"
                raise ValueError(f"{name} expected input of shape {want}, got {tuple(x.shape)}")
        # The layer's own parameters take part, so data on the host fed to a model on the GPU
        # (or the reverse) is reported here, naming the layer, instead of deep inside CuPy.
        backend.check_same_device(x, *self.params.values(), where=name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _flat_hint(shape, ndim, features) -> str:
    """For images (N, C, H, W) fed to a dense layer: say how to flatten them."""
    if ndim != 2 or features is None or len(shape) < 3 or math.prod(shape[1:]) != features[0]:
        return ""
    return (f" -- expected (N, {features[0]}): these look like images, so load the data with "
            f"flat=True (e.g. data.load_mnist(flat=True)) or start the model with Flatten()")


def glorot_uniform(shape: tuple, fan_in: int, fan_out: int, dtype=np.float32):
    """Glorot/Xavier uniform init (Keras' default): U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).

    Drawn from the backend's seeded generator on the host, then moved to the selected backend,
    so the same seed gives the same weights on every backend.
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    w = backend.rng(np).uniform(-limit, limit, size=shape).astype(dtype)
    return backend.to_device(w)
