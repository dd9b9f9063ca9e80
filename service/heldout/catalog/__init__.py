"""The catalog: a database index of dataset versions and everything that changes."""

from heldout.catalog import benchmark_models  # registers the benchmark tables on Base
from heldout.catalog.db import Catalog

__all__ = ["Catalog", "benchmark_models"]
