"""Architecture specs: a model described as plain JSON, and rebuilt from that description.

A spec is what you would type to build the model again: the class name and the arguments its
constructor was called with, nested for containers::

    {"type": "Autoencoder",
     "args": {"encoder": {"type": "Sequential", "args": {"layers": [
                  {"type": "Dense", "args": {"in_features": 784, "out_features": 100}},
                  {"type": "SELU", "args": {}}, ...]}},
              "decoder": {...}, "loss": "bce"}}

It is read off the objects by one convention every layer and model of the library follows:
**each constructor argument is kept on the object under the same name** (``Dense(784, 100)``
keeps ``self.in_features`` and ``self.out_features``). So no layer needs code of its own to be
saved, and a layer that breaks the convention is reported when it is saved, not silently
mis-built when it is loaded. Two arguments are special:

* ``dtype`` is left out: a model file records one dtype for the whole model, and the rebuilt
  model is cast to it.
* a layer passed to another layer's constructor that is *not* one of its sublayers -- the
  ``Dense`` whose weights a ``DenseTranspose`` reuses -- is stored as a reference,
  ``{"ref": "encoder.layers.0"}``, the path of that layer in the spec, so the rebuilt model is
  tied exactly as the saved one.

Only the library's own classes can be rebuilt (a spec names a class; it never imports code):
those in :data:`REGISTRY`, which ``scratch_ae/__init__.py`` fills with one explicit list.
"""

from __future__ import annotations

import inspect

import numpy as np

from .layers.base import Layer
from .losses import Loss

SKIPPED_ARGS = ("dtype",)

# The classes a model file may name, by name: scratch_ae/__init__.py registers every layer,
# model and loss of the library here, in one list, once the modules that define them are
# loaded (this module imports none of them, so that io.py, below the models, can use it).
REGISTRY: dict[str, type] = {}


def register(*classes: type) -> None:
    """Let model files name these classes (each a Layer or Loss of the library)."""
    for cls in classes:
        if not issubclass(cls, (Layer, Loss)):
            raise TypeError(f"{cls.__name__} is not a Layer or a Loss")
        REGISTRY[cls.__name__] = cls


class SpecError(ValueError):
    """A model cannot be described as a spec, or a spec cannot be rebuilt."""


def _ctor_args(cls) -> list[str]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # drop self
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise SpecError(f"{cls.__name__} takes *args/**kwargs, so it cannot be described")
    return [p.name for p in params if p.name not in SKIPPED_ARGS]


def describe(obj) -> dict:
    """The spec of ``obj`` (a layer, model or loss of this library), JSON-serialisable."""
    return _Describer().layer(obj, "")


class _Describer:
    def __init__(self):
        self.classes = REGISTRY
        self.paths: dict[int, str] = {}  # id(layer) -> its path, for references

    def layer(self, obj, path: str) -> dict:
        cls = type(obj)
        name = cls.__name__
        if self.classes.get(name) is not cls:
            raise SpecError(f"{path or 'the model'} is a {cls.__module__}.{name}, not one of "
                            "scratch_ae's layers, so the file cannot describe it; save it anyway "
                            "and rebuild it yourself before io.load_weights(model, path)")
        if isinstance(obj, Layer):
            self.paths[id(obj)] = path
        sub_ids = {id(s) for s in obj.all_sublayers()} if isinstance(obj, Layer) else set()
        args = {}
        for arg in _ctor_args(cls):
            if not hasattr(obj, arg):
                raise SpecError(f"{name} does not keep its constructor argument {arg!r} as "
                                f"self.{arg}, so it cannot be described")
            args[arg] = self.value(getattr(obj, arg), _join(path, arg), sub_ids)
        return {"type": name, "args": args}

    def value(self, v, path: str, sub_ids: set):
        if isinstance(v, Layer):
            if id(v) in self.paths:
                return {"ref": self.paths[id(v)]}
            if id(v) not in sub_ids:
                raise SpecError(f"{path} refers to a layer that is not part of the model "
                                "(or not built before it), so the file cannot describe it")
            return self.layer(v, path)
        if isinstance(v, Loss):
            return self.layer(v, path)
        if isinstance(v, (list, tuple)):
            return [self.value(x, _join(path, str(i)), sub_ids) for i, x in enumerate(v)]
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        raise SpecError(f"{path} is a {type(v).__name__}, which a model file cannot describe")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def build(spec: dict):
    """A fresh model (random weights) from ``spec``; a clear :class:`SpecError` if malformed."""
    return _Builder().layer(spec, "")


class _Builder:
    def __init__(self):
        self.classes = REGISTRY
        self.built: dict[str, Layer] = {}

    def layer(self, spec, path: str):
        where = path or "the model"
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) \
                or not isinstance(spec.get("args"), dict):
            raise SpecError(f"{where}: expected {{'type': NAME, 'args': {{...}}}}, got "
                            f"{_short(spec)}")
        cls = self.classes.get(spec["type"])
        if cls is None:
            raise SpecError(f"{where}: unknown layer type {spec['type']!r}")
        expected = _ctor_args(cls)
        unknown = sorted(set(spec["args"]) - set(expected))
        if unknown:
            raise SpecError(f"{where}: {spec['type']} takes {expected}, got unknown {unknown}")
        args = {k: self.value(v, _join(path, k)) for k, v in spec["args"].items()}
        try:
            obj = cls(**args)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}: cannot build {spec['type']}: {exc}") from None
        if isinstance(obj, Layer):
            self.built[path] = obj
        return obj

    def value(self, v, path: str):
        if isinstance(v, dict):
            if set(v) == {"ref"}:
                if v["ref"] not in self.built:
                    raise SpecError(f"{path}: refers to {v['ref']!r}, which is not built before it")
                return self.built[v["ref"]]
            return self.layer(v, path)
        if isinstance(v, list):
            return [self.value(x, _join(path, str(i))) for i, x in enumerate(v)]
        return v


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."
