"""Plumbing of operator commands: settings and services for this machine's catalog and store.

An operator command never creates a catalog as a side effect: only ``db upgrade``, ``serve``
and ``datasets build`` may (``create=True``); the others say where they looked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from heldout.cli.common import fail
from heldout.config import Settings
from heldout.errors import NotFound
from heldout.services import Services, build_services
from heldout.storage.factory import ensure_buckets


def load_settings() -> Settings:
    """Settings from the environment, or a clean exit naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        fail("invalid-configuration", f"invalid configuration: {exc}", code=2)
        raise  # unreachable


def missing_catalog(settings: Settings) -> Path | None:
    """The SQLite file or store folder this machine is configured to use, if it is missing."""
    database = settings.resolved_database_url
    if database.startswith("sqlite:///"):
        path = Path(database.removeprefix("sqlite:///"))
        if not path.exists():
            return path
    if settings.storage_backend == "local" and not settings.local_store_root.exists():
        return settings.local_store_root.resolve()
    return None


def require_catalog(settings: Settings) -> None:
    """Refuse to run against a catalog that does not exist, naming where we looked."""
    missing = missing_catalog(settings)
    if missing is not None:
        raise NotFound(
            f"no Heldout catalog here: {missing} does not exist. Run this where the server "
            "keeps its data, point HELDOUT_DATA_DIR (or HELDOUT_DATABASE_URL and "
            "HELDOUT_STORAGE_*) at it, use a client command with --url for a running server, "
            "or create a new catalog with `heldout db upgrade`"
        )


@contextmanager
def open_services(*, create: bool = False) -> Iterator[Services]:
    """Services for one operator command, closed at the end; ``create`` lets it make a new
    catalog (``db upgrade``, ``serve``, ``datasets build``)."""
    settings = load_settings()
    if not create:
        require_catalog(settings)
    services = build_services(settings, migrate=True)
    try:
        if create and settings.storage_backend == "local":
            ensure_buckets(services.stores)  # folders only
        yield services
    finally:
        services.close()
