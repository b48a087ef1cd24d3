"""Time forward+backward of every conv-family layer of Geron's convolutional autoencoder,
NumPy kernels against Numba kernels.

    python benchmarks/bench_conv.py --batch 128 --repeats 15 --threads 2 --json out.json

The model (MNIST, NCHW)::

    encoder  Conv2D(1, 16, 3, same)   MaxPool2D(2)    (N, 1, 28, 28) -> (N, 16, 14, 14)
             Conv2D(16, 32, 3, same)  MaxPool2D(2)                   -> (N, 32, 7, 7)
             Conv2D(32, 64, 3, same)  MaxPool2D(2)                   -> (N, 64, 3, 3)
    decoder  Conv2DTranspose(64, 32, 3, 2, valid)                    -> (N, 32, 7, 7)
             Conv2DTranspose(32, 16, 3, 2, same)                     -> (N, 16, 14, 14)
             Conv2DTranspose(16, 1, 3, 2, same)                      -> (N, 1, 28, 28)

Both backends run the same layer objects and the same BLAS matrix products; only im2col, col2im
and max pooling differ. Contenders are interleaved (numpy, numba, numpy, numba, ...) so that
drift in machine load hits both alike, and the median of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per layer and backend")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs before timing")
    p.add_argument("--threads", type=int, default=None,
                   help="Numba (and BLAS) threads; default: leave both as they are")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        # Must be set before Numba starts its thread pool, i.e. before the first import.
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numba  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.layers.conv import Conv2D, Conv2DTranspose  # noqa: PLC0415
    from scratch_ae.layers.pooling import MaxPool2D  # noqa: PLC0415

    blas = "threadpoolctl not installed"
    limiter = None
    try:
        from threadpoolctl import threadpool_info, threadpool_limits  # noqa: PLC0415

        if args.threads is not None:
            limiter = threadpool_limits(limits=args.threads, user_api="blas")
        blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads"
                         for i in threadpool_info() if i["user_api"] == "blas") or "none found"
    except ImportError:
        pass
    if args.threads is not None:
        numba.set_num_threads(args.threads)

    load_before = _load()  # on a shared machine, other jobs' load decides how noisy this is
    first_call = backend.warmup("numba")  # compile, or load from Numba's on-disk cache
    second_call = backend.warmup("numba")

    n = args.batch
    backend.seed(0)
    layers = [
        ("enc Conv2D 1->16 k3 same", Conv2D(1, 16, 3, padding="same"), (1, 28, 28)),
        ("enc MaxPool2D 2 (16ch)", MaxPool2D(2), (16, 28, 28)),
        ("enc Conv2D 16->32 k3 same", Conv2D(16, 32, 3, padding="same"), (16, 14, 14)),
        ("enc MaxPool2D 2 (32ch)", MaxPool2D(2), (32, 14, 14)),
        ("enc Conv2D 32->64 k3 same", Conv2D(32, 64, 3, padding="same"), (32, 7, 7)),
        ("enc MaxPool2D 2 (64ch)", MaxPool2D(2), (64, 7, 7)),
        ("dec ConvT 64->32 k3 s2 valid", Conv2DTranspose(64, 32, 3, 2, "valid"), (64, 3, 3)),
        ("dec ConvT 32->16 k3 s2 same", Conv2DTranspose(32, 16, 3, 2, "same"), (32, 7, 7)),
        ("dec ConvT 16->1 k3 s2 same", Conv2DTranspose(16, 1, 3, 2, "same"), (16, 14, 14)),
    ]
    rng = np.random.default_rng(0)
    contenders = ("numpy", "numba")

    def step(layer, x, dy):
        layer.forward(x, training=True)
        layer.backward(dy)
        layer.zero_grad()

    rows = []
    for name, layer, in_shape in layers:
        x = rng.standard_normal((n, *in_shape)).astype(np.float32)
        dy = rng.standard_normal((n, *layer.output_shape(in_shape))).astype(np.float32)
        for _ in range(args.warmup):
            for b in contenders:
                with backend.use_backend(b):
                    step(layer, x, dy)
        times = {b: [] for b in contenders}
        for _ in range(args.repeats):
            for b in contenders:  # interleaved: A B A B ...
                with backend.use_backend(b):
                    t0 = time.perf_counter()
                    step(layer, x, dy)
                    times[b].append(time.perf_counter() - t0)
        med = {b: statistics.median(times[b]) for b in contenders}
        rows.append({
            "layer": name,
            "input": [n, *in_shape],
            "median_s": med,
            "samples_per_s": {b: n / med[b] for b in contenders},
            "speedup_numba": med["numpy"] / med["numba"],
        })

    print(f"scratch_ae conv benchmark: batch {n}, float32, forward+backward, median of "
          f"{args.repeats} interleaved repeats after {args.warmup} warm-up runs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{numba.__version__}, numba threads {numba.get_num_threads()} "
          f"({numba.threading_layer()}), BLAS: {blas}, cpus {os.cpu_count()}, "
          f"load average {load_before} before / {_load()} after")
    print(f"numba warmup(): first call {first_call:.3f} s (compile or cache load), "
          f"second call {second_call * 1e3:.2f} ms")
    print()
    head = f"{'layer':30s} {'numpy ms':>9s} {'numba ms':>9s} {'numpy smp/s':>12s} " \
           f"{'numba smp/s':>12s} {'numba/numpy':>11s}"
    print(head)
    print("-" * len(head))
    for r in rows:
        m, s = r["median_s"], r["samples_per_s"]
        print(f"{r['layer']:30s} {m['numpy'] * 1e3:9.2f} {m['numba'] * 1e3:9.2f} "
              f"{s['numpy']:12.0f} {s['numba']:12.0f} {r['speedup_numba']:10.2f}x")
    tot = {b: sum(r["median_s"][b] for r in rows) for b in contenders}
    print("-" * len(head))
    print(f"{'all layers':30s} {tot['numpy'] * 1e3:9.2f} {tot['numba'] * 1e3:9.2f} "
          f"{n / tot['numpy']:12.0f} {n / tot['numba']:12.0f} "
          f"{tot['numpy'] / tot['numba']:10.2f}x")
    slower = [r["layer"] for r in rows if r["speedup_numba"] <= 1.0]
    print("numba faster on every layer" if not slower else f"numba NOT faster on: {slower}")

    if args.json is not None:
        args.json.write_text(json.dumps({
            "batch": n, "repeats": args.repeats, "numba_threads": numba.get_num_threads(),
            "blas": blas, "numba_first_call_s": first_call, "layers": rows,
        }, indent=2))
    if limiter is not None:
        limiter.restore_original_limits()
    return rows


if __name__ == "__main__":
    main()
