"""scratch_ae.check, the gradient-check report behind ``scratch-ae check``: every layer class,
loss and dense zoo model has a row; correct code passes (the full runs on numpy and numba go
through the command, in tests/test_cli.py); a planted wrong backward, a broken layer contract or
an error fails its row, by name, and only its row; a check on "cupy" runs on the device
(rehearsed on scripts/fake_cupy) and says when that cupy is fake."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import scratch_ae.layers as layers_pkg
from scratch_ae import backend, check, losses
from scratch_ae.layers import SELU, Dense, MaxPool2D
from scratch_ae.layers.base import Layer
from scratch_ae.models import zoo


def _rows_by_name(rows):
    return {r.name: r for r in rows}


def _only(monkeypatch, layers=(), losses_=(), models=()):
    """Keep just these cases (by name): a failing row is proven without the whole run."""
    monkeypatch.setattr(check, "LAYER_CASES", [c for c in check.LAYER_CASES if c[0] in layers])
    monkeypatch.setattr(check, "LOSS_CASES", [c for c in check.LOSS_CASES if c[0] in losses_])
    monkeypatch.setattr(check, "MODEL_CASES", [c for c in check.MODEL_CASES if c[0] in models])


def test_rows_come_in_case_order_and_the_backend_is_put_back(monkeypatch):
    """(That every case passes on numpy and on numba is proven through the command, in
    tests/test_cli.py: `scratch-ae check --backend numpy|numba`.)"""
    _only(monkeypatch, layers={"Dense", "ReLU"}, losses_={"MSE (sum)"},
          models={"linear", "small conv autoencoder"})
    rows = check.run("numba")
    assert [(r.group, r.name) for r in rows] == [
        ("layers", "Dense"), ("layers", "ReLU"), ("losses", "MSE (sum)"), ("models", "linear"),
        ("models", "small conv autoencoder")]
    assert all(r.ok and 0 <= r.error < 1e-6 and r.kinks == 0 for r in rows)
    assert backend.get_backend() == "numpy"  # the check put the selected backend back


def test_every_layer_class_has_a_case():
    """A new layer class must be added to LAYER_CASES, so that `scratch-ae check` checks it."""
    classes = set()
    for info in pkgutil.iter_modules(layers_pkg.__path__):
        mod = importlib.import_module(f"scratch_ae.layers.{info.name}")
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if (issubclass(cls, Layer) and cls is not Layer and cls.__module__ == mod.__name__
                    and not cls.__name__.startswith("_")
                    and ("forward" in vars(cls) or "_forward" in vars(cls))):
                classes.add(cls)
    covered = set()
    for _, make, _, _ in check.LAYER_CASES:
        layer = make()
        covered |= {type(sub) for sub in [layer, *layer.all_sublayers()]}
    missing = sorted(c.__name__ for c in classes - covered if c.__name__ != "Activation")
    assert missing == []


def test_every_loss_both_reductions_and_every_dense_zoo_model_have_a_row():
    names = [c[0] for c in check.LOSS_CASES]
    for cls in set(losses.LOSSES.values()):
        assert {f"{cls.__name__} (mean)", f"{cls.__name__} (sum)"} <= set(names)
    dense = {n for n, r in zoo.RECIPES.items() if r.flat and n != "deep"}
    models = {c[0] for c in check.MODEL_CASES}
    assert dense <= models and "deep (widths 16-8-6-3)" in models


def test_inputs_keep_away_from_kinks():
    away = check.make_input((50, 40), "away")
    assert np.abs(away).min() >= 0.1
    distinct = check.make_input((3, 4, 5), "distinct")
    assert len(np.unique(distinct)) == distinct.size  # no max-pool ties
    unit = check.make_input((10, 10), "unit")
    assert unit.min() > 0.1 and unit.max() < 0.9


class WritesIntoDy(Dense):
    def backward(self, dy):
        dx = super().backward(dy)
        dy *= 0.5
        return dx


def test_a_planted_wrong_backward_fails_its_rows_only(monkeypatch):
    _only(monkeypatch, layers={"SELU", "Dense"}, models={"stacked", "linear"})
    right = SELU.backward
    monkeypatch.setattr(SELU, "backward", lambda self, dy: 1.01 * right(self, dy))  # off by 1%
    rows = _rows_by_name(check.run("numpy"))
    assert rows["Dense"].ok and rows["linear"].ok  # no SELU in either
    for name in ("SELU", "stacked"):
        assert not rows[name].ok and rows[name].error is None
        assert "is wrong: analytic" in rows[name].problem and "numeric" in rows[name].problem


def test_a_broken_contract_and_an_error_fail_with_their_reason(monkeypatch):
    def raises():
        raise RuntimeError("CUDA error: an illegal memory access")

    monkeypatch.setattr(check, "LAYER_CASES", [
        ("writes into dy", lambda: WritesIntoDy(5, 3), (2, 5), "smooth"),
        ("raises", raises, (2, 5), "smooth"),
        ("MaxPool2D on a tie", lambda: MaxPool2D(2), (1, 1, 2, 2), "tie"),
    ])
    monkeypatch.setattr(check, "LOSS_CASES", [])
    monkeypatch.setattr(check, "MODEL_CASES", [])
    monkeypatch.setattr(check, "make_input", lambda shape, kind, seed=0: (
        np.zeros(shape) if kind == "tie" else np.ones(shape)))
    rows = _rows_by_name(check.run("numpy"))
    assert "modified its input dy in place" in rows["writes into dy"].problem
    assert rows["raises"].problem == "RuntimeError: CUDA error: an illegal memory access"
    assert "kink" in rows["MaxPool2D on a tie"].problem


def test_report_prints_a_table_and_the_reasons(capsys):
    rows = [check.Row("layers", "Dense", 1.2e-10), check.Row("layers", "SELU", None,
                                                             problem="gradient is wrong"),
            check.Row("models", "stacked", 3e-8, kinks=2)]
    assert check.report(rows) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["layer,", "loss", "or", "model", "max", "rel.", "error", "kinks",
                              "skipped", "result"]
    assert out[1] == "layers:" and out[4] == "models:"
    assert out[2].split() == ["Dense", "1.2e-10", "0", "pass"]
    assert out[3].split() == ["SELU", "-", "0", "FAIL"]
    assert out[5].split() == ["stacked", "3.0e-08", "2", "pass"]
    assert out[6] == "FAIL SELU: gradient is wrong"
    assert out[7].startswith("3 checks: 2 passed, 1 failed (float64")
    assert check.report(rows[:1]) is True


def test_cupy_checks_run_on_the_device(fake_cupy, monkeypatch):
    """Rehearsed on fake_cupy: parameters, gradients and inputs are device arrays throughout,
    and the report says that this cupy is no GPU."""
    _only(monkeypatch, layers={"Dense", "Conv2D 3x3 same"}, losses_={"BCE (mean)"},
          models={"vae2d"})
    seen = []
    real = check.check_layer

    def spy(layer, x, **kw):
        seen.append(backend.is_cupy_array(x) and backend.is_cupy_array(layer.params["W"]))
        return real(layer, x, **kw)

    monkeypatch.setattr(check, "check_layer", spy)
    rows = check.run("cupy")
    assert [r.name for r in rows if r.ok] == ["Dense", "Conv2D 3x3 same", "BCE (mean)", "vae2d"]
    assert seen == [True, True]
    assert "NOT evidence about a GPU" in check.device_note("cupy")
    assert check.device_note("numpy") is None


def test_a_parameter_that_leaves_the_device_fails_the_row(fake_cupy, monkeypatch):
    _only(monkeypatch, layers={"Dense"})
    real = check.check_layer

    def moves_to_host(layer, x, **kw):
        result = real(layer, x, **kw)
        layer.to("numpy")
        return result

    monkeypatch.setattr(check, "check_layer", moves_to_host)
    [row] = check.run("cupy")
    assert "the parameter W left the cupy backend's device" in row.problem


@pytest.mark.skipif(backend.cuda_available()[0], reason="this machine has a usable GPU")
def test_cupy_without_a_gpu_is_a_backend_error():
    with pytest.raises(backend.BackendError, match="backend 'cupy' is not usable here"):
        check.run("cupy")
