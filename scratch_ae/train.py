"""The training loop: one step of gradient descent, and ``fit``, which repeats it.

:func:`train_step` is the heart of the library, five lines: zero the gradients, forward, loss,
backward, optimizer step. :func:`fit` is the loop around it that every deep-learning course
writes: shuffle, cut into batches, take a step, keep a tally, validate, report. What else it
does -- a progress bar, the numerical guard, checkpoints, a learning-rate schedule, the
choice of threads -- is attached to the loop as callbacks (:mod:`scratch_ae.callbacks`) and
to the optimizer as a hook, not wrapped around the step.

The rest is bookkeeping: checking the data once, where it enters; cutting it into batches
without copying the whole dataset (never a float64 copy); moving a chunk of it at a time to
the model's device (:func:`batches`).
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from . import backend, checkpoint
from .callbacks import CallbackList, LearningRateSchedule, ProgressBar
from .guard import NumericalGuard
from .layers.base import Layer
from .losses import BCE, BCEWithLogits, get_loss
from .optim import SGD, get_optimizer
from .threads import Trial

# Samples moved to the device at a time: large enough that a GPU is not fed batch by batch.
CHUNK = 8192


@dataclass
class History:
    """Per-epoch metrics: ``history["loss"][e]``, ``history["val_loss"][e]``, ..."""

    history: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)

    def append(self, logs: dict, seconds: float, first=None) -> None:
        """Add an epoch's ``logs`` and time; ``first``: its first step's ``(loss, penalty)``,
        kept as the run's start when none is known yet (read back here, once)."""
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        self.seconds.append(float(seconds))
        if self.start_loss is None and first is not None:
            self.start_loss = float(first[0]) + float(first[1])

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


def batches(X, Y, order, batch_size, xp, dtype):
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


def _prepare(model, X, Y, loss, check: bool = True, what: str = ""):
    """Check the data (unless ``check`` is False: fit checked it already); return the loss
    object and the model's array module and dtype.
    """
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


class Tally:
    """Sample-weighted sums of the loss and the penalty over the batches seen so far.

    The sums stay on the device (in float64: float32 running sums drift over an epoch) until
    :meth:`mean` reads them back. ``first`` keeps the first step's loss and penalty.
    """

    def __init__(self):
        self.loss = self.penalty = 0.0
        self.seen = self.steps = 0
        self.first = None

    def add(self, value, penalty, nb):
        if self.first is None:
            self.first = (value, penalty)
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
        callbacks: :class:`~scratch_ae.callbacks.Callback` objects, or functions
            ``f(model, epoch, logs)`` run after each epoch.
        max_steps: stop after this many steps in total (for quick runs and tests).
        checkpoint_dir, resume, checkpoint_meta: save a checkpoint (and the JSON notes) there
            after every epoch; continue from it (:mod:`scratch_ae.checkpoint`).
        lr_schedule: ``f(epoch) -> learning rate`` as each epoch starts (optim.cosine_schedule).

    Returns a :class:`History`: ``loss``, ``recon`` (the reconstruction part), ``penalty``
    (regularizers, KL), their ``val_`` twins, ``warnings`` (divergence, also a RuntimeWarning).
    Raises NonFiniteError (a FloatingPointError) naming the step and the first layer that went
    non-finite (that step changed no weight); TrainingInterrupted on Ctrl-C.
    """
    run = _Run(model, X, Y, epochs, batch_size, optimizer, loss, validation_data, seed)
    start, history = run.start(checkpoint_dir, resume, checkpoint_meta)
    cbs = run.callbacks(history, verbose, callbacks, checkpoint_dir, lr_schedule, epochs)
    steps, epoch = 0, start
    with _training(model, run.optimizer, run.guard):
        try:
            cbs.on_train_begin(model)
            for epoch in range(start, epochs):
                cbs.on_epoch_begin(epoch)
                t0, tally = time.perf_counter(), Tally()
                order = run.rs.permutation(len(X)) if shuffle else None
                for xb, tb in batches(X, Y, order, batch_size, run.xp, run.dtype):
                    cbs.on_batch_begin(xb, tb)
                    value = train_step(model, run.loss, run.optimizer, xb, tb)
                    tally.add(value, model.total_penalty(), len(xb))
                    cbs.on_batch_end(tally)
                    steps += 1
                    if steps == max_steps:
                        break
                logs = tally.logs()
                if run.X_val is not None:
                    val = _evaluate(model, run.X_val, run.Y_val, run.loss, check=False)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                history.append(logs, time.perf_counter() - t0, tally.first)
                cbs.on_epoch_end(epoch, logs)
                if steps == max_steps:
                    break
        except KeyboardInterrupt:
            raise TrainingInterrupted(epoch, len(history.seconds), checkpoint_dir) from None
        finally:
            cbs.on_train_end(history)
    _warn_if_diverged(history)
    return history


class _Run:
    """What ``fit`` checks and sets up before its loop (so the loop itself stays short)."""

    def __init__(self, model, X, Y, epochs, batch_size, optimizer, loss, validation_data, seed):
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        check_batch_size(batch_size)
        self.model = model
        self.loss, self.xp, self.dtype = _prepare(model, X, Y, loss)
        self.X_val, self.Y_val = _split_validation(validation_data, model, self.loss)
        self.optimizer = get_optimizer(optimizer) if optimizer is not None else SGD(lr=0.01)
        self.rs = np.random.default_rng(seed)
        self.n = X.shape[0]
        on_host = self.xp is np
        self.guard = NumericalGuard(model, self.loss, check=on_host)

    def start(self, checkpoint_dir, resume, meta):
        """``(first epoch, history)``: from scratch, or where the checkpoint left off."""
        self.saver = None
        history = History()
        start = 0
        if resume:
            if checkpoint_dir is None:
                raise ValueError("resume=True needs the checkpoint_dir to resume from")
            start, saved = checkpoint.restore(checkpoint_dir, self.model, self.optimizer, self.rs)
            history = History.from_dict(saved)
        if checkpoint_dir is not None:
            self.saver = checkpoint.Saver(checkpoint_dir, self.optimizer, history, self.rs, meta)
            self.guard.checkpoint_dir = checkpoint_dir
        return start, history

    def callbacks(self, history, verbose, user, checkpoint_dir, lr_schedule, epochs):
        """The library's callbacks, in order, then the user's."""
        cbs = []
        if self.xp is np:  # threads: chosen, then confirmed by a trial of the first steps
            cbs.append(Trial(backend.get_backend()))
        cbs.append(self.guard)
        if lr_schedule is not None:
            cbs.append(LearningRateSchedule(self.optimizer, lr_schedule))
        if verbose:
            cbs.append(ProgressBar(self.n, epochs))
        if self.saver is not None:  # saved first: a user's callback may stop the run
            cbs.append(self.saver)
        return CallbackList([*cbs, *user], self.model)


@contextmanager
def _training(model, optimizer, guard):
    """What ``fit`` puts in place for its steps, and takes away after them:

    * the numerical guard as the optimizer's hook (it may refuse a step: scratch_ae.guard);
    * ``input_grad = False`` on the model's first layer: nobody reads dL/dX of the training
      data, so it may skip computing it (see layers/base.py);
    * NumPy's overflow warnings silenced: when values blow up, the guard says where, in one
      clear error, instead of a screen of RuntimeWarnings before it.
    """
    first = model
    while first.sublayers():
        first = first.sublayers()[0]
    saved, first.input_grad = first.input_grad, False
    optimizer.hooks.append(guard.before_step)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            yield
    finally:
        optimizer.hooks.remove(guard.before_step)
        first.input_grad = saved


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


def evaluate(model, X, Y=None, *, loss=None, batch_size: int = 256) -> dict:
    """Mean loss over ``X`` in inference mode: ``{"loss", "recon"[, "penalty"]}``.

    Penalties (activity regularizers, the VAE's KL) are computed on the evaluation data too, as
    Keras does, and reported separately.
    """
    return _evaluate(model, X, Y, loss, batch_size=batch_size)


def _evaluate(model, X, Y, loss, batch_size: int = 256, check: bool = True) -> dict:
    check_batch_size(batch_size)
    loss_fn, xp, dtype = _prepare(model, X, Y, loss, check=check)

    tally = Tally()
    for xb, tb in batches(X, Y, None, batch_size, xp, dtype):
        value = loss_fn.forward(model.forward(xb, training=False), tb)
        tally.add(value, model.total_penalty(), xb.shape[0])
    return tally.logs()


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
    for xc, _ in batches(X, None, None, CHUNK, model_xp, dtype):
        yc = model_xp.concatenate([fn(xc[b0:b0 + batch_size])
                                   for b0 in range(0, xc.shape[0], batch_size)], axis=0)
        out.append(backend.to_numpy(yc) if on_host else yc)
    mod = np if on_host else model_xp
    return mod.concatenate(out, axis=0)
