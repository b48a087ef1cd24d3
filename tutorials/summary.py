"""Fill tutorials/README.md's number blocks from the gallery's metrics.json files.

    python -m tutorials.summary            # rewrite the blocks in tutorials/README.md
    python -m tutorials.summary --print    # print them instead

README.md holds the prose, which states no measured number; every number is in a
``<!-- numbers:NAME -->`` ... ``<!-- /numbers -->`` block written here, so regenerating the
gallery and running this keeps the text true: the run itself (``status``), the claims of the
autoencoders tutorial with their verdicts (``claims``, the rows in tutorials/claims.py), the
k-NN accuracy of every model's codes against PCA's (``knn``), the generators' scores
(``generators``) and one block per lesson. A lesson with no full run yet is "pending".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from . import claims
from .verdicts import count_seeds, show, verdict

HERE = Path(__file__).resolve().parent
GALLERY = HERE / "gallery"


def load(name: str) -> dict | None:
    """A lesson's full-run metrics.json (with its wall time), or None (missing or quick)."""
    path = GALLERY / name / "metrics.json"
    if not path.exists():
        return None
    m = json.loads(path.read_text())
    timing = GALLERY / name / "timing.json"
    if timing.exists():
        m["wall_seconds"] = json.loads(timing.read_text())[name]["seconds"]
    # A quick run is no result; a file without "fits" predates the per-seed lessons.
    return None if m.get("quick") or "fits" not in m else m


def lessons() -> list[str]:
    return sorted(p.stem for p in HERE.glob("[0-9][0-9]_*.py"))


def gallery() -> dict:
    """{lesson: metrics or None} for every lesson."""
    return {name: load(name) for name in lessons()}


# -- the run ---------------------------------------------------------------------------------
def status_block(g: dict) -> str:
    """How the gallery was made (gallery/run.json, written by run_all) and each lesson's time."""
    run_path = GALLERY / "run.json"
    lines = []
    if run_path.exists():
        r = json.loads(run_path.read_text())
        lines.append(
            f"Made by `{r['command']}` at commit {r['commit']} on {r['started'][:10]}, "
            f"{r['started'][11:16]}–{r['finished'][11:16]} UTC, on {r['cpus']} CPU cores "
            f"(load average {r['load_average_start']:.2f} at the start), {r['backend']} "
            f"backend: **{r['wall_seconds'] / 60:.1f} min wall** for all twelve; peak "
            f"resident memory {r['peak_rss_mb']:.0f} MB. Weights at the start: "
            f"{r['weights_at_start']}.")
        lines.append("")
    lines += ["| lesson | wall time | models trained: epochs (seeds) |", "|---|---|---|"]
    total = 0.0
    for name, m in g.items():
        if m is None:
            lines.append(f"| {name} | pending | |")
            continue
        total += m.get("wall_seconds", m["seconds"])
        fits = ", ".join(f"{k} {v['epochs']} ({len(v['seeds'])})"
                         for k, v in m.get("fits", {}).items())
        lines.append(f"| {name} | {m.get('wall_seconds', m['seconds']) / 60:.1f} min | "
                     f"{fits or '—'} |")
    lines.append(f"| **all twelve** | **{total / 60:.1f} min** | |")
    return "\n".join(lines)


# -- tables ----------------------------------------------------------------------------------
def claims_block(g: dict) -> str:
    out = ["| the tutorial says | lesson | compared | measured (mean ± sd over seeds) | "
           "verdict | caveat |", "|---|---|---|---|---|---|"]
    for row in claims.rows(g):
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def knn_block(g: dict) -> str:
    """Every model's codes: k-NN accuracy against PCA's with as many components."""
    out = ["| lesson | codes | numbers | k-NN accuracy | seeds | PCA, same size | "
           "model vs PCA |", "|---|---|---|---|---|---|---|"]
    for name, m in g.items():
        if m is None:
            out.append(f"| {name} | pending | | | | | |")
            continue
        for key, c in m.get("codes", {}).items():
            if key == "plain_ae" and name != "06_denoise_gauss":
                continue  # 07's control is 06's, listed once
            pca = c.get("pca_knn_accuracy")
            v = "—" if pca is None else verdict(c["knn_accuracy"], pca)
            v = {"holds": "model higher", "does not hold": "PCA higher"}.get(v, v)
            out.append(f"| {name} | {key} | {c['code_size']} | {show(c['knn_accuracy'])} | "
                       f"{len(c['knn_accuracy'])} | {'—' if pca is None else show(pca)} | "
                       f"{v} |")
    return "\n".join(out)


def generators_block(g: dict) -> str:
    """The generated digits' scores beside real digits'."""
    out = ["| samples | lesson | top-class probability | Fréchet distance to real digits | "
           "class entropy (bits, max 3.32) | seeds |", "|---|---|---|---|---|---|"]
    real, seen = None, set()
    for name in ("08_generator", "09_vae"):
        m = g.get(name)
        if m is None:
            out.append(f"| pending | {name[:2]} | | | | |")
            continue
        for key, s in m.get("generated", {}).items():
            if key in seen:  # 09 rates 08's generator again, as its opponent: listed once
                continue
            seen.add(key)
            out.append(f"| {claims.GENERATORS.get(key, key)} | {name[:2]} | "
                       f"{show(s['mean_top_prob'])} | {show(s['frechet'], 1)} | "
                       f"{show(s['class_entropy'], 2)} | {count_seeds(s['frechet'])} |")
            real = real or (m["scorer"], s["frechet_real_vs_real"])
    if real:
        scorer, base = real
        r = scorer["real_test_images"]
        out.append(f"| **real test digits** (the baseline) | | {r['mean_top_prob']:.3f} | "
                   f"{show(base, 1)} | {r['class_entropy']:.2f} | {count_seeds(base)} |")
    return "\n".join(out)


def lesson_block(name: str, m: dict | None) -> str:
    if m is None:
        return f"*Pending: `{name}` has not finished a full run yet.*"
    lines = [f"![{fig}](gallery/{name}/{fig})" for fig in m["figures"]]
    command = re.sub(r"--out \S*?/?tutorials/gallery/", "--out tutorials/gallery/", m["command"])
    lines += ["", f"`{command}` — {m.get('wall_seconds', m['seconds']) / 60:.1f} min wall "
              f"({m['backend']} backend, {m['dataset']})", ""]
    if m.get("models"):
        lines += ["| model | seeds | val loss | of which penalty | test SE/image | read as the "
                  "right digit | epochs | train s |", "|---|---|---|---|---|---|---|---|"]
        for key, v in m["models"].items():
            pen = show(v["val_penalty"], 4) if "val_penalty" in v else "—"
            secs = sum(v.get("train_seconds", [0])) / max(1, len(v.get("train_seconds", [1])))
            lines.append(f"| {key} | {len(v['seeds'])} | {show(v['val_loss'], 4)} | {pen} | "
                         f"{show(v['test_se_per_image'], 2)} | {show(v['recognised'])} | "
                         f"{v.get('epochs_trained', '—')} | {secs:.0f} |")
    if m.get("codes"):
        lines += ["", "| codes | numbers | k-NN accuracy | PCA same size | silhouette of map | "
                  "most confused pairs (first seed) |", "|---|---|---|---|---|---|"]
        for key, c in m["codes"].items():
            pairs = ", ".join(f"{a}–{b} ({n})" for a, b, n in c["confused_pairs"][0][:3])
            pca = c.get("pca_knn_accuracy")
            sil = show(c["silhouette"]) if "silhouette" in c else "—"
            lines.append(f"| {key} | {c['code_size']} | {show(c['knn_accuracy'])} | "
                         f"{'—' if pca is None else show(pca)} | {sil} | {pairs} |")
    extra = {k: v for k, v in m.items() if k in EXTRA}
    if extra:
        lines += ["", "<details><summary>the lesson's other numbers (lists: one per seed)"
                  "</summary>\n", "```"]
        lines += [f"{k}: {json.dumps(_rounded(v), ensure_ascii=False)}" for k, v in extra.items()]
        lines += ["```\n</details>"]
    return "\n".join(lines)


EXTRA = ("denoising", "generated", "linear_vs_pca", "anomaly", "hinton", "code_sparsity")


def _rounded(x):
    """Floats to 4 significant digits, for reading."""
    if isinstance(x, float):
        return float(f"{x:.4g}")
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    return x


BLOCK = re.compile(r"<!-- numbers:(?P<name>[\w-]+) -->.*?<!-- /numbers -->", re.S)


def fill(text: str) -> str:
    g = gallery()
    tables = {"status": status_block, "claims": claims_block, "knn": knn_block,
              "generators": generators_block}

    def repl(match):
        name = match["name"]
        body = tables[name](g) if name in tables else lesson_block(name, g.get(name))
        return f"<!-- numbers:{name} -->\n{body}\n<!-- /numbers -->"

    return BLOCK.sub(repl, text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--print", action="store_true", help="print instead of rewriting README.md")
    args = p.parse_args(argv)
    readme = HERE / "README.md"
    text = fill(readme.read_text())
    if args.print:
        print(text)
    else:
        readme.write_text(text)
        print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
