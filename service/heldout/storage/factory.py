"""Build the public and private stores from Settings."""

from __future__ import annotations

from heldout.config import Settings
from heldout.storage.base import ObjectStore, Stores
from heldout.storage.local import LocalStore
from heldout.storage.s3 import S3Store, client_from_settings, signer_from_settings


def build_stores(settings: Settings) -> Stores:
    """The public and private stores for ``settings`` (no I/O; see ``ensure_buckets``).

    Local: ``{data_dir}/store/{public_bucket}`` and ``.../{private_bucket}``. S3: the two
    buckets on one shared client.
    """
    if settings.storage_backend == "local":
        root = settings.local_store_root
        return Stores(
            public=LocalStore(root / settings.public_bucket, settings.public_bucket),
            private=LocalStore(root / settings.private_bucket, settings.private_bucket),
        )
    client, signer = client_from_settings(settings), signer_from_settings(settings)
    return Stores(
        public=S3Store.from_settings(settings, settings.public_bucket, client, signer),
        private=S3Store.from_settings(settings, settings.private_bucket, client, signer),
    )


def _ensure(store: ObjectStore) -> None:
    if isinstance(store, LocalStore):
        store.ensure()
    elif isinstance(store, S3Store):
        store.ensure_bucket()
    store.ping()


def ensure_buckets(stores: Stores) -> None:
    """Create missing bucket folders / S3 buckets, then ping both.

    Raises StoreUnavailable when the store cannot be reached or the credentials may not
    create a missing bucket.
    """
    _ensure(stores.public)
    if stores.private is not stores.public:
        _ensure(stores.private)
