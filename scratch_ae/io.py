"""Saving and loading weights as ``.npz`` -- never pickle.

A model file holds one array per parameter, keyed by the parameter's stable name
(``encoder.0.W``), plus a ``__meta__`` entry: a JSON string with the model's zoo name and
anything else worth keeping (epochs trained, validation loss, library version). Loading uses
``np.load(..., allow_pickle=False)``, so a model file cannot run code.

Saves are atomic: the file is written under a temporary name in the same folder and then
renamed over the target (:func:`scratch_ae.utils.atomic_write`), so a crash mid-save never
leaves a half-written model behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import backend
from .utils import atomic_write

META_KEY = "__meta__"


def state_dict(model) -> dict:
    """Every parameter of ``model`` as a host NumPy array, keyed by its stable name."""
    return {key: backend.to_numpy(layer.params[name])
            for key, layer, name in model.named_parameters()}


def save_model(model, path, meta: dict | None = None) -> Path:
    """Write ``model``'s parameters (and ``meta``, as JSON) to ``path`` (.npz), atomically.

    ``meta["model"]``, when it names a zoo entry, lets :func:`load_model` rebuild the model.
    """
    arrays = state_dict(model)
    if META_KEY in arrays:
        raise ValueError(f"a parameter may not be called {META_KEY!r}")
    meta = {"format": "scratch_ae-weights", "version": 1, **(meta or {})}
    arrays[META_KEY] = np.array(json.dumps(meta))
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_model_file(path) -> tuple[dict, dict]:
    """``(arrays, meta)`` from a model file, with a clear error for anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ValueError(f"{path} is not a readable .npz model file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:  # raised for object arrays, which would need pickle
        raise ValueError(f"{path} holds pickled objects and will not be loaded: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile, truncated files, ...
        raise ValueError(f"{path} is not a readable .npz model file: {exc}") from None
    meta = {}
    if META_KEY in arrays:
        meta = json.loads(str(arrays.pop(META_KEY)))
    return arrays, meta


def load_weights(model, path) -> dict:
    """Copy the parameters in ``path`` into ``model`` (same architecture); return the metadata.

    Every parameter must be present with the same shape; nothing is changed unless all are.
    Values are cast to each parameter's dtype and moved to its device.
    """
    arrays, meta = read_model_file(path)
    params = list(model.named_parameters())
    missing = [k for k, _, _ in params if k not in arrays]
    extra = sorted(set(arrays) - {k for k, _, _ in params})
    if missing or extra:
        raise ValueError(
            f"{path} does not match this model: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}"
        )
    for key, layer, name in params:
        want = tuple(layer.params[name].shape)
        if tuple(arrays[key].shape) != want:
            raise ValueError(f"{path}: parameter {key} has shape {arrays[key].shape}, "
                             f"the model expects {want}")
    for key, layer, name in params:
        p = layer.params[name]
        xp = backend.get_array_module(p)
        # In place, so that tied layers and optimizer state keep pointing at the same arrays.
        p[...] = xp.asarray(arrays[key].astype(p.dtype, copy=False))
    return meta


def load_model(path):
    """Rebuild a zoo model from its file: the metadata names the zoo entry to build."""
    _, meta = read_model_file(path)
    name = meta.get("model")
    if not name:
        raise ValueError(f"{path} does not say which zoo model it holds; build the model "
                         "yourself and call load_weights(model, path)")
    from .models import zoo  # noqa: PLC0415

    model = zoo.build(name)
    load_weights(model, path)
    return model
