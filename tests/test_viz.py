"""Tests for scratch_ae.viz: each plot writes a real PNG atomically, from NumPy or CuPy data."""

from __future__ import annotations

import os
import subprocess
import sys
from statistics import NormalDist

import numpy as np
import pytest

from scratch_ae import viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.is_file(), f"{path} was not written"
    blob = path.read_bytes()
    assert blob[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(blob) > 500
    # Atomic save: only the final file in the folder, no temporary left over.
    assert [p for p in os.listdir(path.parent) if p.startswith(".")] == []


def images(n=12, flat=False, seed=0):
    x = np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)
    return x.reshape(n, -1) if flat else x


class FakeCupy:
    """Stands in for a CuPy array: NumPy cannot read it directly, only through .get()."""

    def __init__(self, a):
        self._a = a
        self.shape = a.shape

    def get(self):
        return self._a

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (like CuPy)")


@pytest.mark.parametrize("flat", [False, True])
def test_plot_reconstructions(tmp_path, flat):
    x = images(12, flat)
    out = viz.plot_reconstructions(x, x * 0.5, tmp_path / "sub" / "rec.png", n=8, title="t")
    assert out == tmp_path / "sub" / "rec.png"
    assert_png(out)


def test_plot_reconstructions_accepts_cupy_like(tmp_path):
    x = images(5)
    out = viz.plot_reconstructions(FakeCupy(x), FakeCupy(x), tmp_path / "rec.png")
    assert_png(out)


def test_plot_reconstructions_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="differ"):
        viz.plot_reconstructions(images(4), np.zeros((4, 1, 14, 14)), tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()


def test_overwrite_is_atomic_replace(tmp_path):
    p = tmp_path / "grid.png"
    p.write_bytes(b"old")
    viz.plot_image_grid(images(3), p)
    assert_png(p)


def test_plot_image_grid(tmp_path):
    out = viz.plot_image_grid(images(25, flat=True), tmp_path / "grid.png", ncols=10, title="s")
    assert_png(out)
    with pytest.raises(ValueError, match="not a square"):
        viz.plot_image_grid(np.zeros((3, 10)), tmp_path / "bad.png")


def test_tile_layout():
    imgs = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    m = viz._tile(imgs, ncols=2, pad=1, fill=-1)
    assert m.shape == (2 * 3 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(m[1:3, 1:3], imgs[0])
    np.testing.assert_array_equal(m[1:3, 4:6], imgs[1])
    np.testing.assert_array_equal(m[4:6, 1:3], imgs[2])
    assert (m[4:6, 4:6] == -1).all()  # the empty slot stays filler


def blobs(n_per=70, dim=8, seed=0):
    """Three well-separated Gaussian clusters in ``dim`` dimensions."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3, dim) * 10
    x = np.concatenate([c + rng.standard_normal((n_per, dim)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(3), n_per)


def _separated(emb, y):
    """Fraction of points whose nearest class centroid in the embedding is their own."""
    cents = np.stack([emb[y == k].mean(0) for k in np.unique(y)])
    nearest = np.argmin(((emb[:, None] - cents[None]) ** 2).sum(-1), axis=1)
    return (nearest == y).mean()


def test_plot_latent_map_tsne_keeps_clusters(tmp_path):
    # No wall-clock assertion: this machine is shared, and speed belongs in benchmarks.
    x, y = blobs()
    emb = viz.plot_latent_map(x, y, tmp_path / "tsne.png")
    assert emb.shape == (210, 2) and np.isfinite(emb).all()
    assert _separated(emb, y) > 0.95
    assert_png(tmp_path / "tsne.png")


def test_plot_latent_map_pca_flattens_codes(tmp_path):
    x, y = blobs(dim=8)
    codes = x.reshape(len(x), 2, 2, 2)  # e.g. a conv encoder's (C, H, W) code
    emb = viz.plot_latent_map(FakeCupy(codes), y, tmp_path / "pca.png", method="pca")
    assert emb.shape == (210, 2)
    assert _separated(emb, y) > 0.95
    assert_png(tmp_path / "pca.png")


def test_plot_latent_map_none_plots_2d_codes_as_they_are(tmp_path):
    z = np.random.default_rng(1).standard_normal((50, 2)).astype(np.float32)
    emb = viz.plot_latent_map(z, np.arange(50) % 10, tmp_path / "z.png", method="none")
    np.testing.assert_array_equal(emb, z)
    assert_png(tmp_path / "z.png")
    with pytest.raises(ValueError, match="2-D codes"):
        viz.plot_latent_map(np.zeros((5, 3)), None, tmp_path / "bad.png", method="none")
    with pytest.raises(ValueError, match="method"):
        viz.plot_latent_map(z, None, tmp_path / "bad.png", method="umap")


def test_plot_latent_map_subsamples_to_max_points(tmp_path):
    z = np.random.default_rng(2).standard_normal((300, 2)).astype(np.float32)
    emb = viz.plot_latent_map(z, None, tmp_path / "z.png", method="none", max_points=100)
    assert emb.shape == (100, 2)
    # The rows drawn are real rows of z, in their original order.
    idx = [int(np.flatnonzero((z == row).all(1))[0]) for row in emb]
    assert idx == sorted(idx) and len(set(idx)) == 100
    with pytest.raises(ValueError, match="labels"):
        viz.plot_latent_map(z, np.zeros(10), tmp_path / "z.png", method="none")


def test_plot_manifold_grid_and_default_quantiles(tmp_path):
    seen = {}

    def decode(z):
        seen["z"] = z
        # Brightness encodes z[0], so a wrong layout would still draw but the z check fails.
        return np.broadcast_to(((z[:, :1] + 3) / 6)[:, :, None, None], (len(z), 1, 28, 28))

    out = viz.plot_manifold(decode, tmp_path / "m.png", n=5)
    assert_png(out)
    z = seen["z"]
    assert z.shape == (25, 2) and z.dtype == np.float32
    # N(0, 1) quantiles at 5%, 27.5%, 50%, 72.5%, 95%: denser near 0, where the prior is.
    q = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 5)])
    assert q[-1] == pytest.approx(1.6449, abs=1e-4) and q[3] < q[-1] / 2
    grid = z.reshape(5, 5, 2)
    np.testing.assert_allclose(grid[0, :, 0], q, atol=1e-5)  # z0: left to right
    np.testing.assert_allclose(grid[:, 0, 1], q[::-1], atol=1e-5)  # z1: high at the top
    assert (grid[:, :, 1] == grid[:, :1, 1]).all() and (grid[:, :, 0] == grid[:1, :, 0]).all()

    viz.plot_manifold(decode, tmp_path / "m2.png", n=3, limit=3.0)
    np.testing.assert_allclose(np.unique(seen["z"][:, 0]), [-3, 0, 3])


def test_plot_manifold_rejects_wrong_count(tmp_path):
    with pytest.raises(ValueError, match="4 latent points"):
        viz.plot_manifold(lambda z: np.zeros((3, 784)), tmp_path / "m.png", n=2)


def test_plot_history(tmp_path):
    hist = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "lr": 0.001, "note": "x"}
    assert_png(viz.plot_history(hist, tmp_path / "h.png", title="loss"))

    class KerasLike:
        def __init__(self):
            self.history = {"loss": np.array([3.0, 2.0])}

    assert_png(viz.plot_history(KerasLike(), tmp_path / "k.png", logy=True))
    with pytest.raises(ValueError, match="no non-empty series"):
        viz.plot_history({"loss": []}, tmp_path / "e.png")


def test_import_is_light():
    code = (
        "import sys, scratch_ae.viz, scratch_ae.data; "
        "print('matplotlib' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_plot_reconstructions_with_a_noisy_row(tmp_path):
    x = images(6)
    noisy = x + np.random.default_rng(1).normal(0, 0.5, x.shape).astype(np.float32)
    assert_png(viz.plot_reconstructions(x, x, tmp_path / "den.png", noisy=noisy, title="d"))
    with pytest.raises(ValueError, match="noisy"):
        viz.plot_reconstructions(x, x, tmp_path / "bad.png", noisy=np.zeros((6, 1, 14, 14)))


def test_plot_sample_grids_side_by_side(tmp_path):
    out = viz.plot_sample_grids({"a": images(12), "b": FakeCupy(images(7, flat=True))},
                                tmp_path / "grids.png", ncols=4, title="two generators")
    assert_png(out)
    with pytest.raises(ValueError, match="at least one"):
        viz.plot_sample_grids({}, tmp_path / "none.png")
    with pytest.raises(ValueError, match="at least one image"):
        viz.plot_sample_grids({"empty": np.zeros((0, 784))}, tmp_path / "none.png")


def test_plot_histograms_and_lines(tmp_path):
    rng = np.random.default_rng(0)
    assert_png(viz.plot_histograms({"a": rng.random((50, 30)), "b": rng.random(40) * 2},
                                   tmp_path / "h.png", xlabel="activation", logy=True))
    with pytest.raises(ValueError, match="nothing to draw"):
        viz.plot_histograms({"a": np.array([])}, tmp_path / "h2.png", xlabel="x")
    assert_png(viz.plot_lines({"curve": [3.0, 2.0, 1.5], "roc": (np.array([0, 0.5, 1]),
                                                                np.array([0, 0.8, 1]))},
                              tmp_path / "l.png", xlabel="x", ylabel="y", diagonal=True))
    with pytest.raises(ValueError, match="curve 'bad'"):
        viz.plot_lines({"bad": (np.arange(3), np.arange(4))}, tmp_path / "l2.png", "x", "y")


def test_latent_map_axes_are_labelled(tmp_path, monkeypatch):
    """The t-SNE map names its axes (the caller cannot reach the figure to do it)."""
    from matplotlib.axes import Axes

    labels = []
    orig = Axes.set_xlabel
    monkeypatch.setattr(Axes, "set_xlabel", lambda self, s, *a, **k: (labels.append(s),
                                                                        orig(self, s, *a, **k)))
    codes = np.random.default_rng(0).random((40, 5))
    viz.plot_latent_map(codes, np.arange(40) % 4, tmp_path / "m.png", method="pca")
    assert labels == ["PCA 1"]
