"""Issue 12's list, the library's part, one test each: nothing silent.

Every case a new user ran into gets a clear error or the documented behaviour. (The command
line's part -- one line, exit 2 for a wrong argument, 1 for anything else -- is in
tests/test_cli.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from scratch_ae import io, train
from scratch_ae.models import zoo

# --- the library ------------------------------------------------------------------------------

def _stacked():
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


def test_a_directory_is_not_reported_as_missing(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        io.load_model(tmp_path)


@pytest.mark.parametrize("header", ["{bad json", "[1, 2]"])
def test_bad_header_json_is_a_model_file_error(tmp_path, header):
    np.savez(tmp_path / "m.npz", __meta__=np.array(header))
    with pytest.raises(io.ModelFileError, match="header"):
        io.load_model(tmp_path / "m.npz")


def test_a_hand_built_model_loads_back(tmp_path):
    import scratch_ae as sa

    model = sa.Sequential([sa.Dense(5, 3), sa.Tanh(), sa.Dense(3, 5)], loss="mse")
    x = np.random.default_rng(0).random((2, 5), dtype=np.float32)
    loaded = io.load_model(io.save_model(model, tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_check_data_is_the_documented_entry_check():
    with pytest.raises(TypeError, match="must be an array"):
        train.check_data([1, 2, 3])


def test_leaky_relu_keeps_infinities_instead_of_making_nan():
    from scratch_ae.layers import LeakyReLU

    y = LeakyReLU(0.5).forward(np.array([[np.inf, -np.inf, 2.0, -2.0]], np.float32))
    np.testing.assert_array_equal(y, [[np.inf, -np.inf, 2.0, -1.0]])
