"""scratch_ae.metrics on cases whose answer is known in advance."""

from __future__ import annotations

import math

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
