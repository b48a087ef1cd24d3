"""scratch_ae/models/zoo.py: every recipe builds with its documented size, trains a step, saves
and loads."""

import re

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import backend, io
from scratch_ae.gradcheck import check_model
from scratch_ae.layers import SELU, Dense, DenseTranspose, Dropout, GaussianNoise, Sigmoid
from scratch_ae.losses import BCE, get_loss
from scratch_ae.models import VAE, Autoencoder, Sequential, zoo

EXPECTED = ["stacked", "conv", "tied", "sparse_l1", "sparse_kl", "conv_wide", "sparse_conv",
            "denoise_gauss", "denoise_dropout", "vae", "vae2d", "linear", "deep"]

# (encoder params, decoder params) -- for the VAE, the "encoder" includes its mu/log_var head.
PARAMS = {
    "stacked": (81_530, 82_284),
    "tied": (81_530, 884),
    "sparse_l1": (108_800, 109_284),
    "sparse_kl": (108_800, 109_284),
    "conv": (23_296, 23_233),
    "conv_wide": (56_256, 55_681),
    "sparse_conv": (23_296, 23_233),
    "denoise_gauss": (81_530, 82_284),
    "denoise_dropout": (81_530, 82_284),
    "vae": (132_850 + 2 * 1_010, 134_634),
    "vae2d": (132_850 + 2 * 202, 133_834),
    "linear": (23_550, 24_304),
    "deep": (1_418_280, 1_419_034),  # 2,837,314: Hinton & Salakhutdinov's 784-1000-500-250-30
}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _split(model):
    if isinstance(model, VAE):
        return model.encoder.n_params() + model.head.n_params(), model.decoder.n_params()
    return model.encoder.n_params(), model.decoder.n_params()


def _batch(recipe, n=4):
    shape = (n, 784) if recipe.flat else (n, 1, 28, 28)
    return np.random.default_rng(0).uniform(0, 1, size=shape).astype(np.float32)


def test_every_recipe_is_registered_with_its_source():
    assert list(zoo.RECIPES) == EXPECTED
    for r in zoo.RECIPES.values():
        assert r.source and r.summary and r.epochs > 0 and r.batch_size > 0
        assert r.build.__doc__, r.name


def test_documented_recipes():
    st = zoo.get_recipe("stacked")
    assert (st.optimizer, st.epochs, st.batch_size) == (("sgd", {"lr": 1.5}), 20, 32)
    assert zoo.get_recipe("tied").epochs == 10
    for name in ("sparse_l1", "sparse_kl", "denoise_gauss", "denoise_dropout"):
        r = zoo.get_recipe(name)
        assert (r.optimizer, r.epochs) == (("sgd", {"lr": 1.0}), 10), name
    assert zoo.get_recipe("conv").optimizer == ("sgd", {"lr": 1.0})
    v = zoo.get_recipe("vae")
    assert (v.optimizer, v.epochs, v.batch_size) == (("rmsprop", {"lr": 1e-3}), 25, 128)


@pytest.mark.parametrize("name", EXPECTED)
def test_builds_with_documented_size_and_trains_one_step(name, tmp_path):
    recipe = zoo.get_recipe(name)
    model = recipe.build()
    assert _split(model) == PARAMS[name]
    x = _batch(recipe)
    y = model.forward(x, training=True)
    assert y.shape == ((x.shape[0], 784) if recipe.flat else (x.shape[0], 1, 28, 28))
    assert y.dtype == np.float32
    before = {k: layer.params[n].copy() for k, layer, n in model.named_parameters()}
    model, hist = recipe.train(x, model=model, epochs=1, batch_size=4, verbose=False)
    assert np.isfinite(hist["loss"][0])
    changed = [not np.array_equal(before[k], layer.params[n])
               for k, layer, n in model.named_parameters()]
    assert all(changed), name
    # io round trip: same weights, same (deterministic) reconstruction
    path = io.save_model(model, tmp_path / f"{name}.npz", meta={"model": name})
    loaded = io.load_model(path)
    assert type(loaded) is type(model)
    for (k1, l1, n1), (k2, l2, n2) in zip(model.named_parameters(), loaded.named_parameters(),
                                          strict=True):
        assert k1 == k2
        np.testing.assert_array_equal(l1.params[n1], l2.params[n2])
    if isinstance(model, VAE):
        np.testing.assert_array_equal(model.reconstruct(x), loaded.reconstruct(x))
    else:
        np.testing.assert_array_equal(model.predict(x), loaded.predict(x))


def test_conv_shapes():
    model = zoo.build("conv")
    assert model.encoder.output_shape((1, 28, 28)) == (64, 3, 3)
    assert model.output_shape((1, 28, 28)) == (1, 28, 28)
    assert zoo.build("conv_wide").encoder.output_shape((1, 28, 28)) == (64, 3, 3)
    assert zoo.build("sparse_conv").encoder.layers[-1].weight == 1e-4


def test_linear_has_no_activation_and_deep_has_a_linear_code():
    lin = zoo.build("linear")
    assert [type(layer) for layer in lin.encoder.layers + lin.decoder.layers] == [Dense, Dense]
    assert lin.loss == "mse"
    deep = zoo.build("deep")
    widths = [layer.out_features for layer in deep.encoder.layers if isinstance(layer, Dense)]
    assert widths == [1000, 500, 250, 30]
    assert isinstance(deep.encoder.layers[-1], Dense)  # the 30-d code is linear, as in the paper
    assert isinstance(deep.decoder.layers[-1], Sigmoid)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    assert deep.encoder.forward(x).min() < -1.7582  # below SELU's floor: no SELU on the code


def test_sparse_conv_code_can_reach_zero():
    """L1 only makes a code sparse if the code can be exactly 0: a ReLU code, not SELU's
    (a SELU code under L1 collapsed to its -1.758 floor and stopped learning)."""
    backend.seed(0)
    model = zoo.build("sparse_conv")
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    code = model.encoder.forward(x)
    assert code.shape == (8, 64, 3, 3)
    assert code.min() >= 0.0
    assert (code == 0).any()


def test_tied_shares_weights_and_denoisers_corrupt_input():
    tied = zoo.build("tied")
    dts = [layer for layer in tied.decoder.layers if isinstance(layer, DenseTranspose)]
    assert dts[0].dense is tied.encoder.layers[2] and dts[1].dense is tied.encoder.layers[0]
    assert tied.n_params() < zoo.build("stacked").n_params()
    assert isinstance(zoo.build("denoise_gauss").encoder.layers[0], GaussianNoise)
    assert isinstance(zoo.build("denoise_dropout").encoder.layers[0], Dropout)


def _tiny(layers_enc, layers_dec):
    return Autoencoder(Sequential(layers_enc), Sequential(layers_dec))


@pytest.mark.parametrize("kind", ["tied", "denoise_gauss", "denoise_dropout"])
def test_small_zoo_like_models_gradcheck(kind, rng):
    """Tied and denoising variants (noise on, reseeded per forward) at small sizes, float64."""
    backend.seed(8)
    d1, d2 = Dense(10, 6), Dense(6, 3)
    if kind == "tied":
        model = _tiny([d1, SELU(), d2, SELU()],
                      [DenseTranspose(d2), SELU(), DenseTranspose(d1), Sigmoid()])
    else:
        corrupt = GaussianNoise(0.2) if kind == "denoise_gauss" else Dropout(0.5)
        model = _tiny([corrupt, d1, SELU(), d2, SELU()],
                      [Dense(3, 6), SELU(), Dense(6, 10), Sigmoid()])
    x = rng.uniform(0.05, 0.95, size=(4, 10))
    assert check_model(model, x, BCE(), training=True) < 1e-6


# The conv models are left out: at full size a finite difference crosses kinks everywhere.
# With h = 1e-4, moving one first-layer weight moves ~1,500 SELU pre-activations and max-pool
# windows. On 6 seeds per model, the checks that finished skipped 34 to 104 kinks among the
# 182 points tried, and the others stopped on a point with several kinks in one stencil, which
# no finite-difference rule can tell from a wrong gradient. Their layers are checked one by
# one and in small conv models instead (test_conv.py, test_pooling.py, test_regularizers.py).
# "deep" too: 1,750 SELU units per image put a kink within 2h of about one point in ten.
# Its wiring is checked below at narrow widths (the same builder, the same layers).
DENSE_ZOO = [n for n in EXPECTED if zoo.get_recipe(n).flat and n != "deep"]


def test_deep_builder_gradchecks_at_narrow_widths():
    backend.seed(5)
    model = zoo.deep(sizes=(16, 8, 6, 3))
    x = np.random.default_rng(5).uniform(0.05, 0.95, size=(2, 784))
    result = check_model(model, x, get_loss(model.loss), training=True, max_elements=12,
                         n_directions=2, max_kinks=3)
    assert result < 1e-6


@pytest.mark.parametrize("name", DENSE_ZOO)
def test_every_dense_zoo_model_gradchecks_at_full_size(name):
    """The zoo models themselves (not small look-alikes), in float64, every parameter tensor.

    Large tensors are checked on 12 random elements and 2 random directions each (the
    checker's sampling), so this is a spot check of every layer *in place*: wiring, shapes,
    penalties and the VAE's KL included. The input is a batch of 2 images. A point whose
    stencil crosses a SELU kink may be skipped (at most 3; on 6 seeds there were 0 to 2).
    """
    backend.seed(5)
    model = zoo.build(name)
    x = np.random.default_rng(5).uniform(0.05, 0.95, size=(2, 784))
    loss = get_loss(model.loss)
    result = check_model(model, x, loss, training=True, max_elements=12, n_directions=2,
                         max_kinks=3)
    assert result < 1e-6


def test_each_recipe_is_registered_right_above_its_builder_and_says_no_loss():
    """The recipe decorates its builder (one place to read both); the loss is the model's."""
    import dataclasses  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    assert "loss" not in {f.name for f in dataclasses.fields(zoo.Recipe)}
    for name, recipe in zoo.RECIPES.items():
        assert recipe.build.__name__ == name
        assert inspect.getsource(recipe.build).startswith("@recipe("), name


def test_recipe_train_fits_by_the_recipe(monkeypatch):
    """Optimizer, rate, schedule, epochs and batch size come from the recipe; overrides win."""
    from scratch_ae.models.sequential import Model  # noqa: PLC0415

    seen = {}
    monkeypatch.setattr(Model, "fit", lambda self, X, **kw: seen.update(kw) or "history")
    lines = []
    model, history = zoo.get_recipe("stacked").train(np.zeros((4, 784), np.float32),
                                                     say=lines.append, seed=3)
    assert history == "history" and isinstance(model, zoo.Autoencoder)
    assert (seen["epochs"], seen["batch_size"], seen["seed"]) == (20, 32, 3)
    assert repr(seen["optimizer"]) == "SGD(lr=1.5)" and seen["lr_schedule"] is None
    assert lines == ["recipe: BCE, SGD(lr=1.5) (constant rate), batch 32, 20 epochs, "
                     "backend numpy"]
    zoo.get_recipe("deep").train(None, epochs=1, lr=0.5, batch_size=8, say=lines.append)
    assert (seen["epochs"], seen["batch_size"], seen["optimizer"].lr) == (1, 8, 0.5)
    assert seen["lr_schedule"](0) == 0.5  # cosine, starting at the rate asked for
    assert lines[-1].endswith("batch 8, 1 epoch, backend numpy")  # "1 epoch", not "1 epochs"


def test_the_cli_and_quality_benchmark_train_through_recipe_train_the_lessons_in_view():
    """The CLI and the quality benchmark train zoo models through Recipe.train. The lessons
    (tutorials/NN_*.py) build their models and call fit where the reader sees it, never
    through the zoo; tests/test_tutorials.py checks that each lesson's model has its zoo
    model's architecture (spec.describe) and fits with its recipe's loss, optimizer and rate,
    batch size, epochs and schedule."""
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parents[1]
    for rel in ("scratch_ae/cli.py", "benchmarks/quality.py"):
        text = (root / rel).read_text(encoding="utf-8")
        assert "recipe.train(" in text, rel
        assert not re.search(r"\bmodel\.fit\(|\bfit\(\s*model", text), f"{rel} fits without it"
    lessons = sorted((root / "tutorials").glob("[0-9][0-9]_*.py"))
    assert len(lessons) == 12
    for lesson in lessons:
        text = lesson.read_text(encoding="utf-8")
        assert re.search(r"\.fit\(", text), f"{lesson.name}: no fit in view"
        assert "recipe.train(" not in text, lesson.name
        assert not re.search(r"\bzoo\.(?!py\b)\w", text), f"{lesson.name} uses the zoo"
