"""04 another convolutional autoencoder, with different filters: 5x5/32, 3x3/64, 3x3/64.

Seed section "Another Convolutional Autoencoder (With Different Filters)". The code keeps
tutorial 03's shape, (64, 3, 3), so any difference comes from the filters, not from a bigger
bottleneck; compare this run's numbers with 03's (tutorials/README.md puts them side by side).

Open next: `conv_wide` in scratch_ae/models/zoo.py, and scratch_ae/layers/conv.py for what a
5x5 kernel changes in im2col (only KH and KW).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/04_conv_wide.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("04_conv_wide", __doc__, argv)
    ds = run.data(flat=False)
    t = run.trained("conv_wide")
    run.describe_model(t, title="conv AE, wider filters: test digits and reconstructions")
    run.code_map("conv_wide", t.model.encode(ds.x_test), ds.y_test,
                 title="conv AE with 5x5/32, 3x3/64, 3x3/64 filters: t-SNE of test codes")
    return run.finish()


if __name__ == "__main__":
    main()
