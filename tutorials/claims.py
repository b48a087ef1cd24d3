"""The autoencoders tutorial's claims, each set against the gallery's numbers, with a verdict.

One function per claim, marked with the tutorial's words (``@says``): it reads the lessons'
metrics.json (``g``: lesson name -> metrics) and returns the rest of the row of
tutorials/README.md's claims table: the lessons, what is compared (and whether that is like
with like), the measurement as mean ± sd over seeds, the verdict by tutorials/verdicts.py's
rule (a difference inside the spread is a tie), and the caveat that belongs with it. A claim
whose lessons have not run yet is "pending".
"""

from __future__ import annotations

from .verdicts import FAILS, HOLDS, TIE, count_seeds, seeds_note, show, spread, verdict

GENERATORS = {"stacked_ae": "stacked AE, codes ~ N(mean, std²) per unit (08)",
              "stacked_ae_full_cov": "stacked AE, codes ~ N(mean, Cov) (08)",
              "vae": "VAE, z ~ N(0, I) (09)"}


class Pending(KeyError):
    """A number a claim needs is not in the gallery yet."""


def need(g: dict, lesson: str, *path):
    """``g[lesson][path[0]][path[1]]...``, or Pending."""
    value = g.get(lesson)
    for key in path:
        if value is None or key not in value:
            raise Pending(lesson)
        value = value[key]
    if value is None:
        raise Pending(lesson)
    return value


def word(v: str, holds: str = HOLDS, tie: str = TIE, fails: str = FAILS) -> str:
    return {HOLDS: holds, TIE: tie, FAILS: fails}[v]


def noted(text: str, *results) -> str:
    """A verdict, flagged when one of its results comes from a single seed."""
    return text + seeds_note(*results)


def pct(x, digits: int = 0) -> str:
    """A share as a percentage: "96 ± 1%"."""
    mean, sd, n = spread(x)
    if n == 1:
        return f"{100 * mean:.{digits}f}%"
    return f"{100 * mean:.{digits}f} ± {100 * sd:.{digits}f}%"


def says(text: str):
    """Attach the claim's words to its function (a pending row shows them too)."""
    def mark(fn):
        fn.says = text
        return fn
    return mark


# -- one function per claim, in the order of the lessons -------------------------------------
@says('"It reconstructs nicely, but we may add convolutions to improve the quality"')
def convolutions(g):
    st = need(g, "01_stacked", "models", "stacked", "test_se_per_image")
    cv = need(g, "03_conv", "models", "conv", "test_se_per_image")
    deep = need(g, "12_deep_hinton", "models", "deep_direct", "test_se_per_image")
    pca = need(g, "12_deep_hinton", "hinton", "pca30_se")
    d = word(verdict(deep, cv, "lower"), "below conv's", "a tie with conv's", "above conv's")
    return ("01, 03", "test squared error per image: conv AE vs stacked AE",
            f"conv {show(cv, 2)} vs stacked {show(st, 2)}", noted(verdict(cv, st, "lower"), cv, st),
            f"Not like with like: conv's code holds 576 numbers, the stacked AE's 30. With a "
            f"30-number code, 12's deep AE gets {show(deep, 2)}, {d} (PCA-30: {pca:.2f}).")


@says('Sparse AE: "a lot of the activations of the middle layer will be zero"')
def sparse(g):
    code = need(g, "02_sparse", "models", "sparse_l1")
    share = code["code"]["fraction_near_zero"]
    st = need(g, "01_stacked", "models", "stacked")
    acc = need(g, "02_sparse", "scorer", "test_accuracy")
    knn = need(g, "02_sparse", "codes", "sparse_l1")
    ratio = spread(code["test_se_per_image"])[0] / spread(st["test_se_per_image"])[0]
    return ("02",
            "L1 model: share of code activations below 0.05, against one half",
            f"{pct(share)} (mean activation {show(code['code']['mean_activation'])})",
            noted(verdict(share, 0.5), share),
            f"At a price: test squared error {show(code['test_se_per_image'], 1)}, "
            f"{ratio:.1f}× the stacked AE's {show(st['test_se_per_image'], 2)}; the classifier "
            f"reads {pct(code['recognised'])} of its reconstructions as the right digit "
            f"(stacked AE {pct(st['recognised'])}, real digits {100 * acc:.0f}%): some come "
            f"back as another digit. Its 300-number codes: k-NN {show(knn['knn_accuracy'])}, "
            f"PCA-300 {show(knn['pca_knn_accuracy'])}.")


@says('Conv AE: "The clusters appear to be extremely clear"')
def conv_clusters(g):
    cv, st = need(g, "03_conv", "codes", "conv"), need(g, "01_stacked", "codes", "stacked")
    deep = need(g, "12_deep_hinton", "codes", "deep_direct", "knn_accuracy")
    k, s = (verdict(cv[m], st[m]) for m in ("knn_accuracy", "silhouette"))
    v576 = word(verdict(cv["knn_accuracy"], cv["pca_knn_accuracy"]), "above", "a tie with",
                "below")
    v30 = word(verdict(cv["knn_accuracy"], cv["pca30_knn_accuracy"]), "above", "a tie with",
               "below")
    return ("03 vs 01",
            "codes of test digits: conv AE (576 numbers) vs stacked AE (30)",
            f"k-NN {show(cv['knn_accuracy'])} vs {show(st['knn_accuracy'])}; silhouette "
            f"{show(cv['silhouette'])} vs {show(st['silhouette'])}",
            noted(f"k-NN: {k}; silhouette: {s}", cv["knn_accuracy"], st["knn_accuracy"]),
            f"Code sizes differ. Conv's k-NN is {v576} PCA-576's "
            f"({show(cv['pca_knn_accuracy'])}) and {v30} PCA-30's "
            f"({show(cv['pca30_knn_accuracy'])}); 12's 30-number deep AE gets {show(deep)}.")


@says('Conv AE: "The 4s are fairly near to the 9s ... Similarly, 9 and 7 appear close"')
def confused_pairs(g):
    cv = need(g, "03_conv", "codes", "conv")
    tops = [{tuple(p[:2]) for p in pairs[:3]} for pairs in cv["confused_pairs"]]
    n = len(tops)
    a, b = sum((4, 9) in t for t in tops), sum((7, 9) in t for t in tops)
    first = ", ".join(f"{x}–{y}" for x, y, _ in cv["confused_pairs"][0][:3])
    v = (HOLDS if a == b == n else FAILS if a == b == 0
         else f"4–9 in {a} of {n} seeds, 7–9 in {b} of {n}")
    return ("03", "k-NN's three most confused digit pairs, on each seed",
            f"4–9 among them in {a} of {n} seeds, 7–9 in {b} of {n} (first seed: {first})", v,
            "Confusions of the codes' nearest neighbours, not distances on the t-SNE map "
            "(which t-SNE does not keep).")


def denoise_clusters(g, lesson, key):
    d, p = need(g, lesson, "codes", key), need(g, lesson, "codes", "plain_ae")
    k, s = (verdict(d[m], p[m]) for m in ("knn_accuracy", "silhouette"))
    return (lesson[:2], "codes of clean test digits: denoiser vs the same network "
            "trained on clean digits as long (10 epochs, SGD 1.0)",
            f"k-NN {show(d['knn_accuracy'])} vs {show(p['knn_accuracy'])}; silhouette "
            f"{show(d['silhouette'])} vs {show(p['silhouette'])}",
            noted(f"k-NN: {k}; silhouette: {s}", d["knn_accuracy"], p["knn_accuracy"]),
            "Lesson 01's model (20 epochs at 1.5) would not be a fair opponent; this one "
            f"starts from the same initial weights ({count_seeds(d['knn_accuracy'])}).")


@says('Gaussian noise: "Denoising enabled the neural network to correctly encode just '
      'the most critical aspects of the inputs"')
def gauss_clusters(g):
    return denoise_clusters(g, "06_denoise_gauss", "denoise_gauss")


@says('Dropout: "Denoising Autoencoders improved the differentiation between clusters"')
def dropout_clusters(g):
    return denoise_clusters(g, "07_denoise_dropout", "denoise_dropout")


@says('Denoising AEs "may also be used for data denoising"')
def gauss_cleaning(g):
    d = need(g, "06_denoise_gauss", "denoising")
    den, plain = d["se_per_image_from_noisy"]["denoise_gauss"], d["se_per_image_from_noisy"][
        "plain_ae"]
    noisy = d["se_per_image_of_noisy_input"]
    removed = 1 - spread(plain)[0] / noisy
    plain_too = (f"The plain AE, never trained on noise, removes {100 * removed:.0f}% of the "
                 "noisy input's error too: a 30-number code has no room for pixel noise."
                 if removed > 0 else "The plain AE's output is further from the clean digits "
                 "than the noisy input itself.")
    return ("06",
            "squared error to the clean digits, from x + N(0, 0.2²): denoiser vs the same "
            "network trained on clean digits as long",
            f"{show(den, 2)} vs {show(plain, 2)} (the noisy input itself: {noisy:.2f})",
            noted(verdict(den, plain, "lower"), den, plain), plain_too)


@says('Dropout: "the network will have learned how to rebuild the missing pixels"')
def dropout_rebuild(g):
    d = need(g, "07_denoise_dropout", "denoising")
    den, plain = d["se_per_image_from_missing"]["denoise_dropout"], d[
        "se_per_image_from_missing"]["plain_ae"]
    return ("07", "squared error to the whole digits, from half their pixels: denoiser vs "
            "the same network trained on clean digits as long",
            f"{show(den, 2)} vs {show(plain, 2)} (the damaged input itself: "
            f"{d['se_per_image_of_damaged_input']:.2f})", noted(verdict(den, plain, "lower"), den,
                                                                plain),
            "Each model is given the damaged digit in the form it trained on: the denoiser "
            "with the kept pixels doubled (as its dropout layer did), the plain AE in [0, 1].")


@says('A regular autoencoder "did not perform well as a generative model"')
def ae_generator(g):
    ae = need(g, "08_generator", "generated", "stacked_ae")
    fc = need(g, "08_generator", "generated", "stacked_ae_full_cov", "frechet")
    real = need(g, "08_generator", "scorer", "real_test_images", "mean_top_prob")
    v = verdict(ae["frechet"], ae["frechet_real_vs_real"])
    return ("08",
            "Fréchet distance to real test digits (classifier features): AE samples vs real "
            "digits", f"{show(ae['frechet'], 1)} vs {show(ae['frechet_real_vs_real'], 1)}",
            noted(word(v, "holds: far from real digits", "tie: as close as real digits",
                       "does not hold: closer than real digits"), ae["frechet"]),
            f"Top-class probability is lenient: {show(ae['mean_top_prob'])} for these "
            f"samples, {real:.3f} for real digits. Codes from a full-covariance Gaussian: "
            f"Fréchet {show(fc, 1)}.")


@says('"these images generated by the Variational Autoencoder look better than the '
      'ones generated through a regular autoencoder"')
def vae_generator(g):
    v, a = need(g, "09_vae", "generated", "vae"), need(g, "09_vae", "generated", "stacked_ae")
    fc = need(g, "08_generator", "generated", "stacked_ae_full_cov", "frechet")
    vs = word(verdict(fc, v["frechet"], "lower"), "closer than the VAE's", "a tie with the "
              "VAE's", "farther than the VAE's")
    return ("09",
            "Fréchet distance to real test digits: VAE samples vs the stacked AE's (08's "
            "recipe)", f"{show(v['frechet'], 1)} vs {show(a['frechet'], 1)} (real digits "
            f"{show(v['frechet_real_vs_real'], 1)})",
            noted(verdict(v["frechet"], a["frechet"], "lower"), v["frechet"], a["frechet"]),
            "Two generators as the tutorial builds them, not like-sized models (a 10-number "
            "VAE trained 25 epochs with RMSprop; a 30-number AE, 20 epochs of SGD). Drawn "
            f"from a full-covariance Gaussian instead, the AE's codes give Fréchet "
            f"{show(fc, 1)}, {vs} (08). Top-class probability, lenient, says "
            f"{show(v['mean_top_prob'])} vs {show(a['mean_top_prob'])}.")


@says('Autoencoders are "neural network equivalents" of PCA')
def pca_equivalent(g):
    r = need(g, "10_linear_pca", "linear_vs_pca")
    lin = need(g, "10_linear_pca", "models", "linear", "test_se_per_image")
    st = r["stacked_se_per_image"]
    vs = word(verdict(st, r["pca_se_per_image"], "lower"), "below", "a tie with", "above")
    return ("10",
            "linear AE 784-30-784 (MSE) vs PCA-30: test squared error per image, and the "
            "angles between their 30-d subspaces",
            f"{show(lin, 3)} vs {r['pca_se_per_image']:.3f} (gap {pct(r['relative_gap'], 2)}); "
            f"principal angles: median {show(r['median_angle_deg'], 1)}°, largest "
            f"{show(r['max_angle_deg'], 1)}°",
            noted(word(verdict(r["relative_gap"], 0.01, "lower"), "holds: within 1%",
                       "tie with the 1% bar", "does not hold: over 1%"), r["relative_gap"]),
            f"True of a *linear* AE. With SELUs and the same 30-number code (01's model) the "
            f"error is {show(st, 2)}, {vs} PCA's.")


@says('"Regular Autoencoders are good for performing Anomaly detection"')
def anomaly(g):
    a = need(g, "11_anomaly", "anomaly")
    d, auc = a["holdout"], a["roc_auc"]
    ae, pca = auc[f"stacked AE without {d}s"], auc[f"PCA-30 without {d}s"]
    saw = auc["stacked AE that saw every digit"]
    added = word(verdict(ae, saw), "a real gain", "no gain beyond the spread",
                 "a loss")
    return ("11",
            f"ROC AUC for unseen {d}s: AE trained without them vs PCA-30 fitted without them",
            f"{show(ae)} vs {pca:.3f}", noted(verdict(ae, pca), ae),
            f"Partly \"{d}s are hard\": an AE that saw {d}s in training still scores "
            f"{show(saw)}; holding them out is {added}.")


@says('"the development of quicker convergence algorithms has eliminated the necessity '
      'and value of pretraining"')
def pretraining(g):
    h = need(g, "12_deep_hinton", "models")
    direct = need(g, "12_deep_hinton", "models", "deep_direct", "test_se_per_image")
    pre = need(g, "12_deep_hinton", "models", "deep_pretrained", "test_se_per_image")
    epochs = h["deep_direct"].get("epochs_trained", "?")
    v = verdict(direct, pre, "lower")
    return ("12",
            f"test squared error per image after the same {epochs} epochs of Adam: random "
            "init vs greedy pretraining", f"{show(direct, 2)} vs {show(pre, 2)}",
            noted(word(v, "holds: random init did better", "holds: a tie, pretraining did not "
                       "help", "does not hold: pretraining helped"), direct, pre),
            "Pretraining here is shallow autoencoders, one epoch per level (Géron's way), not "
            "the paper's RBMs, and the units are SELUs, not logistic ones.")


@says("(past the tutorial) Hinton & Salakhutdinov's 784-1000-500-250-30 autoencoder: "
      '3.00 squared error per test image')
def hinton(g):
    direct = need(g, "12_deep_hinton", "models", "deep_direct", "test_se_per_image")
    h = need(g, "12_deep_hinton", "hinton")
    return ("12",
            "ours from random weights vs the paper's 3.00",
            f"{show(direct, 2)} (PCA-30: ours {h['pca30_se']:.2f}, the paper's "
            f"{h['paper_pca30_se']:.2f})",
            noted(word(verdict(direct, h["paper_autoencoder_se"], "lower"), "holds: below 3.00",
                       "holds: matches 3.00 within the spread", "does not hold: above 3.00"),
                  direct),
            "Not the paper's training: SELU units, Adam with a cosine-decayed rate for "
            f"{h['epochs']} epochs, no pretraining (the paper: logistic units, RBM "
            "pretraining, conjugate gradients). PCA-30 agreeing says the measure is the same.")


CLAIMS = (convolutions, sparse, conv_clusters, confused_pairs, gauss_clusters, gauss_cleaning,
          dropout_clusters, dropout_rebuild, ae_generator, vae_generator, pca_equivalent,
          anomaly, pretraining, hinton)


def rows(g: dict) -> list[tuple[str, ...]]:
    """One row per claim; "pending" where a lesson it needs has no full run yet."""
    out = []
    for claim in CLAIMS:
        try:
            out.append((claim.says, *claim(g)))
        except Pending as missing:
            out.append((claim.says, str(missing.args[0])[:2], "",
                        f"pending: {missing.args[0]} has not run yet", "pending", ""))
    return out
