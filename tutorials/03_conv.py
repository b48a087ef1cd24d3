"""03 convolutional autoencoder: Conv 16/32/64 + max-pooling down to a (64, 3, 3) code, and back.

Seed section "Using CNNs to Build AutoEncoder". The seed says of its t-SNE map: "The clusters
appear to be extremely clear. The 4s are fairly near to the 9s ... 9 and 7 appear close." Here
that becomes numbers: the silhouette of the map, the k-NN accuracy of the 576-number codes (next
to PCA's with 576 components) and the digit pairs k-NN confuses most.

Open next: scratch_ae/layers/conv.py (Conv2D on im2col; Conv2DTranspose as its adjoint),
scratch_ae/layers/pooling.py, and scratch_ae/kernels/ (the same loops, Numba-compiled).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/03_conv.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("03_conv", __doc__, argv)
    ds = run.data(flat=False)
    t = run.trained("conv")
    run.describe_model(t, title="conv AE: test digits (top) and reconstructions")
    run.code_map("conv", t.model.encode(ds.x_test), ds.y_test,
                 title="conv AE: t-SNE of the (64, 3, 3) codes of test digits")
    return run.finish()


if __name__ == "__main__":
    main()
