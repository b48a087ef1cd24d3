# %% [markdown]
# # 06 A denoising autoencoder: Gaussian noise on the input
#
# Train the stacked autoencoder of lesson 01 on noisy digits, x + N(0, 0.2²) pixel by pixel,
# and ask it to give back the *clean* digit. It can no longer copy pixels through: it has to
# learn what digits look like, to tell stroke from noise. The autoencoders tutorial claims
# two things for it: that "Denoising enabled the neural network to correctly encode just the
# most critical aspects of the inputs" (better clusters), and that such models "may also be
# used for data denoising".
#
# Both claims need a fair opponent: the same network trained *without* noise, for exactly
# as long and at the same rate (Géron's denoiser trains 10 epochs at 1.0; lesson 01's model
# 20 at 1.5). So this lesson trains both, on each of the seeds.

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

import numpy as np  # noqa: E402

from scratch_ae import (  # noqa: E402
    SELU,
    SGD,
    Autoencoder,
    Dense,
    GaussianNoise,
    Sequential,
    Sigmoid,
    metrics,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("06_denoise_gauss", "a denoising autoencoder: lesson 01's model fed "
                   "x + N(0, 0.2^2) in training, against the same model trained on clean x")
ds = run.data(flat=True)

# %% [markdown]
# ## The models
#
# Géron's denoiser is lesson 01's encoder with `GaussianNoise(0.2)` after the `Flatten`.
# `GaussianNoise` adds fresh noise in training only; at test time it passes x through, and
# its backward is the identity (the noise does not depend on x).

# %%
def stacked_autoencoder(corruption=None):
    encoder = [Dense(784, 100), SELU(), Dense(100, 30), SELU()]
    if corruption is not None:
        encoder.insert(0, corruption)  # Keras: GaussianNoise(0.2) right after Flatten
    decoder = Sequential([Dense(30, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(Sequential(encoder), decoder, loss="bce")


# %% [markdown]
# ## Training both the same way: SGD at 1.0, 10 epochs, batches of 32

# %%
def train(name, corruption, seed):
    model = run.cached(name, lambda: stacked_autoencoder(corruption), seed)
    model.fit(ds.x_train, epochs=run.epochs(10), batch_size=32, optimizer=SGD(lr=1.0),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    return model


denoiser = {seed: train("denoise_gauss", GaussianNoise(0.2), seed) for seed in run.seeds}
plain = {seed: train("plain_ae", None, seed) for seed in run.seeds}

# %% [markdown]
# ## Cleaning noisy digits
#
# Noisy test digits, drawn here with NumPy so that everyone gets the same ones; both models
# are given them, and their outputs are compared with the clean digits (squared error per
# image, lower is better).

# %%
noisy = ds.x_test + np.random.default_rng(run.seed).normal(0, 0.2, ds.x_test.shape).astype(
    ds.x_test.dtype)
run.describe_model("denoise_gauss", denoiser, ds, shown=noisy, noisy=noisy,
                   ylabel="BCE per pixel",
                   title="Gaussian denoiser: test digits, noisy input, reconstruction")
run.describe_model("plain_ae", plain, ds, shown=noisy, noisy=noisy, ylabel="BCE per pixel",
                   title="plain AE (trained on clean digits) given the same noisy input")
cleaned = {name: [metrics.squared_error_per_image(ds.x_test, m.reconstruct(noisy))
                  for m in models.values()]
           for name, models in (("denoise_gauss", denoiser), ("plain_ae", plain))}
run.metrics["denoising"] = {"input": "x + N(0, 0.2^2)", "se_per_image_from_noisy": cleaned,
                            "se_per_image_of_noisy_input": metrics.squared_error_per_image(
                                ds.x_test, noisy)}
run.verdict("the denoiser cleans noisy digits better (squared error)",
            cleaned["denoise_gauss"], cleaned["plain_ae"], better="lower",
            names=("denoiser", "plain AE"), digits=2)

# %% [markdown]
# ## Clearer clusters?
#
# The codes of the *clean* test digits, for both models: k-NN accuracy and the silhouette of
# the t-SNE map (lesson 01 explains both), seed by seed.

# %%
for name, models, picture in (("denoise_gauss", denoiser, True), ("plain_ae", plain, False)):
    run.code_map(name, {s: m.encode(ds.x_test) for s, m in models.items()}, ds.y_test,
                 picture=picture, title=f"{name}: t-SNE of the 30-number codes of clean "
                 "test digits")
codes = run.metrics["codes"]
for what in ("knn_accuracy", "silhouette"):
    run.verdict(f"the denoiser's clusters are clearer ({what})", codes["denoise_gauss"][what],
                codes["plain_ae"][what], names=("denoiser", "plain AE"))

# %% [markdown]
# Where a verdict above is a tie, one reason: a 30-number bottleneck already forces the
# plain model to keep only what matters in a digit -- pixel noise does not fit through it
# either -- so training on noise adds little pressure. The gallery's README collects the
# verdicts of every lesson.

# %%
results = run.finish()
