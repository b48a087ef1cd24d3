"""Fill tutorials/README.md's number blocks from the gallery's metrics.json files.

    python -m tutorials.summary            # rewrite the blocks in tutorials/README.md
    python -m tutorials.summary --print    # print them instead

README.md holds the prose; each ``<!-- numbers:NAME -->`` ... ``<!-- /numbers -->`` block is
generated here (figures, numbers, wall time), as are the tables of seed claims and of k-NN
accuracy against PCA. A tutorial with no full-MNIST metrics.json yet is marked "pending".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GALLERY = HERE / "gallery"


def load(name: str) -> dict | None:
    path = GALLERY / name / "metrics.json"
    if not path.exists():
        return None
    m = json.loads(path.read_text())
    timing = GALLERY / name / "timing.json"
    if timing.exists():
        m["wall_seconds"] = json.loads(timing.read_text())[name]["seconds"]
    return None if m.get("quick") else m


def f(x, nd=3):
    return "—" if x is None else f"{x:.{nd}f}"


def block(name: str) -> str:
    m = load(name)
    if m is None:
        return f"*Pending: `{name}` has not finished a full-MNIST run yet.*"
    lines = []
    for fig in m["figures"]:
        lines.append(f"![{fig}](gallery/{name}/{fig})")
    lines.append("")
    lines.append(f"`{m['command']}` — {m.get('wall_seconds', m['seconds']) / 60:.1f} min wall "
                 f"({m['backend']} backend, shared 2-core machine)")
    lines.append("")
    lines.append("| model | val loss | recon | penalty | test SE/image | MSE/pixel | epochs | "
                 "train s |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for key, v in m.get("models", {}).items():
        lines.append(f"| {key} | {f(v['val_loss'], 4)} | {f(v['val_recon'], 4)} | "
                     f"{f(v.get('val_penalty'), 4)} | {f(v['test_se_per_image'], 2)} | "
                     f"{f(v['test_mse_per_pixel'], 5)} | {v['epochs_trained']} | "
                     f"{v['train_seconds']:.0f} |")
    if m.get("codes"):
        lines.append("")
        lines.append("| codes | size | k-NN acc. (5-fold) | PCA same size | silhouette of map | "
                     "most confused pairs |")
        lines.append("|---|---|---|---|---|---|")
        for key, c in m["codes"].items():
            pairs = ", ".join(f"{a}–{b} ({n})" for a, b, n in c["confused_pairs"][:3])
            lines.append(f"| {key} | {c['code_size']} | {f(c['knn_accuracy'])} | "
                         f"{f(c.get('pca_knn_accuracy'))} | {f(c['silhouette'])} | {pairs} |")
    extra = {k: v for k, v in m.items() if k in (
        "denoising", "generated", "linear_vs_pca", "anomaly", "hinton", "scorer",
        "code_sparsity")}
    if extra:
        lines.append("")
        lines.append("<details><summary>all other numbers</summary>\n")
        lines.append("```json")
        lines.append(json.dumps(extra, indent=1, default=str)[:6000])
        lines.append("```\n</details>")
    return "\n".join(lines)


def knn_table() -> str:
    rows = ["| tutorial | codes | size | k-NN accuracy | PCA, same size | higher |",
            "|---|---|---|---|---|---|"]
    for d in sorted(GALLERY.glob("[0-9][0-9]_*")):
        m = load(d.name)
        if m is None:
            rows.append(f"| {d.name} | pending | | | | |")
            continue
        for key, c in m.get("codes", {}).items():
            pca = c.get("pca_knn_accuracy")
            higher = "—" if pca is None else ("model" if c["knn_accuracy"] > pca else "PCA")
            rows.append(f"| {d.name} | {key} | {c['code_size']} | {f(c['knn_accuracy'])} | "
                        f"{f(pca)} | {higher} |")
        h = m.get("hinton")
        if h:
            for key in ("deep_direct", "deep_pretrained"):
                higher = "model" if h[key]["knn_accuracy"] > h["pca30_knn_accuracy"] else "PCA"
                rows.append(f"| {d.name} | {key} | 30 | {f(h[key]['knn_accuracy'])} | "
                            f"{f(h['pca30_knn_accuracy'])} | {higher} |")
    return "\n".join(rows)


BLOCK = re.compile(r"<!-- numbers:(?P<name>[\w-]+) -->.*?<!-- /numbers -->", re.S)


def fill(text: str) -> str:
    def repl(match):
        name = match["name"]
        body = knn_table() if name == "knn" else block(name)
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
