"""``scratch-ae``: train the tutorial's models and inspect the installation.

    scratch-ae info                      versions, threads, usable backends, Numba compile cost
    scratch-ae list                      the model zoo with each model's recipe
    scratch-ae train stacked             train a zoo model (weights, reconstructions, history)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, backend
from .utils import atomic_write


def _versions() -> dict:
    out = {"python": platform.python_version(), "scratch_ae": __version__, "numpy": np.__version__}
    for mod in ("numba", "sklearn", "matplotlib", "tqdm", "cupy", "torch"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = "not installed"
    return out


def _threads() -> dict:
    info = {}
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            info[f"{pool['user_api']} ({pool['internal_api']})"] = pool["num_threads"]
    except Exception as exc:
        info["blas"] = f"unknown ({exc})"
    try:
        import numba

        info["numba"] = numba.get_num_threads()
    except Exception:
        pass
    return info


def cmd_info(args) -> int:
    print(f"scratch_ae {__version__} on {platform.platform()}, {os.cpu_count()} CPU(s)")
    print("\nversions:")
    for k, v in _versions().items():
        print(f"  {k:<12} {v}")
    print("\nthreads:")
    for k, v in _threads().items():
        print(f"  {k:<28} {v}")
    print(f"\nselected backend: {backend.get_backend()}  (set with --backend or "
          f"${backend.ENV_VAR})")
    print("backends:")
    for name, (ok, reason) in backend.available_backends().items():
        print(f"  {name:<6} {'usable' if ok else 'NOT usable'}: {reason}")
    if backend.available_backends()["numba"][0] and not args.no_warmup:
        from .kernels import numba_kernels

        seconds = numba_kernels.warmup()
        print(f"\nNumba kernels: first call took {seconds:.2f} s (compiled, or loaded from "
              "Numba's on-disk cache: only the first run on a machine pays for compiling)")
    return 0


def cmd_list(args) -> int:
    from .models.zoo import RECIPES

    for r in RECIPES.values():
        opt, kw = r.optimizer
        lr = kw.get("lr")
        print(f"{r.name:<16} {r.summary}")
        print(f"{'':<16} {r.loss.upper()}, {opt} lr {lr}, batch {r.batch_size}, "
              f"{r.epochs} epochs -- {r.source}")
    return 0


def cmd_train(args) -> int:
    from . import data as data_mod
    from . import io, viz
    from .models.zoo import get_recipe

    recipe = get_recipe(args.model)
    backend.set_backend(args.backend or backend.get_backend())
    backend.seed(args.seed)
    ds, message = data_mod.load_dataset(args.dataset, path=args.data_dir, flat=recipe.flat)
    if message:
        print(message)
    print(f"data: {ds.name} from {ds.source}: {len(ds.x_train)} train, {len(ds.x_valid)} "
          f"validation, {len(ds.x_test)} test images")

    model = recipe.build()
    if backend.get_backend() == "cupy":
        model.to("cupy")
    epochs = recipe.epochs if args.epochs is None else args.epochs
    batch = recipe.batch_size if args.batch_size is None else args.batch_size
    optimizer = recipe.make_optimizer(args.lr)
    print(f"model: {recipe.name} -- {recipe.summary}, {model.n_params():,} parameters")
    print(f"recipe: {recipe.loss.upper()}, {optimizer!r}, batch {batch}, {epochs} epochs, "
          f"backend {backend.get_backend()}")

    t0 = time.perf_counter()
    history = model.fit(ds.x_train, epochs=epochs, batch_size=batch, optimizer=optimizer,
                        loss=recipe.loss, validation_data=ds.x_valid, seed=args.seed,
                        verbose=not args.quiet)
    seconds = time.perf_counter() - t0

    out = Path(args.out)
    val = model.evaluate(ds.x_valid, loss=recipe.loss)
    weights = io.save_model(model, out / f"{recipe.name}.npz", meta={
        "model": recipe.name, "epochs": epochs, "dataset": ds.name, "val": val})
    written = [weights]
    if not args.no_plots:
        recon = model.reconstruct(ds.x_test[:10])
        written.append(viz.plot_reconstructions(
            ds.x_test[:10], recon, out / f"{recipe.name}_reconstructions.png",
            title=f"{recipe.name}: test digits (top) and reconstructions"))
        written += _after_train_pictures(recipe.name, model, ds, out)
    hist_path = out / f"{recipe.name}_history.json"
    atomic_write(hist_path, lambda f: f.write(json.dumps(
        {"model": recipe.name, "dataset": ds.name, "epochs": epochs, "batch_size": batch,
         "seconds": seconds, "history": history.to_dict(), "val": val}, indent=2).encode()))
    written.append(hist_path)

    parts = ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k != "loss")
    print(f"trained in {seconds:.1f} s; wrote {', '.join(str(p) for p in written)}")
    if "penalty" in val:
        print(f"validation loss ({recipe.loss.upper()} + penalty): {val['loss']:.4f} ({parts})")
    else:
        print(f"validation loss ({recipe.loss.upper()}): {val['loss']:.4f}")
    return 0


def _after_train_pictures(name, model, ds, out) -> list:
    """The extra pictures some models get after training: generated digits, VAE samples."""
    from . import viz  # noqa: PLC0415 - matplotlib only when pictures are drawn
    from .models import VAE, LatentGaussianGenerator  # noqa: PLC0415

    if name == "stacked":
        gen = LatentGaussianGenerator(model).fit(ds.x_train[:10000])
        return [viz.plot_image_grid(
            gen.sample(30, seed=0), out / "stacked_generated.png", ncols=10,
            title="stacked AE as a generator: codes ~ N(mean, std) of the training codes")]
    if not isinstance(model, VAE):
        return []
    paths = [viz.plot_image_grid(model.sample(30, seed=0), out / f"{name}_samples.png",
                                 ncols=10, title=f"{name}: decoded z ~ N(0, I)")]
    if model.latent_dim == 2:
        paths.append(viz.plot_manifold(model.decode, out / f"{name}_manifold.png", n=15,
                                       title=f"{name}: decoder manifold"))
    return paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scratch-ae", description=__doc__.split("\n\n")[0])
    p.add_argument("--version", action="version", version=f"scratch_ae {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("info", help="versions, threads and usable backends")
    pi.add_argument("--no-warmup", action="store_true", help="skip timing the Numba kernels")
    pi.set_defaults(func=cmd_info)

    pl = sub.add_parser("list", help="the model zoo and each model's recipe")
    pl.set_defaults(func=cmd_list)

    pt = sub.add_parser("train", help="train a zoo model (see `scratch-ae list`)")
    pt.add_argument("model", help="zoo model name, e.g. stacked, conv")
    pt.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    pt.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    pt.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    pt.add_argument("--backend", choices=backend.BACKENDS, default=None,
                    help=f"default: ${backend.ENV_VAR} or numpy")
    pt.add_argument("--dataset", default="auto",
                    choices=["auto", "mnist", "fashion-mnist", "sample"],
                    help="auto: full MNIST when found or downloadable, else the offline sample")
    pt.add_argument("--data-dir", default=None, help="folder holding the four IDX files")
    pt.add_argument("--out", default="runs", help="output folder (default: runs/)")
    pt.add_argument("--seed", type=int, default=42)
    pt.add_argument("--quiet", action="store_true", help="no progress bar")
    pt.add_argument("--no-plots", action="store_true",
                    help="write no pictures (weights and history only; matplotlib not needed)")
    pt.set_defaults(func=cmd_train)
    return p


def main(argv=None) -> int:
    from .data import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileNotFoundError, DataError, backend.BackendError,
            FloatingPointError) as exc:
        # Errors about the user's input or data: one clear line, not a traceback.
        print(f"scratch-ae: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
