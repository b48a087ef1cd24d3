"""05 sparse convolutional autoencoder: tutorial 03's model with a ReLU code and an L1 penalty.

Seed section "Sparse Autoencoder - Using Convolutions". The histogram of code activations sets
its code beside the plain conv AE's (03, reused when already trained): the penalty piles the
activations up at exactly zero, which only a ReLU can reach.

Open next: `sparse_conv` in scratch_ae/models/zoo.py (why the code's SELU became a ReLU), and
scratch_ae/layers/regularizers.py (ActivityL1).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/05_sparse_conv.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_ae import metrics, viz  # noqa: E402
from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("05_sparse_conv", __doc__, argv)
    ds = run.data(flat=False)
    t = run.trained("sparse_conv")
    run.describe_model(t, title="sparse conv AE: test digits and reconstructions")
    codes = t.model.encode(ds.x_test)
    run.code_map("sparse_conv", codes, ds.y_test,
                 title="sparse conv AE: t-SNE of the (64, 3, 3) ReLU codes of test digits")
    plain = run.trained("conv").model.encode(ds.x_test)
    for name, c in (("sparse_conv", codes), ("conv", plain)):
        run.metrics.setdefault("code_sparsity", {})[name] = s = metrics.code_sparsity(c)
        run.say(f"  {name}: {100 * s['fraction_near_zero']:.1f}% of code activations below "
                f"{s['threshold']} (mean |h| {s['mean_abs_activation']:.3f})")
    run.figure(viz.plot_histograms(
        {"sparse conv (ReLU + L1 1e-4)": codes, "conv (SELU, tutorial 03)": plain},
        run.out / "code_activations.png", xlabel="code activation", logy=True,
        title="code activations on test digits: sparse conv vs plain conv"))
    return run.finish()


if __name__ == "__main__":
    main()
