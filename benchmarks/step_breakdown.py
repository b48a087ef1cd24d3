"""Where a training step's time goes: a timer around each layer's forward and backward.

    python benchmarks/step_breakdown.py stacked@128 --backend numba --threads 2
    python benchmarks/step_breakdown.py vae@128 --backend numba --threads 1+2   # BLAS 1, Numba 2

Runs ``--steps`` real training steps of a zoo model (zero the gradients, forward, loss,
backward, the guarded optimizer step, as ``fit`` runs them, the first layer skipping dL/dx of
the data) on the first 4096 MNIST training rows (MNIST-like random images when
``$SCRATCH_AE_DATA`` holds no MNIST), after ``--warmup`` untimed steps, and prints the mean
microseconds per step of each layer's forward (F) and backward (B) and of each part of the
step. It is how the Numba elementwise loops were found to be the slow part of a dense step
(README, Performance). A ``perf_counter`` call costs well under a microsecond, so the figures
are real speed, unlike a cProfile run's.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_ae import backend, data, set_threads  # noqa: E402
from scratch_ae.guard import NumericalGuard  # noqa: E402
from scratch_ae.losses import get_loss  # noqa: E402
from scratch_ae.models import zoo  # noqa: E402


def rows(n: int = 4096):
    try:
        return data.load_mnist(flat=True, download=False).x_train[:n]
    except Exception:
        return (np.random.default_rng(0).random((n, 784)) ** 4).astype(np.float32)


def timed(layer, label, totals):
    """Wrap ``layer``'s forward and backward (instance attributes) to add their time."""
    forward, backward = layer.forward, layer.backward

    def f(x, training=False):
        t = time.perf_counter()
        y = forward(x, training)
        totals[f"F {label}"] += time.perf_counter() - t
        return y

    def b(dy):
        t = time.perf_counter()
        dx = backward(dy)
        totals[f"B {label}"] += time.perf_counter() - t
        return dx

    layer.forward, layer.backward = f, b


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", help="MODEL@BATCH, e.g. stacked@128")
    p.add_argument("--backend", default="numba", choices=["numpy", "numba"])
    p.add_argument("--threads", default="1", help="N (set_threads(N)) or BLAS+NUMBA, e.g. 1+2")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=300)
    args = p.parse_args(argv)
    name, batch = args.config.split("@")
    batch = int(batch)
    backend.set_backend(args.backend)
    backend.seed(0)
    if "+" in args.threads:
        blas, numba = (int(v) for v in args.threads.split("+"))
        policy = set_threads(blas=blas, numba=numba, backend_name=args.backend)
    else:
        policy = set_threads(int(args.threads), backend_name=args.backend)
    recipe = zoo.get_recipe(name)
    model = recipe.build()
    loss = get_loss(model.loss)
    optimizer = recipe.make_optimizer()
    optimizer.hooks.append(NumericalGuard(model, loss).before_step)  # as fit attaches it
    x = rows().reshape((-1, 784) if recipe.flat else (-1, 1, 28, 28))
    batches = [x[i:i + batch] for i in range(0, len(x) - batch + 1, batch)]

    totals = collections.defaultdict(float)
    leaves = [s for s in model.all_sublayers() if not s.sublayers()]
    leaves[0].input_grad = False  # as fit does: nobody reads dL/dx of the data
    for i, layer in enumerate(leaves):
        timed(layer, f"{i:2d} {layer!r}", totals)

    def step(xb):
        t = [time.perf_counter()]
        model.zero_grad()
        t.append(time.perf_counter())
        y = model.forward(xb, training=True)
        t.append(time.perf_counter())
        loss.forward(y, xb)
        t.append(time.perf_counter())
        model.backward(loss.backward())
        t.append(time.perf_counter())
        optimizer.step(model)
        t.append(time.perf_counter())
        for part, a, b in zip(("zero_grad", "forward", "loss", "backward", "guard+optimizer"),
                              t, t[1:], strict=False):
            totals[part] += b - a
        totals["whole step"] += t[-1] - t[0]

    for i in range(args.warmup):
        step(batches[i % len(batches)])
    totals.clear()
    for i in range(args.steps):
        step(batches[i % len(batches)])
    print(f"{args.config}, backend {args.backend}, threads: {policy}; mean us per step over "
          f"{args.steps} steps")
    for key, seconds in totals.items():
        print(f"  {key[:44]:<44} {seconds / args.steps * 1e6:9.1f}")
    print(f"  samples/s: {batch * args.steps / totals['whole step']:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
