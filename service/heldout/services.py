"""Wire the long-lived parts (stores, catalog, repository) from one Settings object."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from heldout.catalog.db import Catalog
from heldout.config import Settings
from heldout.repository import DatasetRepository
from heldout.storage.base import Stores
from heldout.storage.factory import local_stores, s3_stores
from heldout.storage.s3 import S3Config


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


def s3_config(settings: Settings) -> S3Config:
    """The S3 part of ``settings``, as the storage layer takes it."""
    return S3Config(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
        public_endpoint=settings.s3_public_endpoint,
        public_secure=settings.s3_public_secure,
        part_size=settings.s3_part_size,
        connect_timeout=settings.s3_connect_timeout,
        read_timeout=settings.s3_read_timeout,
        retries=settings.s3_retries,
    )


def build_stores(settings: Settings) -> Stores:
    """The public and private stores for ``settings`` (no I/O; see ``Stores.ensure``).

    Local: ``{data_dir}/store/{public_bucket}`` and ``.../{private_bucket}``. S3: the two
    buckets on one shared client.
    """
    if settings.storage_backend == "local":
        return local_stores(settings.local_store_root, settings.public_bucket,
                            settings.private_bucket)
    return s3_stores(s3_config(settings), settings.public_bucket, settings.private_bucket)


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
