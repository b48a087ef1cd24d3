"""Model files: ``.npz`` archives that describe themselves -- and never pickle.

A model file holds one array per parameter, keyed by the parameter's stable name
(``encoder.0.W``), plus a ``__meta__`` entry: a JSON header::

    {"format": "scratch_ae-model", "format_version": 2, "library_version": "0.1.0",
     "dtype": "float32",
     "architecture": {"type": "Autoencoder", "args": {...}},   # see scratch_ae.spec
     "arrays": {"encoder.0.W": {"shape": [784, 100], "dtype": "float32"}, ...},
     "meta": {...}}                                            # whatever the caller added

so :func:`load_model` rebuilds any model made of the library's layers -- from the zoo or built
by hand -- without being told what it is. Loading uses ``np.load(..., allow_pickle=False)``, so
a model file cannot run code, and every array is checked against the header's table (name,
shape, dtype) before anything is used. Anything that is not such a file gets a
:class:`ModelFileError` naming the file and what is wrong with it.

Files written by format version 1 (a flat header without ``architecture`` or ``arrays``) still
load into a model you built (``load_weights(zoo.build(name), path)``); ``load_model`` says so.

Saves are atomic: the file is written under a temporary name in the same folder and then
renamed over the target (:func:`scratch_ae.utils.atomic_write`), so a crash mid-save never
leaves a half-written model behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import __version__, backend, spec
from .layers.base import Layer
from .utils import atomic_write

META_KEY = "__meta__"
FORMAT = "scratch_ae-model"
FORMAT_VERSION = 2
READS_VERSIONS = (1, 2)
EXTRA_SEP = "/"  # in the names of arrays that are not parameters (optimizer state)


class ModelFileError(ValueError):
    """A file is not a model file this version can read, or does not match the model."""


def _check_model(model) -> None:
    if not isinstance(model, Layer):
        raise TypeError(f"expected a scratch_ae model or layer, got {type(model).__name__}")


def state_dict(model) -> dict:
    """Every parameter of ``model`` as a host NumPy array, keyed by its stable name."""
    _check_model(model)
    return {key: backend.to_numpy(layer.params[name])
            for key, layer, name in model.named_parameters()}


def save_model(model, path, meta: dict | None = None, extra_arrays: dict | None = None) -> Path:
    """Write ``model``'s parameters, architecture and ``meta`` (JSON) to ``path``, atomically.

    A model built from the library's layers (any ``Sequential``, ``Autoencoder`` or ``VAE``)
    is described in full, so :func:`load_model` rebuilds it. A model with layers of your own
    is saved too, without an architecture: load it with :func:`load_weights`.

    ``extra_arrays`` are stored beside the parameters (a checkpoint's optimizer state); their
    names contain a ``/`` (parameter keys never do), and loading a model ignores them.
    """
    arrays = state_dict(model)
    if META_KEY in arrays:
        raise ValueError(f"a parameter may not be called {META_KEY!r}")
    for k, a in (extra_arrays or {}).items():
        if EXTRA_SEP not in k:
            raise ValueError(f"extra array names must contain {EXTRA_SEP!r}, got {k!r}")
        arrays[k] = backend.to_numpy(a)
    if meta is not None and not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    try:
        architecture, why_not = spec.describe(model), None
    except spec.SpecError as exc:
        architecture, why_not = None, str(exc)
    dtypes = sorted({str(a.dtype) for a in arrays.values()})
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "library_version": _version(),
        "dtype": dtypes[0] if len(dtypes) == 1 else None,
        "architecture": architecture,
        "arrays": {k: {"shape": list(a.shape), "dtype": str(a.dtype)} for k, a in arrays.items()},
        "meta": meta or {},
    }
    if why_not:
        header["architecture_missing"] = why_not
    try:
        arrays[META_KEY] = np.array(json.dumps(header, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"meta must hold only JSON values (numbers, strings, lists, dicts): "
                        f"{exc}") from None
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def _version() -> str:
    return __version__


def read_model_file(path) -> tuple[dict, dict]:
    """``(arrays, header)`` from a model file, every array checked against the header.

    Raises FileNotFoundError (no such file), IsADirectoryError, or :class:`ModelFileError`
    (not a zip, truncated, pickled objects, no or bad header, wrong format or version, arrays
    that differ from the header's table). A version-1 header is returned in version 2's shape,
    with ``architecture`` and ``arrays`` set to None.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"model file {str(path)!r} is a directory, not a .npz file")
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ModelFileError(f"{path} is not a readable .npz model file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:  # raised for object arrays, which would need pickle
        if "pickle" in str(exc):
            raise ModelFileError(f"{path} holds pickled objects and will not be loaded "
                                 "(model files never need pickle)") from None
        raise ModelFileError(f"{path} is not a readable .npz model file: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile, truncated files, CRC errors, ...
        raise ModelFileError(f"{path} is not a readable .npz model file "
                             f"({type(exc).__name__}: {exc}); it may be truncated") from None
    if META_KEY not in arrays:
        raise ModelFileError(f"{path} has no {META_KEY} header: not a scratch_ae model file")
    header = _parse_header(path, arrays.pop(META_KEY))
    _check_arrays(path, arrays, header["arrays"])
    return arrays, header


def _parse_header(path, raw) -> dict:
    if raw.dtype.kind != "U" or raw.shape != ():
        raise ModelFileError(f"{path}: the {META_KEY} header must be a JSON string, got an "
                             f"array of dtype {raw.dtype} and shape {raw.shape}")
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: the {META_KEY} header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: the {META_KEY} header must be a JSON object, got a "
                             f"{type(header).__name__}")
    fmt = header.get("format")
    version = header.get("format_version", header.get("version"))
    if fmt == "scratch_ae-weights" and version == 1:  # the first format: a flat header
        meta = {k: v for k, v in header.items() if k not in ("format", "version")}
        return {"format": FORMAT, "format_version": 1, "library_version": None, "dtype": None,
                "architecture": None, "arrays": None, "meta": meta}
    if fmt != FORMAT:
        raise ModelFileError(f"{path}: expected format {FORMAT!r}, got {fmt!r}")
    if version not in READS_VERSIONS:
        raise ModelFileError(
            f"{path}: format version {version!r} (written by scratch_ae "
            f"{header.get('library_version')}); this scratch_ae ({_version()}) reads versions "
            f"{', '.join(map(str, READS_VERSIONS))}: upgrade scratch_ae to load it")
    table = header.get("arrays")
    if not isinstance(table, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("shape"), list)
            and isinstance(v.get("dtype"), str) for v in table.values()):
        raise ModelFileError(f"{path}: the header's 'arrays' must map each name to "
                             "{'shape': [...], 'dtype': '...'}")
    if not isinstance(header.get("meta", {}), dict):
        raise ModelFileError(f"{path}: the header's 'meta' must be a JSON object")
    header.setdefault("meta", {})
    header.setdefault("architecture", None)
    return header


def _check_arrays(path, arrays: dict, table: dict | None) -> None:
    """Every array named in the table is there with its shape and dtype, and no other."""
    for k, a in arrays.items():
        if a.dtype.kind not in "fiub":
            raise ModelFileError(f"{path}: array {k} has dtype {a.dtype}, not a number type")
    if table is None:
        return
    missing = sorted(set(table) - set(arrays))
    extra = sorted(set(arrays) - set(table))
    if missing or extra:
        raise ModelFileError(f"{path}: arrays differ from the header: missing "
                             f"{missing or 'nothing'}, not in the header {extra or 'nothing'}")
    for k, want in table.items():
        got = arrays[k]
        if list(got.shape) != want["shape"] or str(got.dtype) != want["dtype"]:
            raise ModelFileError(
                f"{path}: array {k} is {got.dtype} {tuple(got.shape)} but the header says "
                f"{want['dtype']} {tuple(want['shape'])}")


def load_weights(model, path) -> dict:
    """Copy the parameters in ``path`` into ``model`` (same architecture); return ``meta``.

    Every parameter must be present with the same shape; nothing is changed unless all are.
    Values are cast to each parameter's dtype and moved to its device.
    """
    _check_model(model)
    arrays, header = read_model_file(path)
    _copy_into(model, arrays, path)
    return header["meta"]


def _copy_into(model, arrays: dict, path) -> None:
    arrays = {k: a for k, a in arrays.items() if EXTRA_SEP not in k}
    params = list(model.named_parameters())
    missing = [k for k, _, _ in params if k not in arrays]
    extra = sorted(set(arrays) - {k for k, _, _ in params})
    if missing or extra:
        raise ModelFileError(
            f"{path} does not match this model: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}"
        )
    for key, layer, name in params:
        want = tuple(layer.params[name].shape)
        if tuple(arrays[key].shape) != want:
            raise ModelFileError(f"{path}: parameter {key} has shape {arrays[key].shape}, "
                                 f"the model expects {want}")
    for key, layer, name in params:
        p = layer.params[name]
        xp = backend.get_array_module(p)
        # In place, so that tied layers and optimizer state keep pointing at the same arrays.
        p[...] = xp.asarray(arrays[key].astype(p.dtype, copy=False))


def load_model(path):
    """Rebuild the model saved in ``path``, on the selected backend, with its weights.

    The architecture comes from the file's header (format 2; a format-1 file gets an error
    saying how to load it). Loading draws no random numbers from the backend's generator.
    """
    arrays, header = read_model_file(path)
    arch = header["architecture"]
    if arch is None:
        if header["format_version"] == 1:
            name = header["meta"].get("model", "NAME")
            why = (f"it is in the old format 1, which names only a zoo model: load it with "
                   f"io.load_weights(zoo.build({name!r}), path), then save it again")
        else:
            why = header.get("architecture_missing", "it was saved without one") + \
                "; build the model yourself and call io.load_weights(model, path)"
        raise ModelFileError(f"{path} does not describe its architecture: {why}")
    try:
        model = _without_drawing(lambda: spec.build(arch))
    except spec.SpecError as exc:
        raise ModelFileError(f"{path}: bad architecture in the header: {exc}") from None
    if header["dtype"]:
        model.astype(np.dtype(header["dtype"]))
    _copy_into(model, arrays, path)
    return model


def _without_drawing(build):
    """Run ``build()`` and put the backend's generator back as it was (init draws don't count)."""
    gen = backend.rng(np)
    state = gen.bit_generator.state
    try:
        return build()
    finally:
        gen.bit_generator.state = state
