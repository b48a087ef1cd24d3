"""11 anomaly detection by reconstruction error: train without one digit, then spot it.

Past the seed, which says "Regular Autoencoders are good for performing Anomaly detection". The
stacked AE is trained on every digit except one (--holdout, default 8). Digits it never saw
should reconstruct worse, so the squared error per image is an anomaly score; the ROC AUC
(scikit-learn) says how well it ranks the held-out digit above the others (1.0 perfect, 0.5
chance). PCA with the same 30 components, fitted on the same data, is the baseline; the
stacked AE of tutorial 01, which saw every digit in training, shows how much of the effect
comes from holding the digit out.

Open next: scratch_ae/train.py (evaluate and predict) and `squared_error_per_image` in
scratch_ae/metrics.py.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/11_anomaly.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

from scratch_ae import metrics, viz  # noqa: E402
from tutorials import common  # noqa: E402


def errors(x, x_hat):
    """Squared error of each image, (N,)."""
    return ((np.asarray(x) - np.asarray(x_hat)) ** 2).reshape(len(x), -1).sum(axis=1)


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--holdout", type=int, default=8, choices=range(10),
                   help="the digit left out of training (default 8)")
    run = common.start("11_anomaly", __doc__, argv, p)
    ds = run.data(flat=True)
    d = run.args.holdout
    keep_tr, keep_va = ds.y_train != d, ds.y_valid != d
    t = run.trained("stacked", x_train=ds.x_train[keep_tr], x_valid=ds.x_valid[keep_va],
                    tag=f"no{d}")
    is_new = (ds.y_test == d).astype(int)
    pca, pca_codes, _ = metrics.pca_baseline(ds.x_train[keep_tr], ds.x_test, 30,
                                             seed=run.args.seed)
    scores = {
        f"stacked AE without {d}s": errors(ds.x_test, t.model.reconstruct(ds.x_test)),
        f"PCA-30 without {d}s": errors(ds.x_test, pca.inverse_transform(pca_codes)),
        "stacked AE with every digit (01)": errors(
            ds.x_test, run.trained("stacked").model.reconstruct(ds.x_test)),
    }
    result, curves = {"holdout": d, "n_holdout_test": int(is_new.sum())}, {}
    for label, err in scores.items():
        auc = float(roc_auc_score(is_new, err))
        fpr, tpr, _ = roc_curve(is_new, err)
        curves[f"{label} (AUC {auc:.3f})"] = (fpr, tpr)
        result[label] = {"roc_auc": auc, "mean_se_normal": float(err[is_new == 0].mean()),
                         "mean_se_holdout": float(err[is_new == 1].mean())}
        run.say(f"  {label}: ROC AUC {auc:.3f}; mean squared error {err[is_new == 0].mean():.2f}"
                f" on the other digits, {err[is_new == 1].mean():.2f} on the {d}s")
    run.metrics["anomaly"] = result
    err = scores[f"stacked AE without {d}s"]
    run.figure(viz.plot_histograms(
        {f"other digits ({(is_new == 0).sum()})": err[is_new == 0],
         f"held-out {d}s ({is_new.sum()})": err[is_new == 1]},
        run.out / "errors.png", xlabel="squared error per image",
        title=f"stacked AE trained without {d}s: reconstruction errors on test digits"))
    run.figure(viz.plot_lines(curves, run.out / "roc.png", xlabel="false positive rate",
                              ylabel="true positive rate", diagonal=True,
                              title=f"spotting the unseen digit {d} by reconstruction error"))
    x = ds.x_test[is_new == 1][:10]
    run.figure(viz.plot_reconstructions(
        x, t.model.reconstruct(x), run.out / "holdout_reconstructions.png",
        title=f"held-out {d}s and their reconstructions by an AE that never saw one"))
    return run.finish()


if __name__ == "__main__":
    main()
