"""What every source gives the pipeline: features, split names and examples per split."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from heldout.errors import IngestError
from heldout.formats.features import ClassLabel, Feature, Features, Value
from heldout.ingest.media import Kind


@dataclass(frozen=True)
class MediaRef:
    """Where one media value comes from: a file to read, or bytes already in memory."""

    path: str | None
    data: bytes | None
    filename: str | None  # the file name to keep in the row's ``path`` field


@dataclass
class Example:
    """One row before validation: its id, media and other fields (labels as names or indices)."""

    split: str
    id: str
    name: str  # how reports refer to it: a relative path, or ``table.csv row 12``
    media: dict[str, MediaRef]
    fields: dict[str, Any] = field(default_factory=dict)


class Source(abc.ABC):
    """A dataset in some shape on disk or in memory."""

    kind: Kind
    features: Features  # includes ``id`` (first) and the media column(s)

    @property
    @abc.abstractmethod
    def splits(self) -> list[str]:
        """Split names, in publishing order."""

    @abc.abstractmethod
    def examples(self, split: str) -> Iterator[Example]:
        """The examples of ``split``, streamed."""

    def count(self, split: str) -> int | None:
        """How many examples ``split`` has, when known without reading them."""
        return None

    def describe(self) -> dict[str, Any]:
        """What goes into the manifest's ``source``."""
        return {"format": type(self).__name__}

    def missing(self) -> list[dict[str, str]]:
        """Files the source expected but could not find (e.g. listed in metadata.csv)."""
        return []

    @property
    def media_columns(self) -> list[str]:
        """Image/Audio columns."""
        return self.features.media_columns()

    @property
    def class_column(self) -> str | None:
        """The first ClassLabel column: the one class balance is computed on."""
        return next((n for n, f in self.features.items() if isinstance(f, ClassLabel)), None)


def stable_id(*parts: str) -> str:
    """A short id that is the same on every run for the same relative path."""
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:16]


def value_feature(arrow_type: pa.DataType) -> Feature:
    """A Value feature for a column read from CSV/JSON/Parquet."""
    if pa.types.is_boolean(arrow_type):
        return Value("bool")
    if pa.types.is_integer(arrow_type):
        return Value("int64")
    if pa.types.is_floating(arrow_type):
        return Value("float64")
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return Value("string")
    if pa.types.is_null(arrow_type):
        return Value("string")
    raise IngestError(f"column type {arrow_type} is not supported (use numbers, text or booleans)")


def merge_value_features(a: Feature, b: Feature, column: str) -> Feature:
    """One feature for a column seen with two types (int+float → float; else string)."""
    if a == b:
        return a
    if isinstance(a, Value) and isinstance(b, Value):
        numeric = {"int64", "float64"}
        if {a.dtype, b.dtype} <= numeric:
            return Value("float64")
        return Value("string")
    raise IngestError(f"column {column!r} has different types in different splits ({a}, {b})")


def check_unique_ids(split: str, ids: list[str]) -> None:
    """Ids must be unique per split."""
    seen: set[str] = set()
    for identifier in ids:
        if identifier in seen:
            raise IngestError(f"split {split!r}: id {identifier!r} appears more than once")
        seen.add(identifier)
