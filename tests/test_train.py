"""scratch_ae/train.py: the fit loop and whole-model arithmetic: a network worked by hand, parity
with PyTorch on Géron's stacked autoencoder, a short real-data run, memory/dtype discipline, input
errors checked once at entry, what fit feeds the model, and the divergence warning."""

import math
import os
import tracemalloc
import warnings

import numpy as np
import pytest
from helpers import six_wide_ae, synthetic_digits, tiny_ae, tiny_data

import scratch_ae as sa
from scratch_ae import (
    BCE,
    MSE,
    SELU,
    SGD,
    Autoencoder,
    Dense,
    Sequential,
    Sigmoid,
    backend,
    train,
)
from scratch_ae.layers import Layer
from scratch_ae.train import History, evaluate, fit, predict

# ------------------------------------------------------------------------------ helpers


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrix products run faster on one BLAS thread, most of all on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 (comes with scikit-learn)
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def geron_stacked_ae(dtype=np.float32):
    """784-100-30-100-784, SELU, sigmoid output, BCE (Géron, chapter 17)."""
    model = Autoencoder([Dense(784, 100), SELU(), Dense(100, 30), SELU()],
                        [Dense(30, 100), SELU(), Dense(100, 784), Sigmoid()], loss="bce")
    return model.astype(dtype)


@pytest.fixture(scope="module")
def digits():
    """Flat float32 digits: MNIST from $SCRATCH_AE_DATA when there, else the offline sample."""
    data = pytest.importorskip("scratch_ae.data", reason="scratch_ae/data.py is not there yet")
    if os.environ.get("SCRATCH_AE_DATA"):
        try:
            return data.load_mnist(os.environ["SCRATCH_AE_DATA"], flat=True, download=False)
        except data.DataError:
            pass
    try:
        return data.load_sample(flat=True)
    except data.DataError as exc:
        pytest.skip(f"no MNIST under $SCRATCH_AE_DATA and no offline sample: {exc}")


def _small_model(dtype=np.float32):
    backend.seed(0)
    return Sequential([Dense(784, 16), SELU(), Dense(16, 784), Sigmoid()], loss="bce").astype(
        dtype)


# ------------------------------------------------------------------------------ by hand


def test_tiny_network_worked_by_hand():
    layer = Dense(2, 1).astype(np.float64)
    layer.params["W"][...] = [[0.5], [-1.0]]
    layer.params["b"][...] = [0.1]
    model = Sequential([layer, Sigmoid()])
    x = np.array([[1.0, 2.0]])
    t = np.array([[1.0]])
    loss = MSE()

    # forward: z = 0.5*1 + (-1)*2 + 0.1 = -1.4
    #          y = sigmoid(-1.4) = 1 / (1 + e^1.4) = 1 / 5.0552 = 0.19781611144141825
    y = model.forward(x, training=True)
    assert y[0, 0] == pytest.approx(0.19781611144141825, rel=1e-14)
    # loss: (y - t)^2 over N*D = 1 element = (0.19781611 - 1)^2 = 0.643498991062967
    assert float(loss.forward(y, t)) == pytest.approx(0.643498991062967, rel=1e-14)
    # dL/dy = 2 (y - t) = -1.6043677771171634
    dy = loss.backward()
    assert dy[0, 0] == pytest.approx(-1.6043677771171634, rel=1e-14)
    # dL/dz = dL/dy * y (1 - y) = -1.60436778 * 0.15868490 = -0.25458893625710416
    # dL/dW = x^T dL/dz = [[1 * -0.254589], [2 * -0.254589]] = [[-0.2545889], [-0.5091779]]
    # dL/db = -0.25458893625710416;   dL/dx = dL/dz * W^T = [-0.1272945, 0.2545889]
    model.zero_grad()
    dx = model.backward(dy)
    np.testing.assert_allclose(layer.grads["W"], [[-0.25458893625710416],
                                                  [-0.5091778725142083]], rtol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], [-0.25458893625710416], rtol=1e-13)
    np.testing.assert_allclose(dx, [[0.5 * -0.25458893625710416, -1 * -0.25458893625710416]],
                               rtol=1e-13)
    # SGD, lr 0.1: W = [[0.5 + 0.025458894], [-1 + 0.050917787]], b = 0.1 + 0.025458894
    SGD(lr=0.1).step(model)
    np.testing.assert_allclose(layer.params["W"], [[0.5254588936257104], [-0.9490822127485792]],
                               rtol=1e-14)
    np.testing.assert_allclose(layer.params["b"], [0.12545889362571042], rtol=1e-14)
    # The independent formula, for good measure.
    z = 0.5 * 1 - 1 * 2 + 0.1
    s = 1 / (1 + math.exp(-z))
    assert layer.params["b"][0] == pytest.approx(0.1 - 0.1 * 2 * (s - 1) * s * (1 - s),
                                                 rel=1e-14)


# ------------------------------------------------------------------------------ vs PyTorch


def _torch_reference(torch, model, x, steps, dtype):
    tdt = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    dense = [layer for _, layer, name in model.named_parameters() if name == "W"]
    linears = []
    for d in dense:
        lin = torch.nn.Linear(d.in_features, d.out_features, dtype=tdt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(d.params["W"].T.copy()))
            lin.bias.copy_(torch.from_numpy(d.params["b"].copy()))
        linears.append(lin)
    net = torch.nn.Sequential(linears[0], torch.nn.SELU(), linears[1], torch.nn.SELU(),
                              linears[2], torch.nn.SELU(), linears[3], torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=1.5)
    xt = torch.from_numpy(x)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(net(xt), xt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [(lin.weight.detach().numpy().T, lin.bias.detach().numpy())
                    for lin in linears]


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-9), (np.float32, 1e-5)])
def test_geron_stacked_ae_matches_pytorch_for_20_sgd_steps(dtype, tol):
    torch = pytest.importorskip("torch")
    try:
        from scratch_ae.data import load_sample  # noqa: PLC0415

        x = load_sample(flat=True).x_train[:64]
    except Exception:  # data.py or scikit-learn missing: digit-like blobs instead
        x = synthetic_digits(64)
    x = np.ascontiguousarray(x, dtype=dtype)
    backend.seed(0)
    model = geron_stacked_ae(dtype)
    # One thread: on a small shared machine torch's thread pool spends seconds waiting.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses, weights = _torch_reference(torch, model, x, 20, dtype)
    finally:
        torch.set_num_threads(threads)

    # 64 samples, batch 64, no shuffling: each epoch is exactly one SGD step on the same batch.
    hist = model.fit(x, epochs=20, batch_size=64, shuffle=False, verbose=False,
                     optimizer=SGD(lr=1.5), loss=BCE())
    np.testing.assert_allclose(hist["loss"], losses, rtol=tol, atol=tol)
    assert losses[-1] < losses[0] - 0.05  # it really trained, so the comparison means something
    dense = [layer for _, layer, name in model.named_parameters() if name == "W"]
    for d, (w, b) in zip(dense, weights, strict=True):
        assert d.params["W"].dtype == dtype
        np.testing.assert_allclose(d.params["W"], w, rtol=tol, atol=tol)
        np.testing.assert_allclose(d.params["b"], b, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------ fit


def test_fit_returns_history_per_epoch():
    x = synthetic_digits(40)
    hist = _small_model().fit(x, epochs=3, batch_size=8, validation_data=x[:10], verbose=False,
                              optimizer=SGD(lr=1.0))
    assert isinstance(hist, History)
    for key in ("loss", "recon", "val_loss", "val_recon"):
        assert len(hist[key]) == 3, key
        assert all(math.isfinite(v) for v in hist[key])
    assert len(hist.seconds) == 3
    assert hist["loss"][-1] < hist["loss"][0]
    assert "penalty" not in hist.history  # no regularizer, no penalty column


def test_short_run_on_digits_lowers_validation_bce(digits):
    backend.seed(0)
    model = geron_stacked_ae()
    x_val = digits.x_valid[:500]
    before = evaluate(model, x_val)["loss"]
    # At most 4,800 images (150 steps an epoch), so 300 steps span several epochs on any data
    # (2 on MNIST, 8 on the offline sample) and the first and last epochs can be compared.
    x_train = digits.x_train[:4800]
    epochs = math.ceil(300 * 32 / len(x_train))
    hist = model.fit(x_train, epochs=epochs, batch_size=32, max_steps=300,
                     validation_data=x_val, optimizer=SGD(lr=1.5), verbose=False)
    assert len(hist["loss"]) == epochs >= 2
    after = hist["val_loss"][-1]
    assert after == pytest.approx(evaluate(model, x_val)["loss"], rel=1e-6)
    assert after < 0.5 * before, (before, after)  # ~0.70 -> ~0.21 on the offline sample
    assert hist["loss"][-1] < hist["loss"][0]


def test_max_steps_stops_after_that_many_updates():
    opt = SGD(lr=0.1)
    hist = _small_model().fit(synthetic_digits(50), epochs=10, batch_size=4, max_steps=7,
                              optimizer=opt, verbose=False)
    assert opt.iterations == 7
    assert len(hist["loss"]) == 1  # 13 batches per epoch: stopped inside the first


def test_fit_on_float32_data_never_makes_a_float64_or_full_copy():
    x = np.random.default_rng(0).random((20_000, 784), dtype=np.float32)
    model = _small_model()
    seen = []
    inner = model.forward

    def recording_forward(xb, training=False):
        seen.append((xb.dtype, xb.shape, xb.base is not None))
        return inner(xb, training=training)

    model.forward = recording_forward
    tracemalloc.start()
    try:
        fit(model, x, epochs=1, batch_size=32, max_steps=3, optimizer=SGD(lr=0.1),
            verbose=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == 3
    for dtype, shape, is_view in seen:
        assert dtype == np.float32
        assert shape == (32, 784)
        assert is_view  # a slice of a gathered chunk, not a fresh copy per batch
    # A float64 copy of X would take 2 * X.nbytes (125 MB); even a float32 one X.nbytes.
    assert peak < 0.5 * x.nbytes, f"fit allocated {peak / 1e6:.1f} MB at peak"


def test_fit_on_float64_model_casts_batches_not_data():
    x = synthetic_digits(16)
    model = _small_model(np.float64)
    dtypes = []
    inner = model.forward
    model.forward = lambda xb, training=False: dtypes.append(xb.dtype) or inner(xb, training)
    fit(model, x, epochs=1, batch_size=8, verbose=False)
    assert dtypes == [np.float64, np.float64]
    assert x.dtype == np.float32  # the caller's data is untouched


def test_nan_in_x_names_nan_and_its_index():
    x = synthetic_digits(10)
    x[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*first at index \(3, 5\)"):
        fit(_small_model(), x, verbose=False)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_integer_x_says_to_convert(dtype):
    x = np.zeros((10, 784), dtype=dtype)
    with pytest.raises(TypeError, match=r"float32 or float64, got dtype .*astype\('float32'\)"):
        fit(_small_model(), x, verbose=False)


def test_y_with_other_n_is_rejected():
    x = synthetic_digits(10)
    with pytest.raises(ValueError, match="Y has 9 samples but X has 10"):
        fit(_small_model(), x, x[:9], verbose=False)
    with pytest.raises(ValueError, match="validation Y has 4 samples but X has 5"):
        fit(_small_model(), x, validation_data=(x[:5], x[:4]), verbose=False)


def test_x_without_batch_axis_is_rejected():
    with pytest.raises(ValueError, match=r"batch axis.*shape \(784,\)"):
        fit(_small_model(), np.zeros(784, np.float32), verbose=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epochs": -1}, "epochs must be a positive integer, got -1"),
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),  # as the CLI's --epochs 0
    ({"epochs": 1.5}, "epochs must be a positive integer, got 1.5"),
    ({"epochs": True}, "epochs must be a positive integer, got True"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 8.0}, "batch_size must be a positive integer, got 8.0"),
])
def test_epochs_and_batch_size_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit(_small_model(), synthetic_digits(4), verbose=False, **kwargs)


def test_check_data_scans_once_not_per_batch(monkeypatch):
    """Validation is done at fit's entry: the finite scan runs once per array, not per batch."""
    calls = []
    real = train.check_data
    monkeypatch.setattr(train, "check_data", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    X = np.random.default_rng(0).random((64, 6), dtype=np.float32)
    six_wide_ae().fit(X, epochs=2, batch_size=4, validation_data=X[:8], verbose=False)
    assert calls == ["X", "validation X"]  # each checked once, not per batch or epoch


def test_evaluate_and_predict_do_not_depend_on_batch_size():
    x = synthetic_digits(50).astype(np.float64)
    model = _small_model(np.float64)
    a = evaluate(model, x, batch_size=7)
    b = evaluate(model, x, batch_size=256)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-12)
    # ...and equals the loss of the whole set at once.
    assert a["loss"] == pytest.approx(float(BCE().forward(model.forward(x), x)), rel=1e-12)
    p7, p256 = model.predict(x, batch_size=7), model.predict(x, batch_size=256)
    assert p7.shape == (50, 784) and p7.dtype == np.float64
    np.testing.assert_allclose(p7, p256, rtol=1e-12, atol=0)
    np.testing.assert_allclose(predict(model.forward, x, batch_size=13), p256, rtol=1e-12)


def test_predict_on_empty_input():
    with pytest.raises(ValueError, match="empty"):
        _small_model().predict(np.zeros((0, 784), np.float32))


def test_divergence_gets_a_warning():
    backend.seed(0)
    model = sa.Sequential([sa.Dense(12, 5), sa.SELU(), sa.Dense(5, 12), sa.Sigmoid()],
                          loss="bce")
    with pytest.warns(RuntimeWarning, match="training diverged"):
        h = fit(model, tiny_data(), epochs=2, batch_size=8, optimizer=SGD(1e4), verbose=False)
    assert "learning rate is probably too high" in h.warnings[0]
    quiet = fit(tiny_ae(), tiny_data(), epochs=2, optimizer=SGD(0.1), verbose=False)
    assert quiet.warnings == []


def test_verbose_shows_a_progress_bar(capsys):
    fit(_small_model(), synthetic_digits(20), epochs=1, batch_size=5, verbose=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err
    assert "sample/s" in err
    assert "loss=" in err


def test_quiet_fit_prints_nothing(capsys):
    fit(_small_model(), synthetic_digits(20), epochs=1, batch_size=5, verbose=False)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


# ------------------------------------------------------------------------------ what fit sees


class _Recorder(Layer):
    """The identity, recording every batch it is given."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x, training=False):
        self.batches.append(np.array(x))
        return x

    def backward(self, dy):
        return dy


class _TargetSpy(MSE):
    """MSE that records every target batch."""

    def __init__(self):
        super().__init__()
        self.targets = []

    def forward(self, y_pred, y_true):
        self.targets.append(np.array(y_true))
        return super().forward(y_pred, y_true)


def _ids_and_targets(n, seed=0):
    """X[i] = (i, -i); Y = X with its rows in another order, so Y[i] names X's row perm[i]."""
    ids = np.arange(n, dtype=np.float32)
    X = np.stack([ids, -ids], axis=1)
    perm = np.random.default_rng(seed).permutation(n)
    return X, X[perm], perm


def _fit_and_record(X, Y, **kwargs):
    recorder, spy = _Recorder(), _TargetSpy()
    model = Sequential([recorder, Dense(2, 2)])
    # The rows are ids, so later batches have larger losses: no divergence, just the data.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        fit(model, X, Y, loss=spy, optimizer=SGD(lr=1e-12), verbose=False, **kwargs)
    return recorder.batches, spy.targets


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 16), (1, 1)])
def test_fit_pairs_x_with_y_and_sees_every_sample_once_per_epoch(n, batch_size):
    X, Y, perm = _ids_and_targets(n)
    epochs = 3
    xs, ts = _fit_and_record(X, Y, epochs=epochs, batch_size=batch_size, shuffle=True, seed=4)
    per_epoch = math.ceil(n / batch_size)
    assert len(xs) == len(ts) == epochs * per_epoch
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    orders = []
    for e in range(epochs):
        xb = xs[e * per_epoch:(e + 1) * per_epoch]
        tb = ts[e * per_epoch:(e + 1) * per_epoch]
        assert [len(b) for b in xb] == sizes  # the last, partial batch included
        ids = np.concatenate([b[:, 0] for b in xb]).astype(int)
        np.testing.assert_array_equal(np.sort(ids), np.arange(n))  # each sample exactly once
        # Each target is the one given for that very sample, whatever the shuffled order.
        np.testing.assert_array_equal(np.concatenate(tb), Y[ids])
        np.testing.assert_array_equal(np.concatenate(tb)[:, 0], perm[ids])
        orders.append(ids)
    if n >= 7:  # really shuffled: not in order, and a new order each epoch
        assert not np.array_equal(orders[0], np.arange(n))
        assert not np.array_equal(orders[0], orders[1])


def test_fit_without_shuffle_keeps_the_order_and_pairs():
    X, Y, perm = _ids_and_targets(11)
    xs, ts = _fit_and_record(X, Y, epochs=2, batch_size=4, shuffle=False)
    ids = np.concatenate([b[:, 0] for b in xs]).astype(int)
    np.testing.assert_array_equal(ids, np.tile(np.arange(11), 2))
    np.testing.assert_array_equal(np.concatenate(ts)[:, 0], perm[ids])


def test_fit_pairs_and_covers_across_device_chunks():
    """More samples than fit moves at once (8192): the pairing and the last batch survive the
    chunk boundary."""
    n, batch_size = 9003, 1000
    X, Y, perm = _ids_and_targets(n, seed=1)
    xs, ts = _fit_and_record(X, Y, epochs=1, batch_size=batch_size, shuffle=True, seed=2)
    assert [len(b) for b in xs] == [1000] * 9 + [3]
    ids = np.concatenate([b[:, 0] for b in xs]).astype(int)
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))
    np.testing.assert_array_equal(np.concatenate(ts)[:, 0], perm[ids])


def test_fit_autoencoder_targets_are_the_inputs_under_shuffling():
    X, _, _ = _ids_and_targets(10)
    xs, ts = _fit_and_record(X, None, epochs=2, batch_size=3, shuffle=True, seed=3)
    for xb, tb in zip(xs, ts, strict=True):
        np.testing.assert_array_equal(tb, xb)


def test_evaluate_pairs_x_with_y_and_sees_every_sample_once():
    X, Y, perm = _ids_and_targets(10)
    spy = _TargetSpy()
    recorder = _Recorder()
    evaluate(Sequential([recorder, Dense(2, 2)]), X, Y, loss=spy, batch_size=4)
    assert [len(b) for b in recorder.batches] == [4, 4, 2]
    ids = np.concatenate([b[:, 0] for b in recorder.batches]).astype(int)
    np.testing.assert_array_equal(ids, np.arange(10))
    np.testing.assert_array_equal(np.concatenate(spy.targets)[:, 0], perm[ids])


def test_epoch_loss_weights_the_last_partial_batch_by_its_size():
    """The epoch's loss is the per-sample mean: a 1-sample last batch counts 1/9, not 1/3."""
    X = np.arange(18, dtype=np.float64).reshape(9, 2)
    recorder, spy = _Recorder(), _TargetSpy()
    model = Sequential([recorder, Dense(2, 2)]).astype(np.float64)
    model[1].params["W"][...] = 0.0  # predictions = bias = 0: loss = mean of X**2
    # lr tiny: the weights barely move within the epoch.
    with warnings.catch_warnings():  # X grows row by row: a rising loss that is no divergence
        warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        hist = fit(model, X, epochs=1, batch_size=4, loss=spy, optimizer=SGD(lr=1e-12),
                   shuffle=False, verbose=False)
    assert [len(b) for b in recorder.batches] == [4, 4, 1]
    assert hist["loss"][0] == pytest.approx(float((X**2).mean()), rel=1e-9)


def test_a_blow_up_is_one_clear_error_without_numpys_warnings_before_it():
    """NumPy's 'overflow encountered' RuntimeWarnings are silenced inside fit: the guard's
    NonFiniteError says what happened, once, and no warning lines print before it."""
    import warnings  # noqa: PLC0415

    from scratch_ae.guard import NonFiniteError  # noqa: PLC0415

    backend.seed(0)
    model = Sequential([Dense(784, 64), Dense(64, 784)], loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NonFiniteError, match="learning rate is probably too high"):
            fit(model, synthetic_digits(64), epochs=3, batch_size=8, optimizer=SGD(lr=1e4),
                verbose=False)
    assert [str(w.message) for w in caught] == []
    assert np.geterr()["over"] == "warn"  # and NumPy's settings are back as they were


def test_fit_leaves_no_hook_on_the_optimizer_and_restores_the_first_layer():
    model, opt = _small_model(), SGD(lr=0.1)
    fit(model, synthetic_digits(8), epochs=1, batch_size=4, optimizer=opt, verbose=False)
    assert opt.hooks == []
    assert all(layer.input_grad for layer in model.all_sublayers())


def test_fit_is_the_loop_a_learner_reads():
    """fit's body (its docstring aside) stays the short loop of the module docstring: the
    thread trial, guard, checkpoints, progress bar and schedule are callbacks, not more lines."""
    import ast  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    from scratch_ae import train  # noqa: PLC0415

    node = ast.parse(inspect.getsource(train.fit)).body[0]
    body = node.body[1:]  # without the docstring
    lines = body[-1].end_lineno - body[0].lineno + 1
    assert lines <= 35, f"fit's loop is {lines} lines"
    source = inspect.getsource(train.fit)
    for name in ("train_step(", "tally.add(", "cbs.on_batch_end(", "history.append("):
        assert name in source


def _stacked():
    from scratch_ae.models import zoo  # noqa: PLC0415

    return zoo.build("stacked")


def test_pixels_in_0_255_are_rejected_for_a_bce_model():
    X = np.random.default_rng(0).integers(0, 256, (8, 784)).astype(np.float32)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\].*range from 0 to 255.*X / 255"):
        _stacked().fit(X, verbose=False)
    with pytest.raises(ValueError, match=r"validation X must lie in \[0, 1\]"):
        _stacked().fit(X / 255, validation_data=X, verbose=False)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        _stacked().evaluate(X)
    _stacked().fit(X, loss="mse", epochs=1, verbose=False)  # MSE: any range is allowed


def test_empty_arrays_are_rejected():
    empty = np.zeros((0, 784), np.float32)
    with pytest.raises(ValueError, match=r"X is empty \(shape \(0, 784\)\)"):
        _stacked().fit(empty, verbose=False)
    with pytest.raises(ValueError, match="X is empty"):
        _stacked().evaluate(empty)
    with pytest.raises(ValueError, match="X is empty"):
        _stacked().predict(empty)


@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_non_float_inputs_are_rejected(dtype):
    X = np.zeros((4, 784), dtype=dtype)
    with pytest.raises(TypeError, match=f"X must be float32 or float64, got dtype {dtype}"):
        _stacked().fit(X, verbose=False)
    with pytest.raises(TypeError, match=f"Dense expected a floating-point array .*{dtype}"):
        _stacked().forward(X)


def test_batch_size_zero_is_rejected():
    X = np.zeros((4, 784), np.float32)
    for call in (lambda: _stacked().fit(X, batch_size=0, verbose=False),
                 lambda: _stacked().evaluate(X, batch_size=0),
                 lambda: _stacked().predict(X, batch_size=0)):
        with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
            call()


def test_nan_inputs_are_rejected_once_at_entry():
    X = np.full((4, 784), 0.5, np.float32)
    X[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\), the first at index "
                                         r"\(2, 3\)"):
        _stacked().fit(X, verbose=False)


def test_check_data_is_the_documented_entry_check():
    with pytest.raises(TypeError, match="must be an array"):
        sa.train.check_data([1, 2, 3])
