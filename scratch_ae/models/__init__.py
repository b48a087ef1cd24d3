"""Models: ``Sequential``, ``Autoencoder``, ``VAE``; ``zoo`` builds every model of the tutorial."""

from . import zoo
from .autoencoder import Autoencoder
from .generator import LatentGaussianGenerator
from .sequential import Model, Sequential
from .vae import VAE

__all__ = ["VAE", "Autoencoder", "LatentGaussianGenerator", "Model", "Sequential", "zoo"]
