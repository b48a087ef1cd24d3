"""MNIST / Fashion-MNIST loading: IDX parsing, folder search, checked download, offline sample.

Every loader returns a :class:`Dataset` of float32 images in [0, 1], shaped (N, 1, 28, 28) (NCHW)
or (N, 784) with ``flat=True``, and int64 labels. The split is Géron's: the first 55,000 of the
60,000 training images train, the last 5,000 validate, the 10,000 ``t10k`` images test.

Where the four IDX files are looked for, in order:

1. an explicit ``path`` (the folder itself, or ``path/<name>/``); when given, nothing else is tried;
2. ``$SCRATCH_AE_DATA/<name>/`` with ``name`` = ``mnist`` or ``fashion-mnist``;
3. ``~/.cache/scratch_ae/<name>/``;
4. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``; Fashion-MNIST only);
5. a download into ``~/.cache/scratch_ae/<name>/`` from the canonical mirrors, MD5-checked.

:func:`load_path` loads your own images instead: a folder of the four IDX files, a ``.npy`` /
``.npz`` of 28x28 images, or a folder of PNG / JPEG files (converted to 28x28 grayscale), with
test and validation splits held out when the data has none, and labels -1 (``NO_LABEL``) when
it has no labels.

Any problem with the files raises :class:`DataError` with the file name and what is wrong;
missing files raise :class:`DataNotFoundError`, whose message says where it looked and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import tokenize
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DATASET_NAMES",
    "HOLDOUT",
    "IDX_FILES",
    "IMAGE_SUFFIXES",
    "NO_LABEL",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_path",
    "load_sample",
    "read_idx",
    "search_folders",
]

#: The four IDX files, in the order (train images, train labels, test images, test labels).
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DATASET_NAMES = ("auto", "mnist", "fashion-mnist", "sample")
ENV_VAR = "SCRATCH_AE_DATA"
DOWNLOAD_TIMEOUT_S = 15.0

# MD5 of the gzip files as the mirrors serve them (the same sums torchvision checks).
# A copy that was re-compressed locally has other gz sums but the same decompressed bytes, so
# local folders are checked by structure (read_idx), and only downloads are checked by MD5.
_MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
# Folders installed by system packages; Debian's dataset-fashion-mnist ships the four .gz files.
_SYSTEM_DIRS = {"mnist": (), "fashion-mnist": ("/usr/share/datasets/fashion-mnist",)}
_PRETTY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


class DataError(Exception):
    """A data file is missing, truncated, corrupt or inconsistent."""


class DataNotFoundError(DataError):
    """The IDX files are in none of the searched folders and could not be downloaded.

    ``searched`` lists the folders looked in, so a caller can repeat them in its own message.
    """

    def __init__(self, message: str, searched: tuple[str, ...] = (), download: str = ""):
        super().__init__(message)
        self.searched = searched
        self.download = download  # short note: "download=False", "download failed", ...


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test arrays plus where they came from.

    Images: float32 in [0, 1], shape (N, 1, 28, 28) or (N, 784). Labels: int64, shape (N,).
    ``source`` is the folder the files came from, or a description of a generated sample.
    """

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_valid: np.ndarray = field(repr=False)
    y_valid: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    name: str
    source: str

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={self.x_train.shape}, "
            f"valid={self.x_valid.shape}, test={self.x_test.shape}, "
            f"dtype={self.x_train.dtype}, source={self.source!r})"
        )


# ----------------------------------------------------------------------------- IDX parsing


def _read_bytes(path: Path) -> bytes:
    """Whole file, gunzipped when it starts with the gzip magic (whatever its name says)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e})") from None
    if raw[:2] != _GZIP_MAGIC:
        # Browsers sometimes gunzip on download and keep the .gz name; accept a raw IDX file,
        # and let the magic-number check below reject anything else.
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(
            f"{path}: the gzip stream is truncated ({len(raw)} bytes on disk); "
            "the download was probably interrupted - delete the file and fetch it again"
        ) from None
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(
            f"{path}: corrupt gzip stream ({e}); delete the file and fetch it again"
        ) from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse one IDX file (optionally gzipped) into a read-only uint8 array.

    Layout: 2 zero bytes, a type byte (0x08 = unsigned byte), a byte with the number of
    dimensions, then one big-endian uint32 per dimension, then the payload. Images are
    0x00000803 (N, rows, cols), labels 0x00000801 (N,). The payload must be exactly
    prod(dims) bytes; anything else raises DataError naming the file and the mismatch.
    """
    path = Path(path)
    buf = _read_bytes(path)
    gz = " (after gunzip)" if path.suffix == ".gz" else ""
    if len(buf) < 4:
        raise DataError(f"{path}: {len(buf)} bytes{gz} is too short to be an IDX file")
    magic = int.from_bytes(buf[:4], "big")
    zeros, dtype_code, ndim = buf[0:2], buf[2], buf[3]
    if zeros != b"\x00\x00" or not 1 <= ndim <= 4:
        hint = "" if path.suffix != ".gz" else " and not a gzip stream"
        raise DataError(
            f"{path}: bad magic number 0x{magic:08X}; expected 0x00000803 (images) or "
            f"0x00000801 (labels) - this is not an IDX file{hint}"
        )
    if dtype_code != _IDX_UBYTE:
        raise DataError(
            f"{path}: IDX data type 0x{dtype_code:02X} is not supported; MNIST files use 0x08 "
            "(unsigned byte)"
        )
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(
            f"{path}: truncated header: {ndim} dimensions need {header} bytes, found {len(buf)}"
        )
    dims = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(buf) - header
    if found != expected:
        what = {1: "labels", 3: "pixels"}.get(ndim, "data")
        shape = " x ".join(str(d) for d in dims)
        raise DataError(
            f"{path}: expected {expected} bytes of {what} ({shape}), found {found}"
            + (" - the file is truncated" if found < expected else " - trailing bytes")
        )
    return np.frombuffer(buf, dtype=np.uint8, offset=header).reshape(dims)


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8, checked against each other."""
    x = read_idx(images_path)
    y = read_idx(labels_path)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected images of shape (N, 28, 28) (magic 0x00000803), "
            f"found shape {x.shape}"
        )
    if y.ndim != 1:
        raise DataError(
            f"{labels_path}: expected labels of shape (N,) (magic 0x00000801), "
            f"found shape {y.shape}"
        )
    if len(x) != len(y):
        raise DataError(
            f"image and label counts differ: {images_path.name} has {len(x)} images but "
            f"{labels_path.name} has {len(y)} labels"
        )
    if y.size and y.max() > 9:
        raise DataError(f"{labels_path}: labels must be digits 0..9, found {int(y.max())}")
    return x, y


# ----------------------------------------------------------------------------- finding files


def _cache_dir(name: str) -> Path:
    return Path.home() / ".cache" / "scratch_ae" / name


def search_folders(name: str, path: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """The folders searched for ``name``, in order, each with a note on where it comes from.

    With an explicit ``path`` only that folder (and ``path/<name>``) is searched: a wrong path
    should fail loudly rather than quietly load files from somewhere else.
    """
    _check_idx_name(name)
    if path is not None:
        p = Path(path).expanduser()
        return [(p, "path argument"), (p / name, "path argument")]
    folders = []
    env = os.environ.get(ENV_VAR)
    if env:
        folders.append((Path(env).expanduser() / name, f"${ENV_VAR}/{name}"))
    folders.append((_cache_dir(name), "cache"))
    folders.extend((Path(d), "system package") for d in _SYSTEM_DIRS[name])
    return folders


def _locate(folder: Path) -> tuple[list[Path | None], list[str]]:
    """Each IDX file's path in ``folder`` (with or without .gz) or None; and the missing names."""
    found: list[Path | None] = []
    missing = []
    for fname in IDX_FILES:
        hit = None
        for candidate in (folder / fname, folder / fname[: -len(".gz")]):
            if candidate.is_file():
                hit = candidate
                break
        found.append(hit)
        if hit is None:
            missing.append(fname)
    return found, missing


def _fetch(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """GET ``url`` and return the body. Tests replace this function to stay offline."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _download(name: str, folder: Path, fnames: list[str]) -> list[str]:
    """Fetch the missing files into ``folder``; return one line per failure (empty on success).

    Each file goes to a temporary file in the same folder, is MD5-checked, then renamed with
    os.replace, so an interrupted or wrong download never leaves a file under the real name.
    Stops at the first file that no mirror can serve (offline: no point trying the rest).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return [f"cannot create {folder}: {e}"]
    for fname in fnames:
        errors = []
        for mirror in _MIRRORS[name]:
            url = mirror + fname
            print(f"scratch-ae: downloading {url}", file=sys.stderr)
            try:
                body = _fetch(url)
            except (OSError, ValueError, http.client.HTTPException) as e:
                # URLError, HTTPError, timeouts, resets are all OSErrors: "not from this mirror"
                errors.append(f"{url}: {type(e).__name__}: {e}")
                continue
            digest = hashlib.md5(body).hexdigest()
            if digest != _MD5[name][fname]:
                errors.append(
                    f"{url}: MD5 mismatch (got {digest}, expected {_MD5[name][fname]}); "
                    "file discarded"
                )
                continue
            tmp = None
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=folder)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                mask = os.umask(0)
                os.umask(mask)
                os.chmod(tmp, 0o644 & ~mask)  # mkstemp makes 0600; the cache is shareable
                os.replace(tmp, folder / fname)
                tmp = None
            except OSError as e:
                errors.append(f"{url}: cannot write into {folder}: {e}")
                continue
            finally:
                if tmp is not None and os.path.exists(tmp):
                    os.unlink(tmp)
            errors = []
            break
        if errors:
            return errors
    return []


def _not_found(
    name: str, searched: list[tuple[Path, str]], notes: list[str], download: str
) -> DataNotFoundError:
    pretty = _PRETTY[name]
    lines = [
        (
            f"{pretty} not found. Looked for the four IDX files "
            f"{', '.join(IDX_FILES)} (or the same names without .gz) in:"
        )
    ]
    lines += [f"  - {folder}  ({why})" for folder, why in searched]
    if not os.environ.get(ENV_VAR):
        lines.append(f"  (${ENV_VAR} is not set)")
    lines += notes
    lines.append(
        f"To get the data: set {ENV_VAR}=/path/to/data (a folder holding {name}/ with the four "
        f"files), pass path=/folder/with/the/files, or run once with network access to download "
        f"them into {_cache_dir(name)}."
    )
    return DataNotFoundError("\n".join(lines), tuple(str(f) for f, _ in searched), download)


def _explicit_path_not_found(name: str, p: Path) -> DataNotFoundError:
    """One line naming the given folder and what is missing from it (no other place is tried)."""
    if not p.exists():
        why = "does not exist"
    elif not p.is_dir():
        why = "is not a folder"
    else:
        # Report the candidate folder that holds the most of the four files.
        best = min((p, p / name), key=lambda f: len(_locate(f)[1]))
        missing = _locate(best)[1]
        where = "" if best == p else f" (nor in {best})"
        why = f"is missing {', '.join(missing)}{where}"
    return DataNotFoundError(
        f"{_PRETTY[name]} data path {str(p)!r} {why}: expected a folder holding the four IDX "
        f"files {', '.join(IDX_FILES)} (or {name}/ with them); an explicit path is never "
        "replaced by another folder or a download",
        (str(p), str(p / name)), "no download with an explicit path")


def _find_or_download(name: str, path, download: bool) -> tuple[list[Path], Path]:
    searched = search_folders(name, path)
    notes = []
    for folder, _ in searched:
        found, missing = _locate(folder)
        if not missing:
            return found, folder  # type: ignore[return-value]
        if len(missing) < len(IDX_FILES):
            notes.append(f"  {folder} is incomplete: missing {', '.join(missing)}")
    if path is not None:
        raise _explicit_path_not_found(name, Path(path).expanduser())
    elif not download:
        short = "download=False"
        notes.append("Download: not tried (download=False).")
    else:
        short = "download failed"
        cache = _cache_dir(name)
        _, missing = _locate(cache)
        errors = _download(name, cache, missing)
        if not errors:
            found, missing = _locate(cache)
            if not missing:
                return found, cache  # type: ignore[return-value]
            errors = [f"files still missing after download: {', '.join(missing)}"]
        notes.append("Download failed:")
        notes += [f"  {e}" for e in errors]
    raise _not_found(name, searched, notes, short)


# ----------------------------------------------------------------------------- loaders


def _check_idx_name(name: str) -> None:
    if name not in _MIRRORS:
        raise ValueError(f"unknown IDX dataset {name!r}; expected 'mnist' or 'fashion-mnist'")


def _to_float(x_uint8: np.ndarray, flat: bool) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 in [0, 1], (N, 1, 28, 28) or (N, 784). One float32 copy."""
    x = x_uint8.astype(np.float32)
    x /= np.float32(255.0)  # in place: never a float64 temporary (47M pixels * 8 B = 376 MB)
    return x.reshape(len(x), -1) if flat else x.reshape(len(x), 1, *x.shape[1:])


def _split_valid(n_train: int) -> int:
    """Size of the validation tail: 5,000 of 60,000 (1/12), so small test files split alike."""
    return n_train // 12


def _load_idx_dataset(name: str, path, flat: bool, download: bool) -> Dataset:
    files, folder = _find_or_download(name, path, download)
    x_tr, y_tr = _read_pair(files[0], files[1])
    x_te, y_te = _read_pair(files[2], files[3])
    x_tr, x_te = _to_float(x_tr, flat), _to_float(x_te, flat)
    y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
    cut = len(x_tr) - _split_valid(len(x_tr))
    # Slices are views: train and valid share one buffer, no extra copy.
    return Dataset(
        x_train=x_tr[:cut], y_train=y_tr[:cut],
        x_valid=x_tr[cut:], y_valid=y_tr[cut:],
        x_test=x_te, y_test=y_te,
        name=name, source=str(folder),
    )  # fmt: skip


def load_mnist(path=None, *, flat: bool = False, download: bool = True) -> Dataset:
    """MNIST digits: 55,000 train / 5,000 valid / 10,000 test, float32 in [0, 1].

    Images are (N, 1, 28, 28), or (N, 784) with ``flat=True``; labels int64 (N,).
    See the module docstring for the folder search; raises DataNotFoundError when the files
    are nowhere and cannot be downloaded, DataError when a file is damaged.
    """
    return _load_idx_dataset("mnist", path, flat, download)


def load_fashion_mnist(path=None, *, flat: bool = False, download: bool = True) -> Dataset:
    """Fashion-MNIST (Zalando clothing, 10 classes), same files, shapes and split as MNIST."""
    return _load_idx_dataset("fashion-mnist", path, flat, download)


SAMPLE_SOURCE = "scikit-learn load_digits (UCI optdigits), 8x8 upscaled to 28x28 — not MNIST"


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights for 1-D bilinear resizing with pixel centres aligned.

    Output pixel i samples the input at (i + 0.5) * n_in / n_out - 0.5, clamped to the edge;
    rows sum to 1, so values stay in the input's range. 2-D resize: W @ img @ W.T.
    """
    pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    w = np.zeros((n_out, n_in))
    w[np.arange(n_out), lo] += 1 - frac
    w[np.arange(n_out), hi] += frac
    return w.astype(np.float32)


def load_sample(flat: bool = False) -> Dataset:
    """An offline stand-in for MNIST: scikit-learn's 1,797 real 8x8 handwritten digits.

    Each 8x8 digit (values 0..16) is resized bilinearly to 20x20 and centred in a 28x28 frame,
    the way MNIST digits sit in a 20x20 box, then scaled to float32 [0, 1]. A fixed permutation
    splits it 1,297 train / 200 valid / 300 test. Needs no files and no network; good for
    trying code, not for results to compare with MNIST papers.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "load_sample needs scikit-learn (pip install scikit-learn); it ships the digits"
        ) from None
    digits = load_digits()
    small = digits.images.astype(np.float32) / np.float32(16.0)  # (1797, 8, 8)
    w = _bilinear_matrix(8, 20)
    big = np.zeros((len(small), 28, 28), dtype=np.float32)
    big[:, 4:24, 4:24] = w @ small @ w.T
    np.clip(big, 0.0, 1.0, out=big)
    x = big.reshape(len(big), -1) if flat else big[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    tr, va, te = order[:1297], order[1297:1497], order[1497:]
    return Dataset(
        x_train=x[tr], y_train=y[tr],
        x_valid=x[va], y_valid=y[va],
        x_test=x[te], y_test=y[te],
        name="sample", source=SAMPLE_SOURCE,
    )  # fmt: skip


def load_dataset(
    name: str = "auto", path=None, flat: bool = False, *, download: bool = True
) -> tuple[Dataset, str | None]:
    """Load by name; returns ``(dataset, message)`` where message is None or a one-line note.

    ``"mnist"`` / ``"fashion-mnist"`` raise DataNotFoundError when the files cannot be had;
    ``"auto"`` loads MNIST when found or downloadable and otherwise falls back to
    :func:`load_sample`, saying so in the message -- unless ``path`` was given: a wrong
    explicit path raises DataNotFoundError naming the folder and the missing files. A damaged
    file still raises in "auto": silently training on the sample would hide it.
    """
    if name == "mnist":
        return load_mnist(path, flat=flat, download=download), None
    if name == "fashion-mnist":
        return load_fashion_mnist(path, flat=flat, download=download), None
    if name == "sample":
        return load_sample(flat=flat), None
    if name == "auto":
        try:
            return load_mnist(path, flat=flat, download=download), None
        except DataNotFoundError as e:
            if path is not None:  # a path the user gave is wrong: say so, never fall back
                raise
            message = (
                f"MNIST not found (searched {', '.join(e.searched)}; {e.download}); "
                "using the offline sample of 1,797 scikit-learn digits. "
                f"Set {ENV_VAR}=/path/to/data or run with network access to get the full data."
            )
            return load_sample(flat=flat), message
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")


# ----------------------------------------------------------------------------- your own data

#: Label of an image that came without one (a folder of images, an array saved without y).
#: Labels stay int64 arrays of shape (N,) either way, so code that slices or counts them works;
#: only code that needs classes (a k-NN probe, a coloured latent map) must check for -1.
NO_LABEL = -1
#: Share of the images held out as test when the data has no test split of its own.
HOLDOUT = 0.1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_SHAPES = "(N, 28, 28), (N, 784) or (N, 1, 28, 28)"
_SPLITS = ("train", "valid", "test")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
# What a damaged .npy / .npz raises from np.load or on reading a member (zip, deflate, header).
_NPY_ERRORS = (OSError, ValueError, EOFError, RuntimeError, NotImplementedError, SyntaxError,
               tokenize.TokenError, zipfile.BadZipFile, zlib.error)
#: {"train" | "valid" | "test": (images float32 (N, 28, 28) in [0, 1], labels int64 (N,) or None)}
Splits = dict[str, tuple[np.ndarray, np.ndarray | None]]


def load_path(
    path: str | os.PathLike,
    *,
    flat: bool = False,
    holdout: float = HOLDOUT,
    seed: int = 0,
) -> tuple[Dataset, str | None]:
    """Your own images as a Dataset; returns ``(dataset, note)``, note None or one line.

    ``path`` is one of:

    * a folder with the four MNIST IDX files (:data:`IDX_FILES`): split as :func:`load_mnist`
      splits, the dataset named after the folder;
    * a ``.npy`` file, or a ``.npz`` with ``x_train`` (and optionally ``x_valid``, ``x_test``,
      ``y_train``, ``y_valid``, ``y_test``) or with one array / ``x`` / ``images`` (and
      optionally ``y`` / ``labels``). Images shaped (N, 28, 28), (N, 784) or (N, 1, 28, 28);
      uint8 0..255, another integer type within 0..255, or float in [0, 1]. Labels: integers,
      shape (N,). Never unpickled;
    * a folder of ``.png`` / ``.jpg`` / ``.jpeg`` files of any size and colour mode (sorted by
      name; subfolders and dot-files ignored), each converted with Pillow to 28x28 grayscale:
      turned as its EXIF says, transparent pixels count as black (MNIST's background),
      non-square images stretched, 16-bit PNGs scaled from 0..65535.

    Images come back float32 in [0, 1], (N, 1, 28, 28) or (N, 784) with ``flat=True``; labels
    int64 (N,), :data:`NO_LABEL` (-1) where the data had none. A missing split is drawn from
    the training images by a permutation seeded with ``seed``: test first, ``holdout`` of all
    images (at least 1), then validation, 1/12 of the rest (at least 1; the MNIST loaders'
    share); kept images stay in file order. The note says what was converted, held out or is
    unlabelled. Raises DataNotFoundError for a missing path, DataError (one line naming the
    file) for anything unusable, ValueError for a ``holdout`` outside (0, 1).
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be a fraction in (0, 1), got {holdout!r}")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataNotFoundError(
            f"{p}: no such file or folder; expected a folder of MNIST IDX files or of images "
            "(.png, .jpg), or a .npy / .npz file", (str(p),), "no download for a path")
    if p.is_dir():
        splits, notes = _read_folder(p)
        name = p.resolve().name
    else:
        splits, notes = _read_array_file(p), []
        name = p.stem
    ds = _assemble(splits, name, str(p), flat, holdout, seed, notes)
    return ds, (f"{name}: " + "; ".join(notes)) if notes else None


def _assemble(splits: Splits, name: str, source: str, flat: bool, holdout: float, seed: int,
              notes: list[str]) -> Dataset:
    """Hold out the missing splits, fill missing labels, shape for ``flat``; extend ``notes``."""
    label_note = _label_note(splits)  # before hold-outs: splits drawn from train share its y
    x, y = splits["train"]
    y = np.full(len(x), NO_LABEL, np.int64) if y is None else y
    missing = [s for s in ("test", "valid") if s not in splits]
    if len(x) < 1 + len(missing):
        what = {"test": "a test split", "valid": "a validation split"}
        raise DataError(
            f"{source}: too few images to hold out {' and '.join(what[s] for s in missing)}: "
            f"{len(x)} to train on, need at least {1 + len(missing)}")
    rng = np.random.default_rng(seed)
    if "test" in missing:
        # The rest must keep one image per split still to come (validation, train).
        n = min(max(1, round(len(x) * holdout)), len(x) - len(missing))
        (x, y), splits["test"] = _hold_out(x, y, n, rng)
        notes.append(f"no test split: held out {holdout * 100:g}% ({_n(n, 'image')}) as test")
    if "valid" in missing:
        n = min(max(1, _split_valid(len(x))), len(x) - 1)
        (x, y), splits["valid"] = _hold_out(x, y, n, rng)
        notes.append(f"no validation split: held out 1/12 of the rest ({_n(n, 'image')})")
    splits["train"] = (x, y)
    if label_note:
        notes.append(label_note)
    out = {}
    for s in _SPLITS:
        xs, ys = splits[s]
        out[f"x_{s}"] = xs.reshape(len(xs), -1) if flat else xs[:, None]
        out[f"y_{s}"] = np.full(len(xs), NO_LABEL, np.int64) if ys is None else ys
    return Dataset(**out, name=name, source=source)


def _label_note(splits: Splits) -> str | None:
    """Which of the given splits came without labels, or None when all have them."""
    given = [s for s in _SPLITS if s in splits]
    unlabelled = [s for s in given if splits[s][1] is None]
    if not unlabelled:
        return None
    if unlabelled == given:
        return f"no labels: y is {NO_LABEL} (NO_LABEL)"
    return f"{', '.join('y_' + s for s in unlabelled)} missing: {NO_LABEL} (NO_LABEL)"


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _hold_out(x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator):
    """``((x, y) kept, (x, y) held out)``: n random rows out; both parts keep file order."""
    order = rng.permutation(len(x))
    out, keep = np.sort(order[:n]), np.sort(order[n:])
    return (x[keep], y[keep]), (x[out], y[out])


def _check_images(x: np.ndarray, where: str) -> np.ndarray:
    """Any accepted image array -> float32 (N, 28, 28) in [0, 1]; DataError naming ``where``."""
    if x.dtype.kind not in "uif":
        raise DataError(
            f"{where}: dtype {x.dtype} cannot hold pixels; expected uint8 (0..255) or float "
            "(0..1)")
    if not (x.ndim == 3 and x.shape[1:] == (28, 28) or x.ndim == 2 and x.shape[1] == 784
            or x.ndim == 4 and x.shape[1:] == (1, 28, 28)):
        raise DataError(f"{where}: images of shape {x.shape}; expected {_SHAPES}")
    if len(x) == 0:
        raise DataError(f"{where}: holds no images (shape {x.shape})")
    x = x.reshape(len(x), 28, 28)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(bad.reshape(len(x), -1).any(axis=1).argmax())
            raise DataError(
                f"{where}: {int(bad.sum())} NaN/inf pixel(s), the first in image {first}")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            hint = "; 0..255 values? divide by 255 or save uint8" if 1 < hi <= 255 else ""
            raise DataError(
                f"{where}: float pixels must be in [0, 1], found {lo:g} to {hi:g}{hint}")
        return x.astype(np.float32)  # always a copy: never a view into a caller's array
    if x.dtype != np.uint8:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: {x.dtype} pixels must be within 0..255, found {lo} to {hi}")
    out = x.astype(np.float32)
    out /= np.float32(255.0)
    return out


def _check_labels(y: np.ndarray, n: int, where: str) -> np.ndarray:
    """Integer labels (N,) matching N images -> int64; -1 (NO_LABEL) allowed, lower is not."""
    if y.dtype.kind not in "ui":
        raise DataError(f"{where}: labels must be integers, found dtype {y.dtype}")
    if y.shape != (n,):
        raise DataError(f"{where}: labels of shape {y.shape} for {n} images; expected ({n},)")
    if n and y.min() < NO_LABEL:
        raise DataError(f"{where}: labels must be >= {NO_LABEL} (-1: no label), "
                        f"found {int(y.min())}")
    return y.astype(np.int64)


# ----------------------------------------------------------------------------- .npy / .npz


def _read_array_file(p: Path) -> Splits:
    """Splits from a .npy (one image array) or .npz (named arrays), told apart by content."""
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(f"{p}: a single image; put your images in a folder and pass the folder")
    try:
        with open(p, "rb") as fh:
            head = fh.read(6)
    except OSError as e:
        raise DataError(f"{p}: cannot read file ({e.strerror or e})") from None
    if head[:4] not in _ZIP_MAGICS and head != _NPY_MAGIC:
        kind = "an empty file" if not head else f"starts with {head!r}"
        raise DataError(
            f"{p}: not a NumPy .npy or .npz file ({kind}); expected a folder of MNIST IDX "
            "files or images (.png, .jpg), or a .npy / .npz of images")
    if head == _NPY_MAGIC:
        return {"train": (_check_images(_np_load(p), str(p)), None)}
    try:
        npz = np.load(p, allow_pickle=False)
    except _NPY_ERRORS as e:
        raise DataError(f"{p}: cannot read it as a .npz archive ({e})") from None
    with npz:
        return _npz_splits(npz, p)


def _np_load(p: Path, npz=None, key: str = "") -> np.ndarray:
    """The array in the .npy ``p``, or array ``key`` of ``npz``, the open archive ``p``."""
    label = str(p) if npz is None else f"{p} (array {key!r})"
    try:
        return np.load(p, allow_pickle=False) if npz is None else npz[key]
    except _NPY_ERRORS as e:
        if "allow_pickle" in str(e):  # numpy's wording for object arrays
            raise DataError(f"{label}: holds Python objects (dtype object), which are never "
                            "unpickled; save uint8 or float pixels") from None
        raise DataError(f"{label}: cannot read the array ({e})") from None


def _npz_splits(npz, p: Path) -> Splits:
    """Which arrays of an .npz are images and labels: x_train & co., or one array / x / y."""
    keys = list(npz.files)
    if "x_train" in keys:
        pairs = {s: (f"x_{s}", f"y_{s}") for s in _SPLITS if f"x_{s}" in keys}
        for s in _SPLITS:
            if f"y_{s}" in keys and s not in pairs:
                raise DataError(f"{p}: has y_{s} but no x_{s} for those labels to describe")
    else:
        x_key = next((k for k in ("x", "images", "X") if k in keys), None)
        if x_key is None and len(keys) == 1:
            x_key = keys[0]
        if x_key is None:
            raise DataError(
                f"{p}: no image arrays found among its keys "
                f"[{', '.join(keys) or 'none'}]; expected x_train (with optional x_valid, "
                "x_test, y_*), x or images (with optional y or labels), or a single array")
        pairs = {"train": (x_key, next((k for k in ("y", "labels", "Y") if k in keys), ""))}
    splits = {}
    for s, (xk, yk) in pairs.items():
        x = _check_images(_np_load(p, npz, xk), f"{p} (array {xk!r})")
        y = None
        if yk in keys:
            y = _check_labels(_np_load(p, npz, yk), len(x), f"{p} (array {yk!r})")
        splits[s] = (x, y)
    return splits


# ----------------------------------------------------------------------------- folders


def _read_folder(folder: Path) -> tuple[Splits, list[str]]:
    """Splits (and notes) from a folder: the four IDX files if all are there, else images."""
    files, missing = _locate(folder)
    if not missing:
        x_tr, y_tr = _read_pair(files[0], files[1])  # type: ignore[arg-type]
        x_te, y_te = _read_pair(files[2], files[3])  # type: ignore[arg-type]
        x_tr = _check_images(x_tr, str(files[0]))
        cut = len(x_tr) - _split_valid(len(x_tr))  # the MNIST loaders' tail, not a random draw
        y_tr = y_tr.astype(np.int64)
        splits = {"train": (x_tr[:cut], y_tr[:cut]), "valid": (x_tr[cut:], y_tr[cut:]),
                  "test": (_check_images(x_te, str(files[2])), y_te.astype(np.int64))}
        return splits, []
    try:
        entries = sorted(folder.iterdir(), key=lambda f: f.name)
    except OSError as e:
        raise DataError(f"{folder}: cannot list the folder ({e.strerror or e})") from None
    images = [f for f in entries if f.suffix.lower() in IMAGE_SUFFIXES
              and not f.name.startswith(".") and f.is_file()]  # ._x.png: macOS metadata
    if images:
        x, note = _read_images(images)
        return {"train": (x, None)}, [note]
    if not entries:
        raise DataError(f"{folder}: the folder is empty; expected the four MNIST IDX files or "
                        "images (.png, .jpg)")
    if len(missing) < len(IDX_FILES):
        raise DataError(f"{folder}: incomplete MNIST IDX set: missing {', '.join(missing)}")
    raise DataError(
        f"{folder}: no images (.png, .jpg, .jpeg) and no MNIST IDX files among its "
        f"{len(entries)} entries (subfolders are not searched)")


def _read_images(files: list[Path]) -> tuple[np.ndarray, str]:
    """Image files -> float32 (N, 28, 28) in [0, 1], and a note of what was converted."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise DataError("reading a folder of images needs Pillow (pip install pillow)") from None
    x = np.empty((len(files), 28, 28), np.float32)
    sizes: dict[str, int] = {}
    modes = set()
    for i, f in enumerate(files):
        try:
            with Image.open(f) as im:
                im.load()
                im = ImageOps.exif_transpose(im)  # phone photos: stored sideways, EXIF says so
                size = f"{im.size[0]}x{im.size[1]}"
                modes.add(im.mode)
                x[i] = _to_gray28(im, Image)
        except (OSError, ValueError, EOFError, SyntaxError, Image.DecompressionBombError) as e:
            why = "not an image Pillow can identify" if "cannot identify" in str(e) else str(e)
            raise DataError(f"{f}: cannot read this image ({why})") from None
        sizes[size] = sizes.get(size, 0) + 1
    common = sorted(sizes.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{s} x{n}" for s, n in common[:3])
    more = f" and {_n(len(common) - 3, 'more size')}" if len(common) > 3 else ""
    note = (f"converted {_n(len(files), 'image')} (sizes {shown}{more}; modes "
            f"{', '.join(sorted(modes))}) to 28x28 grayscale")
    return x, note


def _to_gray28(im, Image) -> np.ndarray:
    """A Pillow image of any mode and size -> float32 (28, 28) in [0, 1]."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit PNG: scale, as convert("L") clips
        gray = np.clip(np.asarray(im, dtype=np.float32) / np.float32(65535.0), 0.0, 1.0)
    else:
        if "A" in im.mode or "transparency" in im.info:
            # Alpha is coverage: over MNIST's black background a half-transparent white is grey.
            black = Image.new("RGBA", im.size, (0, 0, 0, 255))
            im = Image.alpha_composite(black, im.convert("RGBA"))
        gray = np.asarray(im.convert("L"), dtype=np.float32) / np.float32(255.0)
    if gray.shape != (28, 28):
        small = Image.fromarray(gray).resize((28, 28), Image.Resampling.LANCZOS)
        gray = np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)  # Lanczos overshoots
    return gray
