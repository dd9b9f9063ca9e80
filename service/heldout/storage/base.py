"""The object store interface: the only way Heldout code touches storage."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one object."""

    key: str
    size: int
    sha256: str | None
    last_modified: datetime | None = None
    content_type: str | None = None


class ObjectStore(abc.ABC):
    """One bucket (or folder) of immutable-by-convention objects addressed by ``/``-separated keys.

    Keys are validated: no empty segments, no ``.``/``..`` segments, no leading ``/``, no
    backslashes or NUL bytes. Every write is all-or-nothing: a failed or interrupted write
    leaves no visible object. Errors are typed (``heldout.errors``): a missing object raises
    ``ObjectNotFound``, an unreachable backend ``StoreUnavailable``.
    """

    name: str

    @abc.abstractmethod
    def put(
        self,
        key: str,
        data: BinaryIO | bytes,
        length: int | None = None,
        *,
        content_type: str = "application/octet-stream",
        sha256: str | None = None,
    ) -> ObjectInfo:
        """Write ``data`` (bytes or a readable stream; ``length`` may be unknown) to ``key``.

        The sha256 is computed while streaming and returned in the ObjectInfo; when the caller
        passes an expected ``sha256`` and the bytes differ, nothing is stored and
        ``IntegrityError`` is raised. Overwrites an existing object.
        """

    @abc.abstractmethod
    def put_if_absent(
        self, key: str, data: bytes, *, content_type: str = "application/json"
    ) -> bool:
        """Atomically create ``key`` only if it does not exist. Returns False if it existed."""

    def put_file(self, key: str, path: str, *, content_type: str = "application/octet-stream",
                 sha256: str | None = None) -> ObjectInfo:
        """Upload a local file."""
        import os

        with open(path, "rb") as handle:
            return self.put(key, handle, os.path.getsize(path), content_type=content_type,
                            sha256=sha256)

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the whole object (caller closes it)."""

    def get_bytes(self, key: str) -> bytes:
        """The whole object in memory (for small objects such as manifests)."""
        with self.open(key) as stream:
            return stream.read()

    @abc.abstractmethod
    def get_range(self, key: str, offset: int, length: int | None = None) -> bytes:
        """Bytes ``[offset, offset+length)`` of the object (to the end if ``length`` is None)."""

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size and sha256 of ``key``; raises ObjectNotFound."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        from heldout.errors import ObjectNotFound

        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, recursively, in key order."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``; returns how many were removed."""
        keys = [info.key for info in self.list(prefix)]
        for key in keys:
            self.delete(key)
        return len(keys)

    @abc.abstractmethod
    def presigned_get_url(self, key: str, expires_seconds: int) -> str | None:
        """A time-limited GET URL, or None when the backend cannot make one (local folder)."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the backend answers."""


@dataclass(frozen=True)
class Stores:
    """The public store (dataset versions) and the private one (held-out labels, submissions)."""

    public: ObjectStore
    private: ObjectStore
