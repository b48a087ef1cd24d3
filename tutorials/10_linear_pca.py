# %% [markdown]
# # 10 A linear autoencoder learns PCA's subspace
#
# The autoencoders tutorial calls autoencoders "neural network equivalents to simpler
# variable compression algorithms like PCA". For one kind that is exactly true: an
# autoencoder with no activation functions, 784 → 30 → 784, trained with squared error. It can
# only compute x̂ = (x W₁ + b₁) W₂ + b₂, a rank-30 affine map, and the best such map is PCA's
# projection onto its first 30 components; at its optimum the decoder's 30 directions span the
# same subspace as PCA's, though not the same basis (Baldi & Hornik, 1989). Two numbers check
# it: its test error next to PCA's (within 1% is the aim), and the principal angles between
# the two 30-dimensional subspaces (near 0°: the same subspace). Then lesson 01's nonlinear
# autoencoder, with the same 30-number code, shows what the SELUs buy.

# %%
import sys
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
    backend,
    metrics,
    viz,
)
from tutorials import common  # noqa: E402  (options, weight cache, figures and numbers)
from tutorials.verdicts import show  # noqa: E402  (mean ± sd over seeds)

run = common.start("10_linear_pca", "a linear autoencoder learns PCA's subspace; a nonlinear "
                   "one beats PCA")
ds = run.data(flat=True)

# %% [markdown]
# ## The model: two Dense layers, nothing between them
#
# The biases let it learn the mean image, which PCA subtracts first. The loss is squared error
# (MSE), PCA's own criterion; Adam at 1e-3, batches of 128, 20 epochs.

# %%
def linear_autoencoder():
    return Autoencoder(Sequential([Dense(784, 30)]), Sequential([Dense(30, 784)]), loss="mse")


linear = {}
for seed in run.seeds:
    model = run.cached("linear", linear_autoencoder, seed)
    model.fit(ds.x_train, epochs=run.epochs(20), batch_size=128, optimizer=Adam(lr=1e-3),
              validation_data=ds.x_valid, seed=seed, max_steps=run.max_steps)
    linear[seed] = model

run.describe_model("linear", linear, ds, ylabel="MSE per pixel",
                   title="linear AE 784-30-784: test digits and reconstructions")

# %% [markdown]
# ## Against PCA
#
# The decoder maps a code z to x̂ = z W + b: the 30 rows of W (30 × 784) span every image it
# can produce. Principal angles compare that span with PCA's first 30 components (0°: the
# same direction is in both; 90°: a direction of one is missing from the other).

# %%
pca = run.pca(30)
lin_se = run.metrics["models"]["linear"]["test_se_per_image"]
gaps = [abs(se - pca["se_per_image"]) / pca["se_per_image"] for se in lin_se]
angles = {seed: metrics.principal_angles(backend.to_numpy(m.decoder.layers[0].params["W"]).T,
                                         pca["pca"].components_.T)
          for seed, m in linear.items()}
run.metrics["linear_vs_pca"] = {
    "code_size": 30, "pca_se_per_image": pca["se_per_image"], "relative_gap": gaps,
    "median_angle_deg": [float(np.median(a)) for a in angles.values()],
    "max_angle_deg": [float(a.max()) for a in angles.values()]}
run.say(f"  PCA-30 squared error per image {pca['se_per_image']:.3f}; principal angles: median "
        f"{show(run.metrics['linear_vs_pca']['median_angle_deg'], 2)}°, "
        f"largest {show(run.metrics['linear_vs_pca']['max_angle_deg'], 2)}°")
run.verdict("the linear AE's error is within 1% of PCA's (relative gap)", gaps, 0.01,
            better="lower", names=("gap", "1%"), digits=4)
run.figure(viz.plot_lines(
    {f"seed {seed}": a for seed, a in angles.items()}, run.out / "principal_angles.png",
    xlabel="principal angle index (smallest first)", ylabel="angle (degrees)",
    title="linear AE decoder vs PCA-30: angles between the two 30-d subspaces"))

# %% [markdown]
# ## What nonlinearity buys
#
# Lesson 01's stacked autoencoder has the same 30-number code but SELUs between its layers
# (its weights are reused when lesson 01 ran). It is not bound to a flat subspace.

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
stacked_se = [metrics.squared_error_per_image(ds.x_test, m.reconstruct(ds.x_test))
              for m in stacked.values()]
run.metrics["linear_vs_pca"]["stacked_se_per_image"] = stacked_se
run.verdict("a nonlinear AE with the same code size beats PCA-30 (squared error)", stacked_se,
            pca["se_per_image"], better="lower", names=("stacked AE", "PCA-30"), digits=2)

# %%
x, first = ds.x_test[:8], run.seed
run.figure(viz.plot_sample_grids(
    # PCA's and the linear AE's outputs leave [0, 1]: clipped for the picture only.
    {"test digits": x,
     f"PCA-30\nSE {pca['se_per_image']:.2f}": np.clip(pca["pca"].inverse_transform(
         pca["codes"][:8]), 0, 1),
     f"linear AE\nSE {lin_se[0]:.2f}": np.clip(linear[first].reconstruct(x), 0, 1),
     f"stacked (SELU)\nSE {stacked_se[0]:.2f}": stacked[first].reconstruct(x)},
    run.out / "pca_linear_stacked.png", ncols=2,
    title=f"reconstructions from 30 numbers (SE: test squared error per image; seed {first})"))
run.code_map("linear", {s: m.encode(ds.x_test) for s, m in linear.items()}, ds.y_test,
             silhouettes="first", pca_codes=pca["codes"],
             title="linear AE: t-SNE of the 30-number codes of test digits")

# %%
results = run.finish()
