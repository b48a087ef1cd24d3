"""scratch_ae.metrics on cases whose answer is known in advance."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from scratch_ae import metrics


def test_squared_error_per_image_sums_pixels_and_averages_images():
    x = np.zeros((3, 1, 28, 28), np.float32)
    x_hat = np.ones((3, 784), np.float32)
    x_hat[0] = 0.5  # 784 * 0.25 = 196 for the first image, 784 for the others
    assert metrics.squared_error_per_image(x, x_hat) == pytest.approx((196 + 784 + 784) / 3)
    with pytest.raises(ValueError, match="same shape"):
        metrics.squared_error_per_image(x, x_hat[:, :100])


def test_pca_baseline_is_exact_on_data_in_a_k_dim_affine_subspace(rng):
    basis = rng.standard_normal((3, 50))
    x = rng.standard_normal((400, 3)) @ basis + 5.0  # rank 3 after centring
    pca, codes, se = metrics.pca_baseline(x[:300], x[300:], 3)
    assert codes.shape == (100, 3)
    assert se < 1e-8
    _, _, se2 = metrics.pca_baseline(x[:300], x[300:], 2)
    assert se2 > 1.0  # one real direction missing
    with pytest.raises(ValueError, match="k must be"):
        metrics.pca_baseline(x[:300], x[300:], 0)


def blobs(rng, centres, n=60, spread=0.05):
    x = np.concatenate([c + spread * rng.standard_normal((n, len(c))) for c in centres])
    y = np.repeat(np.arange(len(centres)), n)
    return x, y


def test_knn_report_separated_classes_and_a_planted_confusion(rng):
    x, y = blobs(rng, [np.zeros(4), 10 * np.ones(4), -10 * np.ones(4)])
    rep = metrics.knn_report(x, y)
    assert rep["accuracy"] == 1.0
    assert rep["confused_pairs"] == []
    # Classes 0 and 1 drawn from the same blob: k-NN can only guess between them.
    x3, y3 = blobs(rng, [np.zeros(4), np.zeros(4), 10 * np.ones(4)])
    rep3 = metrics.knn_report(x3, y3, seed=1)
    assert 0.55 < rep3["accuracy"] < 0.8  # class 2 right, classes 0/1 near chance
    assert rep3["confused_pairs"][0][:2] == [0, 1]
    assert all(pair[:2] == [0, 1] for pair in rep3["confused_pairs"])


def test_embedding_silhouette_tight_blobs_vs_shuffled_labels(rng):
    e, y = blobs(rng, [np.array([0.0, 0.0]), np.array([100.0, 0.0]), np.array([0.0, 100.0])])
    assert metrics.embedding_silhouette(e, y) > 0.99
    assert metrics.embedding_silhouette(e, rng.permutation(y)) < 0.05
    with pytest.raises(ValueError, match="labels"):
        metrics.embedding_silhouette(e, y[:-1])


def test_class_entropy_known_values():
    assert metrics.class_entropy([3] * 50) == 0.0
    assert metrics.class_entropy([0, 1] * 10) == pytest.approx(1.0)
    assert metrics.class_entropy(np.arange(10).repeat(7)) == pytest.approx(math.log2(10))


def prototypes(rng, n_per_class, noise=0.05):
    """Ten 'digits': each class lights its own 8-pixel band of a 784-pixel image."""
    protos = np.zeros((10, 784), np.float32)
    for c in range(10):
        protos[c, c * 78:c * 78 + 8] = 1.0
    y = np.repeat(np.arange(10), n_per_class)
    x = protos[y] + noise * rng.standard_normal((len(y), 784)).astype(np.float32)
    return protos, x, y


def test_digit_scorer_confident_on_class_images_and_entropy_tracks_collapse(rng):
    protos, x, y = prototypes(rng, 30)
    scorer = metrics.DigitScorer(hidden=32, max_iter=100, seed=0).fit(x, y)
    assert scorer.accuracy(x, y) == 1.0
    balanced = scorer.score(protos.repeat(5, axis=0))
    assert balanced["mean_top_prob"] > 0.85  # chance is 0.1
    assert balanced["class_entropy"] == pytest.approx(math.log2(10))
    assert balanced["class_counts"] == [5] * 10
    collapsed = scorer.score(np.repeat(protos[7:8], 20, axis=0))
    assert collapsed["class_entropy"] == 0.0
    assert collapsed["class_counts"][7] == 20
    # Blank images carry none of the evidence: the judge is less sure of them than of digits.
    assert scorer.score(np.zeros((20, 784)))["mean_top_prob"] < balanced["mean_top_prob"]


def test_digit_scorer_needs_fit():
    with pytest.raises(RuntimeError, match="fit"):
        metrics.DigitScorer().score(np.zeros((2, 784)))


def test_principal_angles_known_answers(rng):
    a = rng.standard_normal((20, 3))
    same = a @ rng.standard_normal((3, 3))  # another basis of the same subspace
    assert np.allclose(metrics.principal_angles(a, same), 0.0, atol=1e-5)
    e = np.eye(6)
    assert np.allclose(metrics.principal_angles(e[:, :2], e[:, 2:4]), [90.0, 90.0])
    t = np.radians(30.0)
    tilted = np.cos(t) * e[:, [0]] + np.sin(t) * e[:, [1]]
    assert np.allclose(metrics.principal_angles(e[:, [0, 2]], np.hstack([tilted, e[:, [2]]])),
                       [0.0, 30.0], atol=1e-6)
    scipy_linalg = pytest.importorskip("scipy.linalg")
    b = rng.standard_normal((20, 3))
    ours = metrics.principal_angles(a, b)
    assert np.allclose(ours, np.sort(np.degrees(scipy_linalg.subspace_angles(a, b))))
    with pytest.raises(ValueError, match="same D"):
        metrics.principal_angles(a, b[:10])


def test_code_sparsity_known_values():
    codes = np.array([[0.0, 0.01, 0.5, -1.0]] * 3)
    s = metrics.code_sparsity(codes, threshold=0.05)
    assert s["fraction_near_zero"] == 0.5
    assert s["mean_abs_activation"] == pytest.approx((0.01 + 0.5 + 1.0) / 4)
    assert s["mean_activation"] == pytest.approx((0.01 + 0.5 - 1.0) / 4)


# ---------------------------------------------------------------- Fréchet distance


def test_frechet_distance_is_zero_for_identical_sets_and_symmetric(rng):
    a = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6))
    b = 0.5 * rng.standard_normal((150, 6)) + 1.0
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert metrics.frechet_distance(a, b) > 1.0
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a),
                                                          rel=1e-9)


def test_frechet_distance_grows_as_one_set_is_shifted(rng):
    a = rng.standard_normal((100, 3))
    step = np.array([1.0, -2.0, 0.5])  # |step|**2 = 5.25
    d = [metrics.frechet_distance(a, a + t * step) for t in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert np.all(np.diff(d) > 0)
    # Same covariance, so only the means part is left: t**2 |step|**2.
    assert d == pytest.approx([t * t * 5.25 for t in (0.0, 0.5, 1.0, 2.0, 4.0)], abs=1e-9)


def test_frechet_distance_1d_is_mean_and_std_differences(rng):
    a, b = rng.normal(1.0, 2.0, 500), rng.normal(-0.5, 0.5, 300)
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)
    assert metrics.frechet_distance(a[:, None], b[:, None]) == pytest.approx(expected, rel=1e-10)


def cross(a, b, centre=(0.0, 0.0), angle=0.0):
    """Four 2-D points (+-a, 0), (0, +-b), rotated, then moved: mean ``centre`` and
    covariance R diag(2a^2/3, 2b^2/3) R^T exactly (ddof=1)."""
    p = np.array([[a, 0.0], [-a, 0.0], [0.0, b], [0.0, -b]])
    c, s = math.cos(angle), math.sin(angle)
    return p @ np.array([[c, s], [-s, c]]) + np.asarray(centre)


def test_frechet_distance_2d_hand_computed():
    # Covariances with the same axes commute: the trace term is sum (sqrt(l_a) - sqrt(l_b))^2.
    # Mean part 1 + 4; variances 2/3 * (1, 4) and 2/3 * (9, 1): 2/3 * ((1-3)^2 + (2-1)^2).
    expected = 5.0 + 2.0 / 3.0 * 5.0
    for angle in (0.0, 0.3, 1.2):  # rotating both sets changes nothing
        d = metrics.frechet_distance(cross(1.0, 2.0, angle=angle),
                                     cross(3.0, 1.0, centre=(1.0, 2.0), angle=angle))
        assert d == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_2d_general_covariances(rng):
    """Closed form for 2x2: (Tr sqrtm M)^2 = Tr M + 2 sqrt(det M) when M's eigenvalues are >= 0."""
    a = rng.standard_normal((80, 2)) @ np.array([[2.0, 0.3], [0.0, 0.5]])
    b = rng.standard_normal((60, 2)) @ np.array([[0.4, -1.0], [0.7, 1.5]]) + 3.0
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    m = ca @ cb
    tr_sqrt = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_without_scipy_and_with_singular_covariances(rng, monkeypatch):
    a = rng.standard_normal((40, 5))
    b = rng.standard_normal((30, 5)) * 1.5 + 0.2
    # Dead units (always 0 in both sets) and fewer samples than features: singular covariances.
    wide_a = np.hstack([a, np.zeros((40, 3)), rng.standard_normal((40, 60))])
    wide_b = np.hstack([b, np.zeros((30, 3)), rng.standard_normal((30, 60))])
    with_scipy = [metrics.frechet_distance(a, b), metrics.frechet_distance(wide_a, wide_b)]
    assert all(np.isfinite(with_scipy)) and with_scipy[1] > with_scipy[0]
    monkeypatch.setitem(__import__("sys").modules, "scipy.linalg", None)  # import fails
    without = [metrics.frechet_distance(a, b), metrics.frechet_distance(wide_a, wide_b)]
    assert without == pytest.approx(with_scipy, rel=1e-6)


def test_frechet_distance_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="features per sample"):
        metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.full((4, 2), np.nan), np.zeros((5, 2)))


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # 30 iterations is on purpose
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_digit_scorer_features_are_sklearns_hidden_layer(rng, activation):
    from sklearn.neural_network import MLPClassifier

    _, x, y = prototypes(rng, 10)
    scorer = metrics.DigitScorer(hidden=16, max_iter=30, seed=0).fit(x, y)
    if activation != "relu":  # fit() always uses relu; features() must follow the model's
        scorer.clf = MLPClassifier((16,), activation=activation, max_iter=30,
                                   random_state=0).fit(x.astype(np.float64), y)
    h = scorer.features(x.reshape(len(x), 1, 28, 28))
    assert h.shape == (len(x), 16)
    # sklearn's own forward pass records every layer's activations.
    layers = [x.astype(np.float64)] + [None] * (scorer.clf.n_layers_ - 1)
    np.testing.assert_allclose(h, scorer.clf._forward_pass(layers)[1], rtol=1e-10, atol=1e-12)
    # And through public API only: the output layer applied to our features is predict_proba.
    logits = h @ scorer.clf.coefs_[-1] + scorer.clf.intercepts_[-1]
    p = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(1, keepdims=True), scorer.clf.predict_proba(x),
                               rtol=1e-8, atol=1e-12)


def test_digit_scorer_frechet_on_synthetic_digits(rng):
    protos, x, y = prototypes(rng, 30)
    scorer = metrics.DigitScorer(hidden=32, max_iter=100, seed=0).fit(x, y)
    _, ref, _ = prototypes(rng, 40)
    _, real, _ = prototypes(rng, 10)
    good, bad = scorer.frechet(real, ref), scorer.frechet(rng.random((100, 784)), ref)
    assert good["frechet_images"] == 100 and good["frechet_reference"] == 300
    assert good["frechet_real_vs_real"] == bad["frechet_real_vs_real"]  # same seed, same split
    assert good["frechet_ratio"] < 3 < bad["frechet_ratio"]
    s = scorer.score(real, reference=ref)
    assert s["frechet"] == good["frechet"] and s["class_counts"] == [10] * 10
    assert "frechet" not in scorer.score(real)
    with pytest.raises(ValueError, match="reference needs at least 102"):
        scorer.frechet(real, ref[:101])


# ------------------------------------------------ real MNIST: the score agrees with the eye

DATA = os.environ.get("SCRATCH_AE_DATA")


@pytest.fixture(scope="module")
def mnist_scorer():
    """A small scorer (5,000 training digits, 64 units, 10 epochs: about a second) and the
    test digits; skipped without the real files."""
    if not DATA or not (Path(DATA) / "mnist").is_dir():
        pytest.skip("needs the real MNIST IDX files: set SCRATCH_AE_DATA to a folder with "
                    f"mnist/ (SCRATCH_AE_DATA={DATA!r})")
    from scratch_ae import data

    ds = data.load_mnist(DATA, flat=True, download=False)
    scorer = metrics.DigitScorer(hidden=64, max_iter=10, seed=0)
    return scorer.fit(ds.x_train[:5000], ds.y_train[:5000]), ds.x_test


def blur(x, sigma):
    """Gaussian blur of (N, 784) digits: a separable kernel along rows, then columns."""
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    im = np.pad(x.reshape(-1, 28, 28), ((0, 0), (r, r), (r, r)))
    im = sum(k[i] * im[:, i:i + 28, :] for i in range(2 * r + 1))
    im = sum(k[i] * im[:, :, i:i + 28] for i in range(2 * r + 1))
    return im.reshape(len(x), -1)


def scribbles(n, rng):
    """Random pen strokes: a smooth random walk of a 3x3 pen, about as much ink as a digit."""
    out = np.zeros((n, 28, 28), np.float32)
    for img in out:
        p, v = rng.uniform(8, 20, 2), rng.normal(0, 1, 2)
        for _ in range(40):
            v = 0.8 * v + rng.normal(0, 0.8, 2)
            p = np.clip(p + 0.7 * v, 3, 24)
            r, c = p.astype(int)
            img[r - 1:r + 2, c - 1:c + 2] = 1.0
    return out.reshape(n, -1)


def test_frechet_ranks_real_digits_above_smudges_and_noise(mnist_scorer, rng):
    scorer, x_test = mnist_scorer
    n = 500
    real, ref = x_test[3000:3000 + n], x_test[:3000]
    sets = {"real": real, "blurred": blur(real, 2.0), "scribbles": scribbles(n, rng),
            "noise": rng.random((n, 784)).astype(np.float32)}
    s = {k: scorer.score(v, reference=ref) for k, v in sets.items()}
    print({k: (round(v["frechet"], 2), round(v["mean_top_prob"], 3)) for k, v in s.items()},
          "real vs real", round(s["real"]["frechet_real_vs_real"], 2))
    base = s["real"]["frechet_real_vs_real"]
    assert s["real"]["frechet"] < 2 * base  # held-out real digits look real
    assert s["blurred"]["frechet"] > 5 * base
    assert s["scribbles"]["frechet"] > 10 * base
    assert s["noise"]["frechet"] > 100 * base
    assert s["real"]["frechet"] < min(s[k]["frechet"] for k in ("blurred", "scribbles", "noise"))
