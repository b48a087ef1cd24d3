"""The array-module abstraction: which library holds the arrays, and which fast paths serve them.

Three backends share one set of layer code:

* ``numpy`` -- the readable reference: every layer runs its own plain array code, the code a
  learner reads, and nothing else.
* ``numba`` -- the same NumPy arrays and the same layer code, except where a layer asks
  :func:`fast` for a faster version of one named piece of it (a fused elementwise loop, im2col,
  a conv layer run in pieces on all cores): :mod:`scratch_ae.kernels.numba_conv` and
  :mod:`scratch_ae.kernels.numba_elementwise`, compiled by Numba.
* ``cupy``  -- arrays live on an NVIDIA GPU; the layer code runs there unchanged (``xp`` is
  ``cupy``), with CUDA kernels for im2col, col2im and pooling from
  :mod:`scratch_ae.kernels.cupy_kernels`.

Two rules keep this small (they follow DeZero's ``cuda.py``):

1. A forward or backward takes its array module from its *input*: ``xp = get_array_module(x)``.
   The selected backend never decides how an existing array is computed on.
2. The *selected* backend decides only where new parameters and data are put, and whether
   NumPy arrays get the Numba fast paths.

CuPy is imported lazily, only when asked for, so ``import scratch_ae`` works on machines with no
CuPy and no GPU.
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np

from . import threads

BACKENDS = ("numpy", "numba", "cupy")
ENV_VAR = "SCRATCH_AE_BACKEND"

_state = {"name": None, "seed": 0, "rngs": {}}


class BackendError(RuntimeError):
    """A backend was asked for that is unknown or cannot be used on this machine."""


# --------------------------------------------------------------------------------------------
# availability


def _cupy_module():
    """Return the ``cupy`` module, or None when it is not installed (never raises)."""
    try:
        import cupy  # noqa: PLC0415 - imported lazily on purpose

        return cupy
    except Exception:  # ImportError, or a broken CUDA install raising at import time
        return None


@functools.lru_cache(maxsize=1)
def cuda_available() -> tuple[bool, str]:
    """Whether CuPy can really run on a GPU here: ``(ok, reason)``.

    Importing CuPy is not enough (the wheel installs on machines without a GPU), so this runs a
    tiny elementwise kernel and a cuBLAS matrix product before saying yes. The answer is cached.
    """
    cupy = _cupy_module()
    if cupy is None:
        return False, "CuPy is not installed (pip install -e '.[cuda12]' or '.[cuda13]')"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when there is no driver
        return False, f"CuPy is installed but no CUDA device is usable: {exc}"
    if n == 0:
        return False, "CuPy is installed but no CUDA device was found"
    try:
        a = cupy.arange(6, dtype=cupy.float32).reshape(2, 3)  # [[0, 1, 2], [3, 4, 5]]
        b = (a * 2.0 + 1.0) @ a.T  # an elementwise kernel, then cuBLAS
        # [[1, 3, 5], [7, 9, 11]] @ a.T: e.g. 1*0 + 3*1 + 5*2 = 13. Small integers are
        # exact in float32, so the comparison is exact.
        ok = b.get().tolist() == [[13.0, 40.0], [31.0, 112.0]]
    except Exception as exc:
        return False, f"CuPy found a CUDA device but a test kernel failed: {exc}"
    if not ok:
        return False, "CuPy found a CUDA device but a test kernel returned a wrong result"
    return True, f"{n} CUDA device(s)"


def _numba_available() -> tuple[bool, str]:
    try:
        import numba  # noqa: F401, PLC0415

        return True, f"numba {numba.__version__}"
    except Exception as exc:
        return False, f"Numba cannot be imported: {exc}"


_PROBES = {
    "numpy": lambda: (True, f"numpy {np.__version__}"),
    "numba": _numba_available,
    "cupy": cuda_available,
}


def available_backends() -> dict[str, tuple[bool, str]]:
    """Each backend's name mapped to ``(usable, reason)``; the reason says why when it is not."""
    return {name: probe() for name, probe in _PROBES.items()}


# --------------------------------------------------------------------------------------------
# selection


def _check_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise BackendError(
            f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}"
        )
    return name.lower()


def set_backend(name: str) -> None:
    """Select the backend that new parameters, data and random numbers go to."""
    name = _check_name(name)
    # Probe only the backend asked for: selecting numpy must not import CuPy or touch a GPU.
    ok, reason = _PROBES[name]()
    if not ok:
        raise BackendError(f"backend {name!r} is not usable here: {reason}")
    _state["name"] = name


def get_backend() -> str:
    """The selected backend's name; the default comes from ``$SCRATCH_AE_BACKEND`` or is numpy."""
    if _state["name"] is None:
        env = os.environ.get(ENV_VAR)
        if env:
            try:
                set_backend(env)
            except BackendError as exc:
                raise BackendError(f"${ENV_VAR}={env!r}: {exc}") from None
        else:
            _state["name"] = "numpy"
    return _state["name"]


class use_backend:
    """Context manager: ``with use_backend("numba"): ...`` selects a backend for a block."""

    def __init__(self, name: str):
        self.name = name
        self.previous = None

    def __enter__(self):
        self.previous = _state["name"]
        set_backend(self.name)
        return self

    def __exit__(self, *exc):
        _state["name"] = self.previous
        return False


# --------------------------------------------------------------------------------------------
# arrays


def is_cupy_array(x) -> bool:
    # Checked by module name so that CuPy is never imported just to answer "no".
    return type(x).__module__.startswith("cupy")


def check_same_device(*arrays, where: str = "") -> bool:
    """Raise a ``TypeError`` naming ``where`` when host and GPU arrays are mixed.

    Mixing them is always a mistake, and CuPy would otherwise fail later with an obscure
    message. Returns whether the arrays live on the GPU. ``None`` entries are ignored.
    """
    # Every layer asks this several times a step; on the CPU the arrays are plain NumPy arrays
    # (or None), which cannot be mixed with the GPU's, so the answer needs no more looking.
    if all(type(a) is np.ndarray or a is None for a in arrays):
        return False
    on_gpu = [is_cupy_array(a) for a in arrays if a is not None]
    if any(on_gpu) and not all(on_gpu):
        kinds = ", ".join(type(a).__module__.split(".")[0] for a in arrays if a is not None)
        place = f" in {where}" if where else ""
        raise TypeError(
            f"arrays from different backends were mixed{place} ({kinds}): move the model "
            "and the data to the same backend, e.g. model.to('cupy') and backend.to_device(x)"
        )
    return any(on_gpu)


def get_array_module(*arrays, where: str = ""):
    """The array module (``numpy`` or ``cupy``) for these arrays (checked as by
    :func:`check_same_device`)."""
    return _cupy_module() if check_same_device(*arrays, where=where) else np


def array_module_for(name: str | None = None):
    """The array module that backend ``name`` (default: the selected one) stores arrays in."""
    name = get_backend() if name is None else _check_name(name)
    if name == "cupy":
        ok, reason = cuda_available()
        if not ok:
            raise BackendError(f"backend 'cupy' is not usable here: {reason}")
        return _cupy_module()
    return np


def to_device(x, name: str | None = None):
    """Copy ``x`` to where backend ``name`` (default: the selected one) keeps its arrays."""
    xp = array_module_for(name)
    if xp is np:
        return to_numpy(x)
    return xp.asarray(x)


def to_numpy(x):
    """A NumPy array for ``x`` (copies from the GPU when needed; scalars pass through)."""
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def fast(op: str, *arrays):
    """The selected backend's faster version of the piece of layer code named ``op``, or None.

    A layer's code is the reference, and it is what the numpy backend runs. Where another
    backend has a faster way to compute one named piece of it (a fused one-pass loop, a CUDA
    kernel), the layer asks first::

        if fused := backend.fast("selu", x):   # None on numpy: the lines below run
            return fused(x)
        ...the reference code...

    NumPy arrays get the Numba kernels' version when the numba backend is selected; CuPy
    arrays get the CuPy kernels'. None -- run the reference -- on the numpy backend, for an
    ``op`` or a dtype the backend did not register, and when an array is not C-contiguous
    (the fast paths read flat memory). Each registered piece is tested against the layer's
    own code in tests/test_fast_paths.py.
    """
    first = arrays[0]
    if type(first) is np.ndarray:
        if (_state["name"] or get_backend()) != "numba":
            return None
        table = _FAST.get("numba") or _load_fast("numba")
    elif is_cupy_array(first):
        table = _FAST.get("cupy") or _load_fast("cupy")
    else:
        return None
    fn = table.get((op, first.dtype.char))
    if fn is None:
        return None
    for a in arrays:
        if not a.flags.c_contiguous:
            return None
    return fn


_FAST: dict[str, dict] = {}  # backend name -> {(op, dtype char): function}, loaded on first use


def _load_fast(name: str) -> dict:
    """Import backend ``name``'s kernel modules (once) and merge their ``FAST`` tables."""
    if name == "numba":
        # Numba's threads and BLAS's must never both run parallel (threads.py): choose now,
        # before the first parallel loop, for code that runs layers without fit.
        threads.ensure("numba")
        from .kernels import numba_conv, numba_elementwise  # noqa: PLC0415 - optional backend

        modules = (numba_conv, numba_elementwise)
    else:
        from .kernels import cupy_kernels  # noqa: PLC0415 - optional backend

        modules = (cupy_kernels,)
    table = {}
    for module in modules:
        table.update(module.FAST)
    _FAST[name], _FAST_MODULES[name] = table, modules
    return table


_FAST_MODULES: dict[str, tuple] = {}


def registered_fast_paths(name: str) -> dict:
    """``{(op, dtype char): function}`` of backend ``name`` ("numba" or "cupy")."""
    return dict(_FAST.get(name) or _load_fast(name))


def warmup(name: str = "numba") -> float:
    """Compile (or load from the on-disk cache) every fast path of backend ``name`` for float32
    and float64; returns the seconds it took (the cost of a first call)."""
    start = time.perf_counter()
    if name not in _FAST:
        _load_fast(name)
    for module in _FAST_MODULES[name]:
        module.warmup()
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# random numbers


def seed(value: int) -> None:
    """Reseed every backend's generator (the gradient checker calls this before each forward)."""
    _state["seed"] = int(value)
    _state["rngs"] = {}


def rng(xp=np):
    """The seeded random generator for array module ``xp`` (created on first use)."""
    key = "cupy" if xp is not np else "numpy"
    gen = _state["rngs"].get(key)
    if gen is None:
        if key == "numpy":
            gen = np.random.default_rng(_state["seed"])
        else:
            gen = xp.random.default_rng(_state["seed"])
        _state["rngs"][key] = gen
    return gen
