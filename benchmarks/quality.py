"""Quality report: train every zoo model with its recipe on MNIST and compare with references.

    SCRATCH_AE_DATA=/path/to/data python benchmarks/quality.py                 # full recipes
    python benchmarks/quality.py --epochs-scale 0.1 --models stacked,vae       # a quick look

For each model: validation loss and its reconstruction / penalty parts (in inference mode, as
Keras reports ``val_loss``), per-pixel MSE on validation, the mean code activation (sparse
models), train time and epochs; per-image squared error on the MNIST *test* set beside a
scikit-learn PCA with as many components as the model has code units. Where the issue gives a
reference (Géron's Keras numbers), a pass/fail column says whether we are no worse than it by
more than 2%.

Writes benchmarks/results/quality.json and quality.md; results of models not run this time are
kept from the previous JSON, so a long run can be done in pieces (``--models``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_ae import backend, data  # noqa: E402
from scratch_ae.layers import ActivityL1, KLSparsity  # noqa: E402
from scratch_ae.models import VAE, zoo  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TOLERANCE = 0.02

# Dense models first: they are fast, so a run cut short still reports most of the zoo.
ORDER = ["stacked", "tied", "sparse_l1", "sparse_kl", "denoise_gauss", "denoise_dropout",
         "vae", "vae2d", "conv", "sparse_conv", "conv_wide"]

# The reference numbers (Géron, HOML 2e ch. 17, Keras): metric -> value. The VAE's
# are in Géron's scaling: per-pixel mean BCE + KL/784.
REFERENCES = {
    "stacked": {"val_recon": 0.0979},
    "conv": {"val_recon": 0.0748},
    "sparse_l1": {"val_recon": 0.1705, "val_loss": 0.1760},
    "denoise_gauss": {"val_recon": 0.1142},
    "denoise_dropout": {"val_recon": 0.1174},
    "vae": {"val_loss": 0.1416, "val_recon": 0.1188, "val_penalty": 0.0228},
}
# Which reference decides pass/fail (the VAE's split between BCE and KL may differ).
CHECKED = {"stacked": ["val_recon"], "conv": ["val_recon"],
           "sparse_l1": ["val_recon", "val_loss"], "denoise_gauss": ["val_recon"],
           "denoise_dropout": ["val_recon"], "vae": ["val_loss"]}
PCA30_REFERENCE = 13.87  # per-image squared error of 30-component PCA on the MNIST test set


def code_size(model, flat: bool) -> int:
    """Numbers per code: the VAE's latent size, else the encoder's output size."""
    if isinstance(model, VAE):
        return model.latent_dim
    return int(np.prod(model.encoder.output_shape((784,) if flat else (1, 28, 28))))


def regularizer(model):
    for layer in model.all_sublayers():
        if isinstance(layer, (ActivityL1, KLSparsity)):
            return layer
    return None


class PCABaseline:
    """One scikit-learn PCA on the training images; k components = its first k rows."""

    def __init__(self, x_train, k_max):
        from sklearn.decomposition import PCA

        t0 = time.perf_counter()
        self.pca = PCA(n_components=k_max, svd_solver="full").fit(x_train.astype(np.float64))
        self.seconds = time.perf_counter() - t0
        self.cache = {}

    def per_image_se(self, x_test, k):
        if k not in self.cache:
            x = x_test.astype(np.float64)
            V = self.pca.components_[:k]
            xc = x - self.pca.mean_
            rec = self.pca.mean_ + (xc @ V.T) @ V
            self.cache[k] = float(((x - rec) ** 2).sum(axis=1).mean())
        return self.cache[k]


def run_model(name, ds_flat, ds_img, args, pca):
    recipe = zoo.get_recipe(name)
    be = args.backend if args.backend != "auto" else ("numpy" if recipe.flat else "numba")
    backend.set_backend(be)
    backend.seed(args.seed)
    ds = ds_flat if recipe.flat else ds_img
    model = recipe.build()
    epochs = max(1, round(recipe.epochs * args.epochs_scale))
    print(f"== {name}: {epochs} epochs (recipe {recipe.epochs}), backend {be}, "
          f"{model.n_params():,} params", flush=True)
    t0 = time.perf_counter()
    model, hist = recipe.train(ds.x_train, ds.x_valid, model=model, epochs=epochs,
                               seed=args.seed, verbose=args.verbose)
    seconds = time.perf_counter() - t0

    backend.seed(args.seed)  # the VAE samples during evaluation: make it repeatable
    val = model.evaluate(ds.x_valid)
    rec_valid = model.reconstruct(ds.x_valid)
    rec_test = model.reconstruct(ds.x_test)
    flat_valid = ds.x_valid.reshape(len(ds.x_valid), -1)
    flat_test = ds.x_test.reshape(len(ds.x_test), -1)
    mse_valid = float(((rec_valid.reshape(len(flat_valid), -1) - flat_valid) ** 2).mean())
    se_test = float(((rec_test.reshape(len(flat_test), -1) - flat_test) ** 2).sum(axis=1).mean())
    k = code_size(model, recipe.flat)
    out = {
        "model": name, "backend": be, "epochs": epochs, "recipe_epochs": recipe.epochs,
        "full_recipe": epochs == recipe.epochs, "batch_size": recipe.batch_size,
        "optimizer": repr(recipe.make_optimizer()), "params": model.n_params(),
        "train_seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / epochs, 1),
        "val_loss": val["loss"], "val_recon": val["recon"], "val_penalty": val.get("penalty", 0.0),
        "val_mse_per_pixel": mse_valid,
        "test_se_per_image": se_test, "code_size": k,
        "pca_test_se_per_image": pca.per_image_se(ds_flat.x_test, k),
        "history": hist.to_dict(),
    }
    reg = regularizer(model)
    if reg is not None:
        codes = model.encode(ds.x_valid)
        out["mean_code_activation"] = float(codes.mean())
        out["mean_abs_code_activation"] = float(np.abs(codes).mean())
    refs = REFERENCES.get(name, {})
    out["reference"] = refs
    checks = {m: out[m] <= refs[m] * (1 + TOLERANCE) for m in CHECKED.get(name, [])}
    if name == "stacked":
        checks["beats_pca30_13.87"] = se_test < PCA30_REFERENCE
    out["checks"] = checks
    out["pass"] = all(checks.values()) if checks else None
    print(f"   val loss {out['val_loss']:.4f} (recon {out['val_recon']:.4f}, penalty "
          f"{out['val_penalty']:.4f}); test SE/image {se_test:.2f} vs PCA-{k} "
          f"{out['pca_test_se_per_image']:.2f}; {seconds:.0f} s; checks {checks}", flush=True)
    return out


def _fmt(v, nd=4):
    return "" if v is None else f"{v:.{nd}f}"


def write_markdown(results, meta, path):
    lines = [
        "# Quality report: the autoencoder family on MNIST",
        "",
        f"Last run: `{meta['command']}` on {meta['date']} ({meta['machine']}); each row's "
        f"own run is listed under the table. Training on the first 55,000 MNIST training "
        f"images, validation on the last 5,000, "
        f"per-image squared error on the 10,000 test images. Losses are Keras-style "
        f"(per-pixel mean BCE); the VAE's penalty is KL/784 (Géron's scaling). "
        f"Pass = no worse than the reference by more than {TOLERANCE:.0%}.",
        "",
        "| model | backend | epochs (recipe) | val loss | recon | penalty | ref | pass | "
        "val MSE/pixel | mean code | test SE/image | PCA SE/image (k) | train s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ORDER:
        r = results.get(name)
        if r is None:
            lines.append(f"| {name} | not run | | | | | | | | | | | |")
            continue
        ref = ", ".join(f"{m.replace('val_', '')} {v}" for m, v in r["reference"].items())
        if name == "stacked":
            ref += f"; PCA-30 SE {PCA30_REFERENCE}"
        verdict = {True: "pass", False: "FAIL", None: "-"}[r["pass"]]
        mc = r.get("mean_code_activation")
        lines.append(
            f"| {name} | {r['backend']} | {r['epochs']} ({r['recipe_epochs']}) | "
            f"{_fmt(r['val_loss'])} | {_fmt(r['val_recon'])} | {_fmt(r['val_penalty'])} | "
            f"{ref} | {verdict} | {_fmt(r['val_mse_per_pixel'], 5)} | "
            f"{_fmt(mc) if mc is not None else ''} | {r['test_se_per_image']:.2f} | "
            f"{r['pca_test_se_per_image']:.2f} ({r['code_size']}) | {r['train_seconds']:.0f} |")
    runs = {}
    for name in ORDER:
        if name in results:
            run = results[name].get("run", {})
            key = f"`{run.get('command', '?')}` on {run.get('date', '?')}"
            runs.setdefault(key, []).append(name)
    lines += ["", "Rows by the run that produced them:"]
    lines += [f"- {key}: {', '.join(names)}" for key, names in runs.items()]
    partial = [n for n in ORDER if n in results and not results[n]["full_recipe"]]
    lines += ["", "Models trained for fewer epochs than their recipe (epochs-scale < 1): "
              + (", ".join(partial) if partial else "none") + "."]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(ORDER), help="comma-separated zoo names")
    p.add_argument("--epochs-scale", type=float, default=1.0)
    p.add_argument("--backend", default="auto", choices=["auto", *backend.BACKENDS],
                   help="auto: numpy for dense models, numba for conv models")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (1 is fastest for these small matrices on a shared CPU)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        zoo.get_recipe(n)

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.threads, user_api="blas")
    ds_flat = data.load_mnist(flat=True)
    ds_img = data.load_mnist(flat=False) if any(not zoo.get_recipe(n).flat for n in names) \
        else None
    ks = [code_size(zoo.get_recipe(n).build(), zoo.get_recipe(n).flat) for n in names]
    pca = PCABaseline(ds_flat.x_train, max(*ks, 30))
    print(f"PCA fitted in {pca.seconds:.1f} s; PCA-30 test SE/image "
          f"{pca.per_image_se(ds_flat.x_test, 30):.2f} (reference {PCA30_REFERENCE})", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jpath = out / "quality.json"
    old = json.loads(jpath.read_text()) if jpath.exists() else {}
    previous = old.get("results", {})
    for r in previous.values():  # rows from before runs were recorded per row
        r.setdefault("run", {k: old.get("meta", {}).get(k) for k in ("command", "date")})
    meta = {"command": "python benchmarks/quality.py " + " ".join(argv or sys.argv[1:]),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
                       f"(shared), BLAS threads {args.threads}",
            "pca30_test_se_per_image": pca.per_image_se(ds_flat.x_test, 30)}
    results = dict(previous)
    for n in names:
        results[n] = run_model(n, ds_flat, ds_img, args, pca)
        results[n]["run"] = {"command": meta["command"], "date": meta["date"]}
        # Written after every model, so an interrupted run keeps what it finished.
        jpath.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        write_markdown(results, meta, out / "quality.md")
    print((out / "quality.md").read_text())


if __name__ == "__main__":
    main()
