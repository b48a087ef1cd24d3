"""What ``scratch-ae`` runs on a saved model -- evaluate, encode, reconstruct, sample -- and the
data every command (``train`` too) runs on.

Each function takes plain values (a model, a dataset, a path, a number) and ``say``, the
function that prints a line; :mod:`scratch_ae.cli` parses the arguments and checks them before
calling here. Errors are exceptions with one-line messages (the CLI prints them and exits 1, or
2 for :class:`~scratch_ae.data.DataNotFoundError`: data that the arguments point to, or fail
to point to).

A model file is any ``.npz`` that :func:`scratch_ae.io.save_model` wrote: a zoo model trained by
``scratch-ae train``, a hand-built ``Sequential``, ``Autoencoder`` or ``VAE``, a checkpoint.
Anything else -- truncated, foreign, not a model -- is one :class:`~scratch_ae.io.ModelFileError`
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import data as data_mod
from . import io, metrics, viz
from .losses import describe_loss
from .models import VAE, LatentGaussianGenerator
from .train import model_array_module, model_dtype
from .utils import atomic_write

#: The shapes a command feeds a model, tried in this order: a 784-pixel vector, a 1x28x28 image.
INPUT_SHAPES = ((784,), (1, 28, 28))
#: Images a plain autoencoder's Gaussian is fitted on (tutorial 08 uses 10,000 too).
FIT_IMAGES = 10000
SPLITS = ("train", "valid", "test", "all")


# ------------------------------------------------------------------------------------ data


def load_data(dataset=None, data_dir=None, data=None, *, flat: bool, say=print,
              trained_on: dict | None = None):
    """The Dataset a command runs on; says where it came from.

    ``data`` (a path: IDX folder, ``.npy``/``.npz``, folder of images) wins; else ``dataset``
    ("auto", "mnist", "fashion-mnist", "sample") with its ``data_dir``. When neither is given,
    ``trained_on`` (a model file's meta) names the data the model was trained on, else "auto".
    Missing splits of your own data are held out with seed 0 always, so that ``evaluate`` sees
    the very test images that ``train`` held out.
    """
    why = ""
    if data is None and dataset is None and trained_on:
        data, dataset, data_dir = _trained_on(trained_on)
        why = " (what the model was trained on; --data or --dataset for other data)"
    try:
        if data is not None:
            ds, note = data_mod.load_path(data, flat=flat)
        else:
            ds, note = data_mod.load_dataset(dataset or "auto", path=data_dir, flat=flat)
    except data_mod.DataNotFoundError as exc:
        raise _short_not_found(exc, dataset, data_dir, why) from None
    if note:
        say(note)
    say(f"data: {ds.name} from {ds.source}: {len(ds.x_train)} train, {len(ds.x_valid)} "
        f"validation, {len(ds.x_test)} test images{why}")
    return ds


def _trained_on(meta: dict):
    """``(data, dataset, data_dir)`` from a model file's meta; Nones for what it does not say."""
    def text(key):
        return meta[key] if isinstance(meta.get(key), str) and meta[key] else None

    if text("data"):
        return text("data"), None, None
    if text("dataset") in data_mod.DATASET_NAMES:
        return None, text("dataset"), text("data_dir")
    return None, None, None


def _short_not_found(exc, dataset, data_dir, why: str):
    """One line for the command line instead of the library's page about ``path=``."""
    if data_dir is not None or dataset not in ("mnist", "fashion-mnist"):
        return data_mod.DataNotFoundError(f"{exc}{why}", exc.searched, exc.download)
    name = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}[dataset]
    return data_mod.DataNotFoundError(
        f"{name} not found (looked in {', '.join(exc.searched)}; {exc.download}){why}: give "
        f"--data-dir FOLDER (the four IDX files), set ${data_mod.ENV_VAR} to a folder holding "
        f"{dataset}/, or use --dataset sample (offline)", exc.searched, exc.download)


def split_of(ds, split: str):
    """``(images, labels)`` of one split, or of all three joined ("all": train, valid, test)."""
    if split == "all":
        return (np.concatenate([ds.x_train, ds.x_valid, ds.x_test]),
                np.concatenate([ds.y_train, ds.y_valid, ds.y_test]))
    return getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")


# ---------------------------------------------------------------------------------- models


def open_model(path):
    """``(model, meta)`` from a model file; a ModelFileError naming the file for anything else.

    A file that is missing or a folder raises FileNotFoundError / IsADirectoryError.
    """
    try:
        _, header = io.read_model_file(path)
        model = io.load_model(path)
    except (OSError, io.ModelFileError):
        raise
    except Exception as exc:  # a header that parses but cannot be built: never a traceback
        raise io.ModelFileError(f"{path} is not a model file this scratch_ae can load "
                                f"({type(exc).__name__}: {exc})") from None
    return model, header["meta"]


def input_shape(model, path="the model") -> tuple:
    """The shape of one image ``model`` takes: (784,) or (1, 28, 28), found by trying each."""
    xp, dtype = model_array_module(model), model_dtype(model)
    for shape in INPUT_SHAPES:
        try:
            y = model.forward(xp.zeros((1, *shape), dtype=dtype))
        except (ValueError, TypeError):
            continue
        if int(np.prod(y.shape[1:])) == 784:
            return shape
    raise ValueError(f"{path} does not map 28x28 images to 28x28 images (it takes neither "
                     "784-pixel vectors nor 1x28x28 arrays): the commands run on MNIST-sized "
                     "data only")


def _reconstruct(model, x):
    """The model's reconstruction of ``x``: a VAE's from its mean codes (no sampling noise)."""
    return model.reconstruct(x) if hasattr(model, "reconstruct") else model.predict(x)


def _encoder(model, path, what: str):
    if not hasattr(model, "encode"):
        raise ValueError(f"{path} holds a {type(model).__name__}, which has no encoder: "
                         f"{what} needs an Autoencoder or a VAE")
    return model.encode


# -------------------------------------------------------------------------------- commands


def evaluate(model, ds, *, path="the model", say=print) -> dict:
    """Test loss and its parts, squared error per image, k-NN accuracy of the codes; each
    beside PCA's with as many components as the code has numbers. Returns the numbers."""
    x, y = ds.x_test, ds.y_test
    loss = model.loss if model.loss is not None else "mse"
    if model.loss is None:
        say("the model has no loss of its own: MSE is used")
    out = {"images": len(x), **model.evaluate(x, loss=loss)}
    name = describe_loss(loss)
    if "penalty" in out:
        say(f"test loss ({name} + penalty): {out['loss']:.4f} (recon {out['recon']:.4f}, "
            f"penalty {out['penalty']:.4f}) on {len(x)} images")
    else:
        say(f"test loss ({name}): {out['loss']:.4f} on {len(x)} images")
    out["squared_error"] = metrics.squared_error_per_image(x, _reconstruct(model, x))
    codes = model.encode(x) if hasattr(model, "encode") else None
    k = int(np.prod(codes.shape[1:])) if codes is not None else 0
    pca_codes = None
    if 1 <= k <= min(len(ds.x_train), 784):
        _, pca_codes, out["pca_squared_error"] = metrics.pca_baseline(ds.x_train, x, k)
        say(f"squared error per image: {out['squared_error']:.2f} (PCA with {k} components: "
            f"{out['pca_squared_error']:.2f})")
    else:
        say(f"squared error per image: {out['squared_error']:.2f}")
    why_not = _why_no_knn(y, codes)
    if why_not:
        say(f"k-NN accuracy: not measured ({why_not})")
        return out
    out["knn_accuracy"] = metrics.knn_report(codes, y)["accuracy"]
    line = f"k-NN accuracy of the {k}-number codes (5-NN, 5-fold): {out['knn_accuracy']:.3f}"
    if pca_codes is not None:
        out["pca_knn_accuracy"] = metrics.knn_report(pca_codes, y)["accuracy"]
        line += f" (PCA's: {out['pca_knn_accuracy']:.3f})"
    say(line)
    return out


def _why_no_knn(labels, codes, folds: int = 5) -> str | None:
    if codes is None:
        return "the model has no encoder"
    if (labels == data_mod.NO_LABEL).any():
        return "the test images have no labels"
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    if len(counts) < 2 or counts.min() < folds:
        return f"it needs at least {folds} test images of each of at least 2 classes"
    return None


def encode(model, ds, out, *, split: str = "test", path="the model", say=print) -> Path:
    """Write the codes of a split (a VAE's: the means) to ``out``: ``.npy`` (labels beside it
    in ``NAME.labels.npy`` when the data has them) or ``.npz`` (``codes`` and ``labels``)."""
    x, y = split_of(ds, split)
    codes = np.asarray(_encoder(model, path, "encode")(x))
    labelled = not (y == data_mod.NO_LABEL).all()
    out = Path(out)
    if out.suffix.lower() == ".npz":
        arrays = {"codes": codes, **({"labels": y} if labelled else {})}
        atomic_write(out, lambda f: np.savez(f, **arrays))
        written = [out]
    else:
        atomic_write(out, lambda f: np.save(f, codes))
        written = [out]
        if labelled:
            labels = out.with_name(out.stem + ".labels.npy")
            written.append(atomic_write(labels, lambda f: np.save(f, y)))
    kind = "mean codes (mu)" if isinstance(model, VAE) else "codes"
    say(f"encoded {_which(len(x), split)} images: {kind} of shape {codes.shape} "
        f"{codes.dtype}{', with their labels' if labelled else ''}; wrote "
        f"{', '.join(str(p) for p in written)}")
    return out


def _which(n: int, split: str) -> str:
    return f"all {n}" if split == "all" else f"the {n} {split}"


def reconstruct(model, ds, out, *, n: int = 10, split: str = "test", path="the model",
                say=print) -> Path:
    """A picture: the first ``n`` images of a split (top) over their reconstructions."""
    x = split_of(ds, split)[0][:n]
    recon = _reconstruct(model, x)
    name = Path(path).stem
    viz.plot_reconstructions(x, recon, out, n=n,
                             title=f"{name}: {split} images (top) and reconstructions")
    say(f"reconstructed {_which(len(x), split)} images (squared error per image "
        f"{metrics.squared_error_per_image(x, recon):.2f}); wrote {out}")
    return Path(out)


def sample(model, n: int, out, *, seed: int = 0, training_data=None, path="the model",
           say=print) -> Path:
    """``n`` new images into ``out`` (``.png``: a grid; ``.npy``: the array).

    A VAE decodes codes drawn from its prior N(0, I). A plain autoencoder first fits a Gaussian
    to the codes of ``training_data()`` (called only then; up to :data:`FIT_IMAGES` images), as
    tutorial 08 does, and decodes codes drawn from it.
    """
    if isinstance(model, VAE):
        images, how = model.sample(n, seed=seed), "decoded z ~ N(0, I), the prior"
    else:
        _encoder(model, path, "sample")
        x = training_data()[:FIT_IMAGES]
        gen = LatentGaussianGenerator(model).fit(x)
        images = gen.sample(n, seed=seed)
        how = f"decoded codes ~ N(mean, std) of {len(x)} training images' codes"
    images = np.asarray(images)
    out = Path(out)
    if out.suffix.lower() == ".npy":
        atomic_write(out, lambda f: np.save(f, images))
    else:
        viz.plot_image_grid(images, out, ncols=10, title=f"{Path(path).stem}: {how}")
    say(f"sampled {n} images ({how}), shape {images.shape}; wrote {out}")
    return out


def data_meta(data=None, data_dir=None) -> dict:
    """What a model file records about the data it was trained on, beyond the dataset's name:
    the absolute paths given (``evaluate`` and the others default to them)."""
    return {k: os.path.abspath(v) for k, v in (("data", data), ("data_dir", data_dir))
            if v is not None}
