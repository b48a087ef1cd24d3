"""01 stacked autoencoder: 784-100-30-100-784 on MNIST, its reconstructions and t-SNE map.

Seed section "Stacked AutoEncoder". Géron's model: SELU hidden layers, a 30-unit code, a
sigmoid output, binary cross-entropy, plain SGD. The 30-d codes of 5,000 test digits are mapped
to 2-D with t-SNE; the k-NN accuracy of those codes is printed next to PCA's with 30 components.

Open next: scratch_ae/layers/dense.py (forward and backward of one layer), then
scratch_ae/train.py (the five-line training step) and scratch_ae/models/zoo.py (`stacked`).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/01_stacked.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("01_stacked", __doc__, argv)
    ds = run.data(flat=True)
    t = run.trained("stacked")
    run.describe_model(t, title="stacked AE: test digits (top) and reconstructions")
    run.code_map("stacked", t.model.encode(ds.x_test), ds.y_test,
                 title="stacked AE: t-SNE of the 30-d codes of test digits")
    return run.finish()


if __name__ == "__main__":
    main()
