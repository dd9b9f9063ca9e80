"""Heldout: an open repository of AI training data and a benchmark service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The one place the version is written (pyproject.toml reads it): no importlib.metadata
# lookup at start-up, which costs more than the rest of `heldout --version`.
__version__ = "0.1.0"

if TYPE_CHECKING:
    from heldout.client import Client, load_dataset

_LAZY = {"Client": "heldout.client", "load_dataset": "heldout.client"}


def __getattr__(name: str) -> Any:
    """``heldout.Client`` and ``heldout.load_dataset``, imported on first use (cheap import)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'heldout' has no attribute {name!r}")


__all__ = ["Client", "__version__", "load_dataset"]
