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
    "manifold_limits",
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
    limits=None,
) -> np.ndarray:
    """Scatter the codes in 2-D, coloured by label; return the (M, 2) embedding that was drawn.

    codes: (N, ...) any shape per sample, flattened to (N, D). labels: (N,) ints or None.
    method: "tsne" (scikit-learn TSNE, init="pca", random_state=seed), "pca", or "none" for
    codes that already are 2-D (D == 2), drawn as they are. When N > max_points, a seeded
    random subset of M = max_points rows is used (t-SNE is O(N^2)-ish); the returned rows
    follow that subset in increasing index order. max_iter: t-SNE's iterations (at least 250;
    fewer give a rougher map sooner).

    limits: the axes' range, for reading the map next to another figure: a number L for
    [-L, L] on both axes, a pair (lo, hi) for both, or ((x_lo, x_hi), (y_lo, y_hi)). For a
    2-D VAE, ``limits=manifold_limits(n, limit)`` gives the range of :func:`plot_manifold`'s
    picture. Points outside are counted in a note on the figure. The legend sits to the right
    of the axes, off the points.
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
    _save(_latent_map_figure(emb, y, method, title, limits), path)
    return emb


def _axis_limits(limits) -> tuple[tuple[float, float], tuple[float, float]]:
    """limits as plot_latent_map takes it -> ((x_lo, x_hi), (y_lo, y_hi))."""
    try:
        a = np.asarray(limits, dtype=np.float64)
    except (TypeError, ValueError):
        a = np.full(3, np.nan)  # reported below with the other malformed limits
    if a.shape == ():
        a = np.array([-abs(a), abs(a)])
    if a.shape == (2,):
        a = np.stack([a, a])
    if a.shape != (2, 2) or not np.isfinite(a).all() or (a[:, 0] >= a[:, 1]).any():
        raise ValueError("limits must be a number L, a pair (lo, hi) with lo < hi, or "
                         f"((x_lo, x_hi), (y_lo, y_hi)); got {limits!r}")
    return (float(a[0, 0]), float(a[0, 1])), (float(a[1, 0]), float(a[1, 1]))


def _latent_map_figure(emb: np.ndarray, y, method: str, title, limits):
    """The Figure of :func:`plot_latent_map` for an (M, 2) embedding, unsaved."""
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
            _legend_outside(ax, handles=handles, labels=names, title="label")
        else:
            fig.colorbar(sc, ax=ax, label="label")
    if method == "tsne":
        # t-SNE's coordinates have no units, and distances between clusters mean little.
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.25)
    if method == "none":
        ax.set_aspect("equal", adjustable="datalim" if limits is None else "box")
    axis_name = {"tsne": "t-SNE", "pca": "PCA", "none": "z"}[method]
    ax.set_xlabel(f"{axis_name} 1" if method != "none" else "z[0]")
    ax.set_ylabel(f"{axis_name} 2" if method != "none" else "z[1]")
    if limits is not None:
        (x0, x1), (y0, y1) = _axis_limits(limits)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        outside = int(((emb[:, 0] < x0) | (emb[:, 0] > x1)
                       | (emb[:, 1] < y0) | (emb[:, 1] > y1)).sum())
        if outside:
            ax.text(0.01, 0.01, f"{outside} of {len(emb)} points outside these axes",
                    transform=ax.transAxes, fontsize=8, color="0.25", va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.set_title(title or f"latent codes ({method}, {len(emb)} points)", fontsize=10)
    return fig


def _grid_axis(n: int, limit) -> np.ndarray:
    """n latent values per axis: ±limit evenly, or N(0, 1) quantiles 5%..95% by default.

    Quantiles put as many grid points where the prior has mass as a VAE's decoder saw
    in training; statistics.NormalDist gives norm.ppf without needing scipy.
    """
    if limit is not None:
        return np.linspace(-limit, limit, n, dtype=np.float32)
    ppf = NormalDist().inv_cdf
    return np.array([ppf(p) for p in np.linspace(0.05, 0.95, n)], dtype=np.float32)


def manifold_limits(n: int = 15, limit=None) -> tuple[float, float]:
    """The z range (lo, hi) that :func:`plot_manifold`'s picture spans on each axis.

    The outer cells' centres plus half a cell spacing, so it is the picture's edge. Pass it as
    ``plot_latent_map(..., method="none", limits=manifold_limits(n, limit))`` to draw a 2-D
    VAE's codes over the same range as its manifold. With ``limit`` (an even grid) the two
    pictures then line up point for point; with the default quantile grid the manifold's
    cells are closer together in z near 0, so only the range and tick values line up.
    """
    axis = _grid_axis(n, limit).astype(np.float64)
    half = 0.5 * (axis[1] - axis[0]) if n > 1 else 0.5
    return float(axis[0] - half), float(axis[-1] + half)


def plot_manifold(decode_fn, path, n: int = 15, limit=None, title=None) -> Path:
    """Decode an n x n grid of 2-D latent points and save the decoded images as one mosaic.

    decode_fn: maps z of shape (n*n, 2), float32, to images (n*n, 1, H, W) or (n*n, H*W).
    Columns sweep z[0] left to right, rows sweep z[1] from high (top) to low. limit: None for
    N(0, 1) quantiles (a VAE's prior), or a number for an even grid over [-limit, limit].
    The axes are labelled z[0], z[1] with a few round z values, placed where they fall
    between the cells' centres (see :func:`manifold_limits` for the range).
    """
    axis = _grid_axis(n, limit)
    z1, z0 = np.meshgrid(axis[::-1], axis, indexing="ij")  # row r: z[1] = axis[n-1-r]
    z = np.stack([z0.ravel(), z1.ravel()], axis=1).astype(np.float32)
    imgs = _as_images(decode_fn(z), "decode_fn output")
    if len(imgs) != n * n:
        raise ValueError(f"decode_fn returned {len(imgs)} images for {n * n} latent points")
    return _save(_manifold_figure(imgs, axis, title), path)


def _latent_ticks(axis: np.ndarray, cell: int) -> tuple[np.ndarray, list[str]]:
    """Round z values inside the grid and their pixel positions along a mosaic axis.

    axis: (n,) increasing z of the cells; cell: pixels per cell. A value between two cell
    centres is placed proportionally between them, so a quantile grid's ticks are uneven.
    """
    from matplotlib.ticker import MaxNLocator

    lo, hi = float(axis[0]), float(axis[-1])
    if len(axis) == 1:
        return np.array([cell / 2]), [f"{lo:g}"]
    values = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    values = values[(values >= lo - 1e-9) & (values <= hi + 1e-9)]
    centres = np.arange(len(axis)) * cell + cell / 2
    pos = np.interp(values, axis, centres)
    # A quantile grid squeezes the outer values together: keep the ones nearest 0 first and
    # drop any tick within a tenth of the picture of a kept one, so labels never collide.
    gap = len(axis) * cell / 10
    kept: list[int] = []
    for j in np.argsort(np.abs(values), kind="stable"):
        if all(abs(pos[j] - pos[k]) >= gap for k in kept):
            kept.append(int(j))
    kept.sort()
    labels = [f"{round(v, 6) + 0.0:g}".replace("-", "\N{MINUS SIGN}") for v in values[kept]]
    return pos[kept], labels


def _manifold_figure(imgs: np.ndarray, axis: np.ndarray, title):
    """The Figure of :func:`plot_manifold` for (n*n, H, W) images and (n,) z values."""
    n = len(axis)
    vmin, vmax = _grey_range(imgs)
    fig = _new_figure((6.0, 6.0))
    ax = fig.add_subplot()
    _show_mosaic(ax, _tile(imgs, ncols=n, pad=0), vmin, vmax)
    h, w = imgs.shape[1:]
    xpos, xlab = _latent_ticks(axis, w)
    ypos, ylab = _latent_ticks(axis, h)
    ax.set_xticks(xpos, xlab)
    ax.set_yticks(n * h - ypos, ylab)  # z[1] grows upwards; image rows grow downwards
    ax.tick_params(labelsize=9, length=4, direction="out")
    ax.set_xlabel("z[0]", fontsize=10)
    ax.set_ylabel("z[1]", fontsize=10)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# Every curve gets its own dash pattern, and curves drawn later are thinner with smaller
# markers, staggered along the x axis: a curve lying exactly on another (loss = recon when
# there is no penalty) still shows as a broken line inside a wider one.
_LINESTYLES = ("-", (0, (5, 2)), (0, (6, 2, 1, 2)), (0, (1, 1.5)), (0, (10, 3)),
               (0, (3, 1, 1, 1, 1, 1)), (0, (2, 3)), (0, (12, 2, 2, 2)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _curve_style(i: int, n_points: int, marker_index=None) -> dict:
    """Line2D keyword arguments for the i-th curve of a chart (n_points per curve).

    At most about 10 markers per curve. marker_index (default i) picks the marker's shape and
    size: a later shape is smaller, so it sits inside an earlier one drawn at the same point.
    """
    step = max(1, math.ceil(n_points / 10))
    k = i if marker_index is None else marker_index
    return {"linestyle": _LINESTYLES[i % len(_LINESTYLES)],
            "marker": _MARKERS[k % len(_MARKERS)], "markevery": (i % step, step),
            "linewidth": max(1.0, 2.2 - 0.3 * i), "markersize": max(3.5, 7.5 - 1.5 * k)}


def _history_series(history) -> dict:
    """{name: (E,) float64} for the numeric, non-empty 1-D entries of a history dict."""
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
    return series


# The training loop's history keys (scratch_ae.train.fit): loss = recon + penalty.
_LOSS_TERMS = ("loss", "recon", "penalty")


def _history_ylabel(keys) -> str:
    """A y-axis label from history keys: their common name, e.g. "loss" for loss, val_loss."""
    bases = list(dict.fromkeys(k.removeprefix("val_") for k in keys))
    if len(bases) == 1:
        return bases[0]
    if all(b in _LOSS_TERMS for b in bases):
        return "loss = recon + penalty" if "penalty" in bases else "loss"
    return ", ".join(bases)


def plot_history(history, path, title=None, logy: bool = False, ylabel=None) -> Path:
    """Plot per-epoch curves from a dict like {"loss": [...], "val_loss": [...]}.

    Each series (E,) is one curve. "x" and "val_x" share a colour and marker shape
    (validation's hollow), so over-fitting shows as the two curves parting; every curve has
    its own dash pattern, so curves that coincide stay visible, and markers, so a one-epoch
    history shows one point per series. ylabel: the y axis' label (e.g. "loss per pixel
    (BCE)"); by default the keys' common name. The legend sits to the right of the axes.
    Objects with a ``.history`` dict (Keras-style) are accepted too.
    """
    return _save(_history_figure(history, title, logy, ylabel), path)


def _history_figure(history, title=None, logy: bool = False, ylabel=None):
    """The Figure of :func:`plot_history`, unsaved."""
    from matplotlib.ticker import MaxNLocator

    series = _history_series(history)
    fig = _new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    bases: dict = {}
    for i, (key, values) in enumerate(series.items()):
        k = bases.setdefault(key.removeprefix("val_"), len(bases))
        style = _curve_style(i, len(values), marker_index=k)
        val = key.startswith("val_")
        step = style["markevery"][1]
        # Validation markers hollow, and between the training curve's where there is room.
        style["markevery"] = ((k + (step // 2 if val else 0)) % step, step)
        if val:
            style["markerfacecolor"] = "none"
        ax.plot(np.arange(1, len(values) + 1), values, color=f"C{k % 10}", label=key, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, max(len(v) for v in series.values()) + 0.5)
    ylabel = _history_ylabel(series) if ylabel is None else ylabel
    _finish_chart(ax, "epoch", ylabel, title, logy)
    return fig


def _legend_outside(ax, **kwargs) -> None:
    """The legend to the right of the axes, off the data (``_save`` keeps it in the PNG)."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              **kwargs)


def _finish_chart(ax, xlabel: str, ylabel: str, title, logy: bool) -> None:
    """Axis labels, optional log scale, a light grid, the legend outside, and the title."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    if title:
        ax.set_title(title, fontsize=10)


def plot_histograms(values: dict, path, xlabel: str, title=None, bins: int = 50,
                    logy: bool = False) -> Path:
    """Overlaid histograms, one per entry of ``values`` (label -> array of any shape).

    For code activations of the sparse models (a sparse code piles up at 0) and for
    reconstruction errors of normal vs anomalous digits. Densities, so sizes may differ.
    Each outline has its own dash pattern and width, so equal bins stay visible.
    """
    return _save(_histograms_figure(values, xlabel, title, bins, logy), path)


def _histograms_figure(values: dict, xlabel: str, title=None, bins: int = 50,
                       logy: bool = False):
    """The Figure of :func:`plot_histograms`, unsaved."""
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
    for i, (key, v) in enumerate(data.items()):
        style = _curve_style(i, bins)
        ax.hist(v, bins=edges, density=True, histtype="step", label=key,
                linestyle=style["linestyle"], linewidth=style["linewidth"])
    _finish_chart(ax, xlabel, "density", title, logy)
    return fig


def plot_lines(series: dict, path, xlabel: str, ylabel: str, title=None, logy: bool = False,
               diagonal: bool = False) -> Path:
    """Line plot of several curves: ``series`` maps a label to ``y`` or to a pair ``(x, y)``.

    For training curves of several runs, principal angles by index, or an ROC curve
    (``diagonal=True`` adds the chance line y = x). Each curve has its own dash pattern and
    markers, so curves that coincide stay visible; the legend sits to the right of the axes.
    """
    return _save(_lines_figure(series, xlabel, ylabel, title, logy, diagonal), path)


def _lines_figure(series: dict, xlabel: str, ylabel: str, title=None, logy: bool = False,
                  diagonal: bool = False):
    """The Figure of :func:`plot_lines`, unsaved."""
    if not series:
        raise ValueError("need at least one curve to draw")
    fig = _new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    for i, (label, v) in enumerate(series.items()):
        if isinstance(v, tuple) and len(v) == 2:
            x, y = (np.asarray(_to_numpy(a), dtype=np.float64).ravel() for a in v)
        else:
            y = np.asarray(_to_numpy(v), dtype=np.float64).ravel()
            x = np.arange(1, len(y) + 1)
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"curve {label!r}: {len(x)} x values and {len(y)} y values")
        ax.plot(x, y, label=label, **_curve_style(i, len(y)))
    if diagonal:
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=(0, (1, 2)),
                label="chance")
    _finish_chart(ax, xlabel, ylabel, title, logy)
    return fig
