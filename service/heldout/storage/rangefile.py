"""A seekable, read-only file over a store object: every read is a ranged GET (so pyarrow
reads only the footer and the column chunks it needs)."""

from __future__ import annotations

import io
from typing import Any

from heldout.storage.base import ObjectStore

__all__ = ["RangeFile"]


class RangeFile(io.RawIOBase):
    """A seekable read-only file over a store object, every read a ranged GET."""

    def __init__(self, store: ObjectStore, key: str, size: int) -> None:
        self._store, self._key, self._size, self._pos = store, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        if size <= 0 or self._pos >= self._size:
            return b""
        data = self._store.get_range(self._key, self._pos, min(size, self._size - self._pos))
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
