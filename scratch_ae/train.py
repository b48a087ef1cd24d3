"""The training loop: batches, progress bar, history, validation.

One step of gradient descent is :func:`train_step`: five lines (zero the gradients, forward,
loss, backward, optimizer step), the heart of the library. :func:`fit` runs it on every batch of
every epoch; :func:`evaluate` runs the forward and the loss alone. Both go through one batching
helper (:func:`_run` over :func:`_chunks`) and one finite check.

Everything else here is bookkeeping: checking the data once, cutting it into batches without
copying the whole dataset (never a float64 copy), moving chunks of it to the model's device,
and reporting progress.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from . import backend, threads
from .guard import CAUSES, GuardedOptimizer, NonFiniteError, _BadGradients, diagnose
from .losses import BCE, BCEWithLogits, get_loss
from .optim import SGD, get_optimizer

# Samples moved to the device at a time: large enough that a GPU is not fed batch by batch.
CHUNK = 8192
# Steps between reading the running loss back from the device (and updating the progress bar).
LOG_EVERY = 50


@dataclass
class History:
    """Per-epoch metrics: ``history["loss"][e]``, ``history["val_loss"][e]``, ..."""

    history: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)

    def append(self, logs: dict, seconds: float) -> None:
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        self.seconds.append(float(seconds))

    def __getitem__(self, key):
        return self.history[key]

    warnings: list = field(default_factory=list)
    start_loss: float | None = None  # the loss of the very first step (an untrained model's)

    def to_dict(self) -> dict:
        return {**self.history, "seconds": list(self.seconds), "start_loss": self.start_loss}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        d = dict(d)
        seconds, start = d.pop("seconds", []), d.pop("start_loss", None)
        return cls(history={k: list(v) for k, v in d.items()}, seconds=list(seconds),
                   start_loss=start)


def model_array_module(model):
    """Where the model's parameters live (numpy when it has none)."""
    for _, layer, name in model.named_parameters():
        return backend.get_array_module(layer.params[name])
    return backend.array_module_for()


def model_dtype(model):
    for _, layer, name in model.named_parameters():
        return layer.params[name].dtype
    return np.dtype(np.float32)


def check_data(X, name: str = "X", n: int | None = None, unit_range: bool = False):
    """Raise a clear error unless ``X`` is a finite floating-point array with a batch axis.

    One pass over the data, done once where it enters (fit, evaluate, predict), never per
    batch. ``unit_range``: the values must also lie in [0, 1] (targets of a cross-entropy).
    """
    if not hasattr(X, "shape") or not hasattr(X, "dtype"):
        raise TypeError(f"{name} must be an array of shape (N, ...), got {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(f"{name} must have a batch axis, shape (N, ...), got shape {X.shape}")
    if X.dtype.kind != "f":
        hint = ""
        if X.dtype.kind in "ui":
            hint = " (convert with X.astype('float32'), and divide 0..255 pixels by 255)"
        raise TypeError(f"{name} must be float32 or float64, got dtype {X.dtype}{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}): expected at least one sample")
    if n is not None and X.shape[0] != n:
        raise ValueError(f"{name} has {X.shape[0]} samples but X has {n}")
    xp = backend.get_array_module(X)
    finite = xp.isfinite(X)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        first = tuple(int(i) for i in np.argwhere(backend.to_numpy(~finite))[0])
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s), the first at index {first}; "
            "clean the data before training"
        )
    if unit_range:
        lo, hi = float(X.min()), float(X.max())
        if lo < 0 or hi > 1:
            hint = ": scale 0..255 pixels with X / 255" if hi > 1 else ""
            raise ValueError(f"{name} must lie in [0, 1] as the target of a cross-entropy loss, "
                             f"but its values range from {lo:g} to {hi:g}{hint}")


def check_batch_size(batch_size) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def _split_validation(validation_data, model, loss_fn):
    """``(X_val, Y_val)`` from ``validation_data``, checked here, once, not at every epoch."""
    if validation_data is None:
        return None, None
    X_val, Y_val = validation_data, None
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) != 2:
            raise ValueError("validation_data must be X_val or a pair (X_val, Y_val)")
        X_val, Y_val = validation_data
    _prepare(model, X_val, Y_val, loss_fn, what="validation ")
    return X_val, Y_val


def _on(xp, a, dtype):
    """``a`` as an array of module ``xp`` and the model's dtype (copies only when needed)."""
    return (a if xp is np else xp.asarray(a)).astype(dtype, copy=False)


def _chunks(X, Y, order, batch_size, xp, dtype):
    """Yield ``(xb, tb)`` batches; rows are gathered and moved to the device a chunk at a time.

    ``order`` is a permutation of the rows, or None for the rows in order (then a NumPy chunk
    is a view, not a copy).
    """
    n = X.shape[0]
    chunk = max(batch_size, (CHUNK // batch_size) * batch_size)
    for c0 in range(0, n, chunk):
        # Fancy indexing copies only this chunk, in X's own dtype; the cast is per chunk too.
        idx = slice(c0, c0 + chunk) if order is None else order[c0:c0 + chunk]
        xc = _on(xp, X[idx], dtype)
        tc = xc if Y is None else _on(xp, Y[idx], dtype)
        for b0 in range(0, xc.shape[0], batch_size):
            yield xc[b0:b0 + batch_size], tc[b0:b0 + batch_size]


def train_step(model, loss, optimizer, xb, tb):
    """One step of gradient descent on the batch ``xb`` with targets ``tb``; returns the loss.

    The loss value stays where the model is (a 0-d device array on a GPU): reading it back
    would make every step wait for the device.
    """
    model.zero_grad()                     # gradients are accumulated, so start from zero
    y = model.forward(xb, training=True)  # dropout/noise active, caches for backward
    value = loss.forward(y, tb)
    model.backward(loss.backward())       # fills every layer's grads
    optimizer.step(model)                 # the only place parameters change
    return value


class _Tally:
    """Sample-weighted sums of the loss and the penalty over the batches seen so far.

    The sums stay on the device (in float64: float32 running sums drift over an epoch) until
    :meth:`means` reads them back.
    """

    def __init__(self):
        self.loss = self.penalty = 0.0
        self.seen = self.steps = 0

    def add(self, value, penalty, nb):
        for name, v in (("loss", value), ("penalty", penalty)):
            if hasattr(v, "astype"):
                v = v.astype("float64")
            setattr(self, name, getattr(self, name) + v * nb)
        self.seen += nb
        self.steps += 1

    def mean(self, name: str = "loss") -> float:
        """The running sum ``name`` per sample (a device-to-host read)."""
        return float(getattr(self, name)) / max(self.seen, 1)

    def logs(self) -> dict:
        """``{"loss": recon + penalty, "recon"[, "penalty"]}`` per sample."""
        recon, pen = self.mean("loss"), self.mean("penalty")
        out = {"loss": recon + pen, "recon": recon}
        if pen:
            out["penalty"] = pen
        return out


def _run(model, step, batches, *, report=None, max_steps=None) -> _Tally:
    """Run ``step(xb, tb) -> loss`` on each batch and tally the loss and the model's penalty.

    ``report(tally)`` runs every LOG_EVERY steps; at most ``max_steps`` steps are run (at least
    one). Shared by :func:`fit` (with :func:`train_step`) and :func:`evaluate`.
    """
    tally = _Tally()
    for xb, tb in batches:
        tally.add(step(xb, tb), model.total_penalty(), xb.shape[0])
        if report is not None and tally.steps % LOG_EVERY == 0:
            report(tally)
        if max_steps is not None and tally.steps >= max_steps:
            break
    return tally


def _check_finite(value, when: str):
    """The one check that training has not diverged (NaN or inf loss)."""
    if not math.isfinite(value):
        raise FloatingPointError(f"the training loss became {value} {when}. {CAUSES}")


def _prepare(model, X, Y, loss, check: bool = True, what: str = ""):
    """Check the data (unless ``check`` is False: fit checked it already); return the loss
    object and the model's array module and dtype.
    """
    from .layers.base import Layer  # noqa: PLC0415

    if not isinstance(model, Layer):
        raise TypeError(f"expected a scratch_ae model, got {type(model).__name__}")
    loss_fn = get_loss(loss if loss is not None else (model.loss or "mse"))
    if check:
        # Cross-entropy targets are probabilities: pixels in 0..255 would train to a loss < 0.
        probs = isinstance(loss_fn, (BCE, BCEWithLogits))
        check_data(X, f"{what}X", unit_range=probs and Y is None)
        if Y is not None:
            check_data(Y, f"{what}Y", n=X.shape[0], unit_range=probs)
    return loss_fn, model_array_module(model), model_dtype(model)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`fit`: ``epochs_done`` epochs are finished (and checkpointed, when a
    ``checkpoint_dir`` was given), the one running when it came is lost.
    """

    def __init__(self, epoch: int, epochs_done: int, checkpoint_dir):
        super().__init__(f"interrupted during epoch {epoch + 1}")
        self.epoch, self.epochs_done, self.checkpoint_dir = epoch, epochs_done, checkpoint_dir


def fit(model, X, Y=None, *, epochs: int = 1, batch_size: int = 32, optimizer=None, loss=None,
        validation_data=None, shuffle: bool = True, seed: int | None = 0, verbose: bool = True,
        callbacks=(), max_steps: int | None = None, checkpoint_dir=None, resume: bool = False,
        checkpoint_meta: dict | None = None, lr_schedule=None) -> History:
    """Train ``model`` to map ``X`` to ``Y`` (default: ``X`` itself, as an autoencoder).

    Args:
        X, Y: inputs and targets (default: X), (N, ...) float32/float64, NumPy or CuPy arrays.
        epochs, batch_size: as in Keras; the last batch of an epoch may be smaller.
        optimizer: an :class:`~scratch_ae.optim.Optimizer` (default ``SGD(lr=0.01)``).
        loss: a :class:`~scratch_ae.losses.Loss` or its name; default ``model.loss``.
        validation_data: ``X_val`` or ``(X_val, Y_val)``, evaluated after each epoch.
        shuffle, seed: the batch order is a permutation drawn from ``seed`` each epoch.
        verbose: show a tqdm progress bar (loss, penalty, validation loss, samples/s).
        callbacks: callables ``cb(model, epoch, logs)`` run after each epoch.
        max_steps: stop after this many steps in total (for quick runs and tests).
        checkpoint_dir, resume, checkpoint_meta: save a checkpoint (and the JSON notes) there
            after every epoch; continue from it (:mod:`scratch_ae.checkpoint`).
        lr_schedule: ``f(epoch) -> learning rate`` as each epoch starts (optim.cosine_schedule).

    Returns a :class:`History`: ``loss``, ``recon`` (the reconstruction part), ``penalty``
    (regularizers, KL), their ``val_`` twins, ``warnings`` (divergence, also a RuntimeWarning).
    Raises NonFiniteError (a FloatingPointError) naming the step and the first layer that went
    non-finite (that step changed no weight); TrainingInterrupted on Ctrl-C.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    check_batch_size(batch_size)
    loss_fn, xp, dtype = _prepare(model, X, Y, loss)
    X_val, Y_val = _split_validation(validation_data, model, loss_fn)
    optimizer = get_optimizer(optimizer) if optimizer is not None else SGD(lr=0.01)
    rs, steps = np.random.default_rng(seed), 0
    start, history, callbacks = _start(model, optimizer, rs, callbacks, checkpoint_dir, resume,
                                       checkpoint_meta)
    step = _GuardedStep(model, loss_fn, optimizer, history, checkpoint_dir, xp is np, lr_schedule)
    with _training(model, step, xp) as timed:  # threads chosen; no dL/dX of the data
        try:
            for epoch in range(start, epochs):
                t0 = time.perf_counter()
                order = rs.permutation(X.shape[0]) if shuffle else None
                bar = _progress(X.shape[0], epoch, epochs, verbose)
                step.new_epoch(epoch)  # and the learning rate for it, from lr_schedule
                tally = _run(model, timed, _chunks(X, Y, order, batch_size, xp, dtype),
                             report=lambda t, bar=bar: _report(bar, t, history),
                             max_steps=None if max_steps is None else max_steps - steps)
                steps, logs = steps + tally.steps, tally.logs()
                _check_finite(logs["loss"], f"in epoch {epoch + 1}")
                if X_val is not None:
                    val = _evaluate(model, X_val, Y_val, loss_fn, check=False)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                history.append(logs, time.perf_counter() - t0)
                _close(bar, tally.seen, logs)
                for cb in callbacks:
                    cb(model, epoch, logs)
                if max_steps is not None and steps >= max_steps:
                    break
        except KeyboardInterrupt:
            raise TrainingInterrupted(step.epoch, len(history.seconds), checkpoint_dir) from None
    _warn_if_diverged(history)
    return history


def _start(model, optimizer, rs, callbacks, checkpoint_dir, resume, meta):
    """``(first epoch, history, callbacks)``: from scratch, or where the checkpoint left off;
    with a ``checkpoint_dir``, saving the checkpoint is the first callback of every epoch.
    """
    from . import checkpoint  # noqa: PLC0415

    start, history = 0, History()
    if resume:
        if checkpoint_dir is None:
            raise ValueError("resume=True needs the checkpoint_dir to resume from")
        start, saved = checkpoint.restore(checkpoint_dir, model, optimizer, rs)
        history = History.from_dict(saved)
    if checkpoint_dir is not None:
        callbacks = [checkpoint.saver(checkpoint_dir, optimizer, history, rs, meta), *callbacks]
    return start, history, callbacks


class _GuardedStep:
    """``step(xb, tb)`` for :func:`_run`: :func:`train_step` behind the numerical guard.

    When the guard finds non-finite gradients (before the optimizer touched anything), the
    batch is run again with every layer watched, and a :class:`NonFiniteError` says at which
    epoch and step, which layer went non-finite first, and where the last checkpoint is.
    """

    def __init__(self, model, loss_fn, optimizer, history, checkpoint_dir, on_host: bool,
                 lr_schedule=None):
        self.model, self.loss_fn, self.history = model, loss_fn, history
        self.checkpoint_dir, self.on_host = checkpoint_dir, on_host
        self.optimizer = GuardedOptimizer(optimizer, check=on_host)  # GPU: see scratch_ae.guard
        self.lr_schedule = lr_schedule
        self.epoch = self.step = 0

    def new_epoch(self, epoch: int) -> None:
        """Count steps from 0 again; set the epoch's learning rate when there is a schedule."""
        self.epoch, self.step = epoch, 0
        if self.lr_schedule is not None:
            self.optimizer.optimizer.lr = float(self.lr_schedule(epoch))  # the wrapped one

    def __call__(self, xb, tb):
        self.step += 1
        try:
            value = train_step(self.model, self.loss_fn, self.optimizer, xb, tb)
        except _BadGradients:
            culprit = diagnose(self.model, self.loss_fn, xb, tb)
            saved = (f"; the last good checkpoint (epoch {self.epoch}) is in "
                     f"{self.checkpoint_dir}" if self.checkpoint_dir and self.epoch else "")
            raise NonFiniteError(
                f"training stopped at epoch {self.epoch + 1}, step {self.step}: the gradients "
                f"became NaN or infinite; the first non-finite value was {culprit}. The weights "
                f"are those before this step{saved}. {CAUSES}") from None
        if self.history.start_loss is None and self.on_host:  # for the divergence warning
            # With its penalty, like the epoch losses it is compared with (sparse models, VAE).
            self.history.start_loss = float(value) + float(self.model.total_penalty())
        return value


# The loss at the end counts as diverged when it is this many times its best epoch's, or its
# value at the very first step (then training made the model worse than it started).
DIVERGED = 2.0


def _warn_if_diverged(history: History) -> None:
    losses = history.history.get("loss", [])
    if not losses:
        return
    best, last = min(losses), losses[-1]
    message = None
    if history.start_loss is not None and last > DIVERGED * history.start_loss:
        message = (f"training diverged: the loss ended at {last:.4g}, above {DIVERGED:g} times "
                   f"its {history.start_loss:.4g} at the first step")
    elif last > DIVERGED * best:
        message = (f"training diverged: the loss rose from {best:.4g} (epoch "
                   f"{losses.index(best) + 1}) to {last:.4g} (epoch {len(losses)})")
    if message:
        message += "; the learning rate is probably too high"
        history.warnings.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


@contextmanager
def _training(model, step, xp):
    """fit's surroundings for its steps; yields the step to run.

    * BLAS and Numba thread counts that cannot oversubscribe the free cores, confirmed by a
      trial of the first steps against one thread (threads.py);
    * ``input_grad = False`` on the model's first layer: nobody reads dL/dX of the training
      data, so it may skip computing it (see layers/base.py); restored afterwards.
    """
    if xp is np:
        threads.ensure(backend.get_backend())
        step = threads.Trial(backend.get_backend()).wrap(step)
    first = model
    while first.sublayers():
        first = first.sublayers()[0]
    saved, first.input_grad = first.input_grad, False
    try:
        yield step
    finally:
        first.input_grad = saved


def _progress(n, epoch, epochs, verbose):
    if not verbose:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415 - only needed when a bar is shown

    return tqdm(total=n, desc=f"epoch {epoch + 1}/{epochs}", unit="sample", unit_scale=True,
                mininterval=0.5, leave=True, dynamic_ncols=True)


def _close(bar, seen, logs):
    """At an epoch's end: the progress bar shows every sample and the epoch's final numbers."""
    if bar is not None:
        bar.n = seen
        bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
        bar.close()


def _report(bar, tally, history):
    """Every LOG_EVERY steps: check the running loss is finite and update the progress bar."""
    loss_value = tally.mean("loss")  # the one device-to-host read every LOG_EVERY steps
    _check_finite(loss_value, f"after {tally.seen} samples")
    if history.start_loss is None:  # on a GPU: the first loss read back stands for the start
        history.start_loss = loss_value + tally.mean("penalty")
    if bar is not None:
        bar.update(tally.seen - bar.n)
        post = {"loss": f"{loss_value:.4f}"}
        pen = tally.mean("penalty")
        if pen:
            post["penalty"] = f"{pen:.4f}"
        bar.set_postfix(post, refresh=False)


def evaluate(model, X, Y=None, *, loss=None, batch_size: int = 256) -> dict:
    """Mean loss over ``X`` in inference mode: ``{"loss", "recon"[, "penalty"]}``.

    Penalties (activity regularizers, the VAE's KL) are computed on the evaluation data too, as
    Keras does, and reported separately.
    """
    return _evaluate(model, X, Y, loss, batch_size=batch_size)


def _evaluate(model, X, Y, loss, batch_size: int = 256, check: bool = True) -> dict:
    check_batch_size(batch_size)
    loss_fn, xp, dtype = _prepare(model, X, Y, loss, check=check)

    def step(xb, tb):
        return loss_fn.forward(model.forward(xb, training=False), tb)

    return _run(model, step, _chunks(X, Y, None, batch_size, xp, dtype)).logs()


def predict(fn, X, *, batch_size: int = 256):
    """Apply ``fn`` (a forward, called as ``fn(xb)``: inference mode) to ``X`` in batches and
    join the results.

    The result lives where ``X`` lives: NumPy in, NumPy out, even for a model on the GPU.
    """
    check_data(X, "X")
    check_batch_size(batch_size)
    owner = getattr(fn, "__self__", None)
    model_xp = model_array_module(owner) if owner is not None else backend.get_array_module(X)
    dtype = model_dtype(owner) if owner is not None else X.dtype
    on_host = backend.get_array_module(X) is np
    out = []
    # As in fit: a chunk goes to the device at once, and its results come back at once.
    for xc, _ in _chunks(X, None, None, CHUNK, model_xp, dtype):
        yc = model_xp.concatenate([fn(xc[b0:b0 + batch_size])
                                   for b0 in range(0, xc.shape[0], batch_size)], axis=0)
        out.append(backend.to_numpy(yc) if on_host else yc)
    mod = np if on_host else model_xp
    return mod.concatenate(out, axis=0)
