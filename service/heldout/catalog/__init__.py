"""The catalog: a database index of dataset versions and everything that changes."""

from heldout.catalog.db import Catalog

__all__ = ["Catalog"]
