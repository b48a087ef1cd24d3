"""Warm-up and smoke test of the GPU check: every zoo model trains one step on CuPy, in float32
and in float64. The first step of ``scripts/gpu_check.sh``.

    PYTHONPATH=. python3 scripts/gpu_warmup.py OUT.json

It fills the caches the later steps would otherwise fill under their timeouts -- Numba compiles
its kernels (cached on disk next to them), CuPy compiles the four kernels of
``cupy_kernels.py`` and every elementwise, reduction and random kernel a training step of each
model needs, for both dtypes (CuPy caches them in ``~/.cupy/kernel_cache``) -- and it is a smoke
test of all models on the GPU. For each model and dtype, with the same weights (seed 0):

1. the reconstructions of one batch (``model.reconstruct``: inference mode, the VAE's mean
   code) on the CPU (numpy) and on the GPU must agree to rounding: max |gpu - cpu| at most
   1e-4 (float32) or 1e-9 (float64) times max |cpu|;
2. one training step on the GPU (``train.train_step``) must give a finite loss.

Each result is written to OUT.json as soon as it is known, so a timeout loses nothing already
measured. Exit status 0 when every model passed both, 1 when one did not, 2 when the cupy
backend is not usable here (the reason is printed). Under ``scripts/fake_cupy`` (NumPy posing
as CuPy) everything runs on the CPU and the JSON says ``"rehearsal": true``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from scratch_ae import backend, train
from scratch_ae.losses import get_loss
from scratch_ae.models import zoo

DTYPES = ("float32", "float64")
RECON_TOL = {"float32": 1e-4, "float64": 1e-9}


def mnist_like(recipe, n, seed=0):
    """Random images in [0, 1], mostly dark like MNIST, flat or (N, 1, 28, 28) per the recipe."""
    x = (np.random.default_rng(seed).random((n, 784)) ** 4).astype(np.float32)
    return x if recipe.flat else x.reshape(n, 1, 28, 28)


def check_model(name: str, dtype: str, batch: int) -> dict:
    """Build ``name`` in ``dtype``, compare reconstructions CPU vs GPU, train one GPU step."""
    import cupy  # noqa: PLC0415

    recipe = zoo.get_recipe(name)
    backend.seed(0)
    with backend.use_backend("numpy"):
        cpu_model = recipe.build().astype(dtype)
    gpu_model = copy.deepcopy(cpu_model).to("cupy")
    x = mnist_like(recipe, batch)
    row = {"model": name, "dtype": dtype, "batch": batch}
    t0 = time.perf_counter()

    with backend.use_backend("numpy"):
        want = cpu_model.reconstruct(x, batch_size=batch)
    with backend.use_backend("cupy"):
        got = gpu_model.reconstruct(x, batch_size=batch)  # NumPy in, NumPy out
        rel = float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-30))
        row.update(recon_rel_diff=rel, recon_ok=bool(got.dtype == want.dtype == dtype
                                                     and rel <= RECON_TOL[dtype]))

        xb = cupy.asarray(x).astype(dtype)
        loss = get_loss(gpu_model.loss)
        value = train.train_step(gpu_model, loss, recipe.make_optimizer(), xb, xb)
        value = float(value) + float(gpu_model.total_penalty())  # the one read back
        on_gpu = all(backend.is_cupy_array(layer.params[p]) and layer.params[p].dtype == dtype
                     for _, layer, p in gpu_model.named_parameters())
    row.update(train_loss=value, finite=math.isfinite(value), params_on_gpu=on_gpu,
               seconds=round(time.perf_counter() - t0, 3))
    row["ok"] = bool(row["recon_ok"] and row["finite"] and on_gpu)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the JSON file to write")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--models", nargs="+", default=None, help="default: every zoo model")
    args = ap.parse_args(argv)

    report = {"models": [], "ok": False, "rehearsal": False,
              "env": {k: os.environ.get(k) for k in ("CUPY_TF32", "NUMBA_NUM_THREADS")}}

    def save():
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1))
        tmp.replace(args.out)

    t0 = time.perf_counter()
    ok, why = backend.available_backends()["numba"]
    if ok:
        report["numba_compile_s"] = round(backend.warmup("numba"), 2)
        print(f"numba kernels compiled (or loaded from cache) in {report['numba_compile_s']} s")
    else:
        report["numba_compile_s"] = None
        print(f"numba: not usable here ({why})")

    ok, why = backend.cuda_available()
    if not ok:
        report["error"] = f"the cupy backend is not usable: {why}"
        save()
        print(report["error"], file=sys.stderr)
        return 2
    import cupy  # noqa: PLC0415

    report["rehearsal"] = bool(getattr(cupy, "FAKE", False))
    if report["rehearsal"]:
        print("REHEARSAL: cupy is fake_cupy (NumPy on the CPU); nothing here is GPU evidence")
    report["cupy"] = cupy.__version__
    report["cupy_kernels_compile_s"] = round(backend.warmup("cupy"), 2)
    print(f"cupy kernels compiled (or loaded from cache) in {report['cupy_kernels_compile_s']} s")
    save()

    names = args.models or list(zoo.RECIPES)
    print(f"{'model':<16} {'dtype':<8} {'recon diff':>10} {'train loss':>11} {'s':>6}  verdict")
    for name in names:
        for dtype in DTYPES:
            try:
                row = check_model(name, dtype, args.batch)
            except Exception as exc:  # noqa: BLE001 - recorded; the other models still run
                row = {"model": name, "dtype": dtype, "ok": False, "finite": False,
                       "error": f"{type(exc).__name__}: {exc}"}
                traceback.print_exc()
            report["models"].append(row)
            save()
            if "error" in row:
                print(f"{name:<16} {dtype:<8} ERROR {row['error']}", flush=True)
                continue
            verdict = "ok" if row["ok"] else "FAILED (" + ", ".join(
                w for w, bad in (("reconstruction differs", not row["recon_ok"]),
                                 ("loss not finite", not row["finite"]),
                                 ("params left the GPU", not row["params_on_gpu"])) if bad) + ")"
            print(f"{name:<16} {dtype:<8} {row['recon_rel_diff']:>10.1e} "
                  f"{row['train_loss']:>11.6f} {row['seconds']:>6.2f}  {verdict}", flush=True)
    bad = [f"{r['model']}/{r['dtype']}" for r in report["models"] if not r["ok"]]
    report["ok"] = not bad and len(report["models"]) == len(names) * len(DTYPES)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    save()
    print(f"warm-up: {len(report['models']) - len(bad)}/{len(report['models'])} model/dtype "
          f"pairs trained a step with a finite loss and matched the CPU"
          + (f"; FAILED: {', '.join(bad)}" if bad else "") + f" ({report['seconds']} s)")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
