# %% [markdown]
# # 11 Anomaly detection by reconstruction error
#
# The autoencoders tutorial: "Regular Autoencoders are good for performing Anomaly
# detection". The idea: an autoencoder rebuilds well only what resembles its training data,
# so its reconstruction error is an anomaly score. To test it, lesson 01's stacked autoencoder
# is trained on every digit *except one* (`--holdout`, 8 by default) and must spot that digit
# among the test digits. The ROC AUC (1.0: every held-out digit scores above every other
# digit; 0.5: chance) says how well it ranks them.
#
# Two baselines keep the number honest: PCA with 30 components fitted on the same data, and
# lesson 01's autoencoder, which *saw* the digit in training: what it scores is how unusual
# the digit is anyway ("8s are hard to draw"), not what holding it out added.

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

from scratch_ae import SELU, SGD, Autoencoder, Dense, Sequential, Sigmoid, viz  # noqa: E402
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)
from tutorials.verdicts import show  # noqa: E402  (mean ± sd over seeds)

p = common.parser("anomaly detection by reconstruction error: train without one digit, "
                  "then spot it")
p.add_argument("--holdout", type=int, default=8, choices=range(10),
               help="the digit left out of training (default 8)")
run = common.start("11_anomaly", p.description, p=p)
ds = run.data(flat=True)
digit = run.args.holdout

# %% [markdown]
# ## Lesson 01's model, trained with and without the held-out digit

# %%
def stacked_autoencoder():
    encoder = Sequential([Dense(784, 100), SELU(), Dense(100, 30), SELU()])
    decoder = Sequential([Dense(30, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


def train(name, x_train, x_valid, seed):
    model = run.cached(name, stacked_autoencoder, seed)
    model.fit(x_train, epochs=run.epochs(20), batch_size=32, optimizer=SGD(lr=1.5),
              validation_data=x_valid, seed=seed, max_steps=run.max_steps)
    return model


others_train, others_valid = ds.y_train != digit, ds.y_valid != digit
without = {s: train(f"stacked_no{digit}", ds.x_train[others_train], ds.x_valid[others_valid],
                    s) for s in run.seeds}
with_all = {s: train("stacked", ds.x_train, ds.x_valid, s) for s in run.seeds}  # lesson 01's
pca = run.pca(30, x_train=ds.x_train[others_train])  # PCA, also without the digit

# %% [markdown]
# ## The score: squared error per image

# %%
def errors(x, x_hat):
    """Squared error of each image, (N,)."""
    return ((np.asarray(x) - np.asarray(x_hat)) ** 2).reshape(len(x), -1).sum(axis=1)


is_new = (ds.y_test == digit).astype(int)
without_label, saw_label = f"stacked AE without {digit}s", "stacked AE that saw every digit"
scores = {  # per seed; PCA draws no random weights, so it has one
    without_label: {s: errors(ds.x_test, m.reconstruct(ds.x_test)) for s, m in without.items()},
    saw_label: {s: errors(ds.x_test, m.reconstruct(ds.x_test)) for s, m in with_all.items()},
}
pca_label = f"PCA-30 without {digit}s"
pca_scores = errors(ds.x_test, pca["pca"].inverse_transform(pca["codes"]))
auc = {label: [float(roc_auc_score(is_new, e)) for e in by_seed.values()]
       for label, by_seed in scores.items()}
auc[pca_label] = float(roc_auc_score(is_new, pca_scores))
run.metrics["anomaly"] = {"holdout": digit, "n_holdout_test": int(is_new.sum()),
                          "roc_auc": auc}
for label, values in auc.items():
    run.say(f"  {label}: ROC AUC {show(values)}")
run.verdict(f"the AE trained without {digit}s spots them better than PCA-30 (AUC)",
            auc[without_label], auc[pca_label], names=("AE", "PCA-30"))
run.verdict(f"holding the {digit}s out is what makes them stand out (AUC)",
            auc[without_label], auc[saw_label], names=("without", "saw them"))

# %%
first = run.seed
err = scores[without_label][first]
run.figure(viz.plot_histograms(
    {f"other digits ({(is_new == 0).sum()})": err[is_new == 0],
     f"held-out {digit}s ({is_new.sum()})": err[is_new == 1]},
    run.out / "errors.png", xlabel="squared error per image",
    title=f"stacked AE trained without {digit}s: reconstruction errors (seed {first})"))
curves = {}
for label, e in ((without_label, scores[without_label][first]), (pca_label, pca_scores),
                 (saw_label, scores[saw_label][first])):
    fpr, tpr, _ = roc_curve(is_new, e)
    curves[f"{label} (AUC {roc_auc_score(is_new, e):.3f})"] = (fpr, tpr)
run.figure(viz.plot_lines(curves, run.out / "roc.png", xlabel="false positive rate",
                          ylabel="true positive rate", diagonal=True,
                          title=f"spotting the unseen digit {digit} by reconstruction error "
                                f"(seed {first})"))
x = ds.x_test[is_new == 1][:10]
run.figure(viz.plot_reconstructions(
    x, without[first].reconstruct(x), run.out / "holdout_reconstructions.png",
    title=f"held-out {digit}s and their reconstructions by an AE that never saw one"))

# %%
results = run.finish()
