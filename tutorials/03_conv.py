# %% [markdown]
# # 03 A convolutional autoencoder
#
# Dense layers treat the 784 pixels as an unordered list; convolutions slide small filters
# over the image, so a stroke is recognised wherever it is, with far fewer weights. Géron's
# convolutional autoencoder halves the image three times (28 → 14 → 7 → 3) while going from 1
# to 64 channels, then transposed convolutions undo it.
#
# The autoencoders tutorial says of its t-SNE map: "The clusters appear to be extremely clear.
# The 4s are fairly near to the 9s ... Similarly, 9 and 7 appear close." Here that becomes
# numbers, on several seeds. One caveat before any comparison: this code is a (64, 3, 3)
# block, **576 numbers** per digit, against the 30 of lesson 01's stacked autoencoder.

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

from scratch_ae import (  # noqa: E402
    SELU,
    SGD,
    Autoencoder,
    Conv2D,
    Conv2DTranspose,
    MaxPool2D,
    Sequential,
    Sigmoid,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("03_conv", "a convolutional autoencoder: Conv 16/32/64 + max-pooling down "
                   "to a (64, 3, 3) code, and back")
ds = run.data(flat=False)  # images (N, 1, 28, 28): channels first (Keras puts them last)

# %% [markdown]
# ## The model, layer for layer
#
# Keras: `Conv2D(16, kernel_size=3, padding="SAME", activation="selu")`, `MaxPool2D(2)`, and
# the same with 32 and 64 filters; the decoder `Conv2DTranspose(32, 3, strides=2,
# padding="VALID")` (3 → 7), then 16 (7 → 14) and 1 (14 → 28) with "SAME" padding. Our
# `Conv2D(in_channels, out_channels, kernel)` names the input channels that Keras infers.

# %%
def conv_autoencoder():
    encoder = Sequential([
        # Keras' Reshape([28, 28, 1]): our images come as (1, 28, 28) already.
        Conv2D(1, 16, 3, padding="same"), SELU(), MaxPool2D(2),   # 28x28 -> 14x14
        Conv2D(16, 32, 3, padding="same"), SELU(), MaxPool2D(2),  # 14x14 -> 7x7
        Conv2D(32, 64, 3, padding="same"), SELU(), MaxPool2D(2),  # 7x7 -> 3x3: the code
    ])
    decoder = Sequential([
        Conv2DTranspose(64, 32, 3, stride=2, padding="valid"), SELU(),  # 3x3 -> 7x7
        Conv2DTranspose(32, 16, 3, stride=2, padding="same"), SELU(),   # 7x7 -> 14x14
        Conv2DTranspose(16, 1, 3, stride=2, padding="same"), Sigmoid(),  # -> 28x28 pixels
    ])
    return Autoencoder(encoder, decoder, loss="bce")  # BCE per pixel, as in lesson 01


# %% [markdown]
# ## Training
#
# Géron: SGD with a learning rate of 1.0, 5 epochs, batches of 32. Five epochs of a
# convolutional model cost more than twenty of lesson 01's dense one (see the gallery's
# timings).

# %%
conv = {}
for seed in run.seeds:
    model = run.cached("conv", conv_autoencoder, seed)
    model.fit(ds.x_train, epochs=run.epochs(5), batch_size=32, optimizer=SGD(lr=1.0),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    conv[seed] = model

# %%
run.describe_model("conv", conv, ds, ylabel="BCE per pixel",
                   title="conv AE: test digits (top) and reconstructions")

# %% [markdown]
# ## Are the clusters "extremely clear"?
#
# The k-NN accuracy of the 576-number codes is set beside PCA's with 576 components (the
# same size) *and* with 30 (the stacked autoencoder's size): a bigger code keeps more of the
# image, so only the same size is a fair comparison. The gallery's README puts the conv
# codes beside the 30-number codes of lessons 01 and 12 too.

# %%
codes = run.code_map("conv", {s: m.encode(ds.x_test) for s, m in conv.items()}, ds.y_test,
                     title="conv AE: t-SNE of the (64, 3, 3) codes of test digits")
codes["pca30_knn_accuracy"] = run.knn(run.pca(30)["codes"], ds.y_test, codes["seeds"])
run.verdict("conv codes beat PCA's of the same size (k-NN)", codes["knn_accuracy"],
            codes["pca_knn_accuracy"], names=("conv", "PCA-576"))
run.verdict("conv codes (576 numbers) beat PCA-30's (k-NN; not like with like)",
            codes["knn_accuracy"], codes["pca30_knn_accuracy"], names=("conv", "PCA-30"))

# %% [markdown]
# ## "The 4s are fairly near to the 9s ... 9 and 7 appear close"
#
# k-NN's most confused pairs of digits, seed by seed: a pair is confused when a digit's
# nearest codes mostly belong to the other digit.

# %%
for seed, pairs in zip(codes["seeds"], codes["confused_pairs"], strict=True):
    top3 = [f"{a}-{b} ({count})" for a, b, count in pairs[:3]]
    run.say(f"  seed {seed}: most confused {', '.join(top3)}")

# %%
results = run.finish()
