"""08 a regular autoencoder as a generator: decode codes drawn like the training codes.

Seed section "Generative Modelling". Take the stacked AE of tutorial 01 (reused when already
trained), store the mean and standard deviation of each code unit over the training digits,
draw new codes from N(mean, std**2) and decode them. The seed expects images that "do not appear
natural" but capture "the broad strokes". A digit classifier trained on real pixels rates them:
mean top-class probability (real test digits score near 1) and the entropy of the predicted
classes (3.32 bits when all ten digits are equally common). A full-covariance Gaussian, which
keeps the correlations between code units, is shown beside the seed's per-unit one.

Open next: scratch_ae/models/generator.py (LatentGaussianGenerator), and scratch_ae/metrics.py
(DigitScorer).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/08_generator.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_ae import viz  # noqa: E402
from scratch_ae.models.generator import LatentGaussianGenerator  # noqa: E402
from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("08_generator", __doc__, argv)
    ds = run.data(flat=True)
    ae = run.trained("stacked").model
    scorer = run.digit_scorer()
    grids, scores = {}, {}
    for key, full_cov, label in (("diagonal", False, "codes ~ N(mean, std^2) per unit (seed)"),
                                 ("full_cov", True, "codes ~ N(mean, Cov)")):
        gen = LatentGaussianGenerator(ae, full_cov=full_cov).fit(ds.x_train)
        samples = gen.sample(run.n_samples, seed=run.args.seed)
        scores[key] = s = scorer.score(samples)
        run.say(f"  stacked AE generator, {label}: top-class probability "
                f"{s['mean_top_prob']:.3f}, class entropy {s['class_entropy']:.2f} bits")
        grids[f"{label}\ntop-class prob. {s['mean_top_prob']:.2f}"] = samples[:40]
    run.metrics["generated"] = scores
    run.figure(viz.plot_sample_grids(grids, run.out / "generated.png", ncols=8,
                                     title="stacked AE as a generator: decoded random codes"))
    return run.finish()


if __name__ == "__main__":
    main()
