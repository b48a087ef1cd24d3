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
