"""Build the public and private stores from plain configuration (no settings object here)."""

from __future__ import annotations

from pathlib import Path

from heldout.storage.base import Stores
from heldout.storage.local import LocalStore
from heldout.storage.s3 import S3Config, S3Store


def local_stores(root: Path, public_bucket: str, private_bucket: str) -> Stores:
    """``{root}/{public_bucket}`` and ``{root}/{private_bucket}`` folders (no I/O)."""
    return Stores(public=LocalStore(root / public_bucket, public_bucket),
                  private=LocalStore(root / private_bucket, private_bucket))


def s3_stores(config: S3Config, public_bucket: str, private_bucket: str) -> Stores:
    """The two buckets on one shared client (no I/O)."""
    client, signer = config.client(), config.signer()
    return Stores(public=S3Store.from_config(config, public_bucket, client, signer),
                  private=S3Store.from_config(config, private_bucket, client, signer))


def ensure_buckets(stores: Stores) -> None:
    """Create missing bucket folders / S3 buckets, then ping both (see ``Stores.ensure``)."""
    stores.ensure()
