# %% [markdown]
# # 07 A denoising autoencoder: dropout on the input
#
# Another kind of damage: switch off half the input pixels at random and ask for the whole
# digit back. The autoencoders tutorial: "We expect that at the conclusion of this process,
# the network will have learned how to rebuild the missing pixels", and then "Denoising
# Autoencoders improved the differentiation between clusters".
#
# As in lesson 06, the fair opponent is the same network trained on clean digits for as long
# (10 epochs, SGD at 1.0), from the same initial weights: lesson 06 trained it already, and
# its weights are reused here.

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
    Dropout,
    Sequential,
    Sigmoid,
    metrics,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("07_denoise_dropout", "a denoising autoencoder: half the input pixels "
                   "dropped in training, against the same model trained on clean digits")
ds = run.data(flat=True)

# %% [markdown]
# ## The models
#
# Géron's dropout denoiser is lesson 01's encoder with `Dropout(0.5)` after the `Flatten`.
# Dropout is *inverted*: in training each pixel is zeroed with probability 0.5 and the kept
# ones are doubled, so the input's expected value is unchanged; at test time it passes x
# through. Its backward multiplies by the same mask.

# %%
def stacked_autoencoder(corruption=None):
    encoder = [Dense(784, 100), SELU(), Dense(100, 30), SELU()]
    if corruption is not None:
        encoder.insert(0, corruption)  # Keras: Dropout(0.5) right after Flatten
    decoder = Sequential([Dense(30, 100), SELU(), Dense(100, 784), Sigmoid()])
    return Autoencoder(Sequential(encoder), decoder, loss="bce")


def train(name, corruption, seed):
    model = run.cached(name, lambda: stacked_autoencoder(corruption), seed)
    model.fit(ds.x_train, epochs=run.epochs(10), batch_size=32, optimizer=SGD(lr=1.0),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    return model


denoiser = {seed: train("denoise_dropout", Dropout(0.5), seed) for seed in run.seeds}
plain = {seed: train("plain_ae", None, seed) for seed in run.seeds}  # lesson 06's

# %% [markdown]
# ## Rebuilding missing pixels
#
# The same half of the pixels is removed from each test digit for both models, and each is
# given the digit in the form it was trained on: the denoiser with the kept pixels doubled,
# as its dropout layer did in training; the plain model as they are, in [0, 1] (it never saw
# a pixel above 1). Both outputs are compared with the whole digit.

# %%
kept = np.random.default_rng(run.seed).random(ds.x_test.shape) >= 0.5
missing = ds.x_test * kept  # half the pixels gone, the others unchanged
as_in_training = missing * 2  # what Dropout(0.5) fed the denoiser
run.describe_model("denoise_dropout", denoiser, ds, shown=as_in_training, noisy=missing,
                   ylabel="BCE per pixel",
                   title="dropout denoiser: test digits, half the pixels, reconstruction")
repaired = {
    "denoise_dropout": [metrics.squared_error_per_image(ds.x_test, m.reconstruct(
        as_in_training)) for m in denoiser.values()],
    "plain_ae": [metrics.squared_error_per_image(ds.x_test, m.reconstruct(missing))
                 for m in plain.values()],
}
run.metrics["denoising"] = {"input": "half the pixels zeroed (denoiser: kept ones doubled)",
                            "se_per_image_from_missing": repaired,
                            "se_per_image_of_damaged_input": metrics.squared_error_per_image(
                                ds.x_test, missing)}
run.verdict("the denoiser rebuilds missing pixels better (squared error)",
            repaired["denoise_dropout"], repaired["plain_ae"], better="lower",
            names=("denoiser", "plain AE"), digits=2)

# %% [markdown]
# ## Better separated clusters?
#
# The codes of the clean test digits, for both models, seed by seed.

# %%
for name, models, picture in (("denoise_dropout", denoiser, True), ("plain_ae", plain, False)):
    run.code_map(name, {s: m.encode(ds.x_test) for s, m in models.items()}, ds.y_test,
                 picture=picture, title=f"{name}: t-SNE of the 30-number codes of clean "
                 "test digits")
codes = run.metrics["codes"]
for what in ("knn_accuracy", "silhouette"):
    run.verdict(f"the denoiser's clusters are clearer ({what})", codes["denoise_dropout"][what],
                codes["plain_ae"][what], names=("denoiser", "plain AE"))

# %%
results = run.finish()
