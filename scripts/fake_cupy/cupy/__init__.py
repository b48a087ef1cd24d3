"""fake_cupy: a NumPy stand-in for CuPy, to rehearse the GPU code path on a machine with no GPU.

**This is not CuPy and not a GPU.** Arrays live in host memory and every operation is NumPy's.
It exists so that the Python side of the cupy backend -- ``model.to("cupy")``, moving data in
chunks, device-side random numbers, ``tests/test_gpu.py``, ``benchmarks/cpu_vs_gpu.py`` and
``scripts/gpu_check.sh`` -- can be run end to end before a GPU session, whose time is short.

It is as *strict* as CuPy where scratch_ae could go wrong:

* ``cupy.ndarray`` is its own class (not a NumPy subclass), defined in a module named
  ``cupy``, so ``backend.is_cupy_array`` sees it as a device array;
* implicit conversion to NumPy raises CuPy's ``TypeError`` (``np.asarray(x)``, ``x.__array__``);
  ``x.get()`` and ``cupy.asnumpy(x)`` are the way back, as in CuPy;
* a NumPy array mixed into a CuPy operation raises ``TypeError`` (CuPy: "Unsupported type");
  NumPy arrays are accepted only where CuPy accepts them (``cupy.asarray``/``array``, indices);
* only names the real CuPy has are offered (``_real_api.json``, dumped from CuPy 14.2 by
  ``scripts/fake_cupy/dump_api.py``): module functions, ``ndarray`` methods, ``random.Generator``
  methods. Reductions return 0-d arrays, as CuPy's do.

It does not compile or run any CUDA: ``ElementwiseKernel`` calls are served by the layers'
own NumPy code (by kernel name), so the CUDA C in ``cupy_kernels.py`` is NOT exercised here
(``scripts/nvrtc_check.py`` compiles it; only a GPU runs it). Timings measured with it are
NumPy timings and mean nothing about a GPU. Use::

    PYTHONPATH=scripts/fake_cupy:. python -m pytest tests/test_gpu.py
    PYTHONPATH=scripts/fake_cupy scripts/gpu_check.sh /tmp/rehearsal
"""

from __future__ import annotations

import json
import time as _time
from pathlib import Path

import numpy as _np
from numpy.lib.mixins import NDArrayOperatorsMixin

__version__ = "0.0.0+fake_cupy"
FAKE = True  # so that a report can never mistake this for CuPy

# Host <-> "device" traffic, counted so that tests can check how often scratch_ae moves data:
# to_device = calls that copy host data in (cupy.asarray/array/asanyarray of host data);
# to_host = reads that would copy back and synchronize on a GPU (.get(), float(), bool(), ...).
transfers = {"to_device": 0, "to_host": 0}


def _read_back():
    transfers["to_host"] += 1

_API = json.loads((Path(__file__).with_name("_real_api.json")).read_text())
_MODULE_NAMES = frozenset(_API["module"])
_NDARRAY_NAMES = frozenset(_API["ndarray"])
_GENERATOR_NAMES = frozenset(_API["Generator"])
# CuPy functions that copy host data to the device: the only ones that take NumPy arrays.
_TAKES_HOST = frozenset({"array", "asarray", "asanyarray"})


def _host_error(where: str, value) -> TypeError:
    return TypeError(f"Unsupported type {type(value)} (fake_cupy: a NumPy array was given to "
                     f"{where}, which CuPy refuses; move it with cupy.asarray first)")


def _unwrap(value, where: str, host_ok: bool = False):
    """NumPy view of fake arrays inside ``value``; refuse NumPy arrays unless ``host_ok``."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, _np.ndarray):
        if not host_ok:
            raise _host_error(where, value)
        return value
    if isinstance(value, tuple):
        return tuple(_unwrap(v, where, host_ok) for v in value)
    if isinstance(value, list):
        return [_unwrap(v, where, host_ok) for v in value]
    return value


def _wrap(value):
    """Fake arrays for the NumPy results in ``value``; NumPy scalars become 0-d arrays (as CuPy)."""
    if isinstance(value, _np.ndarray):
        obj = ndarray.__new__(ndarray)
        obj._a = value
        return obj
    if isinstance(value, _np.generic):
        return _wrap(_np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class _Flags:
    def __init__(self, a):
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)

    def __getitem__(self, key):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[key]


class ndarray(NDArrayOperatorsMixin):  # noqa: N801 - CuPy's name
    """A host array posing as a device array. Arithmetic operators come from the mixin."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, order="C"):
        self._a = _np.empty(shape, dtype=dtype, order=order)

    # -- the NumPy protocols: allowed where CuPy allows them, refused where CuPy refuses them
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"numpy.{ufunc.__name__}"
        inputs = _unwrap(inputs, where)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, where)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:  # in place (a += b): hand back the very objects given, as CuPy does
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name not in _MODULE_NAMES:
            raise TypeError(f"fake_cupy: cupy has no {name!r}, so numpy.{name} cannot dispatch")
        where = f"numpy.{name}"
        return _wrap(func(*_unwrap(args, where), **_unwrap(kwargs, where)))

    # -- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: _Flags(self._a))
    T = property(lambda self: _wrap(self._a.T))
    base = property(lambda self: None if self._a.base is None else _wrap(self._a.base))

    @property
    def device(self):
        return cuda.Device(0)

    def get(self, stream=None, order="C", out=None, blocking=True):
        """Copy to the host: a NumPy array that does not share memory with the device array."""
        _read_back()
        if out is not None:
            out[...] = self._a
            return out
        return _np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        self._a[...] = arr

    def __getattr__(self, name):
        if name not in _NDARRAY_NAMES:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r} (fake_cupy "
                                 "follows the real CuPy's attribute list)")
        attr = getattr(self._a, name)
        if name in ("item", "tolist", "tobytes"):
            _read_back()
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            where = f"ndarray.{name}"
            return _wrap(attr(*_unwrap(args, where), **_unwrap(kwargs, where)))

        return method

    # -- indexing: CuPy takes NumPy integer/boolean arrays as indices (it copies them over)
    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "an index", host_ok=True)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, "an index", host_ok=True)] = _unwrap(value, "ndarray.__setitem__")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    # -- conversions CuPy allows (each one synchronizes on a real GPU)
    def __float__(self):
        _read_back()
        return float(self._a)

    def __int__(self):
        _read_back()
        return int(self._a)

    def __index__(self):
        _read_back()
        return self._a.__index__()

    def __bool__(self):
        _read_back()
        return bool(self._a)

    def __complex__(self):
        _read_back()
        return complex(self._a)

    def __format__(self, spec):
        _read_back()
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __repr__(self):
        return repr(self._a).replace("array(", "fake_cupy.array(", 1)

    def __copy__(self):
        return _wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return _wrap(self._a.copy())

    def __reduce__(self):
        raise TypeError("fake_cupy: pickling a device array is not what scratch_ae should do")

    __hash__ = None


# -- the module's functions ------------------------------------------------------------------

def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return __import__(__name__) if any(isinstance(a, ndarray) for a in args) else _np


class ElementwiseKernel:
    """Calls the NumPy reference kernel of the same job. The CUDA body is kept, never run."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.in_params, self.out_params = in_params, out_params
        self.operation, self.name = operation, name
        self.nin = len([p for p in in_params.split(",") if p.strip()])

    def __call__(self, *args, **kwargs):
        # The reference code of each job (the layers' own, on NumPy arrays: no fast paths).
        from scratch_ae.layers import MaxPool2D  # noqa: PLC0415
        from scratch_ae.layers.im2col import col2im, im2col  # noqa: PLC0415

        ins = [a._a if isinstance(a, ndarray) else a for a in args[: self.nin]]
        outs = [a._a for a in args[self.nin:]]
        job = self.name.removeprefix("scratch_ae_")

        def pads(h, w, kh, kw, sh, sw, pt, pl, oh, ow):
            # The kernels get the top/left pads and the output size; any bottom/right pad in
            # [smallest that gives oh/ow, the real one] gives the same result.
            bottom = max(0, (oh - 1) * sh + kh - h - pt)
            right = max(0, (ow - 1) * sw + kw - w - pl)
            return (pt, bottom, pl, right)

        def pool(ph, pw, sh, sw, pd, x_shape):
            layer = MaxPool2D((ph, pw), (sh, sw))
            layer.x_shape, layer._pads = x_shape, lambda hw: pd
            return layer

        if job == "im2col":
            x, n, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow = ins
            pd = pads(h, w, kh, kw, sh, sw, pt, pl, oh, ow)
            outs[0][...] = im2col(x, (kh, kw), (sh, sw), pd)
        elif job == "col2im":
            col, n, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow = ins
            pd = pads(h, w, kh, kw, sh, sw, pt, pl, oh, ow)
            outs[0][...] = col2im(col, (n, c, h, w), (kh, kw), (sh, sw), pd)
        elif job == "maxpool_forward":
            x, c, h, w, ph, pw, sh, sw, pt, pl, oh, ow = ins
            layer = pool(ph, pw, sh, sw, pads(h, w, ph, pw, sh, sw, pt, pl, oh, ow), x.shape)
            outs[0][...] = layer.forward(x)
            outs[1][...] = layer.argmax
        elif job == "maxpool_backward":
            dy, arg, c, h, w, ph, pw, sh, sw, pt, pl, oh, ow = ins
            layer = pool(ph, pw, sh, sw, pads(h, w, ph, pw, sh, sw, pt, pl, oh, ow),
                         (dy.shape[0], c, h, w))
            layer.pads, layer.argmax = pads(h, w, ph, pw, sh, sw, pt, pl, oh, ow), arg
            outs[0][...] = layer.backward(dy)
        else:
            raise NotImplementedError(f"fake_cupy has no NumPy stand-in for kernel {self.name!r}")
        return args[self.nin] if len(outs) == 1 else tuple(args[self.nin:])


def __getattr__(name):
    """Any other CuPy function: NumPy's, if the real CuPy has that name too."""
    if name not in _MODULE_NAMES or not hasattr(_np, name):
        raise AttributeError(f"module 'cupy' has no attribute {name!r} (fake_cupy)")
    obj = getattr(_np, name)
    if isinstance(obj, type) or not callable(obj):
        return obj  # dtypes (cupy.float32 is numpy.float32) and constants
    if isinstance(obj, _np.ufunc):
        return _Ufunc(obj)
    host_ok = name in _TAKES_HOST

    def function(*args, **kwargs):
        where = f"cupy.{name}"
        args, kwargs = _unwrap(args, where, host_ok), _unwrap(kwargs, where, host_ok)
        if host_ok:  # a copy, like a host-to-device transfer
            transfers["to_device"] += 1
            return _wrap(_np.array(*args, **kwargs) if name == "array"
                         else _np.array(_np.asarray(*args, **kwargs), copy=True))
        return _wrap(obj(*args, **kwargs))

    function.__name__ = name
    return function


class _Ufunc:
    """cupy.exp, cupy.add, ...: NumPy's ufunc, refusing NumPy arrays as CuPy's ufuncs do."""

    def __init__(self, ufunc):
        self._u = ufunc
        self.__name__ = ufunc.__name__

    def _run(self, method, args, kwargs):
        where = f"cupy.{self.__name__}"
        if not any(isinstance(a, ndarray) for a in args):  # scalars only: still a device result
            args = _unwrap(args, where)
            return _wrap(_np.asarray(getattr(self._u, method)(*args, **_unwrap(kwargs, where))))
        for a in args:
            if isinstance(a, _np.ndarray):
                raise _host_error(where, a)
        return getattr(self._u, method)(*args, **kwargs)  # dispatches to ndarray.__array_ufunc__

    def __call__(self, *args, **kwargs):
        return self._run("__call__", args, kwargs)

    def __getattr__(self, method):
        if method not in ("reduce", "accumulate", "outer", "at", "reduceat"):
            raise AttributeError(method)
        return lambda *args, **kwargs: self._run(method, args, kwargs)


# -- cupy.random -----------------------------------------------------------------------------

class _Random:
    class Generator:
        def __init__(self, bit_generator):
            self._g = _np.random.Generator(_np.random.PCG64(bit_generator))

        def __getattr__(self, name):
            if name not in _GENERATOR_NAMES:
                raise AttributeError(f"'cupy.random.Generator' has no attribute {name!r}")
            fn = getattr(self._g, name)
            return lambda *a, **k: _wrap(_np.asarray(fn(*a, **k)))

    @staticmethod
    def default_rng(seed=None):
        return _Random.Generator(seed)


random = _Random()


# -- cupy.cuda -------------------------------------------------------------------------------

class _Runtime:
    @staticmethod
    def getDeviceCount():  # noqa: N802 - CuPy's names
        return 1

    @staticmethod
    def getDeviceProperties(device):  # noqa: N802
        return {"name": b"fake_cupy (NumPy on the CPU; NOT a GPU)", "major": 0, "minor": 0,
                "totalGlobalMem": 0, "multiProcessorCount": 0}

    @staticmethod
    def runtimeGetVersion():  # noqa: N802
        return 0

    @staticmethod
    def driverGetVersion():  # noqa: N802
        return 0


class _Stream:
    def synchronize(self):
        pass


class _Event:
    def __init__(self, *args, **kwargs):
        self.t = None

    def record(self, stream=None):
        self.t = _time.perf_counter()

    def synchronize(self):
        pass


class _Cuda:
    runtime = _Runtime()
    Event = _Event

    class Device:
        def __init__(self, device=None):
            self.id = 0 if device is None else int(device)

        def synchronize(self):
            pass

    @staticmethod
    def get_current_stream():
        return _Stream()

    @staticmethod
    def get_elapsed_time(start, end):
        return 1e3 * (end.t - start.t)  # milliseconds, as CuPy


cuda = _Cuda()
