"""Read a Parquet file's footer (row count, schema) from an object store with two ranged GETs,
and the ``id`` column of an untrusted file with bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from heldout.errors import IntegrityError
from heldout.storage.base import ObjectStore
from heldout.storage.rangefile import RangeFile

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


# --- untrusted files: bounded reads of the ``id`` column -------------------------------------
MAX_ID_BYTES = 256
ID_BATCH_ROWS = 4096
ID_CHUNK_SLACK = 64 * 1024  # page headers, levels, a dictionary of short ids
MAX_HELD_OUT_ROWS = 20_000_000


StoreFile = RangeFile  # the one ranged-GET file over a stored object (storage.rangefile)


def check_id_footer(meta: pq.FileMetaData, key: str) -> int:
    """Refuse an ``id`` column that could not hold short text ids; returns its index.

    From the footer alone: a string (BYTE_ARRAY) column, statistics (when present) of at
    most ``MAX_ID_BYTES`` bytes, and column chunks no bigger uncompressed than that many
    bytes per row (a dictionary of one huge value repeated is refused here).
    """
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if "id" not in names:
        raise IntegrityError(f"{key}: no 'id' column (columns: {names[:20]})")
    index = names.index("id")
    column = meta.schema.column(index)
    if column.physical_type != "BYTE_ARRAY" or column.max_repetition_level != 0:
        raise IntegrityError(f"{key}: column 'id' must hold text, not {column.physical_type}")
    for group in range(meta.num_rows and meta.num_row_groups):
        chunk = meta.row_group(group).column(index)
        rows = meta.row_group(group).num_rows
        limit = rows * (MAX_ID_BYTES + 4) + ID_CHUNK_SLACK
        if chunk.total_uncompressed_size > limit:
            raise IntegrityError(
                f"{key}: column 'id' of row group {group} is {chunk.total_uncompressed_size} "
                f"bytes uncompressed for {rows} rows; ids are at most {MAX_ID_BYTES} bytes"
            )
        stats = chunk.statistics
        if stats is not None and stats.has_min_max:
            longest = max(len(_as_bytes(stats.min)), len(_as_bytes(stats.max)))
            if longest > MAX_ID_BYTES:
                raise IntegrityError(f"{key}: an id is {longest} bytes long; ids are at most "
                                     f"{MAX_ID_BYTES} bytes")
    return index


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def iter_ids(store: ObjectStore, key: str, size: int) -> Iterator[pa.Array]:
    """The ``id`` column of an untrusted stored Parquet file, in batches of at most
    ``ID_BATCH_ROWS`` rows, each id checked to be at most ``MAX_ID_BYTES`` bytes.

    The footer is checked first (:func:`check_id_footer`); the column is read with its
    dictionary kept (a dictionary is checked, then decoded one bounded batch at a time).
    """
    meta = read_footer(store, key, size)
    check_id_footer(meta, key)
    try:
        parquet = pq.ParquetFile(StoreFile(store, key, size), metadata=meta,
                                 read_dictionary=["id"], buffer_size=1024 * 1024,
                                 pre_buffer=False)
        for batch in parquet.iter_batches(batch_size=ID_BATCH_ROWS, columns=["id"]):
            column = batch.column(0)
            values = column.dictionary if isinstance(column, pa.DictionaryArray) else column
            _check_lengths(values, key)
            if isinstance(column, pa.DictionaryArray):
                column = column.dictionary_decode()
            if column.null_count:
                raise IntegrityError(f"{key}: column 'id' has empty (null) ids")
            yield column
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"{key}: unreadable 'id' column: {exc}") from None


def _check_lengths(values: pa.Array, key: str) -> None:
    if not (pa.types.is_string(values.type) or pa.types.is_binary(values.type)
            or pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)):
        raise IntegrityError(f"{key}: column 'id' must hold text, not {values.type}")
    if len(values):
        longest = pc.max(pc.binary_length(values)).as_py() or 0
        if longest > MAX_ID_BYTES:
            raise IntegrityError(f"{key}: an id is {longest} bytes long; ids are at most "
                                 f"{MAX_ID_BYTES} bytes")


def id_hashes(store: ObjectStore, key: str, size: int, salt: bytes) -> np.ndarray:
    """Keyed 64-bit hashes of every id of a stored Parquet file (8 bytes per row in memory,
    whatever the ids); refuses files of more than ``MAX_HELD_OUT_ROWS`` rows."""
    rows = read_footer(store, key, size).num_rows
    if rows > MAX_HELD_OUT_ROWS:
        raise IntegrityError(f"{key}: {rows} rows; a held-out split holds at most "
                             f"{MAX_HELD_OUT_ROWS}")
    out = np.empty(rows, dtype=np.uint64)
    filled = 0
    for batch in iter_ids(store, key, size):
        for value in batch.to_pylist():
            if filled >= rows:
                raise IntegrityError(f"{key}: more ids than the footer's {rows} rows")
            digest = hashlib.blake2b(_as_bytes(value), digest_size=8, key=salt).digest()
            out[filled] = int.from_bytes(digest, "little")
            filled += 1
    if filled != rows:
        raise IntegrityError(f"{key}: {filled} ids read, the footer says {rows} rows")
    return out


MAX_CHUNK_BYTES = 512 * 1024**2
ROW_BATCH = 64


def iter_rows(store: ObjectStore, key: str, size: int) -> Iterator[list[dict[str, Any]]]:
    """The rows of an untrusted stored Parquet file, ``ROW_BATCH`` at a time, read with ranged
    GETs; refuses a file whose footer declares a column chunk over ``MAX_CHUNK_BYTES``
    uncompressed (a decompression bomb) before reading any data."""
    meta = read_footer(store, key, size)
    for group in range(meta.num_row_groups):
        for column in range(meta.num_columns):
            chunk = meta.row_group(group).column(column)
            if chunk.total_uncompressed_size > MAX_CHUNK_BYTES:
                raise IntegrityError(
                    f"{key}: column {meta.schema.column(column).name!r} of row group {group} "
                    f"is {chunk.total_uncompressed_size} bytes uncompressed; at most "
                    f"{MAX_CHUNK_BYTES} per row group"
                )
    try:
        parquet = pq.ParquetFile(StoreFile(store, key, size), metadata=meta,
                                 buffer_size=1024 * 1024, pre_buffer=False)
        for batch in parquet.iter_batches(batch_size=ROW_BATCH):
            yield batch.to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"{key}: unreadable Parquet: {exc}") from None
