"""Checkpoints: everything a run needs to go on exactly where it stopped.

``fit(..., checkpoint_dir=D)`` calls :func:`save` after every epoch (:class:`Saver`). One file,
``D/checkpoint.npz``, holds

* the model: it *is* a model file (:mod:`scratch_ae.io`), so ``io.load_model`` opens it too;
* the optimizer's state arrays (momenta, moment estimates) as ``optimizer/<param>/<slot>``, and
  its counters (``iterations``, Nadam's running product) in the header;
* the random generators' states: the one that shuffles the batches and the backend's (dropout
  masks, noise, the VAE's epsilon), so a resumed run draws the same numbers;
* the number of finished epochs, the history so far, and ``run``: what the caller needs to
  start the run again (the CLI keeps its arguments there).

Because it is one file written atomically (temporary file, then rename), a checkpoint is
always whole: an interrupted or failed save -- Ctrl-C, a full disk -- leaves the previous one
as it was, and the model, optimizer and epoch in it always belong together.

:func:`restore` puts it all back. On the numpy backend a run resumed after epoch k ends with
weights bit-identical to a run that was never stopped. (CuPy's generator state is not saved:
on the GPU a resumed run draws fresh dropout/noise numbers.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import backend, io
from .callbacks import Callback

FILE = "checkpoint.npz"
PREFIX = "optimizer" + io.EXTRA_SEP


def path_in(folder) -> Path:
    return Path(folder) / FILE


def exists(folder) -> bool:
    return path_in(folder).is_file()


def save(folder, model, optimizer, *, epoch: int, history, shuffle_rng, run=None) -> Path:
    """Write the checkpoint of a run that has finished ``epoch`` epochs, atomically."""
    arrays = {f"{PREFIX}{key}{io.EXTRA_SEP}{slot}": a
              for key, slots in optimizer.state.items() for slot, a in slots.items()}
    meta = {"checkpoint": {
        "epoch": int(epoch),
        "history": history.to_dict(),
        "optimizer": {"type": type(optimizer).__name__, "repr": repr(optimizer),
                      "counters": _counters(optimizer)},
        "rng": {"shuffle": shuffle_rng.bit_generator.state,
                "backend_seed": backend._state["seed"],
                "backend_numpy": backend.rng(np).bit_generator.state},
        "run": run or {},
    }}
    return io.save_model(model, path_in(folder), meta=meta, extra_arrays=arrays)


class Saver(Callback):
    """The ``fit`` callback that saves the checkpoint at the end of every epoch."""

    def __init__(self, folder, optimizer, history, shuffle_rng, run=None):
        self.folder, self.optimizer, self.history = folder, optimizer, history
        self.shuffle_rng, self.run = shuffle_rng, run

    def on_train_begin(self, model):
        self.model = model

    def on_epoch_end(self, epoch, logs):
        save(self.folder, self.model, self.optimizer, epoch=epoch + 1, history=self.history,
             shuffle_rng=self.shuffle_rng, run=self.run)


def _counters(optimizer) -> dict:
    """The optimizer's plain-number attributes (step count, running products, settings)."""
    return {k: v for k, v in vars(optimizer).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def read(folder) -> tuple[dict, dict]:
    """``(arrays, checkpoint_header)`` of the checkpoint in ``folder``; clear errors otherwise."""
    path = path_in(folder)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint in {str(folder)!r} (expected {path})")
    arrays, header = io.read_model_file(path)
    ckpt = header["meta"].get("checkpoint")
    if not isinstance(ckpt, dict) or not {"epoch", "history", "optimizer", "rng"} <= set(ckpt):
        raise io.ModelFileError(f"{path} is a model file but not a checkpoint")
    return arrays, ckpt


def run_info(folder) -> dict:
    """What the run that wrote the checkpoint recorded about itself, plus ``epoch`` done."""
    _, ckpt = read(folder)
    return {**ckpt.get("run", {}), "epoch": ckpt["epoch"]}


def restore(folder, model, optimizer, shuffle_rng):
    """Load the checkpoint into ``model``, ``optimizer`` and the generators.

    Returns ``(epochs_done, history_dict)``. The optimizer must be of the same kind and
    settings as the one that was saved (its repr is compared), else nothing is changed.
    """
    arrays, ckpt = read(folder)
    path = path_in(folder)
    saved = ckpt["optimizer"]
    if saved["type"] != type(optimizer).__name__ or saved["repr"] != repr(optimizer):
        raise ValueError(f"{path} was trained with {saved['repr']}, not {optimizer!r}: resume "
                         "with the same optimizer settings")
    io.load_weights(model, path)
    params = {key: layer.params[name] for key, layer, name in model.named_parameters()}
    state = {}
    for name, a in arrays.items():
        if not name.startswith(PREFIX):
            continue
        key, slot = name[len(PREFIX):].rsplit(io.EXTRA_SEP, 1)
        if key not in params:
            raise io.ModelFileError(f"{path}: optimizer state for unknown parameter {key}")
        xp = backend.get_array_module(params[key])
        state.setdefault(key, {})[slot] = xp.asarray(a.astype(params[key].dtype, copy=False))
    optimizer.state = state
    for k, v in saved["counters"].items():
        setattr(optimizer, k, v)
    rng = ckpt["rng"]
    shuffle_rng.bit_generator.state = rng["shuffle"]
    backend.seed(rng["backend_seed"])
    backend.rng(np).bit_generator.state = rng["backend_numpy"]
    return int(ckpt["epoch"]), ckpt["history"]
