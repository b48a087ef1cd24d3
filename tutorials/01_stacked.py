# %% [markdown]
# # 01 A stacked autoencoder
#
# An autoencoder learns to give back its input through a narrow middle layer, the *code*.
# Géron's stacked autoencoder (the autoencoders tutorial's first model) squeezes each 784-pixel
# MNIST digit through 100 and then 30 numbers, and expands them back to 784. Nothing tells it
# what the 30 numbers should mean: to reconstruct well it has to find the few directions in
# which handwritten digits really vary (slant, thickness, loops, which digit it is).
#
# Run as a script (`python tutorials/01_stacked.py [--quick]`) or as a notebook
# (`jupytext --to notebook tutorials/01_stacked.py`; `SCRATCH_AE_QUICK=1` for a quick run).

# %%
import sys
from pathlib import Path

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # notebook: its folder
sys.path.insert(0, str(HERE.resolve().parent))  # so that `from tutorials import ...` works

from scratch_ae import SELU, SGD, Autoencoder, Dense, Sequential, Sigmoid  # noqa: E402
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("01_stacked", "a stacked autoencoder 784-100-30-100-784, its "
                   "reconstructions and a t-SNE map of its codes")
ds = run.data(flat=True)  # pixels in [0, 1], one row of 784 per digit

# %% [markdown]
# ## The model, layer for layer
#
# Géron's Keras model is two `Sequential`s: an encoder `Flatten, Dense(100, selu),
# Dense(30, selu)` and a decoder `Dense(100, selu), Dense(784, sigmoid), Reshape`. Ours is the
# same stack of layers; each `Dense(n_in, n_out)` states its input size, which Keras infers.
# SELU tends to keep activations from dying out or blowing up from layer to layer; the
# sigmoid output puts each pixel in (0, 1), like the targets.

# %%
def stacked_autoencoder():
    encoder = Sequential([
        # Keras' Flatten(input_shape=[28, 28]): our rows are flat already.
        Dense(784, 100), SELU(),   # Dense(100, activation="selu")
        Dense(100, 30), SELU(),    # Dense(30, activation="selu"): the code, 30 numbers
    ])
    decoder = Sequential([
        Dense(30, 100), SELU(),    # Dense(100, activation="selu")
        Dense(100, 784), Sigmoid(),  # Dense(28 * 28, activation="sigmoid"); no Reshape
    ])
    # Binary cross-entropy per pixel: each target pixel in [0, 1] is read as the probability
    # of ink, and the sigmoid output as the model's guess (Keras: "binary_crossentropy").
    return Autoencoder(encoder, decoder, loss="bce")


print(stacked_autoencoder())

# %% [markdown]
# ## Training
#
# Géron compiles with plain SGD at a learning rate of 1.5 (large, because the per-pixel BCE
# gives small gradients) and trains 20 epochs in batches of 32. `fit` is that loop: shuffle,
# cut into batches, forward, loss, backward, update, and a validation pass each epoch.
#
# One run's numbers move a little with the random initial weights, so the numbers that
# later claims rest on come from several seeds (`--seeds`, 3 by default), reported as
# mean ± sd. `run.cached` builds the model from a seed's random weights and gives it a `fit`
# that reloads the weights of an identical earlier run instead of training again (same layers,
# data, seed and fit arguments; `--retrain` trains anyway).

# %%
stacked = {}
for seed in run.seeds:
    model = run.cached("stacked", stacked_autoencoder, seed)
    history = model.fit(ds.x_train, epochs=run.epochs(20), batch_size=32,
                        optimizer=SGD(lr=1.5), validation_data=ds.x_valid, seed=seed,
                        max_steps=run.max_steps)
    stacked[seed] = model

# %% [markdown]
# ## What comes back
#
# Top row: test digits the model never saw; bottom row: what it rebuilds from 30 numbers.
# The numbers: BCE per pixel on the validation digits, and the *squared error per image*
# (the sum over the 784 pixels of (x - x̂)², averaged over the 10,000 test digits), the
# measure Hinton & Salakhutdinov used, which lesson 12 compares with their deep autoencoder.

# %%
run.describe_model("stacked", stacked, ds, ylabel="BCE per pixel",
                   title="stacked AE: test digits (top) and reconstructions from 30 numbers")

# %% [markdown]
# ## The codes, mapped to 2-D
#
# t-SNE places points so that codes close in 30-D stay close in 2-D; it keeps neighbourhoods
# and loses distances: the size of a cluster and the gaps between clusters mean little. So the
# map's clusters are measured twice: the k-nearest-neighbour accuracy of the codes themselves
# (can a digit's 5 nearest codes tell which digit it is?), beside PCA's codes of the same size;
# and the silhouette of the map (1: tight, separate blobs; 0: overlapping ones).

# %%
run.code_map("stacked", {s: m.encode(ds.x_test) for s, m in stacked.items()}, ds.y_test,
             title="stacked AE: t-SNE of the 30-number codes of test digits")
codes = run.metrics["codes"]["stacked"]
run.verdict("the AE's codes separate digits better than PCA's (k-NN)", codes["knn_accuracy"],
            codes["pca_knn_accuracy"], names=("AE", "PCA-30"))

# %% [markdown]
# The autoencoders tutorial goes on: "It reconstructs nicely, but we may add convolutions to improve
# the quality." Lesson 03 does; the gallery's README sets the two side by side (and says why
# that comparison is not like with like: the convolutional code holds 576 numbers, not 30).

# %%
results = run.finish()
