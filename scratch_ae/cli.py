"""``scratch-ae``: train the tutorial's models and inspect the installation.

``scratch-ae --help`` prints :data:`DESCRIPTION` and :data:`EXAMPLES` (plain text, no markup).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__, backend
from .utils import atomic_write

DESCRIPTION = ("Train the tutorial's autoencoders (written from scratch on NumPy), use a trained "
               "model, and inspect the installation.")
EXAMPLES = """\
examples:
  scratch-ae info                  versions, threads, usable backends, Numba compile cost
  scratch-ae list                  the model zoo with each model's recipe
  scratch-ae train stacked         train a zoo model: weights, pictures, history in runs/
  scratch-ae train conv --backend numba --epochs 1
  scratch-ae train stacked --data my_digits.npy    train on your own images
  scratch-ae evaluate runs/stacked.npz             test loss, squared error, k-NN vs PCA
  scratch-ae encode runs/stacked.npz --out codes.npy
  scratch-ae reconstruct runs/stacked.npz --out recon.png
  scratch-ae sample runs/stacked.npz -n 30 --out samples.png
  scratch-ae check --backend numba                 gradient check of every layer, loss, model
  scratch-ae train --help          every training option

exit codes: 0 done, 1 failed (damaged data or model file, a diverged run, a failed gradient
check, a full disk), 2 a wrong argument, 130 interrupted, 141 output pipe closed (| head)
"""


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
    from . import threads

    policy = threads.ensure(backend.get_backend())
    print(f"\nthread policy: {policy}")
    print("  (never BLAS and Numba parallel at once, no more threads than free cores; override "
          "with OPENBLAS_NUM_THREADS / NUMBA_NUM_THREADS / OMP_NUM_THREADS or "
          "scratch_ae.set_threads())")
    print("threads in force:")
    for k, v in _threads().items():
        print(f"  {k:<28} {v}")
    print(f"\nselected backend: {backend.get_backend()}  (set with --backend or "
          f"${backend.ENV_VAR})")
    print("backends:")
    for name, (ok, reason) in backend.available_backends().items():
        print(f"  {name:<6} {'usable' if ok else 'NOT usable'}: {reason}")
    if backend.available_backends()["numba"][0] and not args.no_warmup:
        seconds = backend.warmup("numba")
        print(f"\nNumba kernels: first call took {seconds:.2f} s (compiled, or loaded from "
              "Numba's on-disk cache: only the first run on a machine pays for compiling)")
    return 0


def cmd_list(args) -> int:
    from .losses import describe_loss
    from .models.zoo import RECIPES

    for r in RECIPES.values():
        opt, kw = r.optimizer
        lr = kw.get("lr")
        loss = describe_loss(r.build().loss)  # the model's own (a fresh one: a few ms)
        print(f"{r.name:<16} {r.summary}")
        print(f"{'':<16} {loss}, {opt} lr {lr}, batch {r.batch_size}, "
              f"{r.epochs} epoch{'s' if r.epochs != 1 else ''} -- {r.source}")
    return 0


class UsageError(ValueError):
    """A command-line argument is wrong: exit code 2, like argparse's own errors."""


class RunFailed(RuntimeError):
    """A run finished but failed (it diverged): exit code 1, like any other failure."""


# Every file `scratch-ae train NAME` may write into --out, as NAME + suffix. The history file is
# the run's manifest: written last, it lists the files of the run that wrote it.
OUTPUT_SUFFIXES = (".npz", "_reconstructions.png", "_generated.png", "_samples.png",
                   "_manifold.png")
MANIFEST_SUFFIX = "_history.json"


def _check_train_args(args) -> None:
    """Reject wrong arguments before any data is loaded or any epoch is trained."""
    from .models.zoo import RECIPES

    if args.model not in RECIPES:
        raise UsageError(f"unknown model {args.model!r}: expected one of "
                         f"{', '.join(sorted(RECIPES))}")
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be a positive integer, got {value}")
    if args.lr is not None and not (np.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive number, got {args.lr}")
    _check_seed(args)
    _check_data_args(args)


def _check_seed(args) -> None:
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")


def _check_data_args(args) -> None:
    """--data (your own images) or --dataset with --data-dir: not both."""
    if args.data is not None and (args.dataset is not None or args.data_dir is not None):
        given = "--dataset" if args.dataset is not None else "--data-dir"
        raise UsageError(f"--data {args.data} and {given} both choose the data: give one")
    if args.data_dir is not None and args.dataset == "sample":
        raise UsageError("--data-dir has no effect with --dataset sample: give one or the other")


def _staging_folder(out: Path, name: str) -> Path:
    """A fresh hidden folder in ``out`` for this run's files: proves ``out`` is writable now,
    before training, and keeps a half-finished run's files apart from the last finished one.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=out))
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r} is not a writable folder "
                         f"({exc.strerror or exc})") from None


def _publish(stage: Path, out: Path, name: str) -> list[Path]:
    """Replace the previous run's files for ``name`` in ``out`` by the ones in ``stage``.

    The old manifest goes first, then the old files; the new files come in, and the new
    manifest last. Whenever this is cut short, ``out`` never holds files of two runs under one
    manifest, and a manifest only ever lists files of its own run.
    """
    manifest = out / f"{name}{MANIFEST_SUFFIX}"
    manifest.unlink(missing_ok=True)
    for suffix in OUTPUT_SUFFIXES:
        (out / f"{name}{suffix}").unlink(missing_ok=True)
    written = []
    for suffix in OUTPUT_SUFFIXES:
        src = stage / f"{name}{suffix}"
        if src.exists():
            os.replace(src, out / src.name)
            written.append(out / src.name)
    os.replace(stage / manifest.name, manifest)
    return [*written, manifest]


# What a checkpoint records about the run, so that --resume continues the same run.
RUN_SETTINGS = ("batch_size", "lr", "seed", "dataset", "data_dir", "data", "backend", "out")
DEFAULTS = {"seed": 42, "out": "runs"}


def _resume_folder(given: str) -> str:
    """--resume takes the checkpoint's folder, or the checkpoint file itself."""
    from . import checkpoint

    path = Path(given)
    if path.is_file():
        if path.name != checkpoint.FILE:
            raise UsageError(f"--resume {given}: expected a checkpoint folder or its "
                             f"{checkpoint.FILE}, got another file")
        return str(path.parent)
    return given


def _apply_resume(args) -> None:
    """Take the run's settings from the checkpoint in ``--resume DIR``; a flag given again
    must agree with it (``--epochs`` may raise the total).
    """
    from . import checkpoint

    args.resume = _resume_folder(args.resume)
    try:
        run = checkpoint.run_info(args.resume)
    except FileNotFoundError as exc:
        raise UsageError(f"--resume: {exc}") from None
    if run.get("model") != args.model:
        raise UsageError(f"--resume {args.resume} holds a run of {run.get('model')!r}, "
                         f"not {args.model!r}")
    for key in RUN_SETTINGS:
        given = getattr(args, key)
        if given is not None and given != run.get(key):
            raise UsageError(f"--{key.replace('_', '-')} {given} differs from the resumed run's "
                             f"{run.get(key)}: a resumed run keeps its settings")
        setattr(args, key, run.get(key))
    if args.epochs is None:
        args.epochs = run["epochs"]
    elif args.epochs < run["epoch"]:
        raise UsageError(f"--epochs {args.epochs}: the resumed run has already finished "
                         f"{_n(run['epoch'], 'epoch')}")


def _n(n: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_train(args) -> int:
    from . import checkpoint
    from .models.zoo import get_recipe

    if args.resume is not None:
        _apply_resume(args)
    _check_train_args(args)
    for key, value in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.data is None and args.dataset is None:
        args.dataset = "auto"
    recipe = get_recipe(args.model)
    backend.set_backend(args.backend or backend.get_backend())
    backend.seed(args.seed)
    out = Path(args.out)
    ckdir = Path(args.resume) if args.resume else out / f"{recipe.name}_checkpoint"
    if args.resume is None and checkpoint.exists(ckdir):
        done = checkpoint.run_info(ckdir)["epoch"]
        raise UsageError(f"{ckdir} holds an unfinished run of {recipe.name} ({_n(done, 'epoch')} "
                         f"done): continue it with `scratch-ae train {recipe.name} --resume "
                         f"{ckdir}`, or delete that folder to start over")
    existed = out.exists()
    stage = _staging_folder(out, recipe.name)
    try:
        return _train(args, recipe, out, stage, ckdir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not existed and not any(out.iterdir()):  # a run that wrote nothing leaves no trace
            out.rmdir()


def _train(args, recipe, out, stage, ckdir) -> int:
    from . import checkpoint, commands
    from .train import TrainingInterrupted

    ds = commands.load_data(args.dataset, args.data_dir, args.data, flat=recipe.flat)

    model = recipe.build()
    epochs = args.epochs = recipe.epochs if args.epochs is None else args.epochs
    args.batch_size = recipe.batch_size if args.batch_size is None else args.batch_size
    print(f"model: {recipe.name} -- {recipe.summary}, {model.n_params():,} parameters")
    run = {"model": recipe.name, "epochs": epochs, "backend": backend.get_backend(),
           **{k: getattr(args, k) for k in RUN_SETTINGS if k != "backend"}}
    if args.resume:
        print(f"resuming from {checkpoint.path_in(ckdir)} after epoch "
              f"{checkpoint.run_info(ckdir)['epoch']}")
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # the summary below reports a divergence
            warnings.simplefilter("ignore", RuntimeWarning)
            model, history = recipe.train(
                ds.x_train, ds.x_valid, model=model, epochs=epochs, batch_size=args.batch_size,
                lr=args.lr, say=print, seed=args.seed, verbose=not args.quiet,
                checkpoint_dir=ckdir, resume=bool(args.resume), checkpoint_meta=run)
    except TrainingInterrupted as exc:
        if exc.epochs_done:
            print(f"interrupted during epoch {exc.epoch + 1}: "
                  f"{_n(exc.epochs_done, 'finished epoch')} saved in {ckdir}; continue with: "
                  f"scratch-ae train {recipe.name} --resume {ckdir}", file=sys.stderr)
        else:
            print("interrupted during epoch 1: no epoch had finished, nothing was saved",
                  file=sys.stderr)
        return 130
    seconds = time.perf_counter() - t0

    try:
        val, written = _write_outputs(args, recipe, model, ds, history, seconds, stage, out)
    except KeyboardInterrupt:
        print(f"interrupted while writing the outputs: the trained model is kept in {ckdir}; "
              f"write them with: scratch-ae train {recipe.name} --resume {ckdir}",
              file=sys.stderr)
        return 130
    checkpoint.path_in(ckdir).unlink(missing_ok=True)  # the run is complete: nothing to resume
    with contextlib.suppress(OSError):
        ckdir.rmdir()

    _summary(model, val, written, seconds)
    for message in history.warnings:
        print(f"scratch-ae: warning: {message}", file=sys.stderr)
    if history.warnings:  # diverged: the files are there to look at, the model is of no use
        raise RunFailed(f"the run failed: training diverged (its files are written for a look, "
                        f"but do not use {out / recipe.name}.npz; try a lower --lr)")
    return 0


def _summary(model, val, written, seconds) -> None:
    parts = ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k != "loss")
    print(f"trained in {seconds:.1f} s; wrote {', '.join(str(p) for p in written)}")
    from . import threads  # noqa: PLC0415
    from .losses import describe_loss

    if threads.current() is not None:  # what the run ended on: after fit's thread trial
        print(f"threads: {threads.current()}")
    loss = describe_loss(model.loss)
    if "penalty" in val:
        print(f"validation loss ({loss} + penalty): {val['loss']:.4f} ({parts})")
    else:
        print(f"validation loss ({loss}): {val['loss']:.4f}")


def _write_outputs(args, recipe, model, ds, history, seconds, stage, out):
    """Weights, pictures and history into ``stage``, then published into ``out`` together."""
    from . import commands, io, viz

    name, epochs = recipe.name, args.epochs
    val = model.evaluate(ds.x_valid)
    io.save_model(model, stage / f"{name}.npz", meta={
        "model": name, "epochs": epochs, "dataset": ds.name, "val": val,
        **commands.data_meta(args.data, args.data_dir)})
    if not args.no_plots:
        recon = model.reconstruct(ds.x_test[:10])
        viz.plot_reconstructions(ds.x_test[:10], recon, stage / f"{name}_reconstructions.png",
                                 title=f"{name}: test digits (top) and reconstructions")
        _after_train_pictures(name, model, ds, stage)
    files = sorted(p.name for p in stage.iterdir())
    atomic_write(stage / f"{name}{MANIFEST_SUFFIX}", lambda f: f.write(json.dumps(
        {"model": name, "dataset": ds.name, "epochs": epochs, "batch_size": args.batch_size,
         "seconds": seconds, "history": history.to_dict(), "val": val,
         "files": files}, indent=2).encode()))
    return val, _publish(stage, out, name)


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


# --- the commands on a saved model ----------------------------------------------------------

def _open(args):
    """The model in ``args.model_file`` and its meta, after the arguments are checked."""
    from . import commands

    _check_data_args(args)
    model, meta = commands.open_model(args.model_file)
    backend.seed(0)  # a VAE's sampling and a noise layer draw the same numbers every time
    trained = (f", {meta['model']} trained {_n(meta['epochs'], 'epoch')} on {meta['dataset']}"
               if {"model", "epochs", "dataset"} <= set(meta) else "")
    print(f"model: {args.model_file}: {type(model).__name__}, {model.n_params():,} "
          f"parameters{trained}")
    return model, meta


def _data(args, model, meta):
    from . import commands

    flat = commands.input_shape(model, args.model_file) == (784,)
    return commands.load_data(args.dataset, args.data_dir, args.data, flat=flat,
                              trained_on=meta)


def _check_out(args, suffixes) -> None:
    if Path(args.out).suffix.lower() not in suffixes:
        raise UsageError(f"--out {args.out}: expected a file name ending in "
                         f"{' or '.join(suffixes)}")


def _check_n(args) -> None:
    if args.n < 1:
        raise UsageError(f"-n must be a positive integer, got {args.n}")


def cmd_evaluate(args) -> int:
    from . import commands

    model, meta = _open(args)
    commands.evaluate(model, _data(args, model, meta), path=args.model_file)
    return 0


def cmd_encode(args) -> int:
    from . import commands

    _check_out(args, (".npy", ".npz"))
    model, meta = _open(args)
    commands.encode(model, _data(args, model, meta), args.out, split=args.split,
                    path=args.model_file)
    return 0


def cmd_reconstruct(args) -> int:
    from . import commands

    _check_out(args, (".png",))
    _check_n(args)
    model, meta = _open(args)
    commands.reconstruct(model, _data(args, model, meta), args.out, n=args.n, split=args.split,
                         path=args.model_file)
    return 0


def cmd_sample(args) -> int:
    from . import commands

    _check_out(args, (".png", ".npy"))
    _check_n(args)
    _check_seed(args)
    model, meta = _open(args)
    commands.sample(model, args.n, args.out, seed=args.seed, path=args.model_file,
                    training_data=lambda: _data(args, model, meta).x_train)
    return 0


def cmd_check(args) -> int:
    from . import check

    name = args.backend or backend.get_backend()
    backend.set_backend(name)  # a backend that cannot run here: one line, before the table
    print(f"gradient check of every layer, loss and dense zoo model on the {name} backend, "
          f"{args.dtype}")
    rows = check.run(name)
    passed = check.report(rows)
    note = check.device_note(name)
    if note:
        print(note)
    return 0 if passed else 1


def _add_data_args(p, train: bool = False) -> None:
    default = ("auto: full MNIST when found or downloadable, else the offline sample" if train
               else "default: the data the model was trained on (else auto)")
    p.add_argument("--dataset", default=None,
                   choices=["auto", "mnist", "fashion-mnist", "sample"], help=default)
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding the four MNIST/Fashion-MNIST IDX files")
    p.add_argument("--data", default=None, metavar="PATH",
                   help="your own 28x28 images: a folder of the four IDX files, a .npy/.npz "
                        "(N,28,28), (N,784) or (N,1,28,28), uint8 or float in [0,1], or a folder "
                        "of PNG/JPEG (any size: made 28x28 grayscale); without a test split "
                        "10%% is held out (seed 0, the same split for every command)")


def _model_parser(sub, name: str, text: str, func):
    p = sub.add_parser(name, help=text, description=text)
    p.add_argument("model_file", metavar="MODEL.npz",
                   help="a model file written by scratch-ae train (or io.save_model)")
    _add_data_args(p)
    p.set_defaults(func=func)
    return p


def _add_model_commands(sub) -> None:
    _model_parser(sub, "evaluate", "test loss, squared error per image and the k-NN accuracy "
                  "of the codes, each beside PCA's with as many components", cmd_evaluate)
    splits = dict(choices=["train", "valid", "test", "all"], default="test",
                  help="which images (default: test; all: train, valid and test in that order)")
    p = _model_parser(sub, "encode", "the codes of the images (a VAE's: the means) into a .npy "
                      "(labels beside it in NAME.labels.npy) or a .npz (codes, labels)",
                      cmd_encode)
    p.add_argument("--out", required=True, metavar="FILE", help="codes.npy or codes.npz")
    p.add_argument("--split", **splits)
    p = _model_parser(sub, "reconstruct", "a picture: images over their reconstructions",
                      cmd_reconstruct)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("-n", type=int, default=10, help="how many images (default: 10)")
    p.add_argument("--split", **splits)
    p = _model_parser(sub, "sample", "new images: a VAE decodes draws from its prior; a plain "
                      "autoencoder from a Gaussian fitted to its training codes", cmd_sample)
    p.add_argument("-n", type=int, default=30, help="how many images (default: 30)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="samples.png (a grid) or samples.npy (the array)")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    text = ("gradient check of every layer, loss and dense zoo model on a backend, as a table "
            "(exit 1 on any failure)")
    p = sub.add_parser("check", help=text, description=text)
    p.add_argument("--backend", choices=backend.BACKENDS, default=None,
                   help=f"default: ${backend.ENV_VAR} or numpy; cupy checks the GPU path")
    p.add_argument("--dtype", choices=["float64"], default="float64",
                   help="float64 only: finite differences need it (float32 rounding alone "
                        "would exceed the 1e-6 tolerance)")
    p.set_defaults(func=cmd_check)


def cmd_exercise(args) -> int:
    from .exercises import workbook  # the substance lives there

    try:
        return workbook.run(args)
    except workbook.ArgumentError as exc:
        raise UsageError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scratch-ae", description=DESCRIPTION, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"scratch_ae {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("info", help="versions, threads and usable backends")
    pi.add_argument("--no-warmup", action="store_true", help="skip timing the Numba kernels")
    pi.set_defaults(func=cmd_info)

    pl = sub.add_parser("list", help="the model zoo and each model's recipe")
    pl.set_defaults(func=cmd_list)

    pt = sub.add_parser("train", help="train a zoo model (names: scratch-ae list)")
    pt.add_argument("model", help="zoo model name, e.g. stacked, conv")
    pt.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    pt.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    pt.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    pt.add_argument("--backend", choices=backend.BACKENDS, default=None,
                    help=f"default: ${backend.ENV_VAR} or numpy")
    _add_data_args(pt, train=True)
    pt.add_argument("--out", default=None, help="output folder (default: runs/)")
    pt.add_argument("--seed", type=int, default=None, help="default: 42")
    pt.add_argument("--resume", default=None, metavar="DIR",
                    help="continue the interrupted run whose checkpoint is in DIR (by default "
                         "OUT/NAME_checkpoint; each finished epoch is saved there) or is the "
                         "file DIR/checkpoint.npz")
    pt.add_argument("--quiet", action="store_true", help="no progress bar")
    pt.add_argument("--no-plots", action="store_true",
                    help="write no pictures (weights and history only; matplotlib not needed)")
    pt.set_defaults(func=cmd_train)
    _add_model_commands(sub)

    pe = sub.add_parser("exercise", help="write the layers yourself: exercises graded by the "
                                         "gradient check (guide: scratch_ae/exercises/README.md)")
    actions = pe.add_subparsers(dest="action", required=True)
    for action, text in (("list", "the exercises, in order, and which you have done"),
                         ("start", "copy an exercise's starter to DIR/NAME.py (never overwrites)"),
                         ("check", "grade DIR/NAME.py; --all: every one; --train stacked: the "
                                   "finale")):
        pa = actions.add_parser(action, help=text)
        if action == "start":
            pa.add_argument("name", help="an exercise (names: scratch-ae exercise list)")
        if action == "check":
            pa.add_argument("name", nargs="?", help="an exercise, e.g. dense")
            pa.add_argument("--all", action="store_true", help="check every exercise")
            pa.add_argument("--solution", action="store_true",
                            help="grade the library's own code instead of yours")
            pa.add_argument("--train", metavar="MODEL", default=None,
                            help="stacked: train tutorial 01's autoencoder built from your layers")
            pa.add_argument("--dataset", choices=["auto", "mnist", "sample"], default=None,
                            help="with --train (default auto: MNIST if found, else the sample)")
            pa.add_argument("--limit", type=int, default=None, metavar="N",
                            help="with --train: only the first N images (a quick try)")
        pa.add_argument("--dir", default="exercises", help="your exercises' folder "
                                                           "(default: ./exercises)")
    pe.set_defaults(func=cmd_exercise)
    return p


def main(argv=None) -> int:
    """Run the command; errors are one line on stderr, never a traceback.

    Exit codes: 0 done, 2 a wrong argument (argparse's own code), 1 anything else that went
    wrong (damaged data, a bad model file, a diverged run, a failed gradient check, a full
    disk), 130 interrupted, 141 the output pipe was closed (``scratch-ae list | head``: quiet,
    as Unix tools are when SIGPIPE ends them).
    """
    from .data import DataError, DataNotFoundError

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except (UsageError, DataNotFoundError) as exc:  # the data path given (or none) is wrong
        return _error(exc, 2)
    except (ValueError, TypeError, OSError, DataError, backend.BackendError,
            FloatingPointError, RunFailed) as exc:
        return _error(exc, 1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _error(exc, code: int) -> int:
    print(f"scratch-ae: error: {' '.join(str(exc).split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
