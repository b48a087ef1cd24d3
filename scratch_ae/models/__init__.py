"""Models: ``Sequential``, ``Autoencoder`` (and, in ``zoo``, every model of the tutorial)."""

from .autoencoder import Autoencoder
from .generator import LatentGaussianGenerator
from .sequential import Model, Sequential
from .vae import VAE

__all__ = ["VAE", "Autoencoder", "LatentGaussianGenerator", "Model", "Sequential"]
