"""Callbacks: what ``fit`` does besides training, attached at fixed points of its loop.

The loop in :func:`scratch_ae.train.fit` is the one a learner expects -- shuffle, cut into
batches, take a step, keep a tally, validate, report. Everything else hangs on it here::

    on_train_begin(model)               once, before the first step
    on_epoch_begin(epoch)               epoch counts from 0
    on_batch_begin(xb, tb)              before each training step
    on_batch_end(tally)                 after it: the running sums so far (see train.Tally)
    on_epoch_end(epoch, logs)           logs: loss, recon, penalty and their val_ twins
    on_train_end(history)               always, also after an error or Ctrl-C (to clean up)

Subclass :class:`Callback` and override what you need; ``fit(callbacks=[...])`` also takes a
plain function ``f(model, epoch, logs)``, run at the end of every epoch. The library's own:
the progress bar and the learning-rate schedule (here), the numerical guard
(:class:`scratch_ae.guard.NumericalGuard`), the thread trial (:class:`scratch_ae.threads.Trial`)
and checkpoints (:class:`scratch_ae.checkpoint.Saver`).
"""

from __future__ import annotations

from tqdm.auto import tqdm

# Steps between reading the running loss back from the device (and redrawing the progress bar).
LOG_EVERY = 50


class Callback:
    """Does nothing at every point of the loop; subclasses override what they need."""

    def on_train_begin(self, model) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_batch_begin(self, xb, tb) -> None: ...

    def on_batch_end(self, tally) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, history) -> None: ...


class EpochEnd(Callback):
    """A plain function ``f(model, epoch, logs)`` run at the end of every epoch."""

    def __init__(self, fn, model):
        self.fn, self.model = fn, model

    def on_epoch_end(self, epoch, logs):
        self.fn(self.model, epoch, logs)


class CallbackList:
    """The callbacks of one ``fit``, called in order at each point of the loop.

    A batch hook runs thousands of times an epoch, so only the callbacks that define one are
    called there.
    """

    def __init__(self, callbacks, model):
        self.callbacks = [cb if isinstance(cb, Callback) else EpochEnd(cb, model)
                          for cb in callbacks]
        self._begin = [cb.on_batch_begin for cb in self.callbacks
                       if type(cb).on_batch_begin is not Callback.on_batch_begin]
        self._end = [cb.on_batch_end for cb in self.callbacks
                     if type(cb).on_batch_end is not Callback.on_batch_end]

    def on_train_begin(self, model):
        for cb in self.callbacks:
            cb.on_train_begin(model)

    def on_epoch_begin(self, epoch):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch)

    def on_batch_begin(self, xb, tb):
        for hook in self._begin:
            hook(xb, tb)

    def on_batch_end(self, tally):
        for hook in self._end:
            hook(tally)

    def on_epoch_end(self, epoch, logs):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_end(self, history):
        for cb in self.callbacks:
            cb.on_train_end(history)


class LearningRateSchedule(Callback):
    """Set ``optimizer.lr = schedule(epoch)`` as each epoch starts (``optim.cosine_schedule``).

    A function of the epoch, not of the steps taken, so a resumed run trains at the same rates.
    """

    def __init__(self, optimizer, schedule):
        self.optimizer, self.schedule = optimizer, schedule

    def on_epoch_begin(self, epoch):
        self.optimizer.lr = float(self.schedule(epoch))


class ProgressBar(Callback):
    """A tqdm bar per epoch: samples done, samples/s, and the running loss every
    ``LOG_EVERY`` steps -- the loss *with* its penalty, as the epoch's final number is, and the
    penalty beside it for models that have one. At the epoch's end: every number of ``logs``.
    """

    def __init__(self, n_samples: int, epochs: int):
        self.n, self.epochs, self.bar = n_samples, epochs, None

    def on_epoch_begin(self, epoch):
        self.bar = tqdm(total=self.n, desc=f"epoch {epoch + 1}/{self.epochs}", unit="sample",
                        unit_scale=True, mininterval=0.5, leave=True, dynamic_ncols=True)

    def on_batch_end(self, tally):
        if tally.steps % LOG_EVERY == 0:
            self.bar.update(tally.seen - self.bar.n)
            logs = tally.logs()  # the one device-to-host read every LOG_EVERY steps
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k != "recon"},
                                 refresh=False)

    def on_epoch_end(self, epoch, logs):
        self.bar.n = self.n
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
        self._close()

    def on_train_end(self, history):
        self._close()  # after Ctrl-C or an error too: what is printed next starts a new line

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
