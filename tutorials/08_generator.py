# %% [markdown]
# # 08 A regular autoencoder as a generator
#
# Can lesson 01's autoencoder make *new* digits? The autoencoders tutorial's recipe: "store
# the statistical properties of the latent space" -- the mean and standard deviation of each
# code unit over the training digits -- draw new codes from a normal distribution with those
# statistics, and decode them. Its verdict: "the autoencoder did not perform well as a
# generative model, as the false images produced do not appear natural. However, we can see
# that it captured the broad strokes."
#
# To put a number on "natural", a small classifier trained on real digits rates the samples
# two ways: its mean top-class probability (lenient: it is often sure of a scribble), and the
# Fréchet distance between the samples and real test digits in its hidden-layer features
# (FID's recipe, with a digit classifier in place of Inception), read against the distance a
# set of *real* digits of the same size gets.

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

import numpy as np  # noqa: E402

from scratch_ae import SELU, SGD, Autoencoder, Dense, Sequential, Sigmoid, viz  # noqa: E402
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("08_generator", "a regular autoencoder as a generator: decode codes drawn "
                   "like the training codes")
ds = run.data(flat=True)

# %% [markdown]
# ## Lesson 01's model, trained as there (its weights are reused when lesson 01 ran)

# %%
def stacked_autoencoder():
    encoder = Sequential([Dense(784, 100), SELU(), Dense(100, 30), SELU()])
    decoder = Sequential([Dense(30, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(encoder, decoder, loss="bce")


stacked = {}
for seed in run.seeds:
    model = run.cached("stacked", stacked_autoencoder, seed)
    model.fit(ds.x_train, epochs=run.epochs(20), batch_size=32, optimizer=SGD(lr=1.5),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    stacked[seed] = model

# %% [markdown]
# ## Sampling codes like the training codes
#
# Each of the 30 code units gets its own normal distribution (the tutorial's recipe). A
# second version draws from one 30-dimensional normal with the full covariance, which keeps
# the correlations between units. Neither can know where, inside that cloud, the decoder has
# actually seen codes: a plain autoencoder was never asked to fill it.

# %%
def sample_codes(model, n, seed, full_covariance=False):
    codes = model.encode(ds.x_train)
    rng = np.random.default_rng(seed)
    if full_covariance:
        z = rng.multivariate_normal(codes.mean(axis=0), np.cov(codes, rowvar=False), size=n)
    else:
        z = rng.normal(codes.mean(axis=0), codes.std(axis=0), size=(n, codes.shape[1]))
    return z.astype(codes.dtype)


n = run.n_samples
per_unit = {s: m.decode(sample_codes(m, n, s)) for s, m in stacked.items()}
full_cov = {s: m.decode(sample_codes(m, n, s, full_covariance=True)) for s, m in stacked.items()}

# %% [markdown]
# ## How digit-like are they?

# %%
run.digit_scorer()
ae = run.generated("stacked_ae", per_unit)
run.generated("stacked_ae_full_cov", full_cov)
run.verdict("AE samples lie farther from real digits than real ones do (Fréchet)",
            ae["frechet"], ae["frechet_real_vs_real"], names=("AE samples", "real digits"),
            digits=1)
run.verdict("AE samples look as sure a digit as real ones (top-class probability)",
            ae["mean_top_prob"], run.metrics["scorer"]["real_test_images"]["mean_top_prob"],
            names=("AE samples", "real digits"))

# %%
first = run.seed
run.figure(viz.plot_sample_grids(
    {"real test digits": ds.x_test[:40],
     f"codes ~ N(mean, std²) per unit\nFréchet {ae['frechet'][0]:.0f}": per_unit[first][:40],
     "codes ~ N(mean, Cov)\nFréchet "
     f"{run.metrics['generated']['stacked_ae_full_cov']['frechet'][0]:.0f}":
         full_cov[first][:40]},
    run.out / "generated.png", ncols=8,
    title=f"stacked AE as a generator: decoded random codes (seed {first}; as many real "
          f"digits get Fréchet {ae['frechet_real_vs_real'][0]:.0f})"))

# %% [markdown]
# Lesson 09 trains a model whose codes *are* asked to fill a known distribution.

# %%
results = run.finish()
