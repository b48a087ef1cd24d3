"""Property tests of the public boundary: random shapes, dtypes and garbage in.

Whatever goes in, the answer is a correct result or the documented error -- TypeError for the
wrong kind of thing (not an array, int/bool/complex dtype), ValueError for the wrong shape or
values (ModelFileError and SpecError are ValueErrors), DataError for a damaged data file -- and
that error is raised by scratch_ae itself, with a message, never by NumPy deep inside a layer.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratch_ae as sa
from scratch_ae import backend, data, io, spec
from scratch_ae.layers import (
    ELU,
    ActivityL1,
    Dropout,
    GaussianNoise,
    GaussianSampling,
    KLSparsity,
    LeakyReLU,
    VariationalHead,
)
from scratch_ae.layers.conv import Conv2D, Conv2DTranspose
from scratch_ae.layers.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D, UpSampling2D

PACKAGE = str(Path(sa.__file__).parent)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def raised_by_us(exc: BaseException) -> bool:
    """The innermost frame of ``exc``'s traceback is in scratch_ae (not in NumPy)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(PACKAGE)


def outcome(fn, *allowed):
    """Call ``fn``: its result, or None after checking the error is allowed and ours."""
    try:
        return fn()
    except allowed as exc:
        assert raised_by_us(exc), f"{type(exc).__name__} raised outside scratch_ae: {exc}"
        assert str(exc), f"{type(exc).__name__} without a message"
        return None


DTYPES = st.sampled_from(["float32", "float64", "float16", "int64", "uint8", "bool",
                          "complex64"])
SHAPES = st.lists(st.integers(0, 6), min_size=0, max_size=5).map(tuple)


@st.composite
def arrays(draw, shape=SHAPES, dtype=DTYPES):
    shp, dt = draw(shape), draw(dtype)
    rs = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = (rs.random(shp) * draw(st.sampled_from([1.0, 255.0]))).astype(dt)
    if a.size and a.dtype.kind in "fc" and draw(st.booleans()):
        a.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return a


GARBAGE = st.one_of(st.none(), st.integers(), st.text(max_size=5),
                    st.lists(st.floats(allow_nan=False), max_size=4), arrays())


def make_layers():
    d = sa.Dense(4, 3)
    return [
        d, sa.DenseTranspose(d), sa.SELU(), sa.ReLU(), LeakyReLU(0.2), ELU(), sa.Sigmoid(),
        sa.Tanh(), sa.Softplus(), Dropout(0.5), GaussianNoise(0.1), ActivityL1(0.1),
        KLSparsity(0.1, 0.1), sa.Flatten(), sa.Reshape((2, 2)), GaussianSampling(),
        VariationalHead(4, 2), Conv2D(2, 3, 3), Conv2D(2, 3, 3, padding="valid", stride=2),
        Conv2DTranspose(2, 1, 3, stride=2), MaxPool2D(2), AvgPool2D(2, padding="same"),
        GlobalAvgPool2D(), UpSampling2D(2),
    ]


@pytest.mark.parametrize("index", range(len(make_layers())))
@SETTINGS
@given(x=st.one_of(arrays(), GARBAGE), training=st.booleans())
def test_every_layer_gives_a_result_or_a_clear_error(index, x, training):
    layer = make_layers()[index]
    y = outcome(lambda: layer.forward(x, training=training), TypeError, ValueError)
    if y is None:
        return
    # A result: float in, same float out, batch axis kept; backward gives dL/dx of x's shape.
    assert y.dtype == x.dtype and y.shape[0] == x.shape[0]
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape


def _model():
    backend.seed(0)
    return sa.Autoencoder([sa.Dense(6, 3), sa.SELU()], [sa.Dense(3, 6), sa.Sigmoid()],
                          loss="bce")


@SETTINGS
@given(X=st.one_of(arrays(st.sampled_from([(0, 6), (5, 6), (5, 7), (5,), (5, 2, 3), ()])),
                   GARBAGE),
       batch_size=st.one_of(st.integers(-1, 8), st.floats(0, 4), st.none()),
       epochs=st.one_of(st.integers(-1, 2), st.just(1.5)))
def test_fit_gives_a_finite_history_or_a_clear_error(X, batch_size, epochs):
    model = _model()
    hist = outcome(lambda: model.fit(X, epochs=epochs, batch_size=batch_size, verbose=False),
                   TypeError, ValueError)
    if hist is not None:
        assert X.dtype.kind == "f" and X.shape[1:] == (6,) and len(X) > 0 and epochs >= 1
        assert 0.0 <= X.min() and X.max() <= 1.0  # BCE: only targets in [0, 1] train
        assert len(hist.history.get("loss", [])) == epochs
        assert all(np.isfinite(v) for v in hist.history.get("loss", []))


@SETTINGS
@given(X=st.one_of(arrays(st.sampled_from([(0, 6), (3, 6), (3, 5), (3,)])), GARBAGE),
       batch_size=st.one_of(st.integers(-1, 4), st.none()))
def test_evaluate_and_predict_give_results_or_clear_errors(X, batch_size):
    model = _model()
    out = outcome(lambda: model.evaluate(X, batch_size=batch_size), TypeError, ValueError)
    if out is not None:
        assert np.isfinite(out["loss"]) and out["loss"] >= 0
    y = outcome(lambda: model.predict(X, batch_size=batch_size), TypeError, ValueError)
    if y is not None:
        assert y.shape == X.shape and y.dtype == np.float32


@SETTINGS
@given(blob=st.binary(max_size=600), keep=st.floats(0, 1))
def test_load_model_on_garbage_or_a_cut_file_is_a_model_file_error(tmp_path_factory, blob, keep):
    folder = tmp_path_factory.mktemp("m")
    good = io.save_model(_model(), folder / "good.npz").read_bytes()
    for content in (blob, b"PK\x03\x04" + blob, good[: int(len(good) * keep)]):
        path = folder / "m.npz"
        path.write_bytes(content)
        outcome(lambda p=path: io.load_model(p), io.ModelFileError)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 800) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["type", "args", "ref", "layers", "x"]),
                                      inner, max_size=3), max_leaves=10)


@SETTINGS
@given(arch=JSON, layer_type=st.sampled_from(sorted(spec.REGISTRY)))
def test_building_a_random_architecture_is_a_spec_error_or_a_model(arch, layer_type):
    outcome(lambda: spec.build(arch), spec.SpecError)
    outcome(lambda: spec.build({"type": layer_type, "args": arch if isinstance(arch, dict)
                                else {}}), spec.SpecError)


@SETTINGS
@given(blob=st.binary(max_size=64))
def test_read_idx_on_garbage_is_a_data_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("idx") / "x-idx3-ubyte"
    path.write_bytes(blob)
    a = outcome(lambda: data.read_idx(path), data.DataError)
    if a is not None:
        assert a.dtype == np.uint8
