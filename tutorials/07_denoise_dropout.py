"""07 denoising autoencoder with dropout: half the input pixels zeroed at random in training.

Seed section "Denoising Using Dropout". The middle row is what the model sees (inverted dropout:
the kept pixels are doubled, so the expected input is unchanged). The seed's claim: "Denoising
Autoencoders improved the differentiation between clusters" -- compare the k-NN accuracy and
the silhouette here with tutorial 01's (tutorials/README.md has the table).

Open next: scratch_ae/layers/noise.py (Dropout: the mask is drawn in forward and reused by
backward), then `denoise_dropout` in scratch_ae/models/zoo.py.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/07_denoise_dropout.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("07_denoise_dropout", __doc__, argv)
    common.denoising(run, "denoise_dropout", "dropout (rate 0.5)")
    return run.finish()


if __name__ == "__main__":
    main()
