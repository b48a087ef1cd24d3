"""06 denoising autoencoder with Gaussian noise: the stacked AE, fed x + N(0, 0.2**2) in training.

Seed section "Denoising Using Random Noises". The figure shows clean test digits, the noisy
versions the model is given, and what it makes of them. The numbers compare it with the plain
stacked AE of tutorial 01 (reused when already trained) on the same noisy digits, and the k-NN
accuracy of both codes: the seed says denoising "enabled the neural network to correctly encode
just the most critical aspects of the inputs".

Open next: scratch_ae/layers/noise.py (GaussianNoise: noise in training, identity otherwise;
its backward is the identity), then `denoise_gauss` in scratch_ae/models/zoo.py.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tutorials/06_denoise_gauss.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutorials import common  # noqa: E402


def main(argv=None):
    run = common.start("06_denoise_gauss", __doc__, argv)
    common.denoising(run, "denoise_gauss", "Gaussian-noise (std 0.2)")
    return run.finish()


if __name__ == "__main__":
    main()
