"""02 sparse autoencoders: an L1 activity penalty on 300 sigmoid codes, and the KL variant.

Seed section "Sparse AutoEncoder". Both models have a *wide* 300-unit code; a penalty keeps
most of it near zero: L1 (weight * mean |h|) pushes every activation down, the KL penalty pushes
each unit's mean activation towards 0.1. The histogram of code activations shows the
difference; t-SNE maps and k-NN accuracies say whether the codes still separate the digits.

Open next: scratch_ae/layers/regularizers.py (ActivityL1 and KLSparsity: their penalty and the
gradient they add), then `sparse_l1` / `sparse_kl` in scratch_ae/models/zoo.py.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/02_sparse.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_ae import metrics, viz  # noqa: E402
from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("02_sparse", __doc__, argv)
    ds = run.data(flat=True)
    activations = {}
    for name, what in (("sparse_l1", "L1 penalty 1e-3"), ("sparse_kl", "KL penalty, target 0.1")):
        t = run.trained(name)
        run.describe_model(t, title=f"{name} ({what}): test digits and reconstructions")
        codes = t.model.encode(ds.x_test)
        sparsity = metrics.code_sparsity(codes)
        run.metrics["models"][name]["code"] = sparsity
        run.say(f"  {name}: mean code activation {sparsity['mean_activation']:.4f}, "
                f"{100 * sparsity['fraction_near_zero']:.1f}% of activations below "
                f"{sparsity['threshold']}")
        run.code_map(name, codes, ds.y_test,
                     title=f"{name}: t-SNE of the 300-d sparse codes of test digits")
        activations[f"{name} ({what})"] = codes
    run.figure(viz.plot_histograms(
        activations, run.out / "code_activations.png", xlabel="code activation (sigmoid unit)",
        logy=True, title="sparse codes: activations of the 300 code units on test digits"))
    return run.finish()


if __name__ == "__main__":
    main()
