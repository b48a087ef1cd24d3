"""scratch_ae/io.py: model files: .npz round trips, no pickle, clear errors. (The atomic write
under every save: test_utils.py; the spec a file describes its model with: test_spec.py.)"""

import json

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
        header = json.loads(str(z["__meta__"]))
    assert header["format"] == "scratch_ae-model" and header["format_version"] == 2
    assert header["library_version"] == sa.__version__ and header["dtype"] == "float32"
    assert header["arrays"]["encoder.0.W"] == {"shape": [784, 100], "dtype": "float32"}
    assert header["architecture"]["type"] == "Autoencoder"
    assert header["meta"] == {"model": "stacked"}


def test_pickled_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"encoder.0.W": np.array([object()], dtype=object)})
    with pytest.raises(io.ModelFileError, match="pickle"):
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


# ---------------------------------------------------------------------------------------------
# self-describing files: any model built from the library's layers comes back from load_model

from scratch_ae.layers import (  # noqa: E402
    ELU,
    ActivityL1,
    Dropout,
    Flatten,
    GaussianNoise,
    KLSparsity,
    LeakyReLU,
    Reshape,
    Sigmoid,
    Softplus,
    Tanh,
)
from scratch_ae.layers.conv import Conv2D, Conv2DTranspose  # noqa: E402
from scratch_ae.layers.pooling import (  # noqa: E402
    AvgPool2D,
    GlobalAvgPool2D,
    MaxPool2D,
    UpSampling2D,
)
from scratch_ae.losses import MSE  # noqa: E402
from scratch_ae.models import VAE  # noqa: E402


def _hand_built():
    """Models no zoo entry builds, using every layer class with non-default arguments."""
    conv = sa.Autoencoder(
        [Conv2D(1, 3, (3, 2), stride=(1, 2), padding=(1, 1, 0, 1)), LeakyReLU(0.1),
         MaxPool2D(2, stride=1, padding="same"), AvgPool2D(2), GaussianNoise(0.05),
         Flatten(), sa.Dense(3 * 3 * 2, 6, dtype=np.float32), ActivityL1(0.01)],
        [sa.Dense(6, 4 * 2 * 2), Reshape((4, 2, 2)), UpSampling2D((2, 1)),
         Conv2DTranspose(4, 2, 3, stride=2, padding="valid", output_padding=(1, 0)), ELU(0.5),
         Conv2D(2, 1, 1, padding="valid"), Sigmoid()],
        loss=MSE(reduction="sum"))
    d1, d2 = sa.Dense(12, 8), sa.Dense(8, 3)
    tied = sa.Sequential([Dropout(0.2), d1, Tanh(), d2, KLSparsity(0.1, 0.05), Softplus(),
                          sa.DenseTranspose(d2), sa.DenseTranspose(d1), Sigmoid()], loss="mse")
    vae = VAE([sa.Dense(12, 7), sa.SELU()], [sa.Dense(2, 12), Sigmoid()], hidden=7,
              latent_dim=2, input_size=12, scaling="elbo")
    gap = sa.Sequential([Conv2D(1, 2, 3), GlobalAvgPool2D(), sa.Dense(2, 12), sa.ReLU()])
    return {"conv": (conv, (3, 1, 6, 8)), "tied": (tied, (3, 12)), "vae": (vae, (3, 12)),
            "gap": (gap, (3, 1, 5, 5))}


@pytest.mark.parametrize("name", ["conv", "tied", "vae", "gap"])
def test_a_hand_built_model_round_trips_with_identical_outputs(tmp_path, name):
    model, shape = _hand_built()[name]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    backend.seed(7)  # the VAE samples its code even in inference (as Keras' does)
    expected = model.predict(x)
    path = io.save_model(model, tmp_path / "m.npz")
    backend.seed(99)  # a different seed: the weights must come from the file, not the RNG
    loaded = io.load_model(path)
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    backend.seed(7)
    np.testing.assert_array_equal(loaded.predict(x), expected)
    assert [k for k, _, _ in loaded.named_parameters()] == \
           [k for k, _, _ in model.named_parameters()]
    if name == "conv":
        assert isinstance(loaded.loss, MSE) and loaded.loss.reduction == "sum"
    if name == "vae":
        assert loaded.scaling == "elbo" and loaded.head.kl_weight == 1.0


def test_a_loaded_tied_model_stays_tied(tmp_path):
    path = io.save_model(zoo.build("tied"), tmp_path / "m.npz")
    loaded = io.load_model(path)
    assert loaded.decoder[0].dense is loaded.encoder[2]
    assert loaded.decoder[2].dense is loaded.encoder[0]
    assert loaded.n_params() == 82_414


def test_float64_models_come_back_as_float64(tmp_path):
    model = zoo.build("stacked").astype(np.float64)
    loaded = io.load_model(io.save_model(model, tmp_path / "m.npz"))
    assert {layer.params[n].dtype for _, layer, n in loaded.named_parameters()} == \
           {np.dtype(np.float64)}


def test_load_model_draws_no_random_numbers(tmp_path):
    path = io.save_model(zoo.build("stacked"), tmp_path / "m.npz")
    backend.seed(5)
    io.load_model(path)
    after_load = backend.rng(np).random()
    backend.seed(5)
    assert backend.rng(np).random() == after_load


def test_a_custom_layer_is_saved_but_load_model_says_how_to_load_it(tmp_path):
    class Twice(sa.Dense):
        pass

    model = sa.Sequential([Twice(4, 2)])
    path = io.save_model(model, tmp_path / "m.npz")
    with pytest.raises(io.ModelFileError, match=r"not one of scratch_ae's layers.*load_weights"):
        io.load_model(path)
    other = sa.Sequential([Twice(4, 2)])
    io.load_weights(other, path)
    np.testing.assert_array_equal(other[0].params["W"], model[0].params["W"])


def test_the_same_model_on_the_numba_backend_gives_the_same_outputs(tmp_path):
    model = zoo.build("conv")
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    expected = model.predict(x)
    path = io.save_model(model, tmp_path / "m.npz")
    with sa.use_backend("numba"):
        loaded = io.load_model(path)
        got = loaded.predict(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_version_1_files_load_their_weights_and_say_how(tmp_path):
    model = zoo.build("stacked")
    arrays = io.state_dict(model)
    arrays["__meta__"] = np.array(json.dumps(
        {"format": "scratch_ae-weights", "version": 1, "model": "stacked", "epochs": 2}))
    path = tmp_path / "old.npz"
    np.savez(path, **arrays)
    x = np.random.default_rng(0).random((2, 784), dtype=np.float32)
    loaded = zoo.build("stacked")
    assert io.load_weights(loaded, path) == {"model": "stacked", "epochs": 2}
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    with pytest.raises(io.ModelFileError,
                       match=r"old format 1.*io.load_weights\(zoo.build\('stacked'\), path\)"):
        io.load_model(path)


# ---------------------------------------------------------------------------------------------
# every kind of bad file gets a ModelFileError (or FileNotFoundError / IsADirectoryError)


def _write(path, header, arrays=None):
    """An .npz with ``arrays`` and a ``__meta__`` entry holding ``header`` (str or JSON)."""
    arrays = dict(arrays or {})
    if header is not None:
        arrays["__meta__"] = np.array(header if isinstance(header, str) else json.dumps(header))
    np.savez(path, **arrays)
    return path


def _good_header(tmp_path):
    path = io.save_model(sa.Sequential([sa.Dense(3, 2)]), tmp_path / "good.npz")
    with np.load(path) as z:
        return json.loads(str(z["__meta__"])), {k: z[k] for k in z.files if k != "__meta__"}


@pytest.mark.parametrize("header, message", [
    ("{not json", "header is not valid JSON"),
    ("[1, 2]", "must be a JSON object, got a list"),
    ('"text"', "must be a JSON object, got a str"),
    (None, "has no __meta__ header"),
    ({"format": "something-else", "format_version": 2}, "expected format 'scratch_ae-model'"),
    ({"format": "scratch_ae-model", "format_version": 3, "library_version": "9.0"},
     r"format version 3 \(written by scratch_ae 9.0\).*reads versions 1, 2.*upgrade"),
    ({"format": "scratch_ae-model", "format_version": 2, "arrays": [1]}, "'arrays' must map"),
])
def test_malformed_headers_are_clear_errors(tmp_path, header, message):
    path = _write(tmp_path / "m.npz", header, {"W": np.zeros(2, np.float32)})
    with pytest.raises(io.ModelFileError, match=message):
        io.load_model(path)


def test_an_array_that_differs_from_the_header_is_named(tmp_path):
    header, arrays = _good_header(tmp_path)
    arrays["0.W"] = arrays["0.W"].astype(np.float64)
    path = _write(tmp_path / "m.npz", header, arrays)
    with pytest.raises(io.ModelFileError,
                       match=r"array 0.W is float64 \(3, 2\) but the header says float32 \(3, 2\)"):
        io.load_model(path)
    arrays["0.W"] = np.zeros((2, 3), np.float32)
    with pytest.raises(io.ModelFileError, match=r"array 0.W is float32 \(2, 3\)"):
        io.load_model(_write(tmp_path / "m.npz", header, arrays))
    del arrays["0.b"]
    with pytest.raises(io.ModelFileError, match=r"missing \['0.b'\]"):
        io.load_model(_write(tmp_path / "m.npz", header, arrays))


def test_a_bad_architecture_is_a_clear_error(tmp_path):
    header, arrays = _good_header(tmp_path)
    header["architecture"]["args"]["layers"][0]["type"] = "os.system"
    with pytest.raises(io.ModelFileError, match="unknown layer type 'os.system'"):
        io.load_model(_write(tmp_path / "m.npz", header, arrays))
    header["architecture"]["args"]["layers"][0] = {"type": "Dense", "args": {"units": 3}}
    with pytest.raises(io.ModelFileError, match=r"Dense takes \['in_features', 'out_features'\]"):
        io.load_model(_write(tmp_path / "m.npz", header, arrays))


def test_truncated_and_corrupted_files_are_clear_errors(tmp_path):
    path = io.save_model(zoo.build("stacked"), tmp_path / "m.npz")
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(io.ModelFileError, match="not a readable .npz.*truncated"):
        io.load_model(tmp_path / "cut.npz")
    flipped = bytearray(data)
    flipped[len(data) // 3: len(data) // 3 + 64] = b"\x00" * 64  # inside encoder.0.W's data
    (tmp_path / "bad.npz").write_bytes(bytes(flipped))
    with pytest.raises(io.ModelFileError, match="not a readable .npz"):
        io.load_model(tmp_path / "bad.npz")


def test_a_directory_is_reported_as_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        io.load_model(tmp_path)


def test_wrong_argument_types_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="expected a scratch_ae model or layer, got dict"):
        io.save_model({"W": 1}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match="meta must hold only JSON values"):
        io.save_model(sa.Dense(2, 2), tmp_path / "m.npz", meta={"x": object()})
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        io.load_model(3)


def test_no_code_in_the_package_can_unpickle():
    """No pickle import and no np.load(..., allow_pickle=True) anywhere in scratch_ae/."""
    import re
    from pathlib import Path

    root = Path(sa.__file__).parent
    offenders = []
    for f in root.rglob("*.py"):
        text = f.read_text()
        if re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve)\b", text, re.M) or \
                re.search(r"allow_pickle\s*=\s*True", text) or "pickle.load" in text:
            offenders.append(str(f.relative_to(root)))
    assert offenders == []


def _perturbed(name, seed):
    """Zoo model ``name`` with EVERY parameter set to fresh random values (biases non-zero)."""
    backend.seed(seed)
    model = zoo.build(name)
    rng = np.random.default_rng(seed)
    for _, layer, pname in model.named_parameters():
        p = layer.params[pname]
        p[...] = rng.uniform(0.5, 1.5, p.shape) * rng.choice([-1, 1], p.shape)
    return model


@pytest.mark.parametrize("name", sorted(zoo.RECIPES))
def test_round_trip_restores_every_array_of_every_zoo_model(tmp_path, name):
    """Every parameter perturbed, biases included (a fresh model's are all zero, so a loader
    that skipped them would pass an unperturbed round trip), then restored exactly."""
    a = _perturbed(name, 1)
    path = io.save_model(a, tmp_path / "m.npz", meta={"model": name})
    b = _perturbed(name, 2)
    pairs = list(zip(a.named_parameters(), b.named_parameters(), strict=True))
    assert any(pname == "b" for (_, _, pname), _ in pairs)
    for (key, la, na), (_, lb, nb) in pairs:  # the test means something: all differ before
        assert not np.array_equal(la.params[na], lb.params[nb]), key
    io.load_weights(b, path)
    c = io.load_model(path)
    for (key, la, na), (_, lb, nb), (_, lc, nc) in zip(
            a.named_parameters(), b.named_parameters(), c.named_parameters(), strict=True):
        np.testing.assert_array_equal(lb.params[nb], la.params[na], err_msg=key)
        np.testing.assert_array_equal(lc.params[nc], la.params[na], err_msg=key)


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
