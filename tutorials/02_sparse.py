# %% [markdown]
# # 02 Sparse autoencoders: an L1 penalty, and a KL one
#
# Lesson 01 forced a compact code by making it narrow (30 numbers). A sparse autoencoder
# does the opposite: a *wide* code of 300 units, and a penalty that keeps most of them near
# zero for any one digit, so that each digit is described by the few units that matter. The
# autoencoders tutorial: "a lot of the activations of the middle layer will be zero".

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

from scratch_ae import (  # noqa: E402
    SELU,
    SGD,
    ActivityL1,
    Autoencoder,
    Dense,
    KLSparsity,
    Sequential,
    Sigmoid,
    metrics,
    viz,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("02_sparse", "sparse autoencoders: a 300-unit code kept sparse by an L1 "
                   "or a KL penalty")
ds = run.data(flat=True)

# %% [markdown]
# ## The model: a wide sigmoid code with a penalty on it
#
# Géron's `sparse_l1_ae`: `Dense(100, selu)`, `Dense(300, sigmoid)`, then
# `ActivityRegularization(l1=1e-3)`, and the decoder of lesson 01. The penalty is a layer
# that passes its input through unchanged and adds a term to the loss:
#
# * **L1**, `ActivityL1(1e-3)`: 1e-3 times the sum of |h| over the code, averaged over the
#   batch. Its gradient is the same small push towards 0 for every active unit, whatever its
#   size, so units that are not needed end up at (nearly, for a sigmoid) exactly 0.
# * **KL**, `KLSparsity(0.05, target=0.1)` (Géron's `KLDivergenceRegularizer`): for each unit,
#   the KL divergence between "on 10% of the time" and the unit's mean activation over the
#   batch. It asks each unit to be *rarely* active, not every activation to be small.

# %%
def sparse_autoencoder(penalty):
    encoder = Sequential([
        Dense(784, 100), SELU(),     # Dense(100, activation="selu")
        Dense(100, 300), Sigmoid(),  # Dense(300, activation="sigmoid"): the wide code
        penalty,                     # ActivityRegularization(l1=1e-3), or the KL regularizer
    ])
    decoder = Sequential([Dense(300, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")  # BCE per pixel, plus the penalty


# %% [markdown]
# ## Training
#
# Géron: SGD with a learning rate of 1.0, 10 epochs, batches of 32, for both. The L1 model is
# the one the claim is about, so it trains on every seed; the KL model once.

# %%
def train(name, penalty, seed):
    model = run.cached(name, lambda: sparse_autoencoder(penalty), seed)
    model.fit(ds.x_train, epochs=run.epochs(10), batch_size=32, optimizer=SGD(lr=1.0),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    return model


sparse_l1 = {seed: train("sparse_l1", ActivityL1(1e-3), seed) for seed in run.seeds}
sparse_kl = {run.seed: train("sparse_kl", KLSparsity(0.05, target=0.1), run.seed)}

# %% [markdown]
# ## How sparse, and at what cost
#
# The validation loss is split into its reconstruction part (BCE) and the penalty. Look at
# the reconstructions too: the penalty costs detail, and some digits come back as another
# digit; the digit classifier (a small MLP trained on real digits) counts how many it still
# reads as the right one.

# %%
for name, models, what in (("sparse_l1", sparse_l1, "L1 penalty 1e-3"),
                           ("sparse_kl", sparse_kl, "KL penalty, target 0.1")):
    run.describe_model(name, models, ds, ylabel="BCE per pixel, penalty",
                       title=f"{name} ({what}): test digits and reconstructions")

codes = {name: {s: m.encode(ds.x_test) for s, m in models.items()}
         for name, models in (("sparse_l1", sparse_l1), ("sparse_kl", sparse_kl))}
for name, by_seed in codes.items():
    sparsity = [metrics.code_sparsity(c) for c in by_seed.values()]
    run.metrics["models"][name]["code"] = {
        key: [s[key] for s in sparsity] for key in ("mean_activation", "fraction_near_zero")}
    run.metrics["models"][name]["code"]["threshold"] = sparsity[0]["threshold"]
near_zero = run.metrics["models"]["sparse_l1"]["code"]["fraction_near_zero"]
run.verdict("most L1 code activations are (near) zero: share below 0.05", near_zero, 0.5,
            names=("share", "half"))

# %% [markdown]
# The histogram shows the difference between the two penalties: L1 piles the activations up
# next to 0 and leaves a few large ones; KL spreads them, with each unit's *mean* near 0.1.

# %%
run.figure(viz.plot_histograms(
    {"L1 penalty 1e-3": codes["sparse_l1"][run.seed],
     "KL penalty, target 0.1": codes["sparse_kl"][run.seed]},
    run.out / "code_activations.png", xlabel="code activation (sigmoid unit)", logy=True,
    title="sparse codes: activations of the 300 code units on test digits"))

# %% [markdown]
# ## Do the sparse codes still separate the digits?
#
# The k-NN accuracy of the 300-number codes, beside PCA's with 300 components. A sparse code
# is not a better *map* of the digits: its purpose is that each unit means something.

# %%
for name, by_seed in codes.items():
    run.code_map(name, by_seed, ds.y_test, silhouettes="first",
                 title=f"{name}: t-SNE of the 300-number sparse codes of test digits")

# %%
results = run.finish()
