"""Tests for scratch_ae.data: real MNIST when available, tiny synthetic IDX files otherwise.

No test touches the network: an autouse fixture replaces the downloader with one that fails
like an offline machine, and the download tests serve bytes from memory.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from scratch_ae import data
from scratch_ae.data import DataError, DataNotFoundError

# Captured before any fixture edits the environment; CI sets SCRATCH_AE_DATA=../shared/data.
_ENV = os.environ.get("SCRATCH_AE_DATA")
REAL_DATA = Path(_ENV).resolve() if _ENV else None
NAMES = data.IDX_FILES
_REAL_SYSTEM_DIRS = dict(data._SYSTEM_DIRS)


# ----------------------------------------------------------------------------- helpers


def idx_bytes(arr: np.ndarray, magic_type: int = 0x08) -> bytes:
    """Encode a uint8 array as an IDX file: 0, 0, type, ndim, big-endian dims, payload."""
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, magic_type, arr.ndim])
    head += b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.tobytes()


def make_arrays(n_train=24, n_test=12, marker=0, seed=0):
    """Random images/labels; ``marker`` is the first training label, to tell folders apart."""
    rng = np.random.default_rng(seed)
    x_tr = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y_tr = rng.integers(0, 10, n_train).astype(np.uint8)
    x_te = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_te = rng.integers(0, 10, n_test).astype(np.uint8)
    y_tr[0] = marker
    return x_tr, y_tr, x_te, y_te


def file_bytes(arrays, gz=True):
    """{file name: bytes} for the four IDX files (gzipped, or raw under the .gz-less names)."""
    out = {}
    for fname, arr in zip(NAMES, arrays, strict=True):
        raw = idx_bytes(arr)
        if gz:
            out[fname] = gzip.compress(raw, mtime=0)
        else:
            out[fname[: -len(".gz")]] = raw
    return out


def write_set(folder: Path, *, marker=0, gz=True, n_train=24, n_test=12, seed=0):
    """Write four valid IDX files into ``folder``; return the uint8 arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = make_arrays(n_train, n_test, marker, seed)
    for fname, blob in file_bytes(arrays, gz).items():
        (folder / fname).write_bytes(blob)
    return arrays


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Isolate every test: no SCRATCH_AE_DATA, HOME in tmp, no system folders, no network."""
    monkeypatch.delenv("SCRATCH_AE_DATA", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(data, "_SYSTEM_DIRS", {"mnist": (), "fashion-mnist": ()})

    def no_network(url, timeout=None):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(data, "_fetch", no_network)
    return home


def cache_of(home: Path, name="mnist") -> Path:
    return home / ".cache" / "scratch_ae" / name


# ----------------------------------------------------------------------------- real data


def _require_real(name: str) -> Path:
    if REAL_DATA is None:
        pytest.skip("full data not available: SCRATCH_AE_DATA is not set (CI: ../shared/data)")
    folder = REAL_DATA / name
    if any(not (folder / f).is_file() for f in NAMES):
        pytest.skip(f"full data not available: {folder} lacks the four IDX .gz files")
    return folder


@pytest.fixture(scope="module")
def real_mnist():
    folder = _require_real("mnist")
    mp = pytest.MonkeyPatch()
    mp.setenv("SCRATCH_AE_DATA", str(REAL_DATA))
    try:
        ds = data.load_mnist(download=False)
    finally:
        mp.undo()
    return ds, folder


def test_real_mnist_shapes_dtypes_and_split(real_mnist):
    ds, folder = real_mnist
    assert ds.name == "mnist"
    assert Path(ds.source) == folder
    assert ds.x_train.shape == (55000, 1, 28, 28)
    assert ds.x_valid.shape == (5000, 1, 28, 28)
    assert ds.x_test.shape == (10000, 1, 28, 28)
    assert ds.y_train.shape == (55000,) and ds.y_valid.shape == (5000,)
    assert ds.y_test.shape == (10000,)
    for x in (ds.x_train, ds.x_valid, ds.x_test):
        assert x.dtype == np.float32
    for y in (ds.y_train, ds.y_valid, ds.y_test):
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.x_test.min() >= 0.0 and ds.x_test.max() <= 1.0
    # The famous first digits: a 5 in training, a 7 in test.
    assert ds.y_train[0] == 5
    assert ds.y_test[0] == 7
    # Géron's split: validation is the *last* 5,000 of the 60,000 training images.
    raw = data.read_idx(folder / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(ds.x_valid[0, 0], raw[55000].astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.x_train[-1, 0], raw[54999].astype(np.float32) / 255)
    raw_labels = data.read_idx(folder / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(ds.y_valid, raw_labels[55000:])


def test_real_fashion_mnist_flat(monkeypatch):
    folder = _require_real("fashion-mnist")
    monkeypatch.setenv("SCRATCH_AE_DATA", str(REAL_DATA))
    ds = data.load_fashion_mnist(flat=True, download=False)
    assert ds.name == "fashion-mnist" and Path(ds.source) == folder
    assert ds.x_train.shape == (55000, 784)
    assert ds.x_valid.shape == (5000, 784)
    assert ds.x_test.shape == (10000, 784)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.y_train[0] == 9  # an ankle boot
    assert 0.0 <= ds.x_test.min() and ds.x_test.max() <= 1.0


# ----------------------------------------------------------------------------- decoding


def test_values_split_and_flat_vs_nchw(tmp_path):
    x_tr, y_tr, x_te, y_te = write_set(tmp_path / "d", n_train=24, n_test=12)
    a = data.load_mnist(tmp_path / "d")
    b = data.load_mnist(tmp_path / "d", flat=True)
    # 24 training images -> the last 24 // 12 = 2 validate, as 5,000 of 60,000 do.
    assert a.x_train.shape == (22, 1, 28, 28) and a.x_valid.shape == (2, 1, 28, 28)
    assert b.x_train.shape == (22, 784) and b.x_test.shape == (12, 784)
    np.testing.assert_array_equal(b.x_train, a.x_train.reshape(22, -1))
    np.testing.assert_array_equal(a.x_train[:, 0], x_tr[:22].astype(np.float32) / 255)
    np.testing.assert_array_equal(a.x_valid[:, 0], x_tr[22:].astype(np.float32) / 255)
    np.testing.assert_array_equal(a.x_test[:, 0], x_te.astype(np.float32) / 255)
    np.testing.assert_array_equal(a.y_train, y_tr[:22])
    np.testing.assert_array_equal(a.y_valid, y_tr[22:])
    np.testing.assert_array_equal(a.y_test, y_te)
    assert a.x_train.dtype == np.float32 and a.y_test.dtype == np.int64


def test_read_idx_roundtrip_gz_and_raw(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    (tmp_path / "a").write_bytes(idx_bytes(arr))
    for p in (tmp_path / "a.gz", tmp_path / "a"):
        out = data.read_idx(p)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, arr)


def test_names_without_gz_are_accepted(tmp_path):
    write_set(tmp_path / "raw", gz=False)
    assert sorted(os.listdir(tmp_path / "raw")) == sorted(n[:-3] for n in NAMES)
    ds = data.load_mnist(tmp_path / "raw")
    assert ds.x_test.shape == (12, 1, 28, 28)


def test_dataset_is_frozen_and_repr_is_short(tmp_path):
    write_set(tmp_path / "d")
    ds = data.load_mnist(tmp_path / "d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"
    assert "(22, 1, 28, 28)" in repr(ds) and len(repr(ds)) < 300


# ----------------------------------------------------------------------------- search order


def test_explicit_path_wins_over_env(tmp_path, monkeypatch):
    write_set(tmp_path / "env" / "mnist", marker=1)
    write_set(tmp_path / "explicit", marker=2)
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "env"))
    ds = data.load_mnist(tmp_path / "explicit")
    assert Path(ds.source) == tmp_path / "explicit" and ds.y_train[0] == 2
    assert data.load_mnist().y_train[0] == 1  # and without path, the env folder is used


def test_explicit_path_may_be_the_parent_folder(tmp_path):
    write_set(tmp_path / "root" / "fashion-mnist", marker=3)
    ds = data.load_fashion_mnist(tmp_path / "root")
    assert Path(ds.source) == tmp_path / "root" / "fashion-mnist" and ds.y_train[0] == 3


def test_wrong_explicit_path_fails_instead_of_falling_back(tmp_path, monkeypatch, offline):
    write_set(tmp_path / "env" / "mnist", marker=1)
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "env"))

    def must_not_fetch(url, timeout=None):
        raise AssertionError("no download when an explicit path is given")

    monkeypatch.setattr(data, "_fetch", must_not_fetch)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError) as e:
        data.load_mnist(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(e.value)


def test_search_order_env_then_cache_then_system(tmp_path, monkeypatch, offline):
    write_set(tmp_path / "env" / "fashion-mnist", marker=1)
    write_set(cache_of(offline, "fashion-mnist"), marker=2)
    write_set(tmp_path / "system", marker=3)
    monkeypatch.setattr(
        data, "_SYSTEM_DIRS", {"mnist": (), "fashion-mnist": (str(tmp_path / "system"),)}
    )
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "env"))
    assert data.load_fashion_mnist().y_train[0] == 1

    # An incomplete env folder is skipped, not half-used.
    (tmp_path / "env" / "fashion-mnist" / NAMES[3]).unlink()
    ds = data.load_fashion_mnist()
    assert ds.y_train[0] == 2 and Path(ds.source) == cache_of(offline, "fashion-mnist")

    monkeypatch.delenv("SCRATCH_AE_DATA")
    for f in cache_of(offline, "fashion-mnist").iterdir():
        f.unlink()
    ds = data.load_fashion_mnist(download=False)
    assert ds.y_train[0] == 3 and Path(ds.source) == tmp_path / "system"


def test_system_folder_is_only_for_fashion(monkeypatch):
    # The module's own table (captured before the fixture blanked it): Debian's
    # dataset-fashion-mnist installs the four .gz files in /usr/share/datasets/fashion-mnist.
    assert "/usr/share/datasets/fashion-mnist" in _REAL_SYSTEM_DIRS["fashion-mnist"]
    assert _REAL_SYSTEM_DIRS["mnist"] == ()
    monkeypatch.setattr(data, "_SYSTEM_DIRS", _REAL_SYSTEM_DIRS)
    assert not any("fashion" in str(f) for f, _ in data.search_folders("mnist"))
    assert "/usr/share/datasets/fashion-mnist" in [
        str(f) for f, _ in data.search_folders("fashion-mnist")
    ]


# ----------------------------------------------------------------------------- damaged files


def _damage(folder: Path, fname: str, blob: bytes):
    (folder / fname).write_bytes(blob)


def test_truncated_pixels(tmp_path):
    d = tmp_path / "d"
    x_tr, *_ = write_set(d)
    _damage(d, NAMES[0], gzip.compress(idx_bytes(x_tr)[: 16 + 1200]))
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    msg = str(e.value)
    assert NAMES[0] in msg
    assert f"expected {24 * 28 * 28} bytes of pixels" in msg and "found 1200" in msg


def test_truncated_gzip_stream(tmp_path):
    d = tmp_path / "d"
    write_set(d)
    blob = (d / NAMES[0]).read_bytes()
    _damage(d, NAMES[0], blob[: len(blob) // 2])
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    assert NAMES[0] in str(e.value) and "truncated" in str(e.value)
    assert type(e.value) is DataError  # not an EOFError from gzip


def test_corrupt_gzip_body(tmp_path):
    d = tmp_path / "d"
    write_set(d)
    blob = bytearray((d / NAMES[1]).read_bytes())
    blob[-8:-4] = bytes(4 - i for i in range(4))  # wrong CRC32 in the gzip trailer
    _damage(d, NAMES[1], bytes(blob))
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    assert NAMES[1] in str(e.value) and "gzip" in str(e.value)


def test_bad_magic_number(tmp_path):
    d = tmp_path / "d"
    _, y_tr, _, _ = write_set(d)
    raw = bytearray(idx_bytes(y_tr))
    raw[0:2] = b"\x12\x34"
    _damage(d, NAMES[1], gzip.compress(bytes(raw)))
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    assert NAMES[1] in str(e.value) and "bad magic number 0x12340801" in str(e.value)


def test_unsupported_idx_type(tmp_path):
    d = tmp_path / "d"
    _, y_tr, _, _ = write_set(d)
    _damage(d, NAMES[1], gzip.compress(idx_bytes(y_tr, magic_type=0x0D)))
    with pytest.raises(DataError, match="0x0D is not supported"):
        data.load_mnist(d)


def test_images_where_labels_belong(tmp_path):
    d = tmp_path / "d"
    x_tr, *_ = write_set(d)
    _damage(d, NAMES[1], gzip.compress(idx_bytes(x_tr)))
    with pytest.raises(DataError, match=r"expected labels of shape \(N,\)"):
        data.load_mnist(d)


def test_mismatched_counts(tmp_path):
    d = tmp_path / "d"
    _, y_tr, _, _ = write_set(d)
    _damage(d, NAMES[1], gzip.compress(idx_bytes(y_tr[:-1])))
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    msg = str(e.value)
    assert "24 images" in msg and "23 labels" in msg and NAMES[1] in msg


def test_gz_that_is_not_gzip(tmp_path):
    d = tmp_path / "d"
    write_set(d)
    _damage(d, NAMES[2], b"<html><body>404 Not Found</body></html>\n")
    with pytest.raises(DataError) as e:
        data.load_mnist(d)
    msg = str(e.value)
    assert NAMES[2] in msg and "not an IDX file" in msg and "not a gzip stream" in msg


def test_label_out_of_range(tmp_path):
    d = tmp_path / "d"
    _, y_tr, _, _ = write_set(d)
    y_bad = y_tr.copy()
    y_bad[3] = 42
    _damage(d, NAMES[1], gzip.compress(idx_bytes(y_bad)))
    with pytest.raises(DataError, match="found 42"):
        data.load_mnist(d)


# ----------------------------------------------------------------------------- not found


def test_missing_files_message_names_files_and_folders(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError) as e:
        data.load_mnist(download=False)
    msg = str(e.value)
    for fname in NAMES:
        assert fname in msg
    assert str(tmp_path / "nowhere" / "mnist") in msg
    assert str(cache_of(offline)) in msg
    assert "SCRATCH_AE_DATA=" in msg and "path=" in msg
    assert "download=False" in msg
    assert e.value.searched == (str(tmp_path / "nowhere" / "mnist"), str(cache_of(offline)))
    assert isinstance(e.value, DataError)


def test_missing_fashion_lists_system_folder_and_failed_download(tmp_path, monkeypatch):
    monkeypatch.setattr(
        data, "_SYSTEM_DIRS", {"mnist": (), "fashion-mnist": (str(tmp_path / "sys"),)}
    )
    with pytest.raises(DataNotFoundError) as e:
        data.load_fashion_mnist()
    msg = str(e.value)
    assert str(tmp_path / "sys") in msg
    assert "Download failed" in msg and "network disabled in tests" in msg
    assert "SCRATCH_AE_DATA is not set" in msg


def test_incomplete_folder_is_reported(tmp_path):
    d = tmp_path / "d"
    write_set(d)
    (d / NAMES[2]).unlink()
    with pytest.raises(DataNotFoundError) as e:
        data.load_mnist(d)
    assert f"missing {NAMES[2]}" in str(e.value)


# ----------------------------------------------------------------------------- download


@pytest.fixture
def mirror(monkeypatch):
    """Serve synthetic .gz files from memory at the real mirror URLs, with their MD5s."""
    blobs = file_bytes(make_arrays(marker=4))
    monkeypatch.setattr(
        data, "_MD5", {"mnist": {k: hashlib.md5(v).hexdigest() for k, v in blobs.items()}}
    )
    calls = []

    def fetch(url, timeout=None):
        calls.append(url)
        fname = url.rsplit("/", 1)[1]
        return blobs[fname]

    monkeypatch.setattr(data, "_fetch", fetch)
    return blobs, calls


def test_download_lands_in_cache(mirror, offline):
    blobs, calls = mirror
    ds = data.load_mnist()
    cache = cache_of(offline)
    assert Path(ds.source) == cache and ds.y_train[0] == 4
    assert sorted(os.listdir(cache)) == sorted(NAMES)  # no temp files left behind
    for fname in NAMES:
        assert (cache / fname).read_bytes() == blobs[fname]
    assert calls == [data._MIRRORS["mnist"][0] + f for f in NAMES]
    # Second call: found in the cache, nothing fetched.
    data.load_mnist()
    assert len(calls) == 4


def test_download_falls_back_to_second_mirror(mirror, monkeypatch, offline):
    blobs, calls = mirror
    first, second = data._MIRRORS["mnist"]

    def fetch(url, timeout=None):
        calls.append(url)
        if url.startswith(first):
            raise urllib.error.HTTPError(url, 403, "Forbidden", {}, None)
        return blobs[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(data, "_fetch", fetch)
    assert data.load_mnist().y_train[0] == 4
    assert calls[:2] == [first + NAMES[0], second + NAMES[0]]


def test_download_fetches_only_missing_files(mirror, offline):
    blobs, calls = mirror
    cache = cache_of(offline)
    cache.mkdir(parents=True)
    for fname in NAMES[:2]:
        (cache / fname).write_bytes(blobs[fname])
    data.load_mnist()
    assert [u.rsplit("/", 1)[1] for u in calls] == list(NAMES[2:])


def test_download_md5_mismatch_leaves_nothing(mirror, monkeypatch, offline):
    blobs, calls = mirror

    def fetch(url, timeout=None):
        calls.append(url)
        return blobs[url.rsplit("/", 1)[1]][:-10] + b"tampered!!"

    monkeypatch.setattr(data, "_fetch", fetch)
    with pytest.raises(DataError) as e:
        data.load_mnist()
    assert "MD5 mismatch" in str(e.value) and NAMES[0] in str(e.value)
    cache = cache_of(offline)
    assert not cache.exists() or os.listdir(cache) == []
    # Both mirrors tried for the first file, then it stops: no point fetching the rest.
    assert len(calls) == len(data._MIRRORS["mnist"])


def test_download_false_fetches_nothing(monkeypatch):
    def must_not_fetch(url, timeout=None):
        raise AssertionError("download=False must not fetch")

    monkeypatch.setattr(data, "_fetch", must_not_fetch)
    with pytest.raises(DataNotFoundError):
        data.load_mnist(download=False)


# ----------------------------------------------------------------------------- sample


def test_load_sample_offline():
    ds = data.load_sample()
    assert ds.name == "sample" and "not MNIST" in ds.source and "load_digits" in ds.source
    assert ds.x_train.shape == (1297, 1, 28, 28)
    assert ds.x_valid.shape == (200, 1, 28, 28)
    assert ds.x_test.shape == (300, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    assert allx.min() == 0.0 and 0.99 <= allx.max() <= 1.0
    assert set(np.unique(ds.y_train)) == set(range(10))
    assert len(np.unique(ds.y_test)) == 10
    # Digits sit in the central 20x20 box, like MNIST: the 4-pixel border is empty.
    border = allx.copy()
    border[:, :, 4:24, 4:24] = 0
    assert border.max() == 0.0
    assert allx[:, :, 4:24, 4:24].mean() > 0.2
    # Deterministic split, and flat is the same data.
    again = data.load_sample(flat=True)
    np.testing.assert_array_equal(again.x_train, ds.x_train.reshape(1297, 784))
    np.testing.assert_array_equal(again.y_test, ds.y_test)


def test_sample_matches_the_source_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    ds = data.load_sample()
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])[:, 0, 4:24, 4:24]
    ally = np.concatenate([ds.y_train, ds.y_valid, ds.y_test])
    assert np.bincount(ally).tolist() == np.bincount(digits.target).tolist()
    # Each image must be its own label's digit: upscale every source digit, find the match.
    w = data._bilinear_matrix(8, 20)
    up = w @ (digits.images.astype(np.float32) / 16) @ w.T  # (1797, 20, 20)
    for i in range(0, len(allx), 97):
        dist = np.abs(up - allx[i]).reshape(len(up), -1).max(axis=1)
        j = int(np.argmin(dist))
        assert dist[j] < 1e-5 and digits.target[j] == ally[i]


def test_bilinear_matrix():
    np.testing.assert_allclose(data._bilinear_matrix(8, 8), np.eye(8))
    w = data._bilinear_matrix(8, 20)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    assert (w >= 0).all()


# ----------------------------------------------------------------------------- load_dataset


def test_auto_falls_back_to_sample_with_message(offline):
    ds, msg = data.load_dataset("auto")
    assert ds.name == "sample" and ds.x_train.shape == (1297, 1, 28, 28)
    assert msg is not None and "\n" not in msg
    assert msg.startswith("MNIST not found")
    assert str(cache_of(offline)) in msg and "1,797" in msg and "SCRATCH_AE_DATA" in msg
    ds2, msg2 = data.load_dataset("auto", flat=True, download=False)
    assert ds2.x_train.shape == (1297, 784) and "download=False" in msg2


def test_auto_uses_mnist_when_present(tmp_path, monkeypatch):
    write_set(tmp_path / "env" / "mnist", marker=6)
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "env"))
    ds, msg = data.load_dataset("auto")
    assert ds.name == "mnist" and ds.y_train[0] == 6 and msg is None


def test_auto_does_not_hide_a_damaged_file(tmp_path, monkeypatch):
    write_set(tmp_path / "env" / "mnist")
    (tmp_path / "env" / "mnist" / NAMES[0]).write_bytes(b"garbage")
    monkeypatch.setenv("SCRATCH_AE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError, match="bad magic number"):
        data.load_dataset("auto")


def test_explicit_names(tmp_path):
    with pytest.raises(DataNotFoundError):
        data.load_dataset("mnist")
    with pytest.raises(DataNotFoundError):
        data.load_dataset("fashion-mnist")
    write_set(tmp_path / "f", marker=8)
    ds, msg = data.load_dataset("fashion-mnist", path=tmp_path / "f")
    assert ds.name == "fashion-mnist" and ds.y_train[0] == 8 and msg is None
    ds, msg = data.load_dataset("sample")
    assert ds.name == "sample" and msg is None


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as e:
        data.load_dataset("cifar10")
    for name in ("auto", "mnist", "fashion-mnist", "sample"):
        assert name in str(e.value)


# ----------------------------------------------------------------------------- load_path


def marked(n: int, dtype=np.uint8) -> np.ndarray:
    """(n, 28, 28) images whose pixel [0, 0] is the image's index: rows can be traced."""
    x = np.zeros((n, 28, 28), dtype=dtype)
    x[:, 0, 0] = np.arange(n)
    return x


def index_of(x: np.ndarray) -> np.ndarray:
    """The marker of each (N, 1, 28, 28) float image back as an int (uint8 marker / 255)."""
    return np.rint(x[:, 0, 0, 0] * 255).astype(int)


def check_one_line(exc_info, *names) -> str:
    """The error is one line and names each of ``names`` (files, keys)."""
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    for name in names:
        assert str(name) in msg, msg
    return msg


def test_path_idx_folder_matches_load_mnist(tmp_path):
    write_set(tmp_path / "my-digits", marker=3)
    ds, note = data.load_path(tmp_path / "my-digits", flat=True)
    ref = data.load_mnist(tmp_path / "my-digits", flat=True)
    assert note is None and ds.name == "my-digits"
    for f in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(ds, f), getattr(ref, f))
        assert getattr(ds, f).dtype == getattr(ref, f).dtype
    assert ds.y_train[0] == 3 and ds.x_train.shape == (22, 784)


@pytest.mark.parametrize("shape", [(40, 28, 28), (40, 784), (40, 1, 28, 28)])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "float16", "float32", "float64"])
def test_path_npy_shapes_and_dtypes(tmp_path, shape, dtype):
    rng = np.random.default_rng(1)
    if np.dtype(dtype).kind == "f":
        x = rng.random((40, 28, 28)).astype(dtype)
        x[0, 5, 5], x[0, 5, 6] = 0.0, 1.0
        expect = x.astype(np.float32)
    else:
        x = rng.integers(0, 256, (40, 28, 28)).astype(dtype)
        x[0, 5, 5], x[0, 5, 6] = 0, 255
        expect = x.astype(np.float32) / 255
    np.save(tmp_path / "mine.npy", x.reshape(shape))
    ds, note = data.load_path(tmp_path / "mine.npy")
    assert ds.name == "mine" and ds.source == str(tmp_path / "mine.npy")
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    assert allx.shape == (40, 1, 28, 28) and allx.dtype == np.float32
    assert 0.0 <= allx.min() and allx.max() <= 1.0
    # Every image is there once, converted pixel for pixel.
    np.testing.assert_allclose(np.sort(allx.reshape(40, -1), axis=0),
                               np.sort(expect.reshape(40, -1), axis=0), rtol=1e-6)
    first = allx[np.argmax((allx[:, 0, 5, 6] == 1.0) & (allx[:, 0, 5, 5] == 0.0)), 0]
    assert first[5, 6] == 1.0 and first[5, 5] == 0.0  # 255 -> 1.0, 0 -> 0.0
    for y in (ds.y_train, ds.y_valid, ds.y_test):
        assert y.dtype == np.int64 and (y == data.NO_LABEL).all()
    assert note is not None and "\n" not in note and "no labels" in note


def test_path_holdout_is_seeded_and_keeps_file_order(tmp_path):
    np.save(tmp_path / "m.npy", marked(40))
    ds, note = data.load_path(tmp_path / "m.npy", flat=True)
    # 40 images: 10% = 4 test; 1/12 of the other 36 = 3 validation; 33 train.
    assert (len(ds.x_train), len(ds.x_valid), len(ds.x_test)) == (33, 3, 4)
    assert "no test split: held out 10% (4 images) as test" in note
    assert "1/12 of the rest (3 images)" in note
    idx = [np.rint(x[:, 0] * 255).astype(int) for x in (ds.x_train, ds.x_valid, ds.x_test)]
    assert sorted(np.concatenate(idx).tolist()) == list(range(40))
    assert all((np.diff(i) > 0).all() for i in idx)  # each part in file order
    again, _ = data.load_path(tmp_path / "m.npy", flat=True)
    np.testing.assert_array_equal(again.x_test, ds.x_test)
    other, _ = data.load_path(tmp_path / "m.npy", flat=True, seed=1)
    assert not np.array_equal(other.x_test, ds.x_test)
    quarter, note = data.load_path(tmp_path / "m.npy", holdout=0.25)
    assert len(quarter.x_test) == 10 and "held out 25% (10 images)" in note


def test_path_three_images_split_one_each(tmp_path):
    np.save(tmp_path / "m.npy", marked(3))
    ds, _ = data.load_path(tmp_path / "m.npy")
    assert (len(ds.x_train), len(ds.x_valid), len(ds.x_test)) == (1, 1, 1)


def test_path_npz_with_all_splits_is_taken_as_is(tmp_path):
    x = marked(30)
    y = np.arange(30) % 10
    np.savez(tmp_path / "s.npz", x_train=x[:20], y_train=y[:20], x_valid=x[20:24],
             y_valid=y[20:24], x_test=x[24:].reshape(6, 784), y_test=y[24:].astype(np.uint8))
    ds, note = data.load_path(tmp_path / "s.npz")
    assert note is None and ds.name == "s"
    np.testing.assert_array_equal(index_of(ds.x_train), np.arange(20))
    np.testing.assert_array_equal(index_of(ds.x_valid), np.arange(20, 24))
    np.testing.assert_array_equal(index_of(ds.x_test), np.arange(24, 30))
    np.testing.assert_array_equal(ds.y_test, y[24:])
    assert ds.y_test.dtype == np.int64


def test_path_npz_train_test_draws_validation_with_labels(tmp_path):
    x = marked(36)
    np.savez(tmp_path / "s.npz", x_train=x[:24], y_train=np.arange(24) * 2, x_test=x[24:])
    ds, note = data.load_path(tmp_path / "s.npz")
    assert len(ds.x_valid) == 2 and len(ds.x_train) == 22 and len(ds.x_test) == 12
    assert "test split" not in note and "1/12 of the rest (2 images)" in note
    assert "y_test missing: -1" in note and "no labels" not in note
    for x_, y_ in ((ds.x_train, ds.y_train), (ds.x_valid, ds.y_valid)):
        np.testing.assert_array_equal(y_, index_of(x_) * 2)  # labels moved with their images
    assert (ds.y_test == data.NO_LABEL).all()


@pytest.mark.parametrize("keys", [("arr_0", None), ("x", "y"), ("images", "labels"),
                                  ("X", None)])
def test_path_npz_single_array(tmp_path, keys):
    xk, yk = keys
    arrays = {xk: marked(24).astype(np.float32) / 255}
    if yk:
        arrays[yk] = np.arange(24) + 100
    np.savez(tmp_path / "one.npz", **arrays)
    ds, note = data.load_path(tmp_path / "one.npz")
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    ally = np.concatenate([ds.y_train, ds.y_valid, ds.y_test])
    assert sorted(index_of(allx).tolist()) == list(range(24))
    if yk:
        np.testing.assert_array_equal(ally, index_of(allx) + 100)
        assert "no labels" not in note
    else:
        assert (ally == -1).all() and "no labels" in note


def write_image(path: Path, mode: str, size, value, transparent=None):
    """A one-colour image; mode "P" gets a palette whose entry 1 is ``value``."""
    from PIL import Image

    if mode == "P":
        im = Image.new("P", size, 1)
        im.putpalette([0, 0, 0, *value, *([0] * 762)])
    else:
        im = Image.new(mode, size, value)
    im.save(path, **({} if transparent is None else {"transparency": transparent}))


def test_path_image_folder_converts_modes_and_sizes(tmp_path):
    d = tmp_path / "pics"
    d.mkdir()
    write_image(d / "a.png", "L", (28, 28), 0)  # black
    write_image(d / "b.png", "RGB", (50, 30), (255, 255, 255))  # white, stretched
    write_image(d / "c.png", "RGBA", (64, 64), (255, 255, 255, 0))  # transparent: black
    write_image(d / "d.png", "RGBA", (64, 64), (255, 255, 255, 255))  # opaque white
    write_image(d / "e.png", "P", (10, 40), (255, 255, 255))  # palette white
    write_image(d / "e2.png", "P", (10, 40), (255, 255, 255), transparent=1)  # black
    write_image(d / "f.JPG", "RGB", (33, 33), (255, 0, 0))  # red: luma 0.299
    write_image(d / "g.jpeg", "L", (100, 80), 128)
    write_image(d / "h.png", "LA", (20, 20), (255, 128))  # half-covered white: grey
    (d / "notes.txt").write_text("not an image")
    (d / "._a.png").write_bytes(b"macOS metadata, not a PNG")
    (d / "sub").mkdir()
    write_image(d / "sub" / "z.png", "L", (28, 28), 77)  # subfolders are not read
    ds, note = data.load_path(d, holdout=0.2, flat=True)
    assert ds.name == "pics" and ds.x_train.shape[1:] == (784,)
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    assert allx.shape == (9, 784) and allx.dtype == np.float32
    # Each image is one colour, also after resizing: its mean says which it was.
    assert np.allclose(allx.std(axis=1), 0, atol=1e-3)
    np.testing.assert_allclose(
        sorted(allx.mean(axis=1)),
        [0, 0, 0, 0.299, 128 / 255, 128 / 255, 1, 1, 1], atol=0.01)  # black: a, c, e2
    assert allx.max() == 1.0 and allx.min() == 0.0
    assert note.count("converted") == 1 and "converted 9 images" in note
    assert "28x28 grayscale" in note and "64x64 x2" in note and "RGBA" in note
    assert "held out 20% (2 images)" in note and "no labels" in note and "\n" not in note
    assert (ds.y_train == -1).all()


def test_path_image_folder_keeps_name_order(tmp_path):
    d = tmp_path / "pics"
    d.mkdir()
    for i in range(14):  # written out of order; names sort as 00..13
        j = (i * 5) % 14
        write_image(d / f"{j:02d}.png", "L", (28 + j, 28), j * 10)
    ds, note = data.load_path(d)
    for x in (ds.x_train, ds.x_valid, ds.x_test):
        v = np.rint(x[:, 0, 14, 14] * 255).astype(int)
        assert (np.diff(v) > 0).all() and set(v) <= set(range(0, 140, 10))
    assert "held out 10% (1 image) as test" in note and "1/12 of the rest (1 image)" in note


def test_path_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    d = tmp_path / "phone"
    d.mkdir()
    stored = np.zeros((28, 56), np.uint8)
    stored[:, :28] = 255  # left half white as stored; EXIF 6 shows it rotated 90 degrees CW
    exif = Image.Exif()
    exif[0x0112] = 6
    for i in range(3):
        Image.fromarray(stored).save(d / f"{i}.png", exif=exif)
    ds, note = data.load_path(d)
    shown = ds.x_train[0, 0]
    assert "28x56 x3" in note  # the displayed size: 28 wide, 56 high
    # Lanczos rings near the white/black edge (rows 8-20); away from it the halves are exact.
    assert (shown[:8] == 1).all() and (shown[20:] == 0).all()
    assert shown[:14].mean() > 0.99 and shown[14:].mean() < 0.01  # white on top


def test_path_resizing_a_sharp_edge_stays_in_0_1(tmp_path):
    from PIL import Image

    d = tmp_path / "edges"
    d.mkdir()
    half = np.zeros((90, 90), np.uint8)
    half[:, 45:] = 255  # Lanczos rings at this edge: about -0.017 and 1.017 before clipping
    for i in range(3):
        Image.fromarray(half).save(d / f"{i}.png")
    ds, _ = data.load_path(d)
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    assert allx.shape == (3, 1, 28, 28)
    assert allx.min() == 0.0 and allx.max() == 1.0
    assert (allx[:, 0, :, :10] == 0).all() and (allx[:, 0, :, 18:] == 1).all()


def test_path_16_bit_png_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    d = tmp_path / "deep"
    d.mkdir()
    for i, v in enumerate((0, 32768, 65535)):
        Image.fromarray(np.full((30, 30), v, np.uint16)).save(d / f"{i}.png")
    ds, _ = data.load_path(d)
    allx = np.concatenate([ds.x_train, ds.x_valid, ds.x_test])
    np.testing.assert_allclose(sorted(allx.mean(axis=(1, 2, 3))), [0, 0.5, 1], atol=1e-3)


# ----------------------------------------------------------------------------- load_path: bad input


def save_npy(tmp_path, x, name="bad.npy", **kw):
    np.save(tmp_path / name, x, **kw)
    return tmp_path / name


@pytest.mark.parametrize("x, words", [
    (np.zeros((5, 28), np.uint8), "shape (5, 28)"),
    (np.zeros((5, 28, 28, 3), np.uint8), "(N, 28, 28)"),
    (np.zeros(784, np.uint8), "shape (784,)"),
    (np.zeros((0, 28, 28), np.uint8), "no images"),
    (np.zeros((5, 28, 28), bool), "dtype bool"),
    (np.zeros((5, 28, 28), np.complex64), "dtype complex64"),
    (np.full((5, 28, 28), np.nan, np.float32), "NaN/inf"),
    (np.full((5, 28, 28), np.inf), "NaN/inf"),
    (np.full((5, 28, 28), 255.0), "divide by 255"),
    (np.full((5, 28, 28), -0.5, np.float32), "[0, 1], found -0.5"),
    (np.full((5, 28, 28), -1, np.int16), "0..255, found -1"),
    (np.full((5, 28, 28), 256, np.int32), "found 256 to 256"),
    (np.array([[1, "a"]], dtype=object), "Python objects"),
])
def test_path_bad_npy(tmp_path, x, words):
    path = save_npy(tmp_path, x, allow_pickle=True)
    with pytest.raises(DataError) as e:
        data.load_path(path)
    assert words in check_one_line(e, path)


def test_path_npz_without_usable_keys_lists_them(tmp_path):
    np.savez(tmp_path / "k.npz", a=marked(5), b=marked(5))
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "k.npz")
    assert "[a, b]" in check_one_line(e, tmp_path / "k.npz")


@pytest.mark.parametrize("arrays, words", [
    ({"x_train": marked(5), "y_test": np.zeros(5, int)}, "y_test but no x_test"),
    ({"x_train": marked(5), "y_train": np.zeros(4, int)}, "'y_train'"),
    ({"x": marked(5), "y": np.zeros(5)}, "labels must be integers"),
    ({"x": marked(5), "labels": np.full(5, -2)}, "found -2"),
    ({"x_train": marked(5), "x_test": marked(3).astype(np.int8) - 1}, "'x_test'"),
    ({"images": np.array([1j])}, "'images'"),
])
def test_path_bad_npz_arrays(tmp_path, arrays, words):
    np.savez(tmp_path / "b.npz", **arrays)
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "b.npz")
    assert words in check_one_line(e, tmp_path / "b.npz")


def test_path_npz_object_array_is_never_unpickled(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "o.npz")
    assert "never unpickled" in check_one_line(e, tmp_path / "o.npz", "'x'")


@pytest.mark.parametrize("blob, words", [
    (b"", "empty file"), (b"hello world", "not a NumPy"), (b"PK\x03\x04broken", "npz"),
])
def test_path_file_that_is_not_numpy(tmp_path, blob, words):
    path = tmp_path / "junk.npz"
    path.write_bytes(blob)
    with pytest.raises(DataError) as e:
        data.load_path(path)
    assert words in check_one_line(e, path)


def test_path_single_image_file_asks_for_its_folder(tmp_path):
    write_image(tmp_path / "one.png", "L", (28, 28), 0)
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "one.png")
    assert "pass the folder" in check_one_line(e, tmp_path / "one.png")


def test_path_note_counts_further_sizes(tmp_path):
    d = tmp_path / "sizes"
    d.mkdir()
    for i in range(5):
        write_image(d / f"{i}.png", "L", (20 + i, 28), 9)
    _, note = data.load_path(d)
    assert "converted 5 images (sizes " in note and "and 2 more sizes; modes L)" in note


def test_path_truncated_npy(tmp_path):
    path = save_npy(tmp_path, marked(5))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as e:
        data.load_path(path)
    check_one_line(e, path)


@pytest.mark.parametrize("kind", ["npy", "npz", "npz-compressed"])
def test_path_damaged_numpy_files_are_data_errors(tmp_path, kind):
    """Cut or flipped bytes anywhere: a result or a one-line DataError, never a zlib/zip error."""
    x = np.random.default_rng(0).random((3, 28, 28))
    good = tmp_path / f"good.{kind[:3]}"
    {"npy": lambda: np.save(good, x), "npz": lambda: np.savez(good, x=x, y=np.arange(3)),
     "npz-compressed": lambda: np.savez_compressed(good, x=x, y=np.arange(3))}[kind]()
    blob = good.read_bytes()
    rng = np.random.default_rng(1)
    path = tmp_path / f"bad.{kind[:3]}"
    errors = 0
    for trial in range(150):
        b = bytearray(blob[: rng.integers(0, len(blob))] if trial % 2 else blob)
        if not trial % 2:
            for at in rng.integers(0, len(b), 1 + trial % 4):
                b[at] = (b[at] + 1 + rng.integers(0, 255)) % 256
        path.write_bytes(bytes(b))
        try:
            data.load_path(path)
        except DataError as e:
            errors += 1
            assert "\n" not in str(e) and str(path) in str(e), str(e)
    assert errors > 75


def test_path_missing_is_not_found(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        data.load_path(tmp_path / "nope")
    assert "no such file or folder" in check_one_line(e, tmp_path / "nope")


def test_path_folders_without_data(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "empty")
    assert "empty" in check_one_line(e, tmp_path / "empty")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hi")
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "docs")
    assert "no images" in check_one_line(e, tmp_path / "docs")
    write_set(tmp_path / "half")
    (tmp_path / "half" / NAMES[3]).unlink()
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "half")
    assert "incomplete" in check_one_line(e, tmp_path / "half", NAMES[3])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_path_corrupt_image_names_the_file(tmp_path, damage):
    d = tmp_path / "pics"
    d.mkdir()
    for i in range(4):
        write_image(d / f"{i}.png", "RGB", (40, 40), (i, i, i))
    blob = (d / "2.png").read_bytes()
    (d / "2.png").write_bytes(b"garbage" if damage == "garbage" else blob[: len(blob) // 2])
    with pytest.raises(DataError) as e:
        data.load_path(d)
    check_one_line(e, d / "2.png")


def test_path_too_few_images_to_split(tmp_path):
    d = tmp_path / "two"
    d.mkdir()
    for i in range(2):
        write_image(d / f"{i}.png", "L", (28, 28), i)
    with pytest.raises(DataError) as e:
        data.load_path(d)
    assert "too few images to hold out a test split and a validation split: 2 to train on, " \
        "need at least 3" in check_one_line(e, d)
    np.savez(tmp_path / "t.npz", x_train=marked(1), x_test=marked(2))
    with pytest.raises(DataError) as e:
        data.load_path(tmp_path / "t.npz")
    assert "a validation split: 1 to train on, need at least 2" in check_one_line(
        e, tmp_path / "t.npz")


def test_path_holdout_must_be_a_fraction(tmp_path):
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError, match="holdout"):
            data.load_path(tmp_path, holdout=bad)
