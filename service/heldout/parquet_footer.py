"""Read a Parquet file's footer (row count, schema) from an object store with two ranged GETs."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from heldout.errors import IntegrityError
from heldout.storage.base import ObjectStore

MAGIC = b"PAR1"


def read_footer(store: ObjectStore, key: str, size: int | None = None) -> pq.FileMetaData:
    """The Parquet metadata of ``key`` without downloading the file."""
    if size is None:
        size = store.stat(key).size
    if size < 12:
        raise IntegrityError(f"{key}: {size} bytes is too small to be a Parquet file")
    tail = store.get_range(key, size - 8, 8)
    if tail[4:] != MAGIC:
        raise IntegrityError(f"{key}: not a Parquet file (no PAR1 footer)")
    footer_length = int.from_bytes(tail[:4], "little")
    if footer_length + 8 > size - 4:
        raise IntegrityError(f"{key}: corrupt Parquet footer (length {footer_length})")
    footer = store.get_range(key, size - 8 - footer_length, footer_length + 8)
    try:
        return pq.read_metadata(pa.BufferReader(footer))
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"{key}: corrupt Parquet footer: {exc}") from exc
