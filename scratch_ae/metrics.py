"""Numbers that turn the tutorial's claims into something checkable.

The seed tutorial looks at pictures and says "the clusters appear extremely clear" or "VAE
images look better". Each function here measures one such thing, with scikit-learn doing the
statistics (the neural-network math is the only thing this project writes by hand):

* :func:`squared_error_per_image` -- Hinton & Salakhutdinov's reconstruction number: the sum
  over pixels of (x - x_hat)**2, averaged over images.
* :func:`pca_baseline` -- the same number, and the codes, for PCA with k components.
* :func:`knn_report` -- how well codes separate the classes: 5-fold k-NN accuracy, and which
  classes it confuses most.
* :func:`embedding_silhouette` -- how tight and apart the clusters of a 2-D map are.
* :class:`DigitScorer` -- "does this look like a digit?": a classifier trained on real pixels
  rates generated images (mean top-class probability, and the entropy of the histogram of
  predicted classes, low when the samples collapse onto a few digits), and measures how far
  a set of images lies from real digits in its hidden-layer features (``frechet``).
* :func:`frechet_distance` -- the distance between two sets of feature vectors seen as
  Gaussians: FID's formula, with the digit classifier's features instead of Inception's.
* :func:`principal_angles` -- the angles between two subspaces (a linear AE's and PCA's).

scikit-learn is imported inside the functions, so ``import scratch_ae`` stays light.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DigitScorer",
    "class_entropy",
    "code_sparsity",
    "embedding_silhouette",
    "frechet_distance",
    "knn_report",
    "pca_baseline",
    "principal_angles",
    "squared_error_per_image",
]


def _flat(a, what: str) -> np.ndarray:
    """(N, ...) -> (N, D) float64 NumPy (CuPy arrays are copied to the host)."""
    if not isinstance(a, np.ndarray) and hasattr(a, "get"):
        a = a.get()
    a = np.asarray(a)
    if a.ndim < 2:
        raise ValueError(f"{what}: expected an array of shape (N, ...), got shape {a.shape}")
    return a.reshape(len(a), -1).astype(np.float64, copy=False)


def squared_error_per_image(x, x_hat) -> float:
    """``mean_n sum_i (x[n, i] - x_hat[n, i])**2``: the paper's "squared error per image".

    x, x_hat: (N, ...) with the same shape. Hinton & Salakhutdinov (2006) report 3.00 for their
    784-1000-500-250-30 autoencoder on the MNIST test set and 13.87 for 30-component PCA.
    """
    a, b = _flat(x, "x"), _flat(x_hat, "x_hat")
    if a.shape != b.shape:
        raise ValueError(f"x {a.shape} and x_hat {b.shape} must have the same shape")
    return float(((a - b) ** 2).sum(axis=1).mean())


def pca_baseline(x_train, x_test, k: int, seed: int = 0):
    """Fit PCA with ``k`` components on ``x_train``; return ``(pca, test_codes, test_SE)``.

    test_codes: (N_test, k) projections of ``x_test``; test_SE: its squared error per image
    after ``inverse_transform`` (the best any rank-k affine map can do in squared error).
    """
    from sklearn.decomposition import PCA

    xtr, xte = _flat(x_train, "x_train"), _flat(x_test, "x_test")
    if not 1 <= k <= min(xtr.shape):
        raise ValueError(f"k must be between 1 and {min(xtr.shape)}, got {k}")
    # "randomized" is exact enough for k << D and much faster than a full SVD of 55,000 rows.
    solver = "randomized" if k < min(xtr.shape) // 4 else "full"
    pca = PCA(n_components=k, svd_solver=solver, random_state=seed).fit(xtr)
    codes = pca.transform(xte)
    return pca, codes, squared_error_per_image(xte, pca.inverse_transform(codes))


def knn_report(codes, labels, k: int = 5, folds: int = 5, seed: int = 0,
               top: int = 5) -> dict:
    """How well ``codes`` separate the classes: k-nearest-neighbour, ``folds``-fold CV.

    codes: (N, ...) flattened to (N, D); labels: (N,). Plain Euclidean distances on the codes
    as they are (standardizing would blow up PCA's weakest components into noise); stratified,
    shuffled folds drawn from ``seed``. Every code is predicted once, by the model of the fold
    that held it out. Returns ``accuracy`` (fraction of codes predicted right) and
    ``confused_pairs``: the ``top`` class pairs ``[a, b, count]`` most often mistaken for each
    other (either way), the "4s are near the 9s" of a map, counted.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    z, y = _flat(codes, "codes"), np.asarray(labels).reshape(-1)
    if len(z) != len(y):
        raise ValueError(f"{len(z)} codes but {len(y)} labels")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    clf = KNeighborsClassifier(n_neighbors=k)
    pred = cross_val_predict(clf, z, y, cv=cv)
    pairs: dict = {}
    for a, b in zip(y[pred != y].tolist(), pred[pred != y].tolist(), strict=True):
        key = (min(a, b), max(a, b))
        pairs[key] = pairs.get(key, 0) + 1
    ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {"accuracy": float((pred == y).mean()),
            "confused_pairs": [[int(a), int(b), int(c)] for (a, b), c in ranked]}


def embedding_silhouette(embedding, labels) -> float:
    """Silhouette score of a map (e.g. t-SNE's (N, 2)) with the true labels as clusters.

    In [-1, 1]: near 1 when each class is a tight blob far from the others, near 0 when the
    classes overlap. (A score of the picture, not of the codes: t-SNE can exaggerate gaps.)
    """
    from sklearn.metrics import silhouette_score

    e, y = _flat(embedding, "embedding"), np.asarray(labels).reshape(-1)
    if len(e) != len(y):
        raise ValueError(f"{len(e)} points but {len(y)} labels")
    return float(silhouette_score(e, y))


def class_entropy(predicted, n_classes: int = 10) -> float:
    """Entropy (bits) of the histogram of ``predicted`` class indices.

    0 when every sample is one class; log2(n_classes) (3.32 for ten digits) when the classes
    are equally frequent.
    """
    p = np.bincount(np.asarray(predicted).reshape(-1), minlength=n_classes).astype(np.float64)
    if p.sum() == 0:
        raise ValueError("no predictions to take the entropy of")
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def _features(a, what: str) -> np.ndarray:
    """(N,) or (N, ...) -> (N, D) float64; a 1-D array is N scalar features (D = 1)."""
    if not isinstance(a, np.ndarray) and hasattr(a, "get"):
        a = a.get()
    a = np.asarray(a)
    x = _flat(a.reshape(-1, 1) if a.ndim == 1 else a, what)
    if len(x) < 2:
        raise ValueError(f"{what}: need at least 2 samples for a covariance, got {len(x)}")
    if not np.isfinite(x).all():
        raise ValueError(f"{what}: features contain NaN or inf")
    return x


def _trace_sqrt_product(ca: np.ndarray, cb: np.ndarray, eps: float) -> float:
    """Tr sqrtm(ca @ cb) for two (D, D) covariances, the way FID code (pytorch-fid) does it.

    scipy.linalg.sqrtm of the product. A near-singular covariance (fewer samples than
    features, or features that move together) can make the square root come back with
    inf/NaN: then ``eps`` is added to both diagonals and it is taken again. The product of two
    PSD matrices has real, non-negative eigenvalues, so an imaginary part is rounding error:
    dropped when the diagonal's is below 1e-3, an error otherwise.
    Without scipy: the sum of sqrt(eigenvalues of ca @ cb), the same number.
    """
    if ca.size == 0:
        return 0.0
    try:
        from scipy.linalg import LinAlgWarning, sqrtm
    except ImportError:  # scikit-learn needs scipy, so only a stripped-down install gets here
        lam = np.linalg.eigvals(ca @ cb)
        return float(np.sqrt(np.clip(lam.real, 0.0, None)).sum())
    import warnings

    with warnings.catch_warnings():
        # "Matrix is singular" is expected for sample covariances; the check below handles it.
        warnings.simplefilter("ignore", LinAlgWarning)
        root = sqrtm(ca @ cb)
        if not np.isfinite(root).all():
            offset = eps * np.eye(len(ca))
            root = sqrtm((ca + offset) @ (cb + offset))
    if np.iscomplexobj(root):
        imag = np.abs(np.diagonal(root).imag).max()
        if imag > 1e-3:
            raise ValueError(f"sqrtm(Ca Cb) has an imaginary part of {imag:.3g}: not rounding")
        root = root.real
    return float(np.trace(root))


def frechet_distance(features_a, features_b, eps: float = 1e-6) -> float:
    """Fréchet distance between two sets of features, each seen as a Gaussian (as FID does).

    features_a: (N, D), features_b: (M, D) (a 1-D array is N scalar features). With means
    mu and covariances C (unbiased, ddof=1) of each set::

        d = ||mu_a - mu_b||**2 + Tr(C_a + C_b - 2 sqrtm(C_a C_b))

    0 for identical sets; in squared feature units. For D = 1 it is (m_a - m_b)**2 +
    (s_a - s_b)**2 with the standard deviations s. It depends on the sample sizes (a smaller
    set has a noisier covariance, so a larger distance), so compare sets of equal size.

    Singular covariances: a feature constant in both sets (a dead ReLU unit) has zero rows
    and columns in both covariances and adds nothing to the trace term, so it is left out of
    it (exactly; its means still count). For the rest see :func:`_trace_sqrt_product`
    (``eps`` is its diagonal offset). Rounding can leave about -1e-12 for equal sets: clipped
    to 0.
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a has {a.shape[1]} features per sample, features_b "
                         f"{b.shape[1]}")
    diff = a.mean(axis=0) - b.mean(axis=0)
    moving = (np.ptp(a, axis=0) > 0) | (np.ptp(b, axis=0) > 0)
    a, b = a[:, moving], b[:, moving]
    ca = np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])
    cb = np.cov(b, rowvar=False).reshape(b.shape[1], b.shape[1])
    d = diff @ diff + np.trace(ca) + np.trace(cb) - 2.0 * _trace_sqrt_product(ca, cb, eps)
    return max(float(d), 0.0)


# scikit-learn's MLP hidden activations by name (its ``activation`` parameter).
_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # 1 / (1 + e^-z), no overflow
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


class DigitScorer:
    """A classifier trained on real images that rates how digit-like other images are.

    ``fit(x, y)`` trains scikit-learn's ``MLPClassifier`` (one hidden layer) on (N, 784) pixels;
    ``score(images)`` returns, for generated images:

    * ``mean_top_prob``: the mean over images of the highest class probability -- near 1 when
      the classifier is sure each image is some digit, near 1/10 for noise;
    * ``class_entropy``: entropy (bits) of the histogram of predicted classes, out of
      log2(10) = 3.32 -- low when the samples collapse onto a few digits;
    * ``class_counts``: that histogram.

    Top-class probability is lenient: the classifier is often sure of a scribble. The stricter
    number is ``frechet(images, reference)``: how far the images' hidden-layer ``features``
    lie from real digits' (FID's recipe), next to the distance a set of real digits of the
    same size gets, so that a reader can tell what "good" is. ``score(images, reference=...)``
    adds both to the dict above.

    ``accuracy(x, y)`` reports how good the judge itself is on held-out real images.
    """

    def __init__(self, hidden: int = 128, max_iter: int = 20, seed: int = 0):
        self.hidden, self.max_iter, self.seed = int(hidden), int(max_iter), int(seed)
        self.clf = None

    def fit(self, x, y):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        self.clf = MLPClassifier(hidden_layer_sizes=(self.hidden,), max_iter=self.max_iter,
                                 random_state=self.seed, early_stopping=False)
        with warnings.catch_warnings():
            # A capped max_iter is a deliberate budget, not a problem worth a warning.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.clf.fit(_flat(x, "x"), np.asarray(y).reshape(-1))
        return self

    def _check(self):
        if self.clf is None:
            raise RuntimeError("call fit(x, y) on real images before scoring")

    def accuracy(self, x, y) -> float:
        self._check()
        return float(self.clf.score(_flat(x, "x"), np.asarray(y).reshape(-1)))

    def score(self, images, reference=None, seed: int = 0) -> dict:
        """The dict of the class docstring for images (N, ...); with ``reference`` (real images,
        (M, ...)) also :meth:`frechet`'s entries, the split of the reference drawn from ``seed``.
        """
        self._check()
        proba = self.clf.predict_proba(_flat(images, "images"))
        predicted = self.clf.classes_[proba.argmax(axis=1)]
        n_classes = len(self.clf.classes_)
        counts = np.bincount(np.searchsorted(self.clf.classes_, predicted), minlength=n_classes)
        out = {
            "mean_top_prob": float(proba.max(axis=1).mean()),
            "class_entropy": class_entropy(np.searchsorted(self.clf.classes_, predicted),
                                           n_classes),
            "max_class_entropy": math.log2(n_classes),
            "class_counts": [int(c) for c in counts],
        }
        if reference is not None:
            out.update(self.frechet(images, reference, seed=seed))
        return out

    def features(self, images) -> np.ndarray:
        """(N, ...) images -> (N, hidden) float64: the classifier's last hidden layer.

        The fitted network's own weights (``coefs_``, ``intercepts_``) and activation, layer by
        layer: ``h = act(h @ W + b)``, stopping before the output layer. These are the
        features :meth:`frechet` compares, as FID compares Inception's.
        """
        self._check()
        act = _ACTIVATIONS[self.clf.activation]
        h = _flat(images, "images")
        for w, b in zip(self.clf.coefs_[:-1], self.clf.intercepts_[:-1], strict=True):
            h = act(h @ w + b)
        return h

    def frechet(self, images, reference, seed: int = 0) -> dict:
        """Fréchet distance of ``images`` to real images in :meth:`features`, with a baseline.

        images: (N, ...), e.g. generated samples. reference: (M, ...) real images the scorer
        was not fitted on (test digits), M >= N + 2; M >= 2N gives a steadier reference.
        A permutation of the reference drawn from ``seed`` sets N of its images aside as a
        stand-in for a perfect generator; the other M - N are the reference set. Returns

        * ``frechet``: :func:`frechet_distance` of the images to the reference set;
        * ``frechet_real_vs_real``: the same for the N real images set aside -- what real
          digits score at this sample size (not 0: two samples of one distribution differ);
        * ``frechet_ratio``: frechet / frechet_real_vs_real, near 1 for real-looking images;
        * ``frechet_images``, ``frechet_reference``: N and M - N.
        """
        x = self.features(images)
        ref = self.features(reference)
        if len(ref) < len(x) + 2:
            raise ValueError(f"reference needs at least {len(x) + 2} images (N + 2) to set "
                             f"{len(x)} aside as the real-vs-real baseline, got {len(ref)}")
        order = np.random.default_rng(seed).permutation(len(ref))
        real, rest = ref[order[:len(x)]], ref[order[len(x):]]
        d, base = frechet_distance(x, rest), frechet_distance(real, rest)
        return {"frechet": d, "frechet_real_vs_real": base,
                "frechet_ratio": d / base if base > 0 else math.inf,
                "frechet_images": len(x), "frechet_reference": len(rest)}


def code_sparsity(codes, threshold: float = 0.05) -> dict:
    """How sparse a code is: mean activation, mean |activation|, and the fraction of entries
    with ``|h| < threshold`` (near zero). codes: (N, ...)."""
    z = np.abs(_flat(codes, "codes"))
    return {"mean_activation": float(_flat(codes, "codes").mean()),
            "mean_abs_activation": float(z.mean()),
            "fraction_near_zero": float((z < threshold).mean()), "threshold": threshold}


def principal_angles(a, b) -> np.ndarray:
    """Principal angles (degrees, ascending) between the column spaces of ``a`` and ``b``.

    a: (D, k), b: (D, m). With orthonormal bases Qa, Qb (QR), the cosines of the angles are
    the singular values of ``Qa.T @ Qb``; all near 0 degrees means the two subspaces agree.
    (scipy.linalg.subspace_angles computes the same; this keeps scipy out of the dependencies.)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"expected two (D, k) matrices with the same D, got {a.shape}, {b.shape}")
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cos = np.linalg.svd(qa.T @ qb, compute_uv=False)
    # Descending cosines -> ascending angles. arccos is ill-conditioned near 0, fine in degrees.
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
