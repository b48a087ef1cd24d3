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

from scratch_ae.models import zoo

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
    command = re.sub(r"--out \S*?/?tutorials/gallery/", "--out tutorials/gallery/", m["command"])
    lines.append(f"`{command}` — {m.get('wall_seconds', m['seconds']) / 60:.1f} min wall "
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


def _higher(model: float, pca: float) -> str:
    """Which is higher; within 0.005 (25 of 5,000 codes) it is called a tie."""
    if abs(model - pca) < 0.005:
        return "tie (within 0.005)"
    return "model" if model > pca else "PCA"


def knn_table() -> str:
    rows = ["| tutorial | codes | size | k-NN accuracy | PCA, same size | higher |",
            "|---|---|---|---|---|---|"]
    for d in sorted(HERE.glob("[0-9][0-9]_*.py")):
        m = load(d.stem)
        if m is None:
            rows.append(f"| {d.stem} | pending | | | | |")
            continue
        for key, c in m.get("codes", {}).items():
            pca = c.get("pca_knn_accuracy")
            higher = "—" if pca is None else _higher(c["knn_accuracy"], pca)
            rows.append(f"| {d.stem} | {key} | {c['code_size']} | {f(c['knn_accuracy'])} | "
                        f"{f(pca)} | {higher} |")
        h = m.get("hinton")
        if h:
            for key in ("deep_direct", "deep_pretrained"):
                higher = _higher(h[key]["knn_accuracy"], h["pca30_knn_accuracy"])
                rows.append(f"| {d.stem} | {key} | 30 | {f(h[key]['knn_accuracy'])} | "
                            f"{f(h['pca30_knn_accuracy'])} | {higher} |")
    return "\n".join(rows)


def _codes(name, key):
    m = load(name)
    return None if m is None else m.get("codes", {}).get(key)


def _pairs(c):
    return ", ".join(f"{a}–{b}" for a, b, _ in c["confused_pairs"][:3])


def _claim_rows():
    """(claim, where, measured, verdict) for each checkable sentence of the seed."""
    rows = []
    st, conv = load("01_stacked"), load("03_conv")
    if st and conv:
        a, b = st["models"]["stacked"]["test_se_per_image"], conv["models"]["conv"][
            "test_se_per_image"]
        rows.append(("\"It reconstructs nicely, but we may add convolutions to improve the "
                     "quality\"", "01, 03", f"test SE/image: stacked {a:.2f}, conv {b:.2f}",
                     "holds" if b < a else "does not hold"))
    else:
        rows.append(("\"we may add convolutions to improve the quality\"", "01, 03", "pending",
                     "pending"))
    sp = load("02_sparse")
    if sp:
        z = sp["models"]["sparse_l1"]["code"]
        rows.append(("Sparse AE: \"a lot of the activations of the middle layer will be "
                     "zero\"", "02", f"L1: {100 * z['fraction_near_zero']:.0f}% of code "
                     f"activations below {z['threshold']}, mean {z['mean_activation']:.3f}",
                     "holds" if z["fraction_near_zero"] > 0.5 else "does not hold"))
    else:
        rows.append(("Sparse AE: most code activations are zero", "02", "pending", "pending"))
    c, s0 = _codes("03_conv", "conv"), _codes("01_stacked", "stacked")
    if c and s0:
        rows.append(("Conv AE: \"The clusters appear to be extremely clear\"", "03 vs 01",
                     f"silhouette {c['silhouette']:.3f} (stacked {s0['silhouette']:.3f}); k-NN "
                     f"{c['knn_accuracy']:.3f} (stacked {s0['knn_accuracy']:.3f}, PCA-576 "
                     f"{c.get('pca_knn_accuracy', float('nan')):.3f})",
                     "clearer than the stacked AE's" if c["silhouette"] > s0["silhouette"]
                     else "not clearer than the stacked AE's"))
    else:
        rows.append(("Conv AE: \"The clusters appear to be extremely clear\"", "03",
                     "pending", "pending"))
    if c:
        top = {tuple(p[:2]) for p in c["confused_pairs"][:3]}
        rows.append(("Conv AE: \"the 4s are fairly near to the 9s ... 9 and 7 appear "
                     "close\"", "03", f"k-NN's most confused pairs: {_pairs(c)}",
                     "holds" if (4, 9) in top and (7, 9) in top else
                     "4–9 holds, 7–9 not in the top three" if (4, 9) in top else
                     "does not hold"))
    for name, key, claim in (
            ("06_denoise_gauss", "denoise_gauss", "Gaussian denoising: \"Denoising enabled the "
             "neural network to correctly encode just the most critical aspects\" (clusters)"),
            ("07_denoise_dropout", "denoise_dropout", "Dropout denoising: \"Denoising "
             "Autoencoders improved the differentiation between clusters\"")):
        d = _codes(name, key)
        if d and s0:
            better = d["knn_accuracy"] > s0["knn_accuracy"] and d["silhouette"] > s0[
                "silhouette"]
            mixed = (d["knn_accuracy"] > s0["knn_accuracy"]) != (d["silhouette"] > s0[
                "silhouette"])
            rows.append((claim, f"{name[:2]} vs 01", f"k-NN {d['knn_accuracy']:.3f} vs "
                         f"{s0['knn_accuracy']:.3f}; silhouette {d['silhouette']:.3f} vs "
                         f"{s0['silhouette']:.3f}; confused: {_pairs(d)}",
                         "holds" if better else "mixed" if mixed else "does not hold"))
        else:
            rows.append((claim, name[:2], "pending", "pending"))
    g, v = load("08_generator"), load("09_vae")
    if g:
        gen, real = g["generated"]["diagonal"], g["scorer"]["real_test_images"]
        rows.append(("A regular AE \"did not perform well as a generative model\"", "08",
                     f"top-class probability {gen['mean_top_prob']:.3f} (real digits "
                     f"{real['mean_top_prob']:.3f}), class entropy {gen['class_entropy']:.2f} "
                     f"bits (real {real['class_entropy']:.2f})",
                     "holds: clearly below real digits" if gen["mean_top_prob"] < real[
                         "mean_top_prob"] - 0.05 else "does not hold: near real digits"))
    else:
        rows.append(("A regular AE does not generate well", "08", "pending", "pending"))
    if v:
        a, b = v["generated"]["vae"], v["generated"]["stacked_ae"]
        rows.append(("\"images generated by the VAE look better than the ones generated "
                     "through a regular autoencoder\"", "09", f"top-class probability VAE "
                     f"{a['mean_top_prob']:.3f} vs AE {b['mean_top_prob']:.3f}; class entropy "
                     f"{a['class_entropy']:.2f} vs {b['class_entropy']:.2f} bits",
                     "holds" if a["mean_top_prob"] > b["mean_top_prob"] else "does not hold"))
    else:
        rows.append(("VAE samples look better than a regular AE's", "09", "pending", "pending"))
    lp = load("10_linear_pca")
    if lp:
        r = lp["linear_vs_pca"]
        rows.append(("Autoencoders are \"neural network equivalents\" of PCA", "10",
                     f"linear AE SE {r['linear_se_per_image']:.3f} vs PCA-30 "
                     f"{r['pca_se_per_image']:.3f} ({100 * r['relative_gap']:+.2f}%); median "
                     f"principal angle {r['median_angle_deg']['decoder']:.2f}°, largest "
                     f"{r['max_angle_deg']['decoder']:.2f}°; stacked (SELU) SE "
                     f"{r['stacked_se_per_image']:.2f}",
                     "holds for a linear AE (same subspace); a nonlinear one beats PCA"
                     if r["within_1_percent"] else "not within 1% of PCA"))
    else:
        rows.append(("A linear AE is PCA", "10", "pending", "pending"))
    an = load("11_anomaly")
    if an:
        d = an["anomaly"]["holdout"]
        auc = an["anomaly"][f"stacked AE without {d}s"]["roc_auc"]
        pca = an["anomaly"][f"PCA-30 without {d}s"]["roc_auc"]
        rows.append(("\"Regular Autoencoders are good for performing Anomaly detection\"",
                     "11", f"ROC AUC for unseen {d}s: AE {auc:.3f}, PCA-30 {pca:.3f}",
                     ("holds" if auc >= 0.9 else "mostly (AUC below 0.9)" if auc >= 0.8 else
                      "only partly" if auc > 0.7 else "does not hold")
                     + (", but PCA does as well" if pca >= auc else ", better than PCA")))
    else:
        rows.append(("AEs are good anomaly detectors", "11", "pending", "pending"))
    h = load("12_deep_hinton")
    if h:
        r = h["hinton"]
        a, b = r["deep_direct"], r["deep_pretrained"]
        measured = (f"test SE/image after {a['epochs']} epochs of Adam{_schedule('deep')}: "
                    f"random init {a['se_per_image']:.2f}, pretrained {b['se_per_image']:.2f} "
                    f"(paper 3.00; PCA-30 {r['pca30_se']:.2f}, paper 13.87)")
        verdict = ("holds: pretraining did not help" if a["se_per_image"] <=
                   b["se_per_image"] * 1.02 else "pretraining still helped here")
        rows.append(("\"quicker convergence algorithms [have] eliminated the necessity and "
                     "value of pretraining\"", "12", measured, verdict))
    else:
        rows.append(("Pretraining is no longer needed", "12", "pending", "pending"))
    return rows


def status_table() -> str:
    """Which tutorials have a full-MNIST run in the gallery, how long it took, which epochs."""
    out = ["| tutorial | gallery | wall time | epochs trained (recipe) |", "|---|---|---|---|"]
    total = 0.0
    for script in sorted(HERE.glob("[0-9][0-9]_*.py")):
        m = load(script.stem)
        if m is None:
            out.append(f"| {script.stem} | pending | | |")
            continue
        total += m.get("wall_seconds", m["seconds"])
        epochs = ", ".join(
            f"{key} {v['epochs_trained']} ({zoo.get_recipe(_recipe_of(key)).epochs})"
            for key, v in m.get("models", {}).items())
        reused = [k for k, v in m.get("models", {}).items() if v.get("weights_reused")]
        out.append(f"| {script.stem} | full MNIST | "
                   f"{m.get('wall_seconds', m['seconds']) / 60:.1f} min | {epochs or '—'}"
                   + (f" (reused: {', '.join(reused)})" if reused else "") + " |")
    out.append(f"| **all twelve** | | **{total / 60:.1f} min** | |")
    return "\n".join(out)


def _schedule(name: str) -> str:
    schedule = zoo.get_recipe(name).lr_schedule
    return "" if schedule == "constant" else f" with {schedule} decay"


def _recipe_of(key: str) -> str:
    return "deep" if key.startswith("deep") else key


def claims_table() -> str:
    out = ["| seed's claim | tutorial | measured (full MNIST) | verdict |", "|---|---|---|---|"]
    out += [f"| {c} | {w} | {m} | {v} |" for c, w, m, v in _claim_rows()]
    return "\n".join(out)


BLOCK = re.compile(r"<!-- numbers:(?P<name>[\w-]+) -->.*?<!-- /numbers -->", re.S)


def fill(text: str) -> str:
    def repl(match):
        name = match["name"]
        body = {"knn": knn_table, "claims": claims_table,
                "status": status_table}.get(name, lambda: block(name))()
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
