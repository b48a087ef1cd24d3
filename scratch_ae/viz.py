"""Pictures of what an autoencoder learned: reconstructions, samples, latent maps, loss curves.

Every function writes one PNG and draws with matplotlib's Agg canvas on a bare ``Figure``
(no pyplot), so it works on a headless machine, leaves a notebook's backend alone and leaks no
open figures. matplotlib and scikit-learn are imported inside the functions, so
``import scratch_ae`` stays light. Arrays may be NumPy or CuPy (anything with ``.get()``).
Files are written atomically: to a temporary file in the same folder, then ``os.replace``.
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .utils import atomic_write

__all__ = [
    "plot_histograms",
    "plot_history",
    "plot_image_grid",
    "plot_latent_map",
    "plot_lines",
    "plot_manifold",
    "plot_reconstructions",
    "plot_sample_grids",
]


def _to_numpy(a) -> np.ndarray:
    """NumPy view of ``a``; CuPy arrays are copied to the host with ``.get()``."""
    if not isinstance(a, np.ndarray) and hasattr(a, "get"):
        a = a.get()
    return np.asarray(a)


def _as_images(a, what: str = "images") -> np.ndarray:
    """(N, 1, H, W), (N, H, W) or (N, H*W) with a square H*W -> (N, H, W) float32."""
    x = _to_numpy(a)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    elif x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"{what}: {x.shape[1]} features per sample is not a square image")
        x = x.reshape(len(x), side, side)
    elif x.ndim != 3:
        raise ValueError(
            f"{what}: expected shape (N, 1, H, W), (N, H, W) or (N, H*W), got {x.shape}"
        )
    return x.astype(np.float32, copy=False)


def _grey_range(x: np.ndarray) -> tuple[float, float]:
    """[0, 1] for data in [0, 1]; otherwise the data's own range, so nothing is clipped."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return min(lo, 0.0), max(hi, 1.0)


def _tile(images: np.ndarray, ncols: int, pad: int = 1, fill: float = 0.0) -> np.ndarray:
    """(N, H, W) -> one (rows*(H+pad)+pad, ncols*(W+pad)+pad) mosaic, row-major.

    One imshow of a mosaic is far faster than N subplots and gives a smaller PNG.
    """
    n, h, w = images.shape
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        out[top : top + h, left : left + w] = images[i]
    return out


def _new_figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path:
    """Write ``fig`` as PNG atomically (see :func:`scratch_ae.utils.atomic_write`)."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100,
                                                    bbox_inches="tight"))


def _show_mosaic(ax, mosaic: np.ndarray, vmin: float, vmax: float) -> None:
    ax.imshow(mosaic, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_reconstructions(originals, reconstructions, path, n: int = 10, title=None,
                         noisy=None) -> Path:
    """Save the first ``n`` originals (top row) above their reconstructions (bottom row).

    originals, reconstructions: (N, 1, 28, 28) or (N, 784), same N. ``noisy``, for a denoising
    autoencoder, is the corrupted input the model actually saw, drawn as a middle row. All rows
    share one grey scale, so a faint or washed-out reconstruction looks faint, not
    auto-contrasted; it is the originals' scale, and values outside it (noise) are clipped.
    """
    rows = [("original", _as_images(originals, "originals"))]
    if noisy is not None:
        rows.append(("noisy input", _as_images(noisy, "noisy")))
    rows.append(("reconstruction", _as_images(reconstructions, "reconstructions")))
    shape = rows[0][1].shape[1:]
    for label, images in rows[1:]:
        if images.shape[1:] != shape:
            raise ValueError(f"originals {shape} and {label} images {images.shape[1:]} differ")
    n = min([n] + [len(images) for _, images in rows])
    if n < 1:
        raise ValueError("need at least one image to plot")
    stack = np.concatenate([images[:n] for _, images in rows])
    vmin, vmax = _grey_range(rows[0][1][:n])  # the originals' scale; others clip to it
    mosaic = _tile(stack, ncols=n, fill=vmax)
    fig = _new_figure((max(2.0, 0.8 * n), 1.0 * len(rows)))
    ax = fig.add_subplot()
    _show_mosaic(ax, mosaic, vmin, vmax)
    h = shape[0] + 1
    ax.set_yticks([0.5 + (i + 0.5) * h for i in range(len(rows))],
                  [label for label, _ in rows], fontsize=8)
    ax.tick_params(left=False)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_image_grid(images, path, ncols: int = 10, title=None) -> Path:
    """Save all ``images`` ((N, 1, H, W), (N, H, W) or (N, H*W)) as a grid, ``ncols`` wide.

    Meant for samples generated by a decoder or a VAE.
    """
    x = _as_images(images)
    if len(x) == 0:
        raise ValueError("need at least one image to plot")
    vmin, vmax = _grey_range(x)
    mosaic = _tile(x, ncols=ncols, fill=vmax)
    ncols = max(1, min(ncols, len(x)))
    nrows = math.ceil(len(x) / ncols)
    fig = _new_figure((max(2.0, 0.8 * ncols), max(1.0, 0.8 * nrows)))
    ax = fig.add_subplot()
    _show_mosaic(ax, mosaic, vmin, vmax)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _embed_2d(z, method: str, seed: int, max_iter: int = 1000) -> np.ndarray:
    """(M, D) codes -> (M, 2) float32 points: t-SNE, PCA, or the codes themselves ("none")."""
    if method == "none":
        if z.shape[1] != 2:
            raise ValueError(f'method="none" needs 2-D codes, got {z.shape[1]} per sample')
        emb = z
    elif method == "pca":
        from sklearn.decomposition import PCA

        if z.shape[1] < 2:
            raise ValueError("PCA to 2-D needs at least 2 features per sample")
        emb = PCA(n_components=2, random_state=seed).fit_transform(z)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        if len(z) < 5:
            raise ValueError(f"t-SNE needs at least 5 points, got {len(z)}")
        # perplexity must stay below the number of points; 30 is sklearn's default.
        perplexity = min(30.0, (len(z) - 1) / 3)
        emb = TSNE(
            n_components=2, init="pca", random_state=seed, perplexity=perplexity,
            max_iter=max_iter,
        ).fit_transform(z)
    else:
        raise ValueError(f'method must be "tsne", "pca" or "none", got {method!r}')
    return np.asarray(emb, dtype=np.float32)


def plot_sample_grids(grids: dict, path, ncols: int = 10, title=None) -> Path:
    """Save several image grids side by side, one panel per entry of ``grids`` (title -> images).

    For comparing generators: e.g. ``{"plain AE, codes ~ N(mean, std)": x1, "VAE, z ~ N(0, I)":
    x2}``. Every panel uses the same grey scale.
    """
    if not grids:
        raise ValueError("need at least one grid of images")
    panels = {name: _as_images(images, f"grid {name!r}") for name, images in grids.items()}
    if any(len(x) == 0 for x in panels.values()):
        raise ValueError("every grid needs at least one image")
    vmin = min(_grey_range(x)[0] for x in panels.values())
    vmax = max(_grey_range(x)[1] for x in panels.values())
    nrows = max(math.ceil(len(x) / max(1, min(ncols, len(x)))) for x in panels.values())
    fig = _new_figure((0.7 * ncols * len(panels) + 0.5, 0.7 * nrows + 0.6))
    for i, (name, x) in enumerate(panels.items(), start=1):
        ax = fig.add_subplot(1, len(panels), i)
        _show_mosaic(ax, _tile(x, ncols=ncols, fill=vmax), vmin, vmax)
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_latent_map(
    codes,
    labels,
    path,
    method: str = "tsne",
    *,
    title=None,
    max_points: int = 5000,
    seed: int = 42,
    max_iter: int = 1000,
) -> np.ndarray:
    """Scatter the codes in 2-D, coloured by label; return the (M, 2) embedding that was drawn.

    codes: (N, ...) any shape per sample, flattened to (N, D). labels: (N,) ints or None.
    method: "tsne" (scikit-learn TSNE, init="pca", random_state=seed), "pca", or "none" for
    codes that already are 2-D (D == 2), drawn as they are. When N > max_points, a seeded
    random subset of M = max_points rows is used (t-SNE is O(N^2)-ish); the returned rows
    follow that subset in increasing index order. max_iter: t-SNE's iterations (at least 250;
    fewer give a rougher map sooner).
    """
    z = _to_numpy(codes)
    z = z.reshape(len(z), -1).astype(np.float32, copy=False)
    y = None if labels is None else _to_numpy(labels).reshape(-1)
    if y is not None and len(y) != len(z):
        raise ValueError(f"{len(z)} codes but {len(y)} labels")
    if len(z) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
        z = z[keep]
        y = None if y is None else y[keep]

    method = method.lower()
    emb = _embed_2d(z, method, seed, max_iter)

    fig = _new_figure((6.0, 5.0))
    ax = fig.add_subplot()
    if y is None:
        ax.scatter(emb[:, 0], emb[:, 1], s=4, alpha=0.7)
    else:
        classes = np.unique(y)
        cmap = "tab10" if len(classes) <= 10 else "tab20"
        sc = ax.scatter(emb[:, 0], emb[:, 1], c=y, cmap=cmap, s=4, alpha=0.7)
        if len(classes) <= 20:
            handles, names = sc.legend_elements()
            ax.legend(handles, names, title="label", fontsize=7, loc="best", markerscale=0.8)
        else:
            fig.colorbar(sc, ax=ax, label="label")
    ax.set_xticks([])
    ax.set_yticks([])
    axis_name = {"tsne": "t-SNE", "pca": "PCA", "none": "z"}[method]
    ax.set_xlabel(f"{axis_name} 1" if method != "none" else "z[0]")
    ax.set_ylabel(f"{axis_name} 2" if method != "none" else "z[1]")
    ax.set_title(title or f"latent codes ({method}, {len(emb)} points)", fontsize=10)
    _save(fig, path)
    return emb


def _grid_axis(n: int, limit) -> np.ndarray:
    """n latent values per axis: ±limit evenly, or N(0, 1) quantiles 5%..95% by default.

    Quantiles put as many grid points where the prior has mass as a VAE's decoder saw
    in training; statistics.NormalDist gives norm.ppf without needing scipy.
    """
    if limit is not None:
        return np.linspace(-limit, limit, n, dtype=np.float32)
    ppf = NormalDist().inv_cdf
    return np.array([ppf(p) for p in np.linspace(0.05, 0.95, n)], dtype=np.float32)


def plot_manifold(decode_fn, path, n: int = 15, limit=None, title=None) -> Path:
    """Decode an n x n grid of 2-D latent points and save the decoded images as one mosaic.

    decode_fn: maps z of shape (n*n, 2), float32, to images (n*n, 1, H, W) or (n*n, H*W).
    Columns sweep z[0] left to right, rows sweep z[1] from high (top) to low. limit: None for
    N(0, 1) quantiles (a VAE's prior), or a number for an even grid over [-limit, limit].
    """
    axis = _grid_axis(n, limit)
    z1, z0 = np.meshgrid(axis[::-1], axis, indexing="ij")  # row r: z[1] = axis[n-1-r]
    z = np.stack([z0.ravel(), z1.ravel()], axis=1).astype(np.float32)
    imgs = _as_images(decode_fn(z), "decode_fn output")
    if len(imgs) != n * n:
        raise ValueError(f"decode_fn returned {len(imgs)} images for {n * n} latent points")
    vmin, vmax = _grey_range(imgs)
    mosaic = _tile(imgs, ncols=n, pad=0)
    fig = _new_figure((6.0, 6.0))
    ax = fig.add_subplot()
    _show_mosaic(ax, mosaic, vmin, vmax)
    h, w = imgs.shape[1:]
    ticks = [i * w + w / 2 for i in range(n)]
    ax.set_xticks(ticks, [f"{v:.1f}" for v in axis], fontsize=6, rotation=90)
    ax.set_yticks([i * h + h / 2 for i in range(n)], [f"{v:.1f}" for v in axis[::-1]], fontsize=6)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_history(history, path, title=None, logy: bool = False) -> Path:
    """Plot per-epoch curves from a dict like {"loss": [...], "val_loss": [...]}.

    "x" and "val_x" share a colour, validation dashed, so over-fitting shows as the two
    lines parting. Objects with a ``.history`` dict (Keras-style) are accepted too.
    """
    history = getattr(history, "history", history)
    series = {}
    for key, values in history.items():
        try:
            arr = np.asarray(_to_numpy(values), dtype=np.float64)
        except (TypeError, ValueError):
            continue  # not a numeric series (e.g. a note or a config entry)
        if arr.ndim == 1 and arr.size:
            series[key] = arr
    if not series:
        raise ValueError("history has no non-empty series to plot")
    fig = _new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    colours = {}
    for key, values in series.items():
        base = key.removeprefix("val_")
        colour = colours.setdefault(base, f"C{len(colours) % 10}")
        style = "--" if key.startswith("val_") else "-"
        epochs = np.arange(1, len(values) + 1)
        ax.plot(
            epochs, values, style, color=colour, label=key, marker="o" if len(values) < 20 else None
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish_chart(fig, ax, path, "epoch", "value", title, logy)


def _finish_chart(fig, ax, path, xlabel: str, ylabel: str, title, logy: bool) -> Path:
    """Axis labels, optional log scale, a light grid, the legend and title; then save."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_histograms(values: dict, path, xlabel: str, title=None, bins: int = 50,
                    logy: bool = False) -> Path:
    """Overlaid histograms, one per entry of ``values`` (label -> array of any shape).

    For code activations of the sparse models (a sparse code piles up at 0) and for
    reconstruction errors of normal vs anomalous digits. Densities, so sizes may differ.
    """
    if not values:
        raise ValueError("need at least one array to draw a histogram of")
    data = {k: np.asarray(_to_numpy(v), dtype=np.float64).ravel() for k, v in values.items()}
    empty = [k for k, v in data.items() if v.size == 0]
    if empty:
        raise ValueError(f"nothing to draw for {empty}")
    lo = min(float(v.min()) for v in data.values())
    hi = max(float(v.max()) for v in data.values())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    fig = _new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    for key, v in data.items():
        ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.5, label=key)
    return _finish_chart(fig, ax, path, xlabel, "density", title, logy)


def plot_lines(series: dict, path, xlabel: str, ylabel: str, title=None, logy: bool = False,
               diagonal: bool = False) -> Path:
    """Line plot of several curves: ``series`` maps a label to ``y`` or to a pair ``(x, y)``.

    For training curves of several runs, principal angles by index, or an ROC curve
    (``diagonal=True`` adds the chance line y = x).
    """
    if not series:
        raise ValueError("need at least one curve to draw")
    fig = _new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    for label, v in series.items():
        if isinstance(v, tuple) and len(v) == 2:
            x, y = (np.asarray(_to_numpy(a), dtype=np.float64).ravel() for a in v)
        else:
            y = np.asarray(_to_numpy(v), dtype=np.float64).ravel()
            x = np.arange(1, len(y) + 1)
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"curve {label!r}: {len(x)} x values and {len(y)} y values")
        ax.plot(x, y, label=label, marker="o" if len(y) < 20 else None, markersize=3)
    if diagonal:
        ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    return _finish_chart(fig, ax, path, xlabel, ylabel, title, logy)
