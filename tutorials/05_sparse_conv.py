# %% [markdown]
# # 05 A sparse convolutional autoencoder
#
# Lesson 02's idea on lesson 03's model: an L1 penalty on the (64, 3, 3) code. One change
# makes it work: the code's activation becomes a ReLU. An L1 penalty pulls activations
# towards 0, and only a ReLU can *reach* 0 and stay there. On a SELU code the penalty drove
# every unit into SELU's flat negative tail (-1.76), where |h| is large and the gradient
# vanishes: the model stopped learning (`sparse_conv` in scratch_ae/models/zoo.py tells it).

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
    Conv2D,
    Conv2DTranspose,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    metrics,
    viz,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)

run = common.start("05_sparse_conv", "a sparse convolutional autoencoder: lesson 03's model "
                   "with a ReLU code and an L1 penalty")
ds = run.data(flat=False)

# %% [markdown]
# ## The model: lesson 03's, with the code's activation and a penalty as arguments
#
# With `code_activation=SELU()` and no penalty this builds lesson 03's model exactly, so its
# trained weights are reused from there (same layers, data, seed and training).

# %%
def conv_autoencoder(code_activation, penalty=None):
    encoder = [
        Conv2D(1, 16, 3, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(16, 32, 3, padding="same"), SELU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same"), code_activation, MaxPool2D(2),  # the code
    ]
    if penalty is not None:
        encoder.append(penalty)  # Keras: ActivityRegularization(l1=...) after the code
    decoder = Sequential([
        Conv2DTranspose(64, 32, 3, stride=2, padding="valid"), SELU(),
        Conv2DTranspose(32, 16, 3, stride=2, padding="same"), SELU(),
        Conv2DTranspose(16, 1, 3, stride=2, padding="same"), Sigmoid(),
    ])
    return Autoencoder(Sequential(encoder), decoder, loss="bce")


# %% [markdown]
# ## Training: lesson 03's recipe for both
#
# The penalty's weight is 1e-4, ten times lesson 02's: this code holds 576 values per digit.

# %%
seed = run.seed
sparse = run.cached("sparse_conv", lambda: conv_autoencoder(ReLU(), ActivityL1(1e-4)), seed)
sparse.fit(ds.x_train, epochs=run.epochs(5), batch_size=32, optimizer=SGD(lr=1.0),
           validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
plain = run.cached("conv", lambda: conv_autoencoder(SELU()), seed)  # lesson 03's model, first seed
plain.fit(ds.x_train, epochs=run.epochs(5), batch_size=32, optimizer=SGD(lr=1.0),
          validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)

# %%
run.describe_model("sparse_conv", {seed: sparse}, ds, ylabel="BCE per pixel, penalty",
                   title="sparse conv AE: test digits and reconstructions")
codes = {"sparse_conv": sparse.encode(ds.x_test), "conv": plain.encode(ds.x_test)}
run.metrics["code_sparsity"] = {name: metrics.code_sparsity(c) for name, c in codes.items()}
for name, s in run.metrics["code_sparsity"].items():
    run.say(f"  {name}: {100 * s['fraction_near_zero']:.1f}% of code activations below "
            f"{s['threshold']} (mean |h| {s['mean_abs_activation']:.3f})")

# %% [markdown]
# The histogram: the penalty piles the activations up at exactly 0 (a ReLU's floor), where
# the plain model's SELU codes spread over both signs.

# %%
run.figure(viz.plot_histograms(
    {"sparse conv (ReLU + L1 1e-4)": codes["sparse_conv"], "conv (SELU, lesson 03)":
     codes["conv"]}, run.out / "code_activations.png", xlabel="code activation", logy=True,
    title="code activations on test digits: sparse conv vs plain conv"))

# %% [markdown]
# The autoencoders tutorial repeats lesson 03's reading of the map for this model ("the 4s
# are fairly near to the 9s"): the most confused pairs are printed below.

# %%
run.code_map("sparse_conv", {seed: codes["sparse_conv"]}, ds.y_test,
             title="sparse conv AE: t-SNE of the (64, 3, 3) ReLU codes of test digits")

# %%
results = run.finish()
