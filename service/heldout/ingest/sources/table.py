"""A table (CSV, JSONL or Parquet) with a column of media: file paths or inline bytes.

The publisher names the columns: ``media_column`` (paths relative to the table's folder, or
bytes, or ``{bytes, path}`` structs), optionally ``class_column`` (becomes a ClassLabel),
``split_column`` (else a seeded stratified split) and ``id_column`` (else ids are derived
from the path, or the row number for inline bytes). Other columns are kept as values.
CSV/JSONL tables are read whole (they hold paths, not media); Parquet streams in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from heldout.errors import IngestError
from heldout.formats.features import Audio, ClassLabel, Feature, Features, Image, Value
from heldout.ingest.media import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, Kind
from heldout.ingest.sources.base import (
    Example,
    MediaRef,
    Source,
    check_unique_ids,
    stable_id,
    value_feature,
)
from heldout.ingest.splitting import DEFAULT_FRACTIONS, stratified_split
from heldout.names import check_split

BATCH_ROWS = 256


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = pacsv.read_csv(path)
        elif suffix in (".jsonl", ".json", ".ndjson"):
            table = pajson.read_json(path)
        elif suffix == ".parquet":
            return pq.read_table(path, columns=columns)
        else:
            raise IngestError(f"{path}: unknown table format {suffix!r} (use .csv, .jsonl or "
                              ".parquet)")
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{path}: cannot read the table: {exc}") from None
    return table.select(columns) if columns is not None else table


def _guess_kind(values: list[Any]) -> Kind:
    for value in values:
        if isinstance(value, str):
            suffix = PurePosixPath(value).suffix.lower()
            if suffix in IMAGE_EXTENSIONS:
                return "image"
            if suffix in AUDIO_EXTENSIONS:
                return "audio"
    raise IngestError("cannot tell whether the media are images or audio; pass kind/--modality")


@dataclass(frozen=True)
class TableConfig:
    """What the publisher says about a table (as ``datasets``' ``CsvConfig`` does).

    ``class_column`` becomes a ClassLabel; without ``split_column`` rows get a seeded,
    stratified split by ``fractions``; without ``id_column`` ids come from the media paths
    (or the row number for inline media).
    """

    path: Path
    media_column: str
    kind: Kind | None = None
    class_column: str | None = None
    split_column: str | None = None
    id_column: str | None = None
    fractions: dict[str, float] | None = None
    seed: int = 0
    sampling_rate: int | None = None


@dataclass
class _Index:
    """The table without its media column, and what the media column looks like."""

    table: pa.Table
    media_type: pa.DataType
    sample: list[Any]
    media: list[Any] | None  # the media values, unless they stream from Parquet


def _no_column(path: Path, column: str, names: list[str]) -> IngestError:
    return IngestError(f"{path}: no column {column!r} (columns are {names})")


def _read_index(config: TableConfig) -> _Index:
    """Read the table once: every column but the media; the media only when they are paths."""
    path, media = config.path, config.media_column
    if path.suffix.lower() != ".parquet":
        full = _read(path)
        if media not in full.column_names:
            raise _no_column(path, media, full.column_names)
        values = full.column(media).to_pylist()
        return _Index(full.drop_columns([media]), full.schema.field(media).type, values[:20],
                      values)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{path}: cannot read the table: {exc}") from None
    names = parquet.schema_arrow.names
    if media not in names:
        raise _no_column(path, media, names)
    media_type = parquet.schema_arrow.field(media).type
    sample = (parquet.read_row_group(0, columns=[media]).column(0).to_pylist()[:20]
              if parquet.num_row_groups else [])
    inline = not (pa.types.is_string(media_type) or pa.types.is_large_string(media_type))
    paths = None if inline else parquet.read(columns=[media]).column(0).to_pylist()
    index = parquet.read(columns=[n for n in names if n != media])
    return _Index(index, media_type, sample, paths)


def _check_columns(config: TableConfig, index: pa.Table) -> None:
    named = ((config.class_column, "class"), (config.split_column, "split"),
             (config.id_column, "id"))
    for col, what in named:
        if col is not None and col not in index.column_names:
            raise IngestError(f"{config.path}: no {what} column {col!r} "
                              f"(columns are {[config.media_column, *index.column_names]})")


def _class_names(labels: list[str | None]) -> list[str]:
    """Distinct labels, numbers in numeric order first, then text."""
    return sorted({v for v in labels if v is not None},
                  key=lambda v: (not v.lstrip("-").isdigit(),
                                 int(v) if v.lstrip("-").isdigit() else 0, v))


class TableSource(Source):
    """Rows of a CSV/JSONL/Parquet table pointing at (or holding) images or audio clips.

    Built in stages from a :class:`TableConfig`: read the index, assign splits, assign ids,
    infer features.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        media_column: str,
        kind: Kind | None = None,
        class_column: str | None = None,
        split_column: str | None = None,
        id_column: str | None = None,
        fractions: dict[str, float] | None = None,
        seed: int = 0,
        sampling_rate: int | None = None,
        label_column: str | None = None,
    ) -> None:
        """Keyword arguments are :class:`TableConfig`'s; ``label_column`` is the old name of
        ``class_column`` (deprecated)."""
        self.config = TableConfig(Path(path), media_column, kind, class_column or label_column,
                                  split_column, id_column, fractions, seed, sampling_rate)
        if not self.config.path.is_file():
            raise IngestError(f"{self.config.path} is not a file")
        self.path, self.base = self.config.path, self.config.path.parent
        self.media_column, self.seed = media_column, seed
        self.label_column = self.config.class_column
        self.is_parquet = self.path.suffix.lower() == ".parquet"
        index = _read_index(self.config)
        _check_columns(self.config, index.table)
        self.inline = index.media is None or not (
            pa.types.is_string(index.media_type) or pa.types.is_large_string(index.media_type))
        self.kind = kind or _guess_kind(index.sample)
        n = index.table.num_rows
        self._media = index.media or []
        self._paths = [None] * n if self.inline else self._media
        labels = (index.table.column(self.label_column).to_pylist() if self.label_column
                  else [None] * n)
        self._labels = [None if v is None else str(v) for v in labels]
        keys = [str(p) if p is not None else f"row {i}" for i, p in enumerate(self._paths)]
        self._assign_splits(index.table, keys, labels)
        self._assign_ids(index.table, keys)
        self.features = self._infer_features(index.table)

    def _assign_splits(self, index: pa.Table, keys: list[str], labels: list[Any]) -> None:
        """The split column's values, else a seeded split stratified by the labels."""
        if self.config.split_column:
            self._split_of = [str(s) for s in index.column(self.config.split_column).to_pylist()]
            for split in sorted(set(self._split_of)):
                check_split(split)
            self.fractions = None
        else:
            self.fractions = self.config.fractions or DEFAULT_FRACTIONS
            self._split_of = stratified_split(keys, labels, self.fractions, self.seed)

    def _assign_ids(self, index: pa.Table, keys: list[str]) -> None:
        """The id column, else stable ids of the paths, else row numbers; unique per split."""
        if self.config.id_column:
            self._ids = [str(v) for v in index.column(self.config.id_column).to_pylist()]
        elif not self.inline:
            self._ids = [stable_id(k) for k in keys]
        else:
            self._ids = [f"{i:08d}" for i in range(index.num_rows)]
        for split in set(self._split_of):
            check_unique_ids(split, [i for i, s in zip(self._ids, self._split_of, strict=True)
                                     if s == split])

    def _infer_features(self, index: pa.Table) -> Features:
        """id, the media, the class label, then every other column as a value."""
        config = self.config
        skip = {c for c in (config.split_column, config.id_column, config.class_column) if c}
        self._fields = {c: index.column(c).to_pylist() for c in index.column_names
                        if c not in skip}
        media: Feature = Image() if self.kind == "image" else Audio(
            sampling_rate=config.sampling_rate or 16000)
        feats: list[tuple[str, Feature]] = [("id", Value("string")), (self.kind, media)]
        if config.class_column:
            feats.append((config.class_column, ClassLabel(_class_names(self._labels))))
        for c in self._fields:
            if c in (self.kind, "id"):
                raise IngestError(f"{self.path}: column {c!r} clashes with a column Heldout adds")
            feats.append((c, value_feature(index.schema.field(c).type)))
        return Features(feats)

    @property
    def splits(self) -> list[str]:
        order = ["train", "validation", "test"]
        return sorted(set(self._split_of), key=lambda s: (order.index(s) if s in order else 1, s))

    def count(self, split: str) -> int | None:
        return sum(1 for s in self._split_of if s == split)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": "table", "file": self.path.name,
                               "media_column": self.media_column}
        if self.fractions is not None:
            out.update(split_fractions=self.fractions, split_seed=self.seed)
        return out

    def _media_values(self) -> Iterator[Any]:
        if not self.is_parquet or not self.inline:
            yield from self._media
            return
        for batch in pq.ParquetFile(self.path).iter_batches(BATCH_ROWS,
                                                            columns=[self.media_column]):
            yield from batch.column(0).to_pylist()

    def examples(self, split: str) -> Iterator[Example]:
        for i, value in enumerate(self._media_values()):
            if self._split_of[i] != split:
                continue
            yield Example(
                split=split,
                id=self._ids[i],
                name=f"{self.path.name} row {i}" + (f" ({value})" if isinstance(value, str)
                                                    else ""),
                media={self.kind: self._ref(value)},
                fields={**({self.label_column: self._labels[i]} if self.label_column else {}),
                        **{c: v[i] for c, v in self._fields.items()}},
            )

    def _ref(self, value: Any) -> MediaRef:
        if isinstance(value, str):
            file = Path(value) if Path(value).is_absolute() else self.base / value
            return MediaRef(str(file), None, PurePosixPath(value).name)
        if isinstance(value, dict):
            path = value.get("path")
            name = PurePosixPath(path).name if path else None
            data = value.get("bytes")
            if data is None and path:
                return MediaRef(str(self.base / path), None, name)
            return MediaRef(None, data or b"", name)
        if isinstance(value, bytes | bytearray):
            return MediaRef(None, bytes(value), None)
        return MediaRef(None, b"", None)


