"""Models: ``Sequential``, ``Autoencoder`` (and, in ``zoo``, every model of the tutorial)."""

from .autoencoder import Autoencoder
from .sequential import Model, Sequential

__all__ = ["Autoencoder", "Model", "Sequential"]
