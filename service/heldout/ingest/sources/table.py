"""A table (CSV, JSONL or Parquet) with a column of media: file paths or inline bytes.

The publisher names the columns: ``media_column`` (paths relative to the table's folder, or
bytes, or ``{bytes, path}`` structs), optionally ``label_column`` (becomes a ClassLabel),
``split_column`` (else a seeded stratified split) and ``id_column`` (else ids are derived
from the path, or the row number for inline bytes). Other columns are kept as values.
CSV/JSONL tables are read whole (they hold paths, not media); Parquet streams in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
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


class TableSource(Source):
    """Rows of a CSV/JSONL/Parquet table pointing at (or holding) images or audio clips."""

    def __init__(
        self,
        path: str | Path,
        *,
        media_column: str,
        kind: Kind | None = None,
        label_column: str | None = None,
        split_column: str | None = None,
        id_column: str | None = None,
        fractions: dict[str, float] | None = None,
        seed: int = 0,
        sampling_rate: int | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise IngestError(f"{self.path} is not a file")
        self.base = self.path.parent
        self.media_column = media_column
        self.is_parquet = self.path.suffix.lower() == ".parquet"
        if self.is_parquet:
            schema = pq.read_schema(self.path)
            names = [n for n in schema.names if n != media_column]
            if media_column not in schema.names:
                raise IngestError(f"{self.path}: no column {media_column!r} "
                                  f"(columns are {schema.names})")
            index = _read(self.path, names)
            media_type = schema.field(media_column).type
            first = pq.ParquetFile(self.path).read_row_group(0, columns=[media_column]) \
                if pq.ParquetFile(self.path).num_row_groups else None
            sample = first.column(0).to_pylist()[:20] if first is not None else []
        else:
            full = _read(self.path)
            if media_column not in full.column_names:
                raise IngestError(f"{self.path}: no column {media_column!r} "
                                  f"(columns are {full.column_names})")
            media_type = full.schema.field(media_column).type
            self._media = full.column(media_column).to_pylist()
            index = full.drop_columns([media_column])
            sample = self._media[:20]
        for col, what in ((label_column, "label"), (split_column, "split"), (id_column, "id")):
            if col is not None and col not in index.column_names:
                raise IngestError(f"{self.path}: no {what} column {col!r} "
                                  f"(columns are {[media_column, *index.column_names]})")
        self.inline = not (pa.types.is_string(media_type) or pa.types.is_large_string(media_type))
        self.kind = kind or _guess_kind(sample)
        self.label_column, self.split_column, self.id_column = label_column, split_column, id_column
        n = index.num_rows
        self._paths = [None] * n if self.inline or self.is_parquet else self._media
        if self.is_parquet and not self.inline:
            self._paths = _read(self.path, [media_column]).column(0).to_pylist()
            self._media = self._paths
        labels = index.column(label_column).to_pylist() if label_column else [None] * n
        keys = [str(p) if p is not None else f"row {i}" for i, p in enumerate(self._paths)]
        if split_column:
            self._split_of = [str(s) for s in index.column(split_column).to_pylist()]
            for s in sorted(set(self._split_of)):
                check_split(s)
            self.fractions = None
        else:
            self.fractions = fractions or DEFAULT_FRACTIONS
            self._split_of = stratified_split(keys, labels, self.fractions, seed)
        self.seed = seed
        if id_column:
            self._ids = [str(v) for v in index.column(id_column).to_pylist()]
        elif not self.inline:
            self._ids = [stable_id(k) for k in keys]
        else:
            self._ids = [f"{i:08d}" for i in range(n)]
        for split in set(self._split_of):
            check_unique_ids(split, [i for i, s in zip(self._ids, self._split_of, strict=True)
                                     if s == split])
        self._labels = [None if v is None else str(v) for v in labels]
        skip = {c for c in (split_column, id_column, label_column) if c}
        self._fields = {c: index.column(c).to_pylist() for c in index.column_names
                        if c not in skip}
        feats: list[tuple[str, Feature]] = [("id", Value("string"))]
        media_feature: Feature = Image() if self.kind == "image" else Audio(
            sampling_rate=sampling_rate or 16000)
        feats.append((self.kind, media_feature))
        if label_column:
            names = sorted({v for v in self._labels if v is not None},
                           key=lambda v: (not v.lstrip("-").isdigit(),
                                          int(v) if v.lstrip("-").isdigit() else 0, v))
            feats.append((label_column, ClassLabel(names)))
        for c in self._fields:
            if c in (self.kind, "id"):
                raise IngestError(f"{self.path}: column {c!r} clashes with a column Heldout adds")
            feats.append((c, value_feature(index.schema.field(c).type)))
        self.features = Features(feats)

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


