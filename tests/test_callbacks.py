"""scratch_ae/callbacks.py: the points of fit's loop callbacks are called at, and the library's
own callbacks (progress bar, learning-rate schedule); the guard and the thread trial have their
own files (test_guard.py, test_threads.py)."""

import numpy as np
import pytest

from scratch_ae import SGD, Dense, Sequential, Sigmoid, backend, fit
from scratch_ae.callbacks import (
    LOG_EVERY,
    Callback,
    CallbackList,
    LearningRateSchedule,
    ProgressBar,
)
from scratch_ae.layers import ActivityL1
from scratch_ae.train import Tally, TrainingInterrupted


def _model(penalty=False):
    backend.seed(0)
    layers = [Dense(8, 4), Sigmoid(), *([ActivityL1(0.1)] if penalty else []), Dense(4, 8),
              Sigmoid()]
    return Sequential(layers, loss="bce")


def _x(n=40):
    return np.random.default_rng(0).random((n, 8), dtype=np.float32)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_begin(self, xb, tb):
        self.calls.append(f"batch_begin {len(xb)}")

    def on_batch_end(self, tally):
        self.calls.append(f"batch_end {tally.steps} {tally.seen}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, history):
        self.calls.append(f"train_end {len(history.seconds)}")


def test_a_callback_is_called_at_each_point_of_the_loop_in_order():
    rec, seen = Recorder(), []
    fit(_model(), _x(25), epochs=2, batch_size=10, verbose=False, validation_data=_x(5),
        callbacks=[rec, lambda model, epoch, logs: seen.append((epoch, logs["loss"]))])
    one_epoch = ["batch_begin 10", "batch_end 1 10", "batch_begin 10", "batch_end 2 20",
                 "batch_begin 5", "batch_end 3 25"]
    logs = "['loss', 'recon', 'val_loss', 'val_recon']"
    assert rec.calls == ["train_begin", "epoch_begin 0", *one_epoch, f"epoch_end 0 {logs}",
                         "epoch_begin 1", *one_epoch, f"epoch_end 1 {logs}", "train_end 2"]
    assert [e for e, _ in seen] == [0, 1] and all(np.isfinite(v) for _, v in seen)


def test_only_callbacks_with_batch_hooks_are_called_per_batch():
    class EpochOnly(Callback):
        def on_epoch_end(self, epoch, logs):
            pass

    rec = Recorder()
    cbs = CallbackList([EpochOnly(), rec, lambda m, e, logs: None], model=None)
    assert cbs._begin == [rec.on_batch_begin] and cbs._end == [rec.on_batch_end]


def test_the_learning_rate_schedule_sets_each_epochs_rate():
    opt, rates = SGD(lr=1.0), []
    fit(_model(), _x(), epochs=3, batch_size=10, verbose=False, optimizer=opt,
        lr_schedule=lambda epoch: [0.5, 0.25, 0.125][epoch],
        callbacks=[lambda m, e, logs: rates.append(opt.lr)])
    assert rates == [0.5, 0.25, 0.125]
    sched = LearningRateSchedule(opt, lambda e: 10.0 * (e + 1))
    sched.on_epoch_begin(4)
    assert opt.lr == 50.0


def _tally(steps, loss, penalty, nb=1):
    tally = Tally()
    for _ in range(steps):
        tally.add(np.float32(loss), np.float32(penalty), nb)
    return tally


def test_the_progress_bar_shows_the_loss_with_its_penalty_mid_epoch_as_at_its_end():
    bar = ProgressBar(n_samples=100, epochs=1)
    bar.on_epoch_begin(0)
    bar.on_batch_end(_tally(LOG_EVERY, loss=0.25, penalty=0.125))
    mid = bar.bar.postfix
    assert "loss=0.3750" in mid and "penalty=0.1250" in mid and "recon" not in mid
    live = bar.bar
    bar.on_epoch_end(0, {"loss": 0.375, "recon": 0.25, "penalty": 0.125, "val_loss": 0.5})
    assert "loss=0.3750" in live.postfix and "val_loss=0.5000" in live.postfix
    assert live.n == 100 and bar.bar is None  # closed, showing every sample


def test_ctrl_c_closes_the_bar_and_leaves_the_model_and_optimizer_as_they_were(capsys):
    class CtrlC(Callback):
        def on_batch_end(self, tally):
            if tally.steps == 2:
                raise KeyboardInterrupt

    model, opt = _model(), SGD(lr=0.1)
    with pytest.raises(TrainingInterrupted) as e:
        fit(model, _x(), epochs=2, batch_size=10, verbose=True, optimizer=opt,
            callbacks=[CtrlC()])
    assert e.value.epochs_done == 0 and e.value.epoch == 0
    assert opt.hooks == [] and model.layers[0].input_grad is True
    err = capsys.readouterr().err
    assert err.endswith("\n")  # the bar's line is finished: a message after it starts afresh


def test_a_penalty_shows_in_the_epoch_logs_and_the_bar(capsys):
    hist = fit(_model(penalty=True), _x(), epochs=1, batch_size=10, verbose=True)
    assert hist["loss"][0] == pytest.approx(hist["recon"][0] + hist["penalty"][0])
    assert "penalty=" in capsys.readouterr().err


def test_fit_sets_the_scheduled_rate_at_the_start_of_every_epoch(rng):
    from scratch_ae import Dense, Sequential
    from scratch_ae.models import zoo
    from scratch_ae.optim import SGD

    model = Sequential([Dense(6, 6)])
    opt = SGD(lr=0.5)
    seen = []
    model.fit(rng.random((20, 6)).astype(np.float32), epochs=3, batch_size=8, optimizer=opt,
              loss="mse", verbose=False, lr_schedule=lambda e: 0.1 / (e + 1),
              callbacks=[lambda m, e, logs: seen.append(opt.lr)])
    assert seen == [0.1, 0.05, 0.1 / 3]
    deep = zoo.get_recipe("deep")
    assert deep.lr_schedule == "cosine"
    assert deep.lr_schedule_for(SGD(lr=0.2), 4)(0) == pytest.approx(0.2)
    assert zoo.get_recipe("stacked").lr_schedule_for(SGD(lr=0.2), 4) is None
    broken = zoo.Recipe(**{**deep.__dict__, "lr_schedule": "linear"})
    with pytest.raises(ValueError, match="unknown lr_schedule 'linear'"):
        broken.lr_schedule_for(SGD(lr=0.2), 4)
