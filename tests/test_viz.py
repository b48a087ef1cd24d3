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


# ------------------------------------------------------------ figures that read well
# The figure builders (_history_figure, ...) return the unsaved Figure, so the tests can look
# at the drawn artists: styles, markers, labels, ticks and where the legend sits.


def dash(line):
    """A Line2D's dash pattern: (offset, None) for solid, (offset, (on, off, ...)) otherwise.
    (get_linestyle() says "--" for every custom pattern.)"""
    return line._unscaled_dash_pattern


def assert_legend_outside_and_kept(fig):
    """The legend lies right of the axes (off the data) and inside the area savefig keeps."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    box, axes_box = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.x0 >= axes_box.x1, "the legend overlaps the axes"
    kept = fig.get_tightbbox(renderer)  # what bbox_inches="tight" saves, in inches
    inches = box.transformed(fig.dpi_scale_trans.inverted())
    assert kept.x0 <= inches.x0 and inches.x1 <= kept.x1 + 1e-6, "the legend would be clipped"
    assert kept.y0 <= inches.y0 and inches.y1 <= kept.y1 + 1e-6, "the legend would be clipped"


VAE_LIKE = {"loss": [0.3, 0.2, 0.15, 0.14], "recon": [0.3, 0.2, 0.15, 0.14],  # no penalty yet
            "penalty": [0.0, 0.01, 0.02, 0.02], "val_loss": [0.31, 0.22, 0.16, 0.15],
            "val_recon": [0.31, 0.22, 0.16, 0.15], "val_penalty": [0.0, 0.01, 0.02, 0.02]}


@pytest.mark.parametrize("epochs", [1, 4, 30])
def test_history_curves_that_coincide_stay_distinguishable(epochs):
    hist = {k: np.resize(v, epochs) for k, v in VAE_LIKE.items()}
    fig = viz._history_figure(hist)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines) == list(VAE_LIKE)
    # Every curve has its own dash pattern and markers (one epoch is one marker, not nothing).
    assert len({dash(line) for line in lines.values()}) == len(lines)
    assert all(line.get_marker() not in (None, "None", "") for line in lines.values())
    # loss and recon lie on each other: different shapes, at different epochs when spread out.
    assert lines["loss"].get_marker() != lines["recon"].get_marker()
    if epochs > 10:
        assert lines["loss"].get_markevery() != lines["recon"].get_markevery()
    # x and val_x: one colour and shape; validation's markers hollow.
    assert lines["loss"].get_color() == lines["val_loss"].get_color()
    assert lines["loss"].get_marker() == lines["val_loss"].get_marker()
    assert lines["val_loss"].get_markerfacecolor() == "none"
    # Later curves thinner: one lying on an earlier one shows inside it.
    widths = [line.get_linewidth() for line in lines.values()]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    # The legend's entries are the curves as drawn, marker included.
    legend = fig.axes[0].get_legend()
    handles = legend.legend_handles if hasattr(legend, "legend_handles") else legend.legendHandles
    assert [t.get_text() for t in legend.get_texts()] == list(VAE_LIKE)
    assert [h.get_marker() for h in handles] == [line.get_marker() for line in lines.values()]
    assert_legend_outside_and_kept(fig)


def test_history_of_one_epoch_has_integer_ticks_around_the_point():
    fig = viz._history_figure({"loss": [0.2], "val_loss": [0.19]})
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 1 < hi
    visible = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert visible == [1.0]


def test_history_y_label_names_what_is_plotted(tmp_path):
    def ylabel(hist, **kw):
        return viz._history_figure(hist, **kw).axes[0].get_ylabel()

    assert ylabel({"loss": [1.0], "val_loss": [1.0]}) == "loss"
    assert ylabel(VAE_LIKE) == "loss = recon + penalty"
    assert ylabel({"loss": [1.0], "recon": [1.0]}) == "loss"
    assert ylabel({"acc": [0.5], "val_acc": [0.6]}) == "acc"
    assert ylabel({"lr": [0.1], "acc": [0.6]}) == "lr, acc"
    assert ylabel(VAE_LIKE, ylabel="loss per pixel (BCE)") == "loss per pixel (BCE)"
    assert_png(viz.plot_history(VAE_LIKE, tmp_path / "h.png", ylabel="loss per pixel (BCE)"))


def test_lines_and_histograms_keep_coinciding_curves_visible(tmp_path):
    y = [3.0, 2.0, 1.5, 1.2]
    fig = viz._lines_figure({"run a": y, "run b": y, "run c": np.array(y) * 2}, "epoch", "loss")
    lines = fig.axes[0].get_lines()
    assert len({dash(line) for line in lines}) == 3
    assert len({line.get_marker() for line in lines}) == 3
    assert fig.axes[0].get_ylabel() == "loss"
    assert_legend_outside_and_kept(fig)

    same = np.random.default_rng(0).random(100)
    fig = viz._histograms_figure({"a": same, "b": same}, "error")
    outlines = fig.axes[0].patches
    assert len(outlines) == 2 and outlines[0].get_linestyle() != outlines[1].get_linestyle()
    assert outlines[0].get_linewidth() > outlines[1].get_linewidth()
    assert_legend_outside_and_kept(fig)
    assert_png(viz.plot_lines({"a": y, "b": y}, tmp_path / "l.png", "epoch", "loss"))


def tick_values(labels):
    """Tick label texts -> floats (matplotlib writes minus as U+2212)."""
    return [float(t.get_text().replace("\N{MINUS SIGN}", "-")) for t in labels]


def test_manifold_ticks_are_a_few_readable_latent_values(tmp_path):
    axis = viz._grid_axis(15, None)
    imgs = np.zeros((15 * 15, 28, 28), np.float32)
    fig = viz._manifold_figure(imgs, axis, "t")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[0]", "z[1]")
    xs, ys = tick_values(ax.get_xticklabels()), tick_values(ax.get_yticklabels())
    assert 3 <= len(xs) <= 7 and 3 <= len(ys) <= 7  # a few values, not one per cell
    assert 0.0 in xs and all(axis[0] <= v <= axis[-1] for v in xs)
    assert all(t.get_fontsize() >= 8 for t in ax.get_xticklabels() + ax.get_yticklabels())
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels())
    # Left to right z[0] grows; top to bottom (image rows) z[1] falls.
    assert xs == sorted(xs) and np.all(np.diff(ax.get_xticks()) > 0)
    assert ys == sorted(ys) and np.all(np.diff(ax.get_yticks()) < 0)
    # Ticks at least a tenth of the picture apart, so their labels never collide.
    assert np.diff(ax.get_xticks()).min() >= 15 * 28 / 10

    even = viz._manifold_figure(np.zeros((49, 28, 28), np.float32), viz._grid_axis(7, 3.0), None)
    ax = even.axes[0]
    xs = tick_values(ax.get_xticklabels())
    assert xs == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    # On an even grid each value sits at its cell's centre: cell i at i*28 + 14.
    np.testing.assert_allclose(ax.get_xticks(), np.arange(7) * 28 + 14)


def test_manifold_limits_span_the_pictures_cells():
    assert viz.manifold_limits(7, 3.0) == pytest.approx((-3.5, 3.5))  # cells 1 apart
    lo, hi = viz.manifold_limits(15)
    q = NormalDist().inv_cdf(0.95)
    assert -lo == pytest.approx(hi) and q < hi < q + 0.3


def test_latent_map_has_ticks_limits_and_an_outside_legend(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((500, 2)).astype(np.float32) * 1.5
    y = np.arange(500) % 10
    fig = viz._latent_map_figure(z, y, "none", None, limits=2.0)
    ax = fig.axes[0]
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-2.0, 2.0)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[0]", "z[1]")
    fig.canvas.draw()
    assert len([t for t in ax.get_xticklabels() if t.get_text()]) >= 3
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) >= 3
    outside = int((np.abs(z) > 2.0).any(axis=1).sum())
    assert any(t.get_text().startswith(f"{outside} of 500 points") for t in ax.texts)
    assert_legend_outside_and_kept(fig)
    # Same limits as the manifold's picture, as a pair or per axis.
    lims = viz.manifold_limits(15)
    ax = viz._latent_map_figure(z, y, "none", None, limits=lims).axes[0]
    assert ax.get_xlim() == pytest.approx(lims) and ax.get_ylim() == pytest.approx(lims)
    ax = viz._latent_map_figure(z, y, "pca", None, limits=((-1, 1), (0, 3))).axes[0]
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (0.0, 3.0)
    for bad in ((1, -1), "wide", (0, 1, 2)):
        with pytest.raises(ValueError, match="limits"):
            viz._latent_map_figure(z, y, "none", None, limits=bad)
    viz.plot_latent_map(z, y, tmp_path / "m.png", method="none", limits=lims)
    assert_png(tmp_path / "m.png")
