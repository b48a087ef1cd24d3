"""What every tutorial script shares: arguments, data, load-or-train, figures, metrics.json.

A tutorial script reads as the steps of its section; the plumbing lives here, once:

* :func:`start` parses ``--backend --dataset --epochs --out --seed --quick --retrain`` (plus
  ``--weights-dir`` and any tutorial-specific options), selects the backend and seeds it;
* :meth:`Run.data` loads MNIST or Fashion-MNIST (a small subset with ``--quick``);
* :meth:`Run.trained` builds a zoo model and trains it by its recipe, or reloads the weights
  an earlier run saved for the same model, recipe, data and seed (``--retrain`` forces training);
* :meth:`Run.describe_model` / :meth:`Run.code_map` compute the standard numbers (validation
  loss and its parts, per-pixel MSE, squared error per image, 5-fold k-NN accuracy of the codes
  next to PCA's at the same code size, silhouette of the t-SNE map) and draw the figures;
* :meth:`Run.finish` writes ``metrics.json`` into ``--out`` and says what was written.

Nothing here defines a model: models come from :mod:`scratch_ae.models.zoo`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from scratch_ae import backend, io, metrics, set_threads, viz
from scratch_ae import data as data_mod
from scratch_ae.models import zoo
from scratch_ae.utils import atomic_write

# --quick: small enough that every tutorial runs in seconds on 2 cores, on the real data.
QUICK = {"train": 2000, "valid": 300, "test": 400, "steps": 25, "map_points": 300,
         "tsne_iter": 300, "scorer_train": 2000, "scorer_iter": 10, "samples": 100}
FULL = {"map_points": 5000, "tsne_iter": 1000, "scorer_train": 20000, "scorer_iter": 15,
        "samples": 1000}


def parser(doc: str) -> argparse.ArgumentParser:
    """The options every tutorial takes; a script may add its own before calling start()."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=backend.BACKENDS, default=None,
                   help=f"numpy | numba | cupy (default: ${backend.ENV_VAR} or numpy)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for every model trained here (default: each recipe's)")
    p.add_argument("--out", default=None, help="folder for figures and metrics.json "
                   "(default: runs/tutorials/<script name>)")
    p.add_argument("--weights-dir", default="runs/weights",
                   help="where trained weights are kept and reused (default: runs/weights)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['train']} training images and {QUICK['steps']} steps per "
                   "model, small maps: a smoke test in seconds, not results")
    p.add_argument("--retrain", action="store_true",
                   help="train even when weights from an earlier identical run exist")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for everything: training (BLAS, Numba) and scikit-learn's "
                   "OpenMP (t-SNE). Default: training picks its own (scratch_ae/threads.py: "
                   "free cores, a timed trial), scikit-learn 1 thread")
    return p


def start(name: str, doc: str, argv=None, p: argparse.ArgumentParser | None = None) -> Run:
    """Parse ``argv`` (default: sys.argv), select the backend, seed it; return a :class:`Run`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = (p or parser(doc)).parse_args(argv)
    backend.set_backend(args.backend or backend.get_backend())
    backend.seed(args.seed)
    _limit_threads(args.threads)
    run = Run(name, args, command=" ".join(["python", f"tutorials/{name}.py", *argv]))
    run.say(f"== {name}: {doc.strip().splitlines()[0]}")
    run.say(f"backend {backend.get_backend()}, dataset {args.dataset}, seed {args.seed}"
            + (", QUICK mode (a smoke test: numbers are not results)" if args.quick else ""))
    return run


@dataclass
class Trained:
    """A model from :meth:`Run.trained`, with where it came from."""

    name: str
    model: object
    history: dict
    weights: str
    seconds: float
    reused: bool


class Run:
    """One tutorial run: its options, its output folder and the metrics it collects."""

    def __init__(self, name: str, args, command: str = ""):
        self.name, self.args = name, args
        self.quick = bool(args.quick)
        self.out = Path(args.out or Path("runs") / "tutorials" / name)
        self.out.mkdir(parents=True, exist_ok=True)
        self.metrics: dict = {
            "tutorial": name, "dataset": args.dataset, "backend": backend.get_backend(),
            "seed": args.seed, "quick": self.quick, "command": command,
        }
        self.figures: list[str] = []
        self._data: dict = {}
        self._t0 = time.perf_counter()

    # -- printing ------------------------------------------------------------------------------
    @staticmethod
    def say(msg: str) -> None:
        print(msg, flush=True)

    # -- data ------------------------------------------------------------------------------------
    def data(self, flat: bool = True) -> data_mod.Dataset:
        """The dataset, flat (N, 784) or images (N, 1, 28, 28); a subset with --quick."""
        if flat not in self._data:
            if self._data:  # the same arrays reshaped: no second read of the files
                other = next(iter(self._data.values()))
                shape = (-1, 784) if flat else (-1, 1, 28, 28)
                parts = {k: getattr(other, k).reshape(shape) for k in
                         ("x_train", "x_valid", "x_test")}
                ds = data_mod.Dataset(**parts, y_train=other.y_train, y_valid=other.y_valid,
                                      y_test=other.y_test, name=other.name, source=other.source)
            else:
                ds, _ = data_mod.load_dataset(self.args.dataset, flat=flat)
                if self.quick:
                    ds = _subset(ds, QUICK["train"], QUICK["valid"], QUICK["test"])
                self.say(f"data: {ds.name} from {ds.source}: {len(ds.x_train)} train, "
                         f"{len(ds.x_valid)} validation, {len(ds.x_test)} test images")
            self._data[flat] = ds
        return self._data[flat]

    # -- models ----------------------------------------------------------------------------------
    def _key(self, recipe, loss: str, epochs: int, tag: str, n_train: int) -> str:
        """Everything that decides the trained weights, hashed: model, recipe, data, seed."""
        opt_name, opt_kw = recipe.optimizer
        spec = {"model": recipe.name, "loss": loss, "optimizer": [opt_name, opt_kw],
                "epochs": epochs, "batch": recipe.batch_size, "dataset": self.args.dataset,
                "n_train": n_train, "tag": tag, "seed": self.args.seed,
                "steps": QUICK["steps"] if self.quick else None,
                "backend_family": "gpu" if backend.get_backend() == "cupy" else "cpu"}
        if recipe.lr_schedule != "constant":  # (only then: keeps the other models' keys)
            spec["lr_schedule"] = recipe.lr_schedule
        digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
        return f"{recipe.name}{'-' + tag if tag else ''}-{self.args.dataset}-{digest}"

    def trained(self, name: str, *, x_train=None, x_valid=None, tag: str = "",
                init=None, epochs: int | None = None) -> Trained:
        """Zoo model ``name`` trained by its recipe (or reloaded from an identical earlier run).

        x_train / x_valid default to the run's data (flat or images, as the recipe needs);
        pass a different training set with a ``tag`` naming it (e.g. "no8"). ``init(model)``,
        called only when training is needed, prepares the fresh model first (e.g. loads
        pretrained weights); give such a run its own ``tag`` too.
        """
        recipe = zoo.get_recipe(name)
        ds = self.data(flat=recipe.flat)
        x_train = ds.x_train if x_train is None else x_train
        x_valid = ds.x_valid if x_valid is None else x_valid
        epochs = epochs or self.args.epochs or recipe.epochs
        if self.quick:
            epochs = 1
        model = recipe.build()
        key = self._key(recipe, str(model.loss), epochs, tag, len(x_train))
        path = Path(self.args.weights_dir) / f"{key}.npz"
        hist_path = path.with_suffix(".json")
        label = name + (f" ({tag})" if tag else "")
        if path.exists() and hist_path.exists() and not self.args.retrain:
            if backend.get_backend() == "cupy":
                model.to("cupy")
            io.load_weights(model, path)
            saved = json.loads(hist_path.read_text())
            self.say(f"model {label}: reusing {path} (trained {saved['seconds']:.0f} s earlier; "
                     "--retrain to train again)")
            return Trained(name, model, saved["history"], str(path), saved["seconds"], True)
        if init is not None:
            init(model)
        self.say(f"model {label}: {recipe.summary}, {model.n_params():,} parameters, "
                 f"{len(x_train)} training images"
                 + (f", at most {QUICK['steps']} steps" if self.quick else ""))
        t0 = time.perf_counter()
        model, history = recipe.train(x_train, x_valid, model=model, epochs=epochs,
                                      say=lambda line: self.say(f"  {line}"),
                                      seed=self.args.seed,
                                      max_steps=QUICK["steps"] if self.quick else None)
        seconds = time.perf_counter() - t0
        io.save_model(model, path, meta={"model": name, "key": key, "epochs": epochs})
        hist = history.to_dict()
        atomic_write(hist_path, lambda f: f.write(json.dumps(
            {"key": key, "seconds": seconds, "history": hist}).encode()))
        self.say(f"  trained in {seconds:.1f} s; weights in {path}")
        return Trained(name, model, hist, str(path), seconds, False)

    # -- numbers ---------------------------------------------------------------------------------
    def describe_model(self, t: Trained, *, title: str | None = None, x_valid=None,
                       recon_input=None, noisy=None, key: str | None = None) -> dict:
        """Validation loss and its parts, per-pixel MSE, test squared error per image; the
        reconstruction and training-curve figures. Stored under metrics["models"][key]
        (default: the model's name).

        recon_input: what the model is fed for the picture (default the test originals; a
        denoiser gets the ``noisy`` images, drawn as a middle row).
        """
        ds = self.data(flat=zoo.get_recipe(t.name).flat)
        key = key or t.name
        x_valid = ds.x_valid if x_valid is None else x_valid
        model = t.model
        val = model.evaluate(x_valid)
        recon = model.reconstruct(ds.x_test)
        se = metrics.squared_error_per_image(ds.x_test, recon)
        m = {
            "val_loss": val["loss"], "val_recon": val["recon"],
            **({"val_penalty": val["penalty"]} if "penalty" in val else {}),
            "test_mse_per_pixel": se / np.prod(ds.x_test.shape[1:]),
            "test_se_per_image": se,
            "train_seconds": t.seconds, "weights_reused": t.reused,
            "epochs_trained": len(t.history.get("loss", [])),
        }
        self.say(f"  {key}: validation loss {val['loss']:.4f}"
                 + (f" (recon {val['recon']:.4f} + penalty {val['penalty']:.4f})"
                    if "penalty" in val else "")
                 + f"; test squared error per image {se:.2f}")
        n = 10
        shown = ds.x_test[:n] if recon_input is None else recon_input[:n]
        self.figure(viz.plot_reconstructions(
            ds.x_test[:n], model.reconstruct(shown), self.out / f"{key}_reconstructions.png",
            noisy=noisy, title=title or f"{key}: test digits and reconstructions"))
        hist = {k: v for k, v in t.history.items() if k != "seconds"}
        if hist.get("loss"):
            self.figure(viz.plot_history(hist, self.out / f"{key}_training.png",
                                         title=f"{key}: training curves"))
        self.metrics.setdefault("models", {})[key] = m
        return m

    def code_map(self, key: str, codes, labels, *, title: str, method: str = "tsne",
                 pca_codes=None) -> dict:
        """t-SNE map of codes (first ``map_points`` test images) coloured by label, its
        silhouette, the codes' 5-fold k-NN accuracy and most-confused digit pairs, and the same
        k-NN accuracy for PCA codes of the same size (fitted on the training images).
        """
        n = QUICK["map_points"] if self.quick else FULL["map_points"]
        codes = np.asarray(codes)[:n].reshape(min(n, len(codes)), -1)
        labels = np.asarray(labels)[:n]
        path = self.out / f"{key}_{'tsne' if method == 'tsne' else 'map'}.png"
        emb = viz.plot_latent_map(codes, labels, path, method=method, title=title,
                                  max_points=n, seed=self.args.seed,
                                  max_iter=(QUICK if self.quick else FULL)["tsne_iter"])
        self.figure(path)
        knn = metrics.knn_report(codes, labels, seed=self.args.seed)
        m = {"code_size": int(codes.shape[1]), "map_points": len(codes),
             "silhouette": metrics.embedding_silhouette(emb, labels),
             "knn_accuracy": knn["accuracy"], "confused_pairs": knn["confused_pairs"]}
        if pca_codes is None and codes.shape[1] < 784:
            ds = self.data(flat=True)
            _, pca_codes, _ = metrics.pca_baseline(ds.x_train, ds.x_test, codes.shape[1],
                                                   seed=self.args.seed)
        if pca_codes is not None:
            m["pca_knn_accuracy"] = metrics.knn_report(
                np.asarray(pca_codes)[:n], labels, seed=self.args.seed)["accuracy"]
        self.say(f"  {key} codes ({m['code_size']}-d, {len(codes)} test images): 5-fold k-NN "
                 f"accuracy {m['knn_accuracy']:.3f}"
                 + (f" (PCA-{m['code_size']}: {m['pca_knn_accuracy']:.3f})"
                    if "pca_knn_accuracy" in m else "")
                 + f"; silhouette of the {method} map {m['silhouette']:.3f}; most confused: "
                 + ", ".join(f"{a}-{b}" for a, b, _ in knn["confused_pairs"][:3]))
        self.metrics.setdefault("codes", {})[key] = m
        return m

    def digit_scorer(self) -> metrics.DigitScorer:
        """A classifier trained on real training pixels, to rate generated images."""
        if "scorer" not in self._data:
            ds = self.data(flat=True)
            n = QUICK["scorer_train"] if self.quick else FULL["scorer_train"]
            it = QUICK["scorer_iter"] if self.quick else FULL["scorer_iter"]
            scorer = metrics.DigitScorer(max_iter=it, seed=self.args.seed).fit(
                ds.x_train[:n], ds.y_train[:n])
            acc = scorer.accuracy(ds.x_test, ds.y_test)
            real = scorer.score(ds.x_test[:self.n_samples])
            self.say(f"digit scorer: MLP on {n} real training images, test accuracy {acc:.3f}; "
                     f"real test digits score {real['mean_top_prob']:.3f} top-class probability, "
                     f"class entropy {real['class_entropy']:.2f} bits")
            self.metrics["scorer"] = {"train_images": n, "test_accuracy": acc,
                                      "real_test_images": real}
            self._data["scorer"] = scorer
        return self._data["scorer"]

    def weights_path(self, what: str) -> Path:
        """Where to keep extra weights (e.g. a pretrained stack) of this data and seed."""
        stem = f"{what}-{self.args.dataset}-s{self.args.seed}" + ("-quick" if self.quick else "")
        return Path(self.args.weights_dir) / f"{stem}.npz"

    @property
    def n_samples(self) -> int:
        return QUICK["samples"] if self.quick else FULL["samples"]

    # -- output ----------------------------------------------------------------------------------
    def figure(self, path) -> Path:
        self.figures.append(str(path))
        return Path(path)

    def finish(self) -> dict:
        """Write metrics.json (all numbers must be finite) and list what was written."""
        self.metrics["seconds"] = time.perf_counter() - self._t0
        self.metrics["figures"] = [Path(f).name for f in self.figures]
        bad = [k for k, v in _flatten(self.metrics) if isinstance(v, float) and not
               math.isfinite(v)]
        path = atomic_write(self.out / "metrics.json", lambda f: f.write(
            json.dumps(self.metrics, indent=2, default=_jsonable).encode()))
        self.say(f"wrote {len(self.figures)} figure(s) and {path} into {self.out}/ "
                 f"in {self.metrics['seconds']:.0f} s")
        if bad:
            self.say(f"WARNING: non-finite numbers in metrics: {', '.join(bad)}")
        return self.metrics


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




def denoising(run: Run, name: str, what: str) -> dict:
    """Tutorials 06 and 07: a denoising AE against the plain stacked AE (tutorial 01).

    The corrupted test digits come from the model's own first layer (GaussianNoise or Dropout,
    which only corrupts in training mode), so they are exactly the kind of input it trained on.
    Numbers: how well the denoiser and the plain AE clean the *same* corrupted digits (squared
    error against the clean ones), and both codes' k-NN accuracy on clean test digits.
    """
    ds = run.data(flat=True)
    t = run.trained(name)
    corrupt = t.model.encoder.layers[0]
    noisy = backend.to_numpy(corrupt.forward(ds.x_test, training=True))
    run.describe_model(t, recon_input=noisy, noisy=noisy,
                       title=f"{name}: test digits, {what} input, reconstruction")
    plain = run.trained("stacked").model
    n = QUICK["map_points"] if run.quick else FULL["map_points"]
    result = {}
    for key, model in ((name, t.model), ("stacked", plain)):
        result[key] = {
            "se_per_image_from_corrupted": metrics.squared_error_per_image(
                ds.x_test, model.reconstruct(noisy)),
            "se_per_image_from_clean": metrics.squared_error_per_image(
                ds.x_test, model.reconstruct(ds.x_test)),
            "knn_accuracy_clean": metrics.knn_report(
                model.encode(ds.x_test[:n]), ds.y_test[:n], seed=run.args.seed)["accuracy"],
        }
        run.say(f"  {key}: from {what} inputs, squared error per image against the clean "
                f"digits {result[key]['se_per_image_from_corrupted']:.2f}; k-NN accuracy "
                f"of its codes {result[key]['knn_accuracy_clean']:.3f}")
    run.metrics["denoising"] = result
    run.code_map(name, t.model.encode(ds.x_test), ds.y_test,
                 title=f"{name}: t-SNE of the 30-d codes of (clean) test digits")
    return result
