"""The object store interface: the only way Heldout code touches storage."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from heldout.errors import IntegrityError, InvalidInput, ObjectNotFound
from heldout.layout import check_key
from heldout.storage.keys import check_sha256


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
        check_key(key)
        expected = check_sha256(sha256)
        if length is not None and length < 0:
            raise InvalidInput(f"invalid length {length} for {key!r}: must be >= 0")
        if isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data)
            if length is not None and length != len(data):
                raise InvalidInput(f"length {length} given but {len(data)} bytes of data passed")
            length = len(data)
        return self._put(key, data, length, content_type=content_type, sha256=expected)

    @abc.abstractmethod
    def _put(self, key: str, data: BinaryIO | bytes, length: int | None, *, content_type: str,
             sha256: str | None) -> ObjectInfo:
        """Store checked arguments: ``bytes`` data has exactly ``length`` bytes, ``sha256`` is
        lower-case hex or None. Stream and hash the data; on a digest other than ``sha256`` store
        nothing and raise (:func:`check_digest`)."""

    def put_if_absent(
        self, key: str, data: bytes, *, content_type: str = "application/json"
    ) -> bool:
        """Atomically create ``key`` only if it does not exist. Returns False if it existed."""
        return self._put_if_absent(check_key(key), bytes(data), content_type=content_type)

    @abc.abstractmethod
    def _put_if_absent(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Create a checked ``key`` atomically unless it exists."""

    def put_file(self, key: str, path: str, *, content_type: str = "application/octet-stream",
                 sha256: str | None = None) -> ObjectInfo:
        """Upload a local file."""
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

    @abc.abstractmethod
    def ensure(self) -> None:
        """Create the bucket (folder) if it is missing; tidy what crashed writers left."""


def check_digest(key: str, expected: str | None, actual: str) -> None:
    """Raise IntegrityError when an expected sha256 was given and the data has another."""
    if expected is not None and actual != expected:
        raise IntegrityError(
            f"sha256 mismatch for {key!r}: expected {expected}, the data has {actual}",
            key=key, expected=expected, actual=actual,
        )


def check_range(key: str, offset: int, length: int | None) -> None:
    """Refuse a negative offset or length for a ranged read."""
    if offset < 0 or (length is not None and length < 0):
        raise InvalidInput(f"invalid range offset={offset} length={length} for {key!r}")


@dataclass(frozen=True)
class Stores:
    """The public store (dataset versions) and the private one (held-out labels, submissions)."""

    public: ObjectStore
    private: ObjectStore

    def ensure(self) -> None:
        """Create missing buckets (folders), then ping each store.

        Raises StoreUnavailable when a store cannot be reached or the credentials may not
        create a missing bucket.
        """
        for store in (self.public, self.private) if self.private is not self.public else (
                self.public,):
            store.ensure()
            store.ping()
