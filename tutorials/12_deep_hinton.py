# %% [markdown]
# # 12 Hinton & Salakhutdinov's deep autoencoder, with and without pretraining
#
# In 2006 Hinton and Salakhutdinov (Science 313, "Reducing the dimensionality of data with
# neural networks") trained a 784-1000-500-250-30 autoencoder on MNIST and reported a test
# squared error per image of **3.00**, against 13.87 for PCA with 30 components. Deep networks
# of logistic units trained badly from random weights then, so they *pretrained* it one layer
# at a time (with restricted Boltzmann machines) before fine-tuning it whole. The
# autoencoders tutorial says that is history: "the development of quicker convergence
# algorithms has eliminated the necessity and value of pretraining".
#
# This lesson trains the same shape twice on each seed, with the same optimizer and budget:
# from random weights, and after greedy layer-wise pretraining. Where ours differs from the
# paper: SELU units instead of logistic ones, Adam with a cosine-decayed rate for 40 epochs
# instead of conjugate gradients, and shallow *autoencoders* instead of RBMs for pretraining
# (Géron's chapter 17 way) -- so "pretraining" here is a stand-in for theirs, not a replica.

# %%
import sys
from functools import partial
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

import numpy as np  # noqa: E402

from scratch_ae import (  # noqa: E402
    SELU,
    SGD,
    Adam,
    Autoencoder,
    Dense,
    Sequential,
    Sigmoid,
    metrics,
    viz,
)
from scratch_ae.optim import cosine_schedule  # noqa: E402
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

PAPER = {"autoencoder": 3.00, "pca30": 13.87}  # test squared error per image
SIZES = (1000, 500, 250, 30)

run = common.start("12_deep_hinton", "Hinton & Salakhutdinov's deep autoencoder "
                   "784-1000-500-250-30, from random weights and after greedy pretraining")
ds = run.data(flat=True)

# %% [markdown]
# ## The model: 784-1000-500-250-30 and back
#
# SELU hidden layers, a *linear* 30-unit code as in the paper, a sigmoid output; 2.8 million
# weights.

# %%
def deep_autoencoder():
    encoder = Sequential([
        Dense(784, 1000), SELU(), Dense(1000, 500), SELU(), Dense(500, 250), SELU(),
        Dense(250, 30),  # the code: linear, as in the paper
    ])
    decoder = Sequential([
        Dense(30, 250), SELU(), Dense(250, 500), SELU(), Dense(500, 1000), SELU(),
        Dense(1000, 784), Sigmoid(),
    ])
    return Autoencoder(encoder, decoder, loss="bce")  # BCE per pixel


# %% [markdown]
# ## Greedy layer-wise pretraining, in three lines of idea
#
# 1. Train a shallow autoencoder 784-1000-784 on the digits.
# 2. Encode the digits with it; train a shallow 1000-500-1000 on those codes; and so on up to
#    250-30-250.
# 3. Copy each shallow model's encoder layer into the deep encoder and its decoder layer into
#    the mirror position of the deep decoder; then train the whole thing.
#
# Géron's recipe for each level: the first rebuilds pixels (BCE, SGD at 1.5, sigmoid output),
# the others rebuild the codes below them (MSE, SGD at 0.05, SELU output); one epoch each.

# %%
def shallow_autoencoder(n_in, n_out, first):
    return Autoencoder(Sequential([Dense(n_in, n_out), SELU()]),
                       Sequential([Dense(n_out, n_in), Sigmoid() if first else SELU()]),
                       loss="bce" if first else "mse")


def pretrained(seed):
    """A deep autoencoder whose weights come from greedy layer-wise pretraining."""
    x, x_valid, levels = ds.x_train, ds.x_valid, []
    for level, n_out in enumerate(SIZES, start=1):
        shallow = run.cached(f"pretrain_level{level}",
                             partial(shallow_autoencoder, x.shape[1], n_out, level == 1), seed)
        shallow.fit(x, epochs=1, batch_size=32, optimizer=SGD(lr=1.5 if level == 1 else 0.05),
                    validation_data=x_valid, seed=seed, max_steps=run.max_steps)
        levels.append((shallow.encoder.layers[0], shallow.decoder.layers[0]))
        x, x_valid = shallow.encode(x), shallow.encode(x_valid)
    model = run.cached("deep_pretrained", deep_autoencoder, seed)
    deep_encoder = [layer for layer in model.encoder.layers if isinstance(layer, Dense)]
    deep_decoder = [layer for layer in model.decoder.layers if isinstance(layer, Dense)]
    for (enc, dec), deep_enc, deep_dec in zip(levels, deep_encoder, reversed(deep_decoder),
                                              strict=True):
        for name in ("W", "b"):  # in place: the model keeps its own arrays
            deep_enc.params[name][...] = enc.params[name]
            deep_dec.params[name][...] = dec.params[name]
    return model  # the level-4 SELU on the code is left out: the deep code is linear


# %% [markdown]
# ## Training: the same for both
#
# Adam at 1e-3, batches of 128, 40 epochs, the rate decayed along a cosine from 1e-3 to
# nearly 0 by the last epoch: large steps early, small ones to settle at the end. The
# pretrained model starts from its copied weights, the other from random ones.

# %%
epochs = run.epochs(40)


def train(model, seed):
    model.fit(ds.x_train, epochs=epochs, batch_size=128, optimizer=Adam(lr=1e-3),
              lr_schedule=cosine_schedule(1e-3, epochs), validation_data=ds.x_valid,
              seed=seed, max_steps=run.max_steps)
    return model


direct = {s: train(run.cached("deep_direct", deep_autoencoder, s), s) for s in run.seeds}
before_finetuning = {s: pretrained(s) for s in run.seeds}
pretrained_only = [metrics.squared_error_per_image(ds.x_test, m.reconstruct(ds.x_test))
                   for m in before_finetuning.values()]  # pretraining alone, no fine-tuning
after = {s: train(m, s) for s, m in before_finetuning.items()}

# %% [markdown]
# ## Against the paper's 3.00, and against each other

# %%
for name, models in (("deep_direct", direct), ("deep_pretrained", after)):
    run.describe_model(name, models, ds, ylabel="BCE per pixel",
                       title=f"{name}: test digits and reconstructions")
    run.code_map(name, {s: m.encode(ds.x_test) for s, m in models.items()}, ds.y_test,
                 silhouettes="none", title=name)
pca = run.pca(30)
se = {name: run.metrics["models"][name]["test_se_per_image"]
      for name in ("deep_direct", "deep_pretrained")}
run.metrics["hinton"] = {"paper_autoencoder_se": PAPER["autoencoder"],
                         "paper_pca30_se": PAPER["pca30"], "pca30_se": pca["se_per_image"],
                         "pretrained_only_se": pretrained_only, "epochs": epochs}
run.say(f"  PCA-30: ours {pca['se_per_image']:.2f}, the paper's {PAPER['pca30']} (the same "
        "measure, so the two setups agree)")
run.verdict("from random weights, reaches the paper's 3.00 (squared error)", se["deep_direct"],
            PAPER["autoencoder"], better="lower", names=("ours", "paper"), digits=2)
run.verdict("pretraining no longer helps: random init does as well (squared error)",
            se["deep_direct"], se["deep_pretrained"], better="lower",
            names=("random init", "pretrained"), digits=2)

# %% [markdown]
# Read the second verdict the other way round too: "tie" means pretraining neither helped nor
# hurt at this budget, which is what the claim says; "does not hold" would mean it helped.

# %%
x, first = ds.x_test[:8], run.seed
run.figure(viz.plot_sample_grids(
    {"test digits": x,
     # PCA's reconstructions leave [0, 1]: clipped for the picture only (SE is unclipped).
     f"PCA-30\nSE {pca['se_per_image']:.2f}": np.clip(pca["pca"].inverse_transform(
         pca["codes"][:8]), 0, 1),
     f"random init\nSE {se['deep_direct'][0]:.2f}": direct[first].reconstruct(x),
     f"pretrained\nSE {se['deep_pretrained'][0]:.2f}": after[first].reconstruct(x)},
    run.out / "deep_vs_pca.png", ncols=2,
    title=f"reconstructions from 30 numbers (SE per image; paper 3.00; seed {first})"))
curves = {f"{label} {part}": run.fits[name][first].history[part]
          for label, name in (("random init", "deep_direct"), ("pretrained", "deep_pretrained"))
          for part in ("loss", "val_loss")}
run.figure(viz.plot_lines(
    curves, run.out / "deep_training.png", xlabel="epoch", ylabel="BCE per pixel",
    title=f"784-1000-500-250-30: random weights vs pretrained (seed {first})"))

# %%
results = run.finish()
