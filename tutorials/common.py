"""What the lessons share: options, data, the weight cache, and the standard figures and numbers.

A lesson builds its model from the library's layers and calls ``model.fit`` where the reader
sees it. This module holds only what would distract from that:

* **options** -- :func:`start` parses the command line (in a notebook, which has none:
  ``SCRATCH_AE_ARGS="--dataset sample ..."``, and ``SCRATCH_AE_QUICK=1`` for ``--quick``),
  selects and seeds the backend, and turns every expected failure into one ``error:`` line, as
  the ``scratch-ae`` CLI does: exit 2 for a bad argument, 1 for anything else, no traceback;
* **data** -- :meth:`Run.data`: MNIST, Fashion-MNIST or the offline sample, a subset in quick
  mode;
* **the weight cache** -- :meth:`Run.cached` (how it works: tutorials/cache.py);
* **figures and numbers** -- :meth:`Run.describe_model` (losses, squared error, reconstruction
  and training figures), :meth:`Run.code_map` (k-NN accuracy, t-SNE map and its silhouette),
  :meth:`Run.generated` (digit classifier and Fréchet distance), :meth:`Run.pca`,
  :meth:`Run.verdict`, and :meth:`Run.finish`, which writes ``metrics.json``.

Claims are measured on several training seeds (``--seeds``, 3 by default): every number of a
model is kept per seed and shown as mean ± sd; tutorials/verdicts.py says when a difference
counts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from scratch_ae import backend, metrics, set_threads, viz
from scratch_ae import data as data_mod
from scratch_ae.utils import atomic_write

from . import verdicts
from .cache import WeightCache, fingerprint

# --quick: every lesson in seconds on 2 cores -- a smoke test of the code, not results.
QUICK = {"train": 2000, "valid": 300, "test": 400, "steps": 25, "seeds": 2, "knn_points": 400,
         "map_points": 300, "tsne_iter": 300, "scorer_train": 2000, "scorer_iter": 10,
         "samples": 100}
FULL = {"seeds": 3, "knn_points": 5000, "map_points": 3000, "tsne_iter": 1000,
        "scorer_train": 20000, "scorer_iter": 15, "samples": 1000}
# Failures a user can cause (data, arguments, a diverged run): one line, exit 1. Anything
# else is a bug in a lesson or the library and keeps its traceback.
EXPECTED_ERRORS = (ValueError, TypeError, OSError, data_mod.DataError, backend.BackendError,
                   FloatingPointError)


def parser(description: str) -> argparse.ArgumentParser:
    """The options every lesson takes; a lesson may add its own before calling start()."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", choices=backend.BACKENDS, default=None,
                   help=f"numpy | numba | cupy (default: ${backend.ENV_VAR} or numpy)")
    p.add_argument("--dataset", choices=["auto", "mnist", "fashion-mnist", "sample"],
                   default="auto", help="auto (default): MNIST when found or downloadable, "
                   "else the offline sample of 1,797 scikit-learn digits")
    p.add_argument("--data-dir", default=None, help="folder holding the four IDX files "
                   f"(default: ${data_mod.ENV_VAR} and the usual places)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for every model trained here (default: the lesson's)")
    p.add_argument("--seeds", type=int, default=None,
                   help=f"training seeds for the models behind a claim (default "
                   f"{FULL['seeds']}, quick {QUICK['seeds']}); other models train once")
    p.add_argument("--out", default=None, help="folder for figures and metrics.json "
                   "(default: runs/tutorials/<lesson>)")
    p.add_argument("--weights-dir", default="runs/weights",
                   help="where trained weights are kept and reused (default: runs/weights)")
    p.add_argument("--seed", type=int, default=42, help="the first seed (default 42)")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['train']} training images and {QUICK['steps']} steps per "
                   "model, small maps: a smoke test in seconds, not results "
                   "(also SCRATCH_AE_QUICK=1)")
    p.add_argument("--retrain", action="store_true",
                   help="train even when weights from an earlier identical run exist")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for everything: training (BLAS, Numba) and scikit-learn's "
                   "OpenMP (t-SNE). Default: training picks its own (scratch_ae/threads.py: "
                   "free cores, a timed trial), scikit-learn 1 thread")
    return p


def fail(prog: str, message, code: int):
    """Print ``prog: error: message`` on one line to stderr and exit with ``code``."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython with a kernel attached)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _argv(argv) -> list[str]:
    if argv is not None:
        return list(argv)
    if in_notebook():  # the kernel's own command line is not ours
        return shlex.split(os.environ.get("SCRATCH_AE_ARGS", ""))
    return sys.argv[1:]


def start(name: str, description: str, argv=None, p: argparse.ArgumentParser | None = None):
    """Parse the options, check them, select and seed the backend; return a :class:`Run`.

    argv: default the command line (``SCRATCH_AE_ARGS`` in a notebook). A bad argument exits
    with code 2 after one ``error:`` line; an unusable ``--backend``, with code 1.
    """
    prog = f"{name}.py"
    p = p or parser(description)
    p.prog = prog
    argv = _argv(argv)
    args = p.parse_args(argv)
    args.quick = args.quick or os.environ.get("SCRATCH_AE_QUICK", "") not in ("", "0")
    _check_args(args, p)
    try:
        backend.set_backend(args.backend or backend.get_backend())
    except backend.BackendError as exc:
        fail(prog, exc, 1)
    backend.seed(args.seed)
    _limit_threads(args.threads)
    if not in_notebook():
        _install_error_hook(prog)
    run = Run(name, args, command=" ".join(["python", f"tutorials/{prog}", *argv]))
    run.say(f"== {name}: {description}")
    run.say(f"backend {backend.get_backend()}, seeds {', '.join(map(str, run.seeds))}"
            + (", QUICK mode (a smoke test: numbers are not results)" if args.quick else ""))
    return run


def _check_args(args, p: argparse.ArgumentParser) -> None:
    """Reject wrong arguments before any data is read or any model trained (exit 2)."""
    for flag in ("epochs", "seeds", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            p.error(f"--{flag} must be a positive integer, got {value}")
    if args.data_dir is not None and args.dataset == "sample":
        p.error("--data-dir has no effect with --dataset sample: give one or the other")
    out = Path(args.out or Path("runs") / "tutorials" / p.prog.removesuffix(".py"))
    for flag, folder in (("--out", out), ("--weights-dir", Path(args.weights_dir))):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as exc:
            p.error(f"{flag} {str(folder)!r} is not a writable folder ({exc.strerror or exc})")
    args.out = str(out)


def _install_error_hook(prog: str) -> None:
    """Expected failures print one line (exit 1, Python's code for an uncaught error)."""
    default = sys.excepthook

    def hook(kind, exc, tb):
        if issubclass(kind, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
        elif issubclass(kind, EXPECTED_ERRORS):
            print(f"{prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        else:
            default(kind, exc, tb)

    sys.excepthook = hook


class Run:
    """One lesson's run: its options, data, trained models and the numbers it collects."""

    def __init__(self, name: str, args, command: str = ""):
        self.name, self.args, self.prog = name, args, f"{name}.py"
        self.quick = bool(args.quick)
        self.cfg = QUICK if self.quick else FULL
        self.out = Path(args.out)
        self.seed = args.seed
        self.seeds = [args.seed + i for i in range(args.seeds or self.cfg["seeds"])]
        self.max_steps = QUICK["steps"] if self.quick else None
        self.cache = WeightCache(args.weights_dir, args.retrain, self.say)
        self.fits: dict = {}  # name -> {seed: cache.FitRecord}
        self.metrics: dict = {
            "tutorial": name, "dataset": args.dataset, "backend": backend.get_backend(),
            "seeds": self.seeds, "quick": self.quick, "command": command,
        }
        self.figures: list[str] = []
        self._data: dict = {}
        self._t0 = time.perf_counter()

    @staticmethod
    def say(msg: str) -> None:
        print(msg, flush=True)

    def epochs(self, n: int) -> int:
        """``n``, the lesson's number of epochs, unless ``--epochs`` says otherwise."""
        return self.args.epochs or n

    # -- data --------------------------------------------------------------------------------
    def data(self, flat: bool = True) -> data_mod.Dataset:
        """The dataset as (N, 784) rows or (N, 1, 28, 28) images; a subset with --quick."""
        if flat in self._data:
            return self._data[flat]
        if self._data:  # the same arrays reshaped: no second read of the files
            other = next(iter(self._data.values()))
            shape = (-1, 784) if flat else (-1, 1, 28, 28)
            parts = {k: getattr(other, k).reshape(shape) for k in ("x_train", "x_valid",
                                                                    "x_test")}
            ds = data_mod.Dataset(**parts, y_train=other.y_train, y_valid=other.y_valid,
                                  y_test=other.y_test, name=other.name, source=other.source)
        else:
            ds = self._load(flat)
        self._data[flat] = ds
        return ds

    def _load(self, flat: bool) -> data_mod.Dataset:
        try:
            ds, note = data_mod.load_dataset(self.args.dataset, path=self.args.data_dir,
                                             flat=flat)
        except data_mod.DataNotFoundError as exc:  # the data asked for is not there: 2
            fail(self.prog, f"{exc} (or run with --dataset sample, offline)", 2)
        if note:
            self.say(f"note: {note}")
        if self.quick:
            ds = _subset(ds, QUICK["train"], QUICK["valid"], QUICK["test"])
        self.metrics["dataset"] = ds.name
        self.say(f"data: {ds.name} from {ds.source}: {len(ds.x_train)} train, "
                 f"{len(ds.x_valid)} validation, {len(ds.x_test)} test images")
        return ds

    # -- models ------------------------------------------------------------------------------
    def cached(self, name: str, build, seed: int):
        """``build()`` with its random weights drawn from ``seed``, and a ``fit`` that reuses
        the weights of an identical earlier run instead of training (tutorials/cache.py)."""
        backend.seed(seed)
        model = build()
        if backend.get_backend() == "cupy":
            model.to("cupy")
        return self.cache.wrap(model, name, seed, self._record_fit)

    def _record_fit(self, record) -> None:
        self.fits.setdefault(record.name, {})[record.seed] = record
        entry = self.metrics.setdefault("fits", {}).setdefault(record.name, {
            "spec_sha1": record.spec_sha1, **{k: v for k, v in record.plan.items()
                                              if k != "seed"}, "seeds": []})
        entry["seeds"].append(record.seed)

    # -- numbers and figures -----------------------------------------------------------------
    def describe_model(self, name: str, models: dict, ds, *, title: str, shown=None,
                       noisy=None, ylabel: str = "loss per pixel") -> dict:
        """Validation loss (and its parts) and test squared error per image of each seed's
        model; the first seed's reconstructions and training curves as figures.

        models: {seed: trained model}. shown: what the model is fed for the picture (default
        the test digits); noisy: drawn as a middle row (a denoiser's input).
        """
        m: dict = {"seeds": list(models)}
        scorer = self.digit_scorer()
        for seed, model in models.items():
            val = model.evaluate(ds.x_valid)
            recon = model.reconstruct(ds.x_test)
            se = metrics.squared_error_per_image(ds.x_test, recon)
            # Still the same digit? The classifier's accuracy on the reconstructions.
            read = scorer.accuracy(recon, ds.y_test)
            for key, value in (("val_loss", val["loss"]), ("val_recon", val["recon"]),
                               ("val_penalty", val.get("penalty")), ("test_se_per_image", se),
                               ("recognised", read)):
                if value is not None:
                    m.setdefault(key, []).append(float(value))
            rec = self.fits.get(name, {}).get(seed)
            if rec is not None:
                m.setdefault("train_seconds", []).append(rec.seconds)
                m.setdefault("weights_reused", []).append(rec.reused)
                m["epochs_trained"] = len(rec.history.get("loss", []))
        self.say(f"  {name}: validation loss {verdicts.show(m['val_loss'], 4)}, test squared "
                 f"error per image {verdicts.show(m['test_se_per_image'], 2)}; the digit "
                 f"classifier reads {verdicts.show(m['recognised'])} of the reconstructions "
                 f"as the right digit (the digits themselves: "
                 f"{self.metrics['scorer']['test_accuracy']:.3f}) "
                 f"({verdicts.count_seeds(m['test_se_per_image'])})")
        first = next(iter(models.values()))
        x = ds.x_test[:10] if shown is None else shown[:10]
        self.figure(viz.plot_reconstructions(
            ds.x_test[:10], first.reconstruct(x), self.out / f"{name}_reconstructions.png",
            noisy=None if noisy is None else noisy[:10], title=title))
        rec = self.fits.get(name, {}).get(next(iter(models)))
        if rec is not None:
            self.figure(viz.plot_history(
                _loss_curves(rec.history), self.out / f"{name}_training.png", ylabel=ylabel,
                title=f"{name}: training curves (seed {rec.seed})"))
        self.metrics.setdefault("models", {})[name] = m
        return m

    def code_map(self, name: str, codes: dict, labels, *, title: str, method: str = "tsne",
                 silhouettes: str = "all", picture: bool = True, limits=None,
                 pca_codes=None) -> dict:
        """How well each seed's codes separate the digits.

        codes: {seed: (N, ...) codes of the test digits}. Per seed: 5-fold k-NN accuracy on
        the first ``knn_points`` codes and its most-confused digit pairs; the silhouette of
        the t-SNE map of the first ``map_points`` (every seed; only the first with
        ``silhouettes="first"``; none, and no map, with ``"none"``). The first seed's map is
        drawn (unless ``picture=False``).
        Beside them: k-NN accuracy of PCA codes of the same size (fitted on the training
        images), or of ``pca_codes`` when given.
        """
        labels = np.asarray(labels)
        n_knn, n_map = self.cfg["knn_points"], self.cfg["map_points"]
        m: dict = {"seeds": list(codes), "knn_points": min(n_knn, len(labels)),
                   "map_points": min(n_map, len(labels)), "method": method}
        for i, (seed, c) in enumerate(codes.items()):
            z = np.asarray(backend.to_numpy(c)).reshape(len(c), -1)
            m["code_size"] = int(z.shape[1])
            knn = metrics.knn_report(z[:n_knn], labels[:n_knn], seed=seed)
            m.setdefault("knn_accuracy", []).append(knn["accuracy"])
            m.setdefault("confused_pairs", []).append(knn["confused_pairs"])
            if silhouettes == "all" or (i == 0 and silhouettes == "first"):
                draw = self.out / f"{name}_{'tsne' if method == 'tsne' else 'map'}.png"
                shown = f"{title}\n(seed {seed}, {min(n_map, len(z))} test digits)"
                sil = self._silhouette(z[:n_map], labels[:n_map], seed, method, shown,
                                       draw if i == 0 and picture else None, limits)
                m.setdefault("silhouette", []).append(sil)
        if pca_codes is None and m["code_size"] < 784:
            pca_codes = self.pca(m["code_size"])["codes"]
        if pca_codes is not None:  # on the same folds as each seed's codes
            m["pca_knn_accuracy"] = self.knn(pca_codes, labels, m["seeds"])
        self._say_codes(name, m)
        self.metrics.setdefault("codes", {})[name] = m
        return m

    def knn(self, codes, labels, seeds) -> list[float]:
        """5-fold k-NN accuracy of fixed ``codes`` (PCA's), on each seed's folds."""
        n = self.cfg["knn_points"]
        z = np.asarray(codes)[:n]
        return [metrics.knn_report(z, np.asarray(labels)[:n], seed=s)["accuracy"]
                for s in seeds]

    def _silhouette(self, z, labels, seed, method, title, path, limits) -> float:
        """Silhouette of the 2-D map of ``z`` (drawn to ``path``, or memoized when unseen)."""
        def embed(where):
            emb = viz.plot_latent_map(z, labels, where, method=method, title=title,
                                      max_points=len(z), seed=seed, limits=limits,
                                      max_iter=self.cfg["tsne_iter"])
            return metrics.embedding_silhouette(emb, labels)

        if path is not None:
            self.figure(path)
            return embed(path)
        def unseen():
            with tempfile.TemporaryDirectory() as tmp:
                return embed(Path(tmp) / "map.png")

        return self.cache.memo("silhouette", {"codes": fingerprint(z), "labels": fingerprint(
            labels), "seed": seed, "method": method, "iter": self.cfg["tsne_iter"]}, unseen)

    def _say_codes(self, name: str, m: dict) -> None:
        where = {"tsne": "t-SNE map", "pca": "PCA map", "none": "codes drawn as they are"}
        pca = (f" (PCA-{m['code_size']}: {verdicts.show(m['pca_knn_accuracy'])})"
               if "pca_knn_accuracy" in m else "")
        pairs = ", ".join(f"{a}-{b}" for a, b, _ in m["confused_pairs"][0][:3])
        sil = (f"; silhouette of the {where[m['method']]} {verdicts.show(m['silhouette'])}"
               if "silhouette" in m else "")
        self.say(f"  {name} codes ({m['code_size']} numbers): 5-fold k-NN accuracy "
                 f"{verdicts.show(m['knn_accuracy'])}{pca}{sil}; most confused "
                 f"(seed {m['seeds'][0]}): {pairs}")

    def pca(self, k: int, x_train=None) -> dict:
        """PCA with ``k`` components fitted on ``x_train`` (default: the training digits):
        ``{"pca", "codes" (of the test digits), "se_per_image"}``; memoized."""
        ds = self.data(flat=True)
        x_train = ds.x_train if x_train is None else x_train

        def fit():
            pca, codes, se = metrics.pca_baseline(x_train, ds.x_test, k, seed=self.seed)
            return {"pca": pca, "codes": codes, "se_per_image": se}

        return self.cache.memo("pca", {"k": k, "train": fingerprint(x_train),
                                       "test": fingerprint(ds.x_test), "seed": self.seed}, fit)

    def digit_scorer(self) -> metrics.DigitScorer:
        """A classifier trained on real training digits, to rate generated images; memoized.

        Also records what real test digits score: the baseline every generator is read
        against."""
        if "scorer" in self._data:
            return self._data["scorer"]
        ds = self.data(flat=True)
        n, it = min(self.cfg["scorer_train"], len(ds.x_train)), self.cfg["scorer_iter"]
        scorer = self.cache.memo(
            "scorer", {"x": fingerprint(ds.x_train), "n": n, "iter": it, "seed": self.seed},
            lambda: metrics.DigitScorer(max_iter=it, seed=self.seed).fit(ds.x_train[:n],
                                                                          ds.y_train[:n]))
        real = scorer.score(ds.x_test[:self.n_samples])
        self.metrics["scorer"] = {"train_images": n, "test_accuracy": scorer.accuracy(
            ds.x_test, ds.y_test), "real_test_images": real}
        self.say(f"digit classifier: trained on {n} real digits, test accuracy "
                 f"{self.metrics['scorer']['test_accuracy']:.3f}; {self.n_samples} real test "
                 f"digits score top-class probability {real['mean_top_prob']:.3f}")
        self._data["scorer"] = scorer
        return scorer

    @property
    def n_samples(self) -> int:
        """Generated images per model; at most half the test set (the Fréchet reference)."""
        return min(self.cfg["samples"], len(self.data(flat=True).x_test) // 2)

    def generated(self, name: str, samples: dict) -> dict:
        """Rate each seed's generated images: top-class probability, class entropy, and the
        Fréchet distance to real test digits beside the real-vs-real distance (what real
        digits score at this sample size). samples: {seed: (n_samples, ...) images}."""
        scorer, ds = self.digit_scorer(), self.data(flat=True)
        keys = ("mean_top_prob", "class_entropy", "frechet", "frechet_real_vs_real",
                "frechet_ratio")
        m: dict = {"seeds": list(samples)}
        for seed, x in samples.items():
            s = scorer.score(x, reference=ds.x_test, seed=seed)
            for k in keys:
                m.setdefault(k, []).append(s[k])
            m.setdefault("class_counts", s["class_counts"])
        self.say(f"  {name}: top-class probability {verdicts.show(m['mean_top_prob'])}, "
                 f"Fréchet distance to real digits {verdicts.show(m['frechet'], 1)} (real "
                 f"digits: {verdicts.show(m['frechet_real_vs_real'], 1)}), class entropy "
                 f"{verdicts.show(m['class_entropy'], 2)} bits")
        self.metrics.setdefault("generated", {})[name] = m
        return m

    def verdict(self, what: str, a, b, *, better: str = "higher", names=("a", "b"),
                digits: int = 3) -> str:
        """Print whether the claim ``what`` -- "a is ``better`` than b" -- holds beyond the
        spread over seeds: "holds", "tie" or "does not hold" (verdicts.verdict)."""
        v = verdicts.verdict(a, b, better)
        self.say(f"  claim: {what}: {names[0]} {verdicts.show(a, digits)} vs {names[1]} "
                 f"{verdicts.show(b, digits)} -> {v}" + verdicts.seeds_note(a, b))
        return v

    # -- output ------------------------------------------------------------------------------
    def figure(self, path) -> Path:
        self.figures.append(str(path))
        return Path(path)

    def finish(self) -> dict:
        """Write metrics.json (every number must be finite) and list what was written."""
        self.metrics["seconds"] = time.perf_counter() - self._t0
        self.metrics["figures"] = list(dict.fromkeys(Path(f).name for f in self.figures))
        bad = [k for k, v in _flatten(self.metrics) if isinstance(v, float)
               and not math.isfinite(v)]
        path = atomic_write(self.out / "metrics.json", lambda f: f.write(
            json.dumps(self.metrics, indent=1, default=_jsonable).encode()))
        self.say(f"wrote {len(self.metrics['figures'])} figure(s) and {path.name} into "
                 f"{self.out}/ in {self.metrics['seconds']:.0f} s")
        if bad:
            self.say(f"WARNING: non-finite numbers in metrics: {', '.join(bad)}")
        return self.metrics


def _loss_curves(history: dict) -> dict:
    """The curves worth drawing: loss and val_loss, plus their parts when there is a
    penalty (without one, recon is the loss itself, drawn twice)."""
    keys = ("loss", "val_loss")
    if history.get("penalty"):
        keys += ("recon", "penalty", "val_recon", "val_penalty")
    return {k: history[k] for k in keys if history.get(k)}


_THREAD_LIMITS = []


def _limit_threads(n: int | None) -> None:
    """``n`` threads for BLAS, OpenMP (scikit-learn's t-SNE) and Numba, from now on; None: 1
    for scikit-learn's OpenMP, while training chooses its own (``fit`` applies the library's
    thread policy, scratch_ae/threads.py, which sets BLAS and Numba but not OpenMP)."""
    if n is not None and n < 1:
        raise ValueError(f"--threads must be at least 1, got {n}")
    # threadpoolctl limits only the libraries already loaded: load scikit-learn's OpenMP
    # runtime (t-SNE) and SciPy's BLAS (PCA's SVD) first.
    import scipy.linalg  # noqa: F401
    import sklearn.manifold  # noqa: F401
    from threadpoolctl import threadpool_limits

    # kept alive: the limit holds meanwhile
    _THREAD_LIMITS[:] = [threadpool_limits(limits=n or 1, user_api=None if n else "openmp")]
    if n is not None:  # fit keeps it: set_threads wins over the automatic choice
        set_threads(n, backend_name=backend.get_backend())


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)
    raise TypeError(f"cannot write {type(o).__name__} to metrics.json")


def _flatten(d, prefix=""):
    """("a.b.c", value) pairs of a nested dict/list, for the finiteness check."""
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _flatten(v, f"{prefix}{k}.")
    elif isinstance(d, (list, tuple)):
        for i, v in enumerate(d):
            yield from _flatten(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), (float(d) if isinstance(d, np.floating) else d)


def _subset(ds, n_train, n_valid, n_test):
    """The first n images of each split (a quick run's data)."""
    return data_mod.Dataset(
        x_train=ds.x_train[:n_train], y_train=ds.y_train[:n_train],
        x_valid=ds.x_valid[:n_valid], y_valid=ds.y_valid[:n_valid],
        x_test=ds.x_test[:n_test], y_test=ds.y_test[:n_test],
        name=ds.name, source=ds.source + f" (quick subset {n_train}/{n_valid}/{n_test})")
