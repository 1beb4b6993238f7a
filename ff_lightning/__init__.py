"""ff-lightning: Forward-Forward experiments with Lightning and Hydra."""

__version__ = "0.1.0"
