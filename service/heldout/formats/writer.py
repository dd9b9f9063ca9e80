"""Stream rows into Parquet shards of about a target size, hashing bytes as they are written.

Shards are written under temporary names and renamed to
``data/{split}-{i:05d}-of-{n:05d}.parquet`` at close, once the shard count is known.
Media columns (Image/Audio) are stored uncompressed and without dictionary in small row
groups (~100 rows) so readers can fetch single rows with ranged reads; every shard carries
the ``huggingface`` schema-metadata key and a page index.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from heldout.errors import AlreadyExists, InvalidInput
from heldout.formats.features import ClassLabel, Feature, Features, approx_size
from heldout.formats.manifest import ShardInfo
from heldout.layout import DATA_DIR, shard_glob, shard_path
from heldout.names import check_split

DEFAULT_TARGET_BYTES = 256 * 1024**2
# A row group is flushed early when its buffered values reach this many bytes.
MAX_GROUP_BYTES = 128 * 1024**2


class HashingSink:
    """A write-only file object that hashes and counts bytes on their way to disk."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.bytes_written = 0
        self.closed = False

    def write(self, data: Any) -> int:
        """Hash, count and write ``data``."""
        view = memoryview(data)
        self._hash.update(view)
        self.bytes_written += view.nbytes
        self._raw.write(view)
        return view.nbytes

    def tell(self) -> int:
        """Bytes written so far."""
        return self.bytes_written

    def flush(self) -> None:
        """Flush the underlying file."""
        self._raw.flush()

    def writable(self) -> bool:
        """Always true."""
        return True

    def seekable(self) -> bool:
        """Never: Parquet is written front to back."""
        return False

    def close(self) -> None:
        """Flush to disk and close the file."""
        if not self.closed:
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            self.closed = True

    def hexdigest(self) -> str:
        """The sha256 of everything written."""
        return self._hash.hexdigest()


class _OpenShard:
    """The shard being written: its temp file, sink, Parquet writer and row count."""

    def __init__(self, temp_path: Path, schema: pa.Schema, options: dict[str, Any]) -> None:
        self.temp_path = temp_path
        self.sink = HashingSink(open(temp_path, "xb"))  # noqa: SIM115 - closed in close()
        self.writer = pq.ParquetWriter(self.sink, schema, **options)
        self.num_rows = 0

    def close(self) -> tuple[Path, str, int, int]:
        self.writer.close()
        self.sink.close()
        return self.temp_path, self.sink.hexdigest(), self.num_rows, self.sink.bytes_written


class ShardWriter:
    """Write one split's rows into Parquet shards under ``{directory}/data/``.

    Use as a context manager (an exception aborts and removes the files), feed rows with
    ``write_row``/``write_rows``/``write_table``, and ``close()`` to get the ShardInfos.
    """

    def __init__(
        self,
        directory: Path,
        split: str,
        features: Features,
        *,
        target_bytes: int = DEFAULT_TARGET_BYTES,
        media_rows_per_group: int = 100,
        rows_per_group: int = 10_000,
    ) -> None:
        check_split(split)
        if target_bytes <= 0 or media_rows_per_group <= 0 or rows_per_group <= 0:
            raise InvalidInput("target_bytes and rows per group must be positive")
        if not features:
            raise InvalidInput("cannot write a split with no columns")
        self.directory = Path(directory)
        self.split = split
        self.features = features
        self.target_bytes = target_bytes
        media = features.media_columns()
        self.rows_per_group = media_rows_per_group if media else rows_per_group
        self.max_group_bytes = min(target_bytes, MAX_GROUP_BYTES)
        self.schema = features.arrow_schema()
        self._options = _parquet_options(features)
        self._data_dir = self.directory / DATA_DIR.rstrip("/")
        self._data_dir.mkdir(parents=True, exist_ok=True)
        existing = sorted(self._data_dir.glob(shard_glob(split)))
        if existing:
            raise AlreadyExists(
                f"split {split!r} already has shards in {self._data_dir} "
                f"(e.g. {existing[0].name}); write each split once"
            )
        self._token = uuid.uuid4().hex[:12]
        self._buffer: list[dict[str, Any]] = []
        self._buffer_bytes = 0
        self._current: _OpenShard | None = None
        self._done: list[tuple[Path, str, int, int]] = []
        self._final: list[Path] = []
        self._result: list[ShardInfo] | None = None
        self._aborted = False
        self._rows_seen = 0

    # --- context manager ---------------------------------------------------------------
    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self._result is None and not self._aborted:
            self.close()

    # --- writing -----------------------------------------------------------------------
    @property
    def num_rows(self) -> int:
        """Rows accepted so far."""
        return self._rows_seen

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Validate and buffer one row; a full row group is written out."""
        self._check_open()
        encoded = self.features.encode_row(row, where=f"{self.split} row {self._rows_seen}")
        self._buffer.append(encoded)
        self._rows_seen += 1
        self._buffer_bytes += sum(approx_size(v) for v in encoded.values())
        if len(self._buffer) >= self.rows_per_group or self._buffer_bytes >= self.max_group_bytes:
            self._flush_buffer()

    def write_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """``write_row`` for each row."""
        for row in rows:
            self.write_row(row)

    def write_table(self, table: pa.Table) -> None:
        """Write an Arrow table whose columns are the features' (any order, castable types)."""
        self._check_open()
        table = self._conform(table)
        self._flush_buffer()
        start = 0
        while start < table.num_rows:
            rows = min(self.rows_per_group, table.num_rows - start)
            piece = table.slice(start, rows)
            # Keep row groups under the byte cap when rows are large.
            while rows > 1 and piece.nbytes > self.max_group_bytes:
                rows = max(1, rows // 2)
                piece = table.slice(start, rows)
            self._write_group(piece)
            start += rows
        self._rows_seen += table.num_rows

    # --- finishing ---------------------------------------------------------------------
    def close(self) -> list[ShardInfo]:
        """Finish the last shard, rename all shards to their final names, return their infos."""
        if self._result is not None:
            return self._result
        self._check_open()
        try:
            self._flush_buffer()
            if self._current is None and not self._done:
                self._open_shard()  # an empty split still gets one valid, empty shard
            self._close_current()
            count = len(self._done)
            infos: list[ShardInfo] = []
            for index, (temp, digest, rows, size) in enumerate(self._done):
                rel = shard_path(self.split, index, count)
                final = self.directory / rel
                if final.exists():
                    raise AlreadyExists(f"{final} already exists")
                os.replace(temp, final)
                self._final.append(final)
                infos.append(ShardInfo(path=rel, sha256=digest, num_rows=rows, num_bytes=size))
        except BaseException:
            self.abort()
            raise
        self._result = infos
        return infos

    def abort(self) -> None:
        """Stop writing and remove every file this writer created."""
        if self._aborted:
            return
        self._aborted = True
        self._buffer.clear()
        if self._current is not None:
            try:
                self._current.close()
            except Exception:  # best effort: the file is removed next
                if not self._current.sink.closed:
                    self._current.sink.close()
            self._done.append((self._current.temp_path, "", 0, 0))
            self._current = None
        for temp, *_ in self._done:
            temp.unlink(missing_ok=True)
        for final in self._final:
            final.unlink(missing_ok=True)
        self._result = None

    # --- internals ---------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._aborted:
            raise InvalidInput(f"the writer for split {self.split!r} was aborted")
        if self._result is not None:
            raise InvalidInput(f"the writer for split {self.split!r} is already closed")

    def _conform(self, table: pa.Table) -> pa.Table:
        names = list(self.features)
        missing = [n for n in names if n not in table.column_names]
        extra = [n for n in table.column_names if n not in self.features]
        if missing or extra:
            raise InvalidInput(
                f"{self.split}: table columns do not match the features "
                f"(missing {missing}, unknown {extra})"
            )
        table = table.select(names)
        for name, feature in self.features.items():
            column = table.column(name)
            if isinstance(feature, ClassLabel) and pa.types.is_string(column.type):
                table = table.set_column(
                    names.index(name), name, self._label_indices(name, feature, column)
                )
        try:
            table = table.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise InvalidInput(f"{self.split}: table does not match the features: {exc}") from None
        for name, feature in self.features.items():
            if isinstance(feature, ClassLabel) and table.num_rows:
                column = table.column(name)
                bad = pc.or_(pc.less(column, 0), pc.greater_equal(column, feature.num_classes))
                if pc.any(bad).as_py():
                    first = pc.index(bad, True).as_py()
                    raise InvalidInput(
                        f"{self.split} row {self._rows_seen + first}, column {name!r}: label index "
                        f"{column[first].as_py()} is out of range 0..{feature.num_classes - 1}"
                    )
        return table

    def _label_indices(
        self, name: str, feature: ClassLabel, column: pa.ChunkedArray
    ) -> pa.ChunkedArray:
        """Map a string column of class names to int64 indices, refusing unknown names."""
        indices = pc.index_in(column, value_set=pa.array(feature.names))
        unknown = pc.and_(pc.is_null(indices), pc.is_valid(column))
        if pc.any(unknown).as_py():
            first = pc.index(unknown, True).as_py()
            raise InvalidInput(
                f"{self.split} row {self._rows_seen + first}, column {name!r}: unknown label "
                f"{column[first].as_py()!r}; known labels are {list(feature.names)[:10]}"
            )
        return indices.cast(pa.int64())

    def _flush_buffer(self) -> None:
        if not self._buffer:
            return
        columns = {
            name: _column([row[name] for row in self._buffer], self.features[name],
                          self.schema.field(name).type)
            for name in self.features
        }
        table = pa.Table.from_pydict(columns, schema=self.schema)
        self._buffer.clear()
        self._buffer_bytes = 0
        self._write_group(table)

    def _write_group(self, table: pa.Table) -> None:
        if self._current is None:
            self._open_shard()
        assert self._current is not None
        self._current.writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._current.num_rows += table.num_rows
        if self._current.sink.bytes_written >= self.target_bytes:
            self._close_current()

    def _open_shard(self) -> None:
        temp = self._data_dir / f".{self.split}-{len(self._done):05d}.{self._token}.parquet.tmp"
        self._current = _OpenShard(temp, self.schema, self._options)

    def _close_current(self) -> None:
        if self._current is not None:
            shard, self._current = self._current, None
            self._done.append(shard.close())


def _parquet_options(features: Features) -> dict[str, Any]:
    """ParquetWriter options: media raw (no compression, dictionary or statistics)."""
    media = set(features.media_columns())
    others = [name for name in features if name not in media]
    return {
        "compression": {name: ("NONE" if name in media else "ZSTD") for name in features},
        "use_dictionary": others or False,
        "write_statistics": others or False,
        "write_page_index": True,
    }


def write_split(
    directory: Path,
    split: str,
    features: Features,
    rows: Iterable[Mapping[str, Any]],
    **options: Any,
) -> list[ShardInfo]:
    """Write all ``rows`` of one split and return its shards."""
    with ShardWriter(directory, split, features, **options) as writer:
        writer.write_rows(rows)
        return writer.close()


__all__ = ["DEFAULT_TARGET_BYTES", "HashingSink", "ShardWriter", "write_split"]


def _column(values: list[Any], feature: Feature, arrow_type: pa.DataType) -> pa.Array:
    """One column of a row group. Media structs are built from their two child arrays, which is
    ~40x faster than letting pyarrow convert a list of dicts."""
    if not feature.is_media:
        return pa.array(values, type=arrow_type)
    missing = [v is None for v in values]
    return pa.StructArray.from_arrays(
        [
            pa.array([None if v is None else v["bytes"] for v in values], pa.binary()),
            pa.array([None if v is None else v.get("path") for v in values], pa.string()),
        ],
        fields=list(arrow_type),
        mask=pa.array(missing, pa.bool_()) if any(missing) else None,
    )
