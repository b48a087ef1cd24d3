"""scratch_ae.commands: what the CLI runs on a saved model, and the data it runs on.

Small hand-built models and arrays made here, so each number can be recomputed independently;
the commands end to end (a model trained by ``scratch-ae train``) are in tests/test_cli.py.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import scratch_ae as sa
from scratch_ae import commands, data, io, metrics


def _lines():
    said = []
    return said, said.append


def _dataset(n_train=60, n_test=30, flat=True, labels=True, seed=0):
    """Images in [0, 1] with 3 classes (each a different mean brightness)."""
    rs = np.random.default_rng(seed)

    def part(n):
        y = np.arange(n) % 3
        x = np.clip(rs.random((n, 784)) * 0.3 + y[:, None] * 0.3, 0, 1).astype(np.float32)
        return (x if flat else x.reshape(n, 1, 28, 28)), (y if labels else np.full(n, -1))

    (xtr, ytr), (xva, yva), (xte, yte) = part(n_train), part(10), part(n_test)
    return data.Dataset(xtr, ytr, xva, yva, xte, yte, name="toy", source="made in a test")


def _ae(code=4):
    sa.backend.seed(0)
    return sa.Autoencoder([sa.Dense(784, code), sa.SELU()], [sa.Dense(code, 784), sa.Sigmoid()])


def _vae(latent=2):
    sa.backend.seed(0)
    return sa.VAE([sa.Dense(784, 16), sa.SELU()], [sa.Dense(latent, 784), sa.Sigmoid()],
                  hidden=16, latent_dim=latent)


# --------------------------------------------------------------------------------- data


def test_data_path_wins_then_dataset_then_what_the_model_was_trained_on(tmp_path, monkeypatch):
    np.save(tmp_path / "mine.npy", np.zeros((12, 28, 28), np.uint8))
    said, say = _lines()
    ds = commands.load_data(data=tmp_path / "mine.npy", flat=True, say=say,
                            trained_on={"dataset": "sample"})
    assert ds.name == "mine" and ds.x_train.shape[1:] == (784,)
    assert said[-1].startswith("data: mine from ") and "trained on" not in said[-1]
    ds = commands.load_data("sample", flat=False, say=say, trained_on={"data": "/nowhere"})
    assert ds.name == "sample" and ds.x_test.shape == (300, 1, 28, 28)
    ds = commands.load_data(flat=True, say=say,
                            trained_on={"dataset": "mine", "data": str(tmp_path / "mine.npy")})
    assert ds.name == "mine" and said[-1].endswith("(what the model was trained on; --data or "
                                                   "--dataset for other data)")
    ds = commands.load_data(flat=True, say=say, trained_on={"dataset": "sample"})
    assert ds.name == "sample"
    assert commands._trained_on({"dataset": "my_own"}) == (None, None, None)  # "auto" then
    assert commands._trained_on({"data": 3, "dataset": ["sample"]}) == (None, None, None)


def test_a_held_out_split_is_the_same_for_every_command(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "mine.npy", x)
    a = commands.load_data(data=tmp_path / "mine.npy", flat=True, say=lambda s: None)
    b = commands.load_data(data=tmp_path / "mine.npy", flat=False, say=lambda s: None)
    np.testing.assert_array_equal(a.x_test, b.x_test.reshape(len(b.x_test), -1))


def test_missing_mnist_is_one_short_line_about_the_flags(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCH_AE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(data, "_SYSTEM_DIRS", {"mnist": (), "fashion-mnist": ()})
    monkeypatch.setattr(data, "_download", lambda *a: ["offline"])
    with pytest.raises(data.DataNotFoundError) as exc:
        commands.load_data("mnist", flat=True)
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 300, msg
    assert msg.startswith(f"MNIST not found (looked in {tmp_path}/.cache/scratch_ae/mnist; "
                          "download failed): give --data-dir FOLDER")
    assert "--dataset sample" in msg and "path=" not in msg
    # a --data-dir that is wrong keeps the library's line, which names the folder
    with pytest.raises(data.DataNotFoundError, match="'/nowhere' does not exist"):
        commands.load_data("mnist", "/nowhere", flat=True)


def test_split_of_joins_all_in_order():
    ds = _dataset()
    x, y = commands.split_of(ds, "all")
    assert len(x) == 60 + 10 + 30
    np.testing.assert_array_equal(x[-30:], ds.x_test)
    np.testing.assert_array_equal(y[:60], ds.y_train)
    assert commands.split_of(ds, "valid")[0] is ds.x_valid


# ------------------------------------------------------------------------------- models


def test_open_model_gives_the_model_and_its_meta(tmp_path):
    model = _ae()
    io.save_model(model, tmp_path / "m.npz", meta={"model": "mine", "epochs": 3})
    loaded, meta = commands.open_model(tmp_path / "m.npz")
    assert meta == {"model": "mine", "epochs": 3}
    x = _dataset().x_test
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def _with_header(path, header: dict, arrays=None):
    np.savez(path, __meta__=np.array(json.dumps(header)), **(arrays or {}))
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "not a zip archive"),
    (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 50), "may be truncated"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("archive/data.pkl", b"torch"), "no __meta__"),
    (lambda p: np.savez(p, x_train=np.zeros(3)), "no __meta__ header"),
    (lambda p: _with_header(p, {"format": "scratch_ae-model", "format_version": 2,
                                "dtype": "complex-ish", "arrays": {}, "meta": {},
                                "architecture": {"type": "Dense", "args": {
                                    "in_features": 2, "out_features": 2}}}),
     r"not a model file this scratch_ae can load \(TypeError"),
])
def test_anything_but_a_model_file_is_a_model_file_error(tmp_path, make, message):
    path = tmp_path / "m.npz"
    make(path)
    with pytest.raises(io.ModelFileError, match=message) as exc:
        commands.open_model(path)
    assert str(path) in str(exc.value)


def test_a_truncated_model_file_is_a_model_file_error(tmp_path):
    io.save_model(_ae(), tmp_path / "m.npz")
    blob = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(io.ModelFileError, match="truncated"):
        commands.open_model(tmp_path / "m.npz")


def test_input_shape_is_found_by_trying():
    assert commands.input_shape(_ae()) == (784,)
    conv = sa.Autoencoder([sa.Conv2D(1, 2, 3, padding="same"), sa.MaxPool2D(2)],
                          [sa.Conv2DTranspose(2, 1, 3, stride=2, padding="same"), sa.Sigmoid()])
    assert commands.input_shape(conv) == (1, 28, 28)
    with pytest.raises(ValueError, match="m.npz does not map 28x28 images to 28x28 images"):
        commands.input_shape(sa.Sequential([sa.Dense(5, 3)]), "m.npz")
    with pytest.raises(ValueError, match="does not map"):  # takes 784 pixels, gives 10 numbers
        commands.input_shape(sa.Sequential([sa.Dense(784, 10)]))


# ----------------------------------------------------------------------------- commands


def test_evaluate_reports_the_numbers_beside_pca():
    ds, model = _dataset(), _ae(code=4)
    said, say = _lines()
    out = commands.evaluate(model, ds, say=say)
    assert out["images"] == 30
    assert out["loss"] == pytest.approx(model.evaluate(ds.x_test)["loss"])
    assert out["squared_error"] == pytest.approx(
        metrics.squared_error_per_image(ds.x_test, model.predict(ds.x_test)))
    _, pca_codes, pca_se = metrics.pca_baseline(ds.x_train, ds.x_test, 4)
    assert out["pca_squared_error"] == pytest.approx(pca_se)
    assert out["knn_accuracy"] == metrics.knn_report(model.encode(ds.x_test), ds.y_test)[
        "accuracy"]
    assert out["pca_knn_accuracy"] == metrics.knn_report(pca_codes, ds.y_test)["accuracy"]
    assert said[0] == f"test loss (BCE): {out['loss']:.4f} on 30 images"
    assert said[1] == (f"squared error per image: {out['squared_error']:.2f} (PCA with 4 "
                       f"components: {pca_se:.2f})")
    assert said[2].startswith("k-NN accuracy of the 4-number codes (5-NN, 5-fold): ")


def test_evaluate_a_vae_shows_the_penalty_and_skips_what_cannot_be_measured():
    said, say = _lines()
    vae, ds = _vae(), _dataset(labels=False)
    out = commands.evaluate(vae, ds, say=say)
    assert out["loss"] == pytest.approx(out["recon"] + out["penalty"])
    assert out["squared_error"] == pytest.approx(  # from the mean codes: no sampling noise
        metrics.squared_error_per_image(ds.x_test, vae.reconstruct(ds.x_test)))
    assert said[0].startswith("test loss (BCE + penalty): ")
    assert said[-1] == "k-NN accuracy: not measured (the test images have no labels)"
    assert "knn_accuracy" not in out
    said, say = _lines()
    seq = sa.Sequential([sa.Dense(784, 784), sa.Sigmoid()])  # no loss, no encoder
    out = commands.evaluate(seq, _dataset(), say=say)
    assert said[0] == "the model has no loss of its own: MSE is used"
    assert said[-1] == "k-NN accuracy: not measured (the model has no encoder)"
    assert "pca_squared_error" not in out


def test_encode_writes_codes_and_labels(tmp_path):
    ds, model = _dataset(), _vae(latent=3)
    said, say = _lines()
    commands.encode(model, ds, tmp_path / "c.npy", say=say)
    codes = np.load(tmp_path / "c.npy")
    np.testing.assert_array_equal(codes, model.encode(ds.x_test))  # the means, no sampling
    np.testing.assert_array_equal(np.load(tmp_path / "c.labels.npy"), ds.y_test)
    assert said == [f"encoded the 30 test images: mean codes (mu) of shape (30, 3) float32, "
                    f"with their labels; wrote {tmp_path / 'c.npy'}, {tmp_path / 'c.labels.npy'}"]
    commands.encode(model, _dataset(labels=False), tmp_path / "d.npz", split="all", say=say)
    with np.load(tmp_path / "d.npz") as z:
        assert z.files == ["codes"] and z["codes"].shape == (100, 3)
    with pytest.raises(ValueError, match="m.npz holds a Sequential, which has no encoder"):
        commands.encode(sa.Sequential([sa.Dense(784, 784)]), ds, tmp_path / "e.npy",
                        path="m.npz")


def test_reconstruct_draws_a_png(tmp_path):
    said, say = _lines()
    commands.reconstruct(_ae(), _dataset(), tmp_path / "r.png", n=4, say=say,
                         split="train")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert said[0].startswith("reconstructed the 4 train images (squared error per image ")


def test_sample_a_vae_from_its_prior_without_data(tmp_path):
    model = _vae()

    def no_data():
        raise AssertionError("a VAE samples its prior: no data needed")

    commands.sample(model, 6, tmp_path / "s.npy", seed=3, training_data=no_data,
                    say=lambda s: None)
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), model.sample(6, seed=3))
    commands.sample(model, 6, tmp_path / "s.png", training_data=no_data, say=lambda s: None)
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_sample_a_plain_autoencoder_from_a_gaussian_of_its_training_codes(tmp_path):
    ds, model = _dataset(), _ae()
    said, say = _lines()
    commands.sample(model, 5, tmp_path / "s.npy", seed=1, training_data=lambda: ds.x_train,
                    say=say)
    gen = sa.LatentGaussianGenerator(model).fit(ds.x_train)
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), gen.sample(5, seed=1))
    assert "decoded codes ~ N(mean, std) of 60 training images' codes" in said[0]
    with pytest.raises(ValueError, match="has no encoder: sample needs"):
        commands.sample(sa.Sequential([sa.Dense(784, 784)]), 2, tmp_path / "t.npy",
                        training_data=lambda: ds.x_train)


def test_data_meta_records_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert commands.data_meta("mine.npy", None) == {"data": str(tmp_path / "mine.npy")}
    assert commands.data_meta(None, None) == {}
