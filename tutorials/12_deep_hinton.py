"""12 the deep autoencoder of Hinton & Salakhutdinov (2006): 784-1000-500-250-30, two ways.

Past the seed, which says pretraining is no longer needed: "the development of quicker
convergence algorithms has eliminated the necessity and value of pretraining". The paper
pretrained its deep autoencoder layer by layer (with RBMs) and reports a test squared error per
image of 3.00, against 13.87 for PCA with 30 components. Here the same 784-1000-500-250-30
network is trained twice with Adam, 40 epochs with the learning rate decayed along a cosine
(``lr_schedule="cosine"`` in the zoo's recipe; at a constant rate, 10 epochs reached 4.31): once
from random weights, once after greedy layer-wise pretraining (shallow autoencoders, one level
at a time, as in Géron's chapter 17), and both errors are printed next to 3.00 and 13.87.

Open next: scratch_ae/models/greedy.py (train_greedy), `deep` in scratch_ae/models/zoo.py,
and scratch_ae/optim.py (Adam, cosine_schedule).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/12_deep_hinton.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from scratch_ae import io, metrics, viz  # noqa: E402
from scratch_ae.models import zoo  # noqa: E402
from scratch_ae.models.greedy import train_greedy  # noqa: E402
from tutorials import common  # noqa: E402

PAPER = {"autoencoder": 3.00, "pca30": 13.87}
SIZES = (1000, 500, 250, 30)


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--pretrain-epochs", type=int, default=1,
                   help="epochs of each shallow autoencoder in greedy pretraining (default 1)")
    run = common.start("12_deep_hinton", __doc__, argv, p)
    ds = run.data(flat=True)
    pre_epochs = run.args.pretrain_epochs
    stack_path = run.weights_path(f"deep-greedy{pre_epochs}")
    fresh = []  # set once this run has pretrained (so --retrain pretrains only once)

    def pretrain(model):
        """Greedy layer-wise pretraining, then copy the stack's weights into ``model``."""
        if not stack_path.exists() or (run.args.retrain and not fresh):
            run.say(f"greedy pretraining: one shallow AE per level {SIZES}, {pre_epochs} "
                    "epoch(s) each")
            stack = train_greedy(ds.x_train, ds.x_valid, sizes=SIZES, epochs=pre_epochs,
                                 finetune_epochs=0, seed=run.args.seed, verbose=True,
                                 max_steps=common.QUICK["steps"] if run.quick else None).model
            io.save_model(stack, stack_path, meta={"pretrained": "train_greedy",
                                                   "sizes": SIZES, "epochs": pre_epochs})
            fresh.append(True)
        # Same parameter names (encoder.0.W ...) as zoo.deep; the stack's SELU on the code
        # is dropped, as the paper's code layer is linear.
        io.load_weights(model, stack_path)

    direct = run.trained("deep")
    pre = run.trained("deep", tag=f"greedy{pre_epochs}", init=pretrain)
    stack = zoo.build("deep")  # the pretrained stack alone, before any fine-tuning
    pretrain(stack)
    pca, pca_codes, pca_se = metrics.pca_baseline(ds.x_train, ds.x_test, 30, seed=run.args.seed)

    result = {"paper_autoencoder_se": PAPER["autoencoder"], "paper_pca30_se": PAPER["pca30"],
              "pca30_se": pca_se, "pretrain_epochs_per_level": pre_epochs}
    n = common.QUICK["map_points"] if run.quick else common.FULL["map_points"]
    result["pca30_knn_accuracy"] = metrics.knn_report(
        pca_codes[:n], ds.y_test[:n], seed=run.args.seed)["accuracy"]
    for key, t in (("deep_direct", direct), ("deep_pretrained", pre)):
        m = run.describe_model(t, key=key, title=f"{key}: test digits and reconstructions")
        m["knn_accuracy"] = metrics.knn_report(t.model.encode(ds.x_test[:n]), ds.y_test[:n],
                                               seed=run.args.seed)["accuracy"]
        result[key] = {"se_per_image": m["test_se_per_image"], "knn_accuracy": m["knn_accuracy"],
                       "epochs": m["epochs_trained"], "at_or_below_paper":
                       bool(m["test_se_per_image"] <= PAPER["autoencoder"])}
    result["pretrained_only_se"] = metrics.squared_error_per_image(
        ds.x_test, stack.reconstruct(ds.x_test))
    run.metrics["hinton"] = result
    run.say(f"  test squared error per image: random init + Adam "
            f"{result['deep_direct']['se_per_image']:.2f}, greedy pretraining + Adam "
            f"{result['deep_pretrained']['se_per_image']:.2f} (pretraining alone "
            f"{result['pretrained_only_se']:.2f}); paper: autoencoder 3.00, PCA-30 13.87; "
            f"our PCA-30 {pca_se:.2f}")

    x = ds.x_test[:8]
    run.figure(viz.plot_sample_grids(
        {"test digits": x,
         # PCA's reconstructions leave [0, 1]; clipped for the picture only (SE is unclipped).
         f"PCA-30\nSE {pca_se:.2f}": np.clip(pca.inverse_transform(pca_codes[:8]), 0, 1),
         f"random init\nSE {result['deep_direct']['se_per_image']:.2f}":
             direct.model.reconstruct(x),
         f"pretrained\nSE {result['deep_pretrained']['se_per_image']:.2f}":
             pre.model.reconstruct(x)},
        run.out / "deep_vs_pca.png", ncols=2,
        title="reconstructions from 30 numbers (SE: test squared error per image; paper 3.00)"))
    run.figure(viz.plot_lines(
        {f"{key} {part}": t.history[part] for key, t in (("random init", direct),
                                                          ("pretrained", pre))
         for part in ("loss", "val_loss") if t.history.get(part)},
        run.out / "deep_training.png", xlabel="epoch", ylabel="BCE per pixel",
        title="784-1000-500-250-30: training from random weights vs after pretraining"))
    return run.finish()


if __name__ == "__main__":
    main()
