"""Object storage: one interface, a local-folder and an S3 implementation."""

from heldout.storage.base import ObjectInfo, ObjectStore, Stores

__all__ = ["ObjectInfo", "ObjectStore", "Stores"]
