"""The HTTP API: ``heldout.api.app.create_app(settings)`` builds the FastAPI application.

``heldout.api.create_app`` is imported on first use, so that the Python client can use the
response models of :mod:`heldout.api.schemas` without importing the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heldout.api.app import create_app


def __getattr__(name: str) -> Any:
    """``heldout.api.create_app``, imported when first asked for."""
    if name == "create_app":
        import importlib

        value = importlib.import_module("heldout.api.app").create_app
        globals()[name] = value
        return value
    raise AttributeError(f"module 'heldout.api' has no attribute {name!r}")


__all__ = ["create_app"]
