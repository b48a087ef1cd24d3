"""Compile the CuPy kernels with NVRTC on a machine that has no GPU.

``scratch_ae/kernels/cupy_kernels.py`` builds four ``cupy.ElementwiseKernel``s. CuPy compiles
them only when they are first called, and a call needs a GPU -- so on a CPU-only machine a
typo in the CUDA C would go unnoticed until a GPU run. This script does the compilation step
without a GPU: it asks CuPy's own code generator for the complete kernel source (the same
text CuPy would hand to NVRTC for that call), and compiles it with NVRTC to a cubin for the
chosen architectures (default: sm_90, the H100; sm_80, the A100).

What it checks: that each kernel, for float32 and float64, is valid CUDA C++ for NVRTC with
CuPy's headers and CuPy's argument types. What it does not check: that the kernels *run*
correctly (the GPU tests do that; ``docs/GPU.md`` says what has been verified where).

Needs CuPy and NVRTC, no GPU and no driver::

    python -m venv /tmp/cupyvenv
    /tmp/cupyvenv/bin/pip install "cupy-cuda13x==14.*" "nvidia-cuda-nvrtc==13.*" numpy numba
    PYTHONPATH=. /tmp/cupyvenv/bin/python scripts/nvrtc_check.py

It reaches into CuPy internals (``cupy._core._kernel._get_elementwise_kernel_code``,
``_ArgInfo``, ``cupy.cuda.compiler._NVRTCProgram``), checked against CuPy 14.2; another CuPy
version may need this script updated. Exit status 0 when every kernel compiled and the
planted error was caught, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

try:
    import cupy
    from cupy._core import _carray, _kernel, _scalar, core
    from cupy.cuda import compiler, nvrtc
except ImportError as exc:  # pragma: no cover - depends on the machine
    sys.exit(f"nvrtc_check: needs CuPy with NVRTC ({exc})")

from scratch_ae.kernels import cupy_kernels

# CuPy's _ArgKind enum (cupy/_core/_kernel.pxd): NDARRAY = 1, INDEXER, SCALAR, ...
ARG_NDARRAY, ARG_INDEXER, ARG_SCALAR = 1, 2, 3

# How each wrapper calls its kernel: the ndim of every "raw" array argument (raw arrays keep
# their shape; CuPy flattens the non-raw outputs, which are C-contiguous, to 1-D).
KERNELS = {
    "im2col": (cupy_kernels._im2col_kernel, {"x": 4}),
    "col2im": (cupy_kernels._col2im_kernel, {"col": 2}),
    "maxpool_forward": (cupy_kernels._maxpool_forward_kernel, {"x": 4}),
    "maxpool_backward": (cupy_kernels._maxpool_backward_kernel, {"dy": 4, "argmax": 4}),
}


def kernel_source(kernel, raw_ndims: dict, dtype, index32: int = 1) -> str:
    """The full CUDA source CuPy generates for ``kernel`` called with ``dtype`` arrays.

    ``index32`` is CuPy's choice of 32-bit (1) or 64-bit (0) offsets inside ``CArray``; CuPy
    picks 0 for arrays of 2 GiB or more, so both variants are compiled.
    """
    params = kernel.in_params + kernel.out_params

    def ndarray_dtype(p):
        return p.dtype if p.dtype is not None else np.dtype(dtype)

    in_arrays = tuple(ndarray_dtype(p) if p.raw else None for p in kernel.in_params)
    out_arrays = tuple(ndarray_dtype(p) for p in kernel.out_params)
    in_types, out_types, type_map = kernel._decide_params_type(in_arrays, out_arrays)
    infos = []
    for p, t in zip(params, in_types + out_types, strict=True):
        if p.raw:
            infos.append(
                _kernel._ArgInfo(ARG_NDARRAY, cupy.ndarray, t, raw_ndims[p.name], 1, index32)
            )
        elif p in kernel.out_params:
            infos.append(_kernel._ArgInfo(ARG_NDARRAY, cupy.ndarray, t, 1, 1, index32))
        else:  # a Python int argument: CuPy passes it as a scalar of the declared type
            infos.append(_kernel._ArgInfo(ARG_SCALAR, _scalar.CScalar, t, 0, 1, 1))
    infos.append(_kernel._ArgInfo(ARG_INDEXER, _carray.Indexer, None, 1, 1, index32))
    code = _kernel._get_elementwise_kernel_code(
        tuple(infos), type_map, kernel.params, kernel.operation, kernel.name, kernel.preamble
    )
    # compile_with_cache prepends CuPy's headers the same way.
    headers = "\n".join(f"#include <{h.decode()}>" for h in core._get_header_source_map())
    return headers + "\n" + code


def compile_cubin(source: str, arch: str) -> bytes:
    options = core.assemble_cupy_compiler_options(()) + (
        f"-arch=sm_{arch}",
        "--device-as-default-execution-space",  # what CuPy adds for NVRTC
    )
    program = compiler._NVRTCProgram(source, "kern.cu", method="cubin")
    cubin, _ = program.compile(options)
    return cubin


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", nargs="+", default=["90", "80"], help="SM versions (default 90 80)")
    ap.add_argument("--show", metavar="KERNEL", help="print the generated source of one kernel")
    args = ap.parse_args()

    print(f"cupy {cupy.__version__}, NVRTC {'.'.join(map(str, nvrtc.getVersion()))}")
    failures = 0
    for name, (kernel, raw_ndims) in KERNELS.items():
        for dtype in ("float32", "float64"):
            for index32 in (1, 0):
                source = kernel_source(kernel, raw_ndims, dtype, index32)
                if args.show == name and dtype == "float32" and index32:
                    print(source.split("#include <cupy/math_constants.h>")[-1])
                offsets = "32-bit" if index32 else "64-bit"
                for arch in args.arch:
                    what = f"{name:<17} {dtype:<8} {offsets} offsets  sm_{arch}"
                    try:
                        cubin = compile_cubin(source, arch)
                        print(f"  ok    {what}  cubin {len(cubin):>6} bytes")
                    except Exception as exc:  # noqa: BLE001 - report every failure, then exit 1
                        failures += 1
                        print(f"  FAIL  {what}\n{exc}")

    # The check must be able to fail: a body with an undeclared name must not compile.
    planted = cupy.ElementwiseKernel(
        "raw T x, int32 size", "T y", "y = x[i] * not_declared;", "scratch_ae_planted"
    )
    try:
        compile_cubin(kernel_source(planted, {"x": 1}, "float32"), args.arch[0])
        print("  FAIL  the planted error compiled: this check cannot catch a broken kernel")
        failures += 1
    except compiler.CompileException as exc:
        first = next((ln for ln in str(exc).splitlines() if "error" in ln), str(exc)[:120])
        print(f"  ok    planted error rejected: {first.strip()}")

    print("RESULT:", "all kernels compiled" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
