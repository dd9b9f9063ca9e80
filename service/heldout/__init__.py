"""Heldout: an open repository of AI training data and a benchmark service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("heldout")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
