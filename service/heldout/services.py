"""Wire the long-lived parts (stores, catalog, repository) from one Settings object."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from heldout.catalog.db import Catalog
from heldout.config import Settings
from heldout.repository import DatasetRepository
from heldout.storage.base import Stores
from heldout.storage.factory import build_stores


@dataclass
class Services:
    """What a process (API, worker, CLI command) needs, built once and passed around."""

    settings: Settings
    stores: Stores
    catalog: Catalog
    repository: DatasetRepository
    # Set when a submission is queued, so an in-process scoring worker starts at once.
    scoring_wakeup: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        """Release database connections."""
        self.catalog.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Build stores, catalog and repository; apply catalog migrations unless told not to."""
    stores = build_stores(settings)
    catalog = Catalog(settings.resolved_database_url)
    if migrate:
        catalog.upgrade()
    repository = DatasetRepository(
        stores,
        catalog,
        shard_target_bytes=settings.shard_target_bytes,
        draft_ttl_seconds=settings.draft_ttl_seconds,
        base_url=settings.public_base_url.rstrip("/") + "/api/v1",
    )
    return Services(settings, stores, catalog, repository)
