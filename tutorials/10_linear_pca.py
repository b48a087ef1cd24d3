"""10 a linear autoencoder learns PCA's subspace; a nonlinear one beats PCA.

Past the seed. An autoencoder with no activations, 784-30-784, trained with squared error, can
at best reconstruct like PCA with 30 components -- and its optimum spans the same subspace as
PCA's first 30 directions (Baldi & Hornik, 1989), though not the same basis. Two numbers check
it: its test reconstruction error next to PCA's (within 1% is the goal), and the principal
angles between its decoder's 30 directions and PCA's (near 0 degrees: the same subspace). Then
the stacked AE of tutorial 01 (SELU, same 30-d code; reused when already trained) shows what
nonlinearity buys.

Open next: `linear` in scratch_ae/models/zoo.py, scratch_ae/losses.py (MSE) and
`principal_angles` in scratch_ae/metrics.py.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/10_linear_pca.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from scratch_ae import backend, metrics, viz  # noqa: E402
from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("10_linear_pca", __doc__, argv)
    ds = run.data(flat=True)
    lin = run.trained("linear")
    run.describe_model(lin, title="linear AE 784-30-784: test digits and reconstructions")
    k = lin.model.encoder.layers[0].out_features  # the code size, 30
    pca, pca_codes, pca_se = metrics.pca_baseline(ds.x_train, ds.x_test, k, seed=run.args.seed)
    lin_se = run.metrics["models"]["linear"]["test_se_per_image"]
    # The decoder maps a code to x_hat = z @ W + b: the rows of W (k, 784) span its images.
    w_dec = backend.to_numpy(lin.model.decoder.layers[0].params["W"])
    w_enc = backend.to_numpy(lin.model.encoder.layers[0].params["W"])
    angles = {"decoder": metrics.principal_angles(w_dec.T, pca.components_.T),
              "encoder": metrics.principal_angles(w_enc, pca.components_.T)}
    stacked = run.trained("stacked")
    stacked_se = metrics.squared_error_per_image(ds.x_test, stacked.model.reconstruct(ds.x_test))
    gap = (lin_se - pca_se) / pca_se
    run.metrics["linear_vs_pca"] = {
        "code_size": k, "pca_se_per_image": pca_se, "linear_se_per_image": lin_se,
        "relative_gap": gap, "within_1_percent": bool(abs(gap) <= 0.01),
        "principal_angles_deg": {key: a.tolist() for key, a in angles.items()},
        "max_angle_deg": {key: float(a.max()) for key, a in angles.items()},
        "median_angle_deg": {key: float(sorted(a)[len(a) // 2]) for key, a in angles.items()},
        "stacked_se_per_image": stacked_se,
    }
    run.say(f"  test squared error per image: PCA-{k} {pca_se:.3f}, linear AE {lin_se:.3f} "
            f"({100 * gap:+.2f}%), stacked AE (nonlinear, same code size) {stacked_se:.3f}")
    run.say(f"  principal angles, linear AE decoder vs PCA: median "
            f"{run.metrics['linear_vs_pca']['median_angle_deg']['decoder']:.2f} deg, "
            f"largest {angles['decoder'].max():.2f} deg")
    run.figure(viz.plot_lines(
        {f"decoder rows vs PCA-{k}": angles["decoder"],
         f"encoder columns vs PCA-{k}": angles["encoder"]},
        run.out / "principal_angles.png", xlabel="principal angle index (smallest first)",
        ylabel="angle (degrees)", title=f"linear AE vs PCA: angles between the {k}-d subspaces"))
    x = ds.x_test[:8]
    run.figure(viz.plot_sample_grids(
        # PCA's and the linear AE's outputs leave [0, 1]: clipped for the picture only.
        {"test digits": x, f"PCA-{k}\nSE {pca_se:.2f}": np.clip(
            pca.inverse_transform(pca_codes[:8]), 0, 1),
         f"linear AE\nSE {lin_se:.2f}": np.clip(lin.model.reconstruct(x), 0, 1),
         f"stacked (SELU)\nSE {stacked_se:.2f}": stacked.model.reconstruct(x)},
        run.out / "pca_linear_stacked.png", ncols=2,
        title=f"reconstructions from {k} numbers (SE: test squared error per image)"))
    run.code_map("linear", lin.model.encode(ds.x_test), ds.y_test, pca_codes=pca_codes,
                 title="linear AE: t-SNE of the 30-d codes of test digits")
    return run.finish()


if __name__ == "__main__":
    main()
