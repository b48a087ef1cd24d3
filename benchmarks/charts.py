"""What the benchmarks share: the machine they ran on, and one bar chart of their results.

* :func:`machine` -- the CPU model, its widest vector instruction set (AVX-512, AVX2, ...) and
  the kernel OpenBLAS picked for it (``SkylakeX``, ``Haswell``, ``Zen``...): the numbers of a
  CPU benchmark mean little without them.
* :func:`bar_chart` -- samples/s per configuration and contender, ours in one colour family,
  the other library's in another, with the ratio of our best to their best written above each
  group. ``compare_torch.py`` and ``cpu_vs_gpu.py`` write one beside their markdown.
"""

from __future__ import annotations

import platform
from pathlib import Path

ISAS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))


def machine() -> dict:
    """``{"cpu", "isa", "openblas_kernel"}`` of this machine (``"unknown"`` where unreadable)."""
    cpu, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = next((name for flag, name in ISAS if flag in flags), "unknown")
    kernel = "unknown"
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415

        kernel = next((i.get("architecture") or "unknown" for i in threadpool_info()
                       if i.get("internal_api") == "openblas"), "not OpenBLAS")
    except ImportError:
        pass
    return {"cpu": cpu, "isa": isa, "openblas_kernel": kernel}


def _thousands(value, _pos=None) -> str:
    """A tick label: 60000 -> "60k", 2500 -> "2.5k", 800 -> "800"."""
    if abs(value) >= 1000:
        return f"{value / 1000:.3g}k"
    return f"{value:.3g}"


def bar_chart(groups, path, title, ylabel="training samples per second") -> Path:
    """One panel per configuration (each with its own scale: a conv model's rate would vanish
    beside a dense one's), a bar per contender. ``groups`` is
    ``[(label, [(contender, value, ours), ...]), ...]``; ``ours`` marks this library's
    contenders (blues), the others' are oranges; each panel's title gives our best / theirs.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    names = list(dict.fromkeys(name for _, bars in groups for name, _, _ in bars))
    ours_names = [n for n in names if any(o for _, bars in groups for m, _, o in bars if m == n)]
    colors = {}
    for kind, cmap in ((True, plt.cm.Blues), (False, plt.cm.Oranges)):
        picked = [n for n in names if (n in ours_names) == kind]
        for i, n in enumerate(picked):
            colors[n] = cmap(0.45 + 0.4 * i / max(len(picked) - 1, 1))
    fig, axes = plt.subplots(1, max(len(groups), 1), squeeze=False,
                             figsize=(0.6 + 2.0 * max(len(groups), 1), 4.0))
    for ax, (label, bars) in zip(axes[0], groups, strict=False):
        for i, (name, value, _) in enumerate(bars):
            ax.bar(i, value, color=colors[name], edgecolor="black", linewidth=0.5, label=name)
        best_ours = max((v for _, v, o in bars if o), default=None)
        best_theirs = max((v for _, v, o in bars if not o), default=None)
        ratio = f"\n{best_ours / best_theirs:.2f}x" if best_ours and best_theirs else ""
        ax.set_title(f"{label}{ratio}", fontsize=10)
        ax.set_xticks([])
        ax.tick_params(axis="y", labelsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))  # the bottom tenth holds the legend, under the bars
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[n], ec="black", lw=0.5) for n in names]
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 4), fontsize=8,
               frameon=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
