"""Hash the weights of zoo models after one short epoch: proof that a refactor changed no result.

    SCRATCH_AE_DATA=../shared/data python benchmarks/weights_hash.py               # numpy
    python benchmarks/weights_hash.py --backend numba --save /tmp/numba_before.npz
    python benchmarks/weights_hash.py --backend numba --compare /tmp/numba_before.npz

Each model is built from the zoo with a fixed seed and trained for one epoch on the first
2,048 MNIST training rows by its recipe (loss, optimizer, batch size), at one thread. The
SHA-256 of its weights (every parameter's bytes, in ``named_parameters`` order) is printed.
On the numpy backend the hashes must not change when the code is only reorganised; on numba,
whose fast paths round differently, ``--compare`` prints the largest difference of each model's
weights from a saved run instead (``--save`` writes one).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_ae import backend, data, set_threads  # noqa: E402
from scratch_ae.models import zoo  # noqa: E402

MODELS = ("stacked", "vae", "sparse_l1", "conv")
ROWS = 2048


def train_one(name: str, backend_name: str, rows: int = ROWS, seed: int = 0) -> dict:
    """``{parameter key: array}`` of zoo model ``name`` after one epoch on ``rows`` rows."""
    recipe = zoo.get_recipe(name)
    backend.set_backend(backend_name)
    backend.seed(seed)
    ds = data.load_mnist(flat=recipe.flat)
    model = recipe.build()
    model.fit(ds.x_train[:rows], epochs=1, batch_size=recipe.batch_size,
              optimizer=recipe.make_optimizer(), seed=seed, verbose=False)
    return {key: backend.to_numpy(layer.params[p]) for key, layer, p in model.named_parameters()}


def digest(weights: dict) -> str:
    h = hashlib.sha256()
    for key, a in weights.items():
        h.update(key.encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--backend", default="numpy", choices=["numpy", "numba"])
    p.add_argument("--save", default=None, help="write every model's weights to this .npz")
    p.add_argument("--compare", default=None, help="print the largest difference from this .npz")
    args = p.parse_args(argv)
    set_threads(1, backend_name=args.backend)
    saved = dict(np.load(args.compare)) if args.compare else None
    everything = {}
    for name in args.models.split(","):
        w = train_one(name, args.backend)
        line = f"{name:<12} {args.backend:<6} sha256 {digest(w)}"
        if saved is not None:
            worst = max(float(np.max(np.abs(a.astype(np.float64) - saved[f"{name}/{k}"])))
                        for k, a in w.items())
            line += f"  max |w - saved| {worst:.3g}"
        print(line, flush=True)
        everything.update({f"{name}/{k}": a for k, a in w.items()})
    if args.save:
        np.savez(args.save, **everything)
    return 0


if __name__ == "__main__":
    sys.exit(main())
