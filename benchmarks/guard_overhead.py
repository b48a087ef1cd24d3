"""What the numerical guard costs: `fit` with and without the per-step gradient check.

The guard (scratch_ae/guard.py) sums every gradient once per step, before the optimizer step.
This times one epoch of the zoo's `stacked` (batch 32) and `conv` (batch 32) on MNIST
training images, each contender in its own process, alternating A B A B ..., one BLAS thread:

    OPENBLAS_NUM_THREADS=1 python benchmarks/guard_overhead.py --n 8000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE_RUN = """
import sys, time
import numpy as np
from scratch_ae import backend, data, guard
from scratch_ae.models import zoo
name, n, check = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "on"
if not check:
    real = guard.NumericalGuard.__init__
    guard.NumericalGuard.__init__ = lambda self, *a, **k: real(self, *a, **{**k, "check": False})
r = zoo.get_recipe(name)
x = data.load_mnist(flat=r.flat).x_train[:n]
backend.seed(0)
model = r.build()
t0 = time.perf_counter()
model.fit(x, epochs=1, batch_size=r.batch_size, optimizer=r.make_optimizer(), verbose=False)
print(time.perf_counter() - t0)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=8000, help="training images per epoch")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", nargs="+", default=["stacked", "conv"])
    args = p.parse_args()
    for name in args.models:
        times = {"on": [], "off": []}
        for _ in range(args.repeats):
            for contender in ("on", "off"):
                out = subprocess.run([sys.executable, "-c", ONE_RUN, name, str(args.n), contender],
                                     check=True, capture_output=True, text=True, cwd=ROOT)
                times[contender].append(float(out.stdout.split()[-1]))
        on, off = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"{name}: guard on {on:.3f} s, off {off:.3f} s (medians of {args.repeats}); "
              f"on/off = {on / off:.3f}")


if __name__ == "__main__":
    main()
