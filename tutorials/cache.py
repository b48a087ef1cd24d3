"""The weight cache: a model whose ``fit`` reuses the weights of an identical earlier run.

Training the gallery's models takes most of an hour. Re-running a lesson to redraw a figure
should not train them again, and a lesson that uses another lesson's model (08, 09 and 11 use
01's stacked autoencoder) should get exactly that model. So a lesson builds its model through
``run.cached`` (tutorials/common.py) and then trains it as usual::

    model = run.cached("stacked", stacked_autoencoder, seed)
    history = model.fit(x_train, epochs=20, batch_size=32, optimizer=SGD(lr=1.5), ...)

Before training, that ``fit`` hashes everything that decides the trained weights: the
architecture (``spec.describe``), the initial weights, the backend's random state (dropout and
noise draws), the training and validation data, and every argument of ``fit`` (optimizer and
its settings, loss, epochs, batch size, learning-rate schedule, seed, max_steps). When an
earlier run saved weights under that hash, it loads them and returns the saved history instead
of training (``--retrain`` trains anyway). Change anything -- one layer, a learning rate -- and
the hash changes, so a changed lesson never gets stale weights.

The same folder also keeps numbers that depend only on their inputs and are slow to recompute
(PCA fits, the digit classifier, t-SNE silhouettes): :meth:`WeightCache.memo`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import pickle
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratch_ae import backend, io, spec
from scratch_ae.losses import describe_loss, get_loss
from scratch_ae.optim import get_optimizer
from scratch_ae.train import History
from scratch_ae.train import fit as _library_fit
from scratch_ae.utils import atomic_write

# fit's own defaults, so that fit(X, epochs=5) and fit(X, epochs=5, batch_size=32) hash alike.
FIT_DEFAULTS = {k: p.default for k, p in inspect.signature(_library_fit).parameters.items()
                if p.default is not inspect.Parameter.empty}
# Arguments that change what is printed or saved on the side, never the weights.
NOT_HASHED = ("verbose", "callbacks", "checkpoint_dir", "resume", "checkpoint_meta")


@dataclass
class FitRecord:
    """One call of a cached ``fit``: what it trained (or reloaded) and how."""

    name: str
    seed: int
    history: dict
    seconds: float
    reused: bool
    weights: str
    plan: dict       # describe_fit: loss, optimizer, epochs, batch size, schedule, ...
    spec_sha1: str   # the architecture's fingerprint (spec.describe, hashed)


_FINGERPRINTS: dict = {}  # id(array) -> (weak reference, digest): hash each dataset once


def fingerprint(a) -> str | None:
    """A digest of an array's dtype, shape and values (None for None)."""
    if a is None:
        return None
    hit = _FINGERPRINTS.get(id(a))
    if hit is not None and hit[0]() is a:
        return hit[1]
    h = hashlib.blake2b(digest_size=16)
    host = np.ascontiguousarray(backend.to_numpy(a))
    h.update(f"{host.dtype}{host.shape}".encode())
    h.update(host.data)
    digest = h.hexdigest()
    try:
        _FINGERPRINTS[id(a)] = (weakref.ref(a), digest)
    except TypeError:  # not weak-referenceable: just not remembered
        pass
    return digest


def describe_optimizer(optimizer) -> dict:
    """``{"type": "SGD", "lr": 1.5, "momentum": 0.0, ...}``: its class and settings."""
    opt = get_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
    settings = {k: v for k, v in vars(opt).items()
                if isinstance(v, (bool, int, float, str)) and k != "iterations"}
    return {"type": type(opt).__name__, **settings}


def describe_fit(model, kwargs: dict) -> dict:
    """What a ``fit(**kwargs)`` call trains with, as JSON: loss, optimizer and its settings,
    epochs, batch size, the learning rate of each epoch (None: constant), seed, max_steps."""
    args = {**FIT_DEFAULTS, **kwargs}
    epochs = args["epochs"]
    schedule = args["lr_schedule"]
    optimizer = args["optimizer"]
    return {
        "loss": describe_loss(get_loss(args["loss"] or model.loss or "mse")),
        "optimizer": None if optimizer is None else describe_optimizer(optimizer),
        "epochs": epochs, "batch_size": args["batch_size"],
        "lr_schedule": None if schedule is None else [float(schedule(e)) for e in range(epochs)],
        "seed": args["seed"], "shuffle": args["shuffle"], "max_steps": args["max_steps"],
    }


def spec_sha1(model) -> str:
    """The architecture's fingerprint: sha1 of ``spec.describe(model)`` as sorted JSON."""
    return hashlib.sha1(json.dumps(spec.describe(model), sort_keys=True).encode()).hexdigest()


def _weights_digest(model) -> str:
    h = hashlib.blake2b(digest_size=16)
    for key, layer, name in model.named_parameters():
        h.update(key.encode())
        h.update(np.ascontiguousarray(backend.to_numpy(layer.params[name])).data)
    return h.hexdigest()


def _hash(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


class WeightCache:
    """Trained weights (and memoized numbers) kept in ``folder``, keyed by what made them."""

    def __init__(self, folder, retrain: bool = False, say=print):
        self.folder, self.retrain, self.say = Path(folder), bool(retrain), say

    def key(self, model, X, Y, kwargs: dict, plan: dict) -> str:
        """The hash of everything that decides the weights ``model.fit(X, Y, **kwargs)`` gives."""
        valid = kwargs.get("validation_data")
        valid = list(valid) if isinstance(valid, (tuple, list)) else [valid]
        return _hash({
            "plan": plan, "spec": spec_sha1(model), "initial_weights": _weights_digest(model),
            "rng": backend.rng(np).bit_generator.state, "x": fingerprint(X),
            "y": fingerprint(Y), "valid": [fingerprint(v) for v in valid],
            "device": "gpu" if backend.get_backend() == "cupy" else "cpu",
            "hashed": sorted(k for k in kwargs if k not in NOT_HASHED),
        })

    def wrap(self, model, name: str, seed: int, on_fit):
        """Give ``model`` the cached ``fit`` of the module docstring; ``on_fit(FitRecord)`` is
        told about every call (trained or reloaded). Returns ``model``."""
        library_fit = model.fit
        architecture = spec_sha1(model)

        def fit(X, Y=None, **kwargs):
            plan = describe_fit(model, kwargs)
            digest = self.key(model, X, Y, kwargs, plan)
            path = self.folder / f"{name}-{digest}.npz"
            found = None if self.retrain else self._find(digest)
            reused = found is not None
            if reused:
                io.load_weights(model, found)
                saved = json.loads(found.with_suffix(".json").read_text())
                history, seconds = History.from_dict(saved["history"]), saved["seconds"]
                self.say(f"  {name} (seed {seed}): reusing {found} (trained in "
                         f"{seconds:.0f} s by an earlier run; --retrain to train again)")
            else:
                t0 = time.perf_counter()
                history = library_fit(X, Y, **kwargs)
                seconds = time.perf_counter() - t0
                self._save(model, path, history, seconds, plan)
                found = path
            on_fit(FitRecord(name, seed, history.to_dict(), seconds, reused, str(found), plan,
                             architecture))
            return history

        model.fit = fit  # this model only: the class's fit is untouched
        return model

    def _find(self, digest: str) -> Path | None:
        """Weights saved under ``digest`` by any lesson (06 and 07 share a control model)."""
        for path in sorted(self.folder.glob(f"*-{digest}.npz")):
            if path.with_suffix(".json").exists():
                return path
        return None

    def _save(self, model, path: Path, history, seconds: float, plan: dict) -> None:
        io.save_model(model, path, meta={"plan": plan})
        record = {"seconds": seconds, "history": history.to_dict(), "plan": plan}
        atomic_write(path.with_suffix(".json"),
                     lambda f: f.write(json.dumps(record, default=float).encode()))

    def memo(self, kind: str, ident: dict, compute):
        """``compute()``, or its result saved by an earlier call with the same ``ident``.

        For deterministic numbers only (PCA, the digit classifier, a t-SNE silhouette): they
        are reused even with --retrain, which is about trained weights.
        """
        import sklearn

        digest = _hash({**ident, "sklearn": sklearn.__version__})
        path = self.folder / "memo" / f"{kind}-{digest}.pkl"
        if path.exists():
            with open(path, "rb") as f:
                return pickle.load(f)
        value = compute()
        atomic_write(path, lambda f: pickle.dump(value, f))
        return value
