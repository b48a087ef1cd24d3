"""Model files: .npz round trips, no pickle, clear errors, atomic saves."""

import json
import os

import numpy as np
import pytest

import scratch_ae as sa
from scratch_ae import backend, io
from scratch_ae.models import zoo


def _stacked(seed):
    backend.seed(seed)
    return zoo.build("stacked")


def test_round_trip_restores_every_parameter(tmp_path):
    a, b = _stacked(1), _stacked(2)
    path = io.save_model(a, tmp_path / "m.npz", meta={"model": "stacked", "epochs": 3})
    meta = io.load_weights(b, path)
    assert meta["model"] == "stacked" and meta["epochs"] == 3
    for (ka, la, na), (kb, lb, nb) in zip(a.named_parameters(), b.named_parameters(),
                                          strict=True):
        assert ka == kb
        np.testing.assert_array_equal(la.params[na], lb.params[nb])
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_load_weights_keeps_the_same_arrays(tmp_path):
    """Loading writes in place, so a tied decoder and optimizer state still see the weights."""
    a, b = _stacked(1), _stacked(2)
    path = io.save_model(a, tmp_path / "m.npz")
    before = [layer.params[name] for _, layer, name in b.named_parameters()]
    io.load_weights(b, path)
    after = [layer.params[name] for _, layer, name in b.named_parameters()]
    assert all(x is y for x, y in zip(before, after, strict=True))


def test_load_model_rebuilds_the_zoo_entry(tmp_path):
    a = _stacked(3)
    path = io.save_model(a, tmp_path / "m.npz", meta={"model": "stacked"})
    b = io.load_model(path)
    x = np.random.default_rng(0).random((2, 784), dtype=np.float32)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_file_is_plain_npz_without_pickle(tmp_path):
    path = io.save_model(_stacked(0), tmp_path / "m.npz", meta={"model": "stacked"})
    with np.load(path, allow_pickle=False) as z:
        assert "encoder.0.W" in z.files
        assert json.loads(str(z["__meta__"]))["format"] == "scratch_ae-weights"


def test_pickled_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"encoder.0.W": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="pickle"):
        io.read_model_file(path)


def test_wrong_architecture_is_a_clear_error(tmp_path):
    path = io.save_model(_stacked(0), tmp_path / "m.npz")
    other = sa.Sequential([sa.Dense(784, 10)])
    with pytest.raises(ValueError, match="missing .*unexpected"):
        io.load_weights(other, path)
    small = zoo.stacked(coding_size=20)
    with pytest.raises(ValueError, match=r"encoder.2.W has shape \(100, 30\).*\(100, 20\)"):
        io.load_weights(small, path)


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        io.read_model_file(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.read_model_file(tmp_path / "missing.npz")


def test_failed_save_leaves_old_file_and_no_temp(tmp_path):
    path = io.save_model(_stacked(0), tmp_path / "m.npz")
    original = path.read_bytes()

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        io.atomic_write(path, boom)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.npz"]
