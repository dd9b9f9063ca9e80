"""Heldout's small feature model: columns typed as Value, ClassLabel, Image, Audio or Sequence.

Each feature maps to the Hugging Face ``datasets`` features JSON (``to_hf``) and to an Arrow
type (``arrow_type``), so shards written with it decode as Image/Audio/ClassLabel in stock
``datasets`` without importing ``datasets`` here (it is slow to import).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeAlias, TypeVar

import pyarrow as pa

from heldout.errors import InvalidInput

HF_METADATA_KEY = "huggingface"
MEDIA_STRUCT = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])

# Hugging Face dtype aliases that pyarrow does not know under the same name.
_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16"}
_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}


# Lists of lists …: deeper nesting than this is refused (it only ever comes from an attack,
# and Arrow, Parquet and JSON code all recurse over it).
MAX_DEPTH = 32


def _short(value: Any, limit: int = 60) -> str:
    """A bounded repr of ``value`` for error messages."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numpy_kind(value: Any) -> str:
    """The numpy dtype kind of a numpy scalar, else ''."""
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        return str(value.dtype.kind)
    return ""


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or _numpy_kind(value) in ("i", "u")


def _is_float(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or _numpy_kind(value) in ("i", "u", "f")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or _numpy_kind(value) == "b"


class BaseFeature:
    """What every feature offers: HF JSON (both ways), Arrow type, value validation."""

    is_media: ClassVar[bool] = False

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """This feature from its Hugging Face JSON (``obj["_type"]`` already matched)."""
        raise NotImplementedError

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON."""
        raise NotImplementedError

    def arrow_type(self) -> pa.DataType:
        """The Arrow type of this column."""
        raise NotImplementedError

    def encode(self, value: Any, where: str) -> Any:
        """Validate one Python value; return what goes into Arrow."""
        raise NotImplementedError


Feature: TypeAlias = BaseFeature
_F = TypeVar("_F", bound=type[BaseFeature])

FEATURE_TYPES: dict[str, type[BaseFeature]] = {}
"""Feature classes by their Hugging Face ``_type``; a new feature type is a new entry."""


def _hf_type(*names: str) -> Callable[[_F], _F]:
    """Register a feature class under its HF ``_type`` names (the first is the one it writes)."""

    def register(cls: _F) -> _F:
        for name in names:
            FEATURE_TYPES[name] = cls
        return cls

    return register


def _within(where: str, build: Callable[[], BaseFeature]) -> BaseFeature:
    """``build()``, with ``where`` prefixed to the InvalidInput it raises."""
    try:
        return build()
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.detail}") from None


@_hf_type("Value")
@dataclass(frozen=True)
class Value(BaseFeature):
    """A scalar column: ``Value("string")``, ``Value("int64")``, ``Value("float32")``…"""

    dtype: str

    def __post_init__(self) -> None:
        dtype = _DTYPE_ALIASES.get(self.dtype, self.dtype)
        object.__setattr__(self, "dtype", dtype)
        try:
            pa.type_for_alias(dtype)
        except (ValueError, TypeError, KeyError):
            raise InvalidInput(f"unknown value dtype {self.dtype!r}") from None

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """``{"_type": "Value", "dtype": …}``."""
        if not isinstance(obj.get("dtype"), str):
            raise InvalidInput(f"{where}: a Value needs a string 'dtype'")
        return _within(where, lambda: cls(obj["dtype"]))

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON."""
        return {"_type": "Value", "dtype": self.dtype}

    def arrow_type(self) -> pa.DataType:
        """The Arrow type of this column."""
        return pa.type_for_alias(self.dtype)

    def encode(self, value: Any, where: str) -> Any:
        """Validate one Python value; return what goes into Arrow."""
        dtype = self.dtype
        if value is None:
            return None
        if dtype in ("string", "large_string", "utf8", "large_utf8"):
            if not isinstance(value, str):
                raise InvalidInput(f"{where}: expected a string, got {_short(value)}")
            return value
        if dtype in _INT_RANGES:
            if not _is_int(value):
                raise InvalidInput(f"{where}: expected an integer ({dtype}), got {_short(value)}")
            low, high = _INT_RANGES[dtype]
            if not low <= int(value) <= high:
                raise InvalidInput(f"{where}: {int(value)} is out of range for {dtype}")
            return int(value)
        if dtype.startswith("float"):
            if not _is_float(value):
                raise InvalidInput(f"{where}: expected a number ({dtype}), got {_short(value)}")
            return float(value)
        if dtype == "bool":
            if not _is_bool(value):
                raise InvalidInput(f"{where}: expected true/false, got {_short(value)}")
            return bool(value)
        if dtype in ("binary", "large_binary"):
            if not isinstance(value, bytes | bytearray | memoryview):
                raise InvalidInput(f"{where}: expected bytes, got {_short(value)}")
            return bytes(value)
        return value  # dates, timestamps…: Arrow checks them when the row group is built


@_hf_type("ClassLabel")
@dataclass(frozen=True)
class ClassLabel(BaseFeature):
    """A categorical label stored as an int64 index into ``names``."""

    names: tuple[str, ...]

    def __init__(self, names: Iterable[str]) -> None:
        names_t = tuple(names) if not isinstance(names, str) else ()
        if not names_t:
            raise InvalidInput("ClassLabel needs a non-empty list of names")
        bad = [n for n in names_t if not isinstance(n, str) or not n]
        if bad:
            raise InvalidInput(f"ClassLabel names must be non-empty strings, got {_short(bad[0])}")
        if len(set(names_t)) != len(names_t):
            dupe = next(n for i, n in enumerate(names_t) if n in names_t[:i])
            raise InvalidInput(f"ClassLabel names must be unique: {dupe!r} appears twice")
        object.__setattr__(self, "names", names_t)

    @property
    def num_classes(self) -> int:
        """How many classes there are."""
        return len(self.names)

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """``{"_type": "ClassLabel", "names": [...]}``."""
        names = obj.get("names")
        if not isinstance(names, list):
            raise InvalidInput(f"{where}: a ClassLabel needs a list of 'names'")
        return _within(where, lambda: cls(names))

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON."""
        return {"_type": "ClassLabel", "names": list(self.names)}

    def arrow_type(self) -> pa.DataType:
        """Labels are stored as int64 indices."""
        return pa.int64()

    def encode(self, value: Any, where: str) -> Any:
        """Accept a class index or a class name; return the index."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return self.names.index(value)
            except ValueError:
                shown = ", ".join(repr(n) for n in self.names[:10])
                more = f" (and {len(self.names) - 10} more)" if len(self.names) > 10 else ""
                raise InvalidInput(
                    f"{where}: unknown label {value!r}; known labels are {shown}{more}"
                ) from None
        if _is_int(value):
            index = int(value)
            if not 0 <= index < len(self.names):
                raise InvalidInput(
                    f"{where}: label index {index} is out of range 0..{len(self.names) - 1}"
                )
            return index
        raise InvalidInput(f"{where}: expected a label name or index, got {_short(value)}")


def _encode_media(value: Any, where: str, kind: str) -> Any:
    """Media values: bytes, a path to a file, or ``{"bytes": …, "path": …}``."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        data: Any = bytes(value)
        path = None
    elif isinstance(value, os.PathLike):
        file = Path(value)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{where}: cannot read {kind} file {str(file)!r}: {exc}") from None
        path = file.name
    elif isinstance(value, Mapping):
        unknown = set(value) - {"bytes", "path"}
        if unknown:
            raise InvalidInput(
                f"{where}: a {kind} value has keys 'bytes' and 'path', got {sorted(unknown)}"
            )
        data, path = value.get("bytes"), value.get("path")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInput(
                f"{where}: the {kind} value needs its content in 'bytes', got {_short(data)}"
            )
        if path is not None and not isinstance(path, str):
            raise InvalidInput(f"{where}: the {kind} 'path' must be a string, got {_short(path)}")
        data = bytes(data)
    else:
        raise InvalidInput(
            f"{where}: expected {kind} bytes or {{'bytes': ..., 'path': ...}}, got {_short(value)}"
        )
    if not data:
        raise InvalidInput(f"{where}: the {kind} is empty (0 bytes)")
    return {"bytes": data, "path": path}


@_hf_type("Image")
@dataclass(frozen=True)
class Image(BaseFeature):
    """An encoded image (PNG, JPEG…) stored as ``struct<bytes, path>``."""

    mode: str | None = None
    is_media: ClassVar[bool] = True

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """``{"_type": "Image"[, "mode": …]}``."""
        mode = obj.get("mode")
        return cls(mode=mode if isinstance(mode, str) else None)

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON."""
        out: dict[str, Any] = {"_type": "Image"}
        if self.mode is not None:
            out["mode"] = self.mode
        return out

    def arrow_type(self) -> pa.DataType:
        """``struct<bytes: binary, path: string>``."""
        return MEDIA_STRUCT

    def encode(self, value: Any, where: str) -> Any:
        """Validate an image value."""
        return _encode_media(value, where, "image")


@_hf_type("Audio")
@dataclass(frozen=True)
class Audio(BaseFeature):
    """An encoded audio clip (WAV, FLAC…) stored as ``struct<bytes, path>``."""

    sampling_rate: int = 16000
    is_media: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not _is_int(self.sampling_rate) or self.sampling_rate <= 0:
            raise InvalidInput(
                f"Audio sampling_rate must be a positive integer, got {_short(self.sampling_rate)}"
            )

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """``{"_type": "Audio", "sampling_rate": …}``."""
        rate = obj.get("sampling_rate")
        if rate is None:
            raise InvalidInput(f"{where}: an Audio feature needs a 'sampling_rate'")
        return _within(where, lambda: cls(sampling_rate=rate))

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON."""
        return {"_type": "Audio", "sampling_rate": self.sampling_rate}

    def arrow_type(self) -> pa.DataType:
        """``struct<bytes: binary, path: string>``."""
        return MEDIA_STRUCT

    def encode(self, value: Any, where: str) -> Any:
        """Validate an audio value."""
        return _encode_media(value, where, "audio")


@_hf_type("List", "Sequence")
@dataclass(frozen=True)
class Sequence(BaseFeature):
    """A list of values of one feature (HF ``List``); ``length`` fixes its size when ≥ 0."""

    feature: Feature
    length: int = -1

    @classmethod
    def from_hf(cls, obj: Mapping[str, Any], where: str) -> BaseFeature:
        """``{"_type": "List" (or "Sequence"), "feature": …[, "length": n]}``."""
        length = obj.get("length", -1)
        if not _is_int(length):
            raise InvalidInput(f"{where}: list 'length' must be an integer")
        return cls(feature_from_hf(obj.get("feature"), f"{where}[]"), int(length))

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON (``List`` since ``datasets`` 4)."""
        out: dict[str, Any] = {"_type": "List", "feature": self.feature.to_hf()}
        if self.length >= 0:
            out["length"] = self.length
        return out

    def arrow_type(self) -> pa.DataType:
        """A variable or fixed size Arrow list."""
        item = self.feature.arrow_type()
        return pa.list_(item, self.length) if self.length >= 0 else pa.list_(item)

    def encode(self, value: Any, where: str) -> Any:
        """Validate every item."""
        if value is None:
            return None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise InvalidInput(f"{where}: expected a list, got {_short(value)}")
        items = list(value)
        if self.length >= 0 and len(items) != self.length:
            raise InvalidInput(f"{where}: expected {self.length} items, got {len(items)}")
        return [self.feature.encode(item, f"{where}[{i}]") for i, item in enumerate(items)]


def _nesting(obj: Any) -> int:
    """How deep lists nest in a feature's JSON (counted up to MAX_DEPTH + 1, no recursion)."""
    depth = 0
    while isinstance(obj, Mapping) and "feature" in obj and depth <= MAX_DEPTH:
        obj, depth = obj["feature"], depth + 1
    return depth


def feature_from_hf(obj: Any, where: str = "feature") -> Feature:
    """Build one feature from its Hugging Face JSON (lists nest at most MAX_DEPTH deep)."""
    if _nesting(obj) > MAX_DEPTH:
        raise InvalidInput(f"{where[:80]}: features nest more than {MAX_DEPTH} levels deep")
    if not isinstance(obj, Mapping) or "_type" not in obj:
        raise InvalidInput(f"{where}: expected a feature object with a '_type', got {_short(obj)}")
    kind = obj["_type"]
    feature_type = FEATURE_TYPES.get(kind) if isinstance(kind, str) else None
    if feature_type is None:
        raise InvalidInput(
            f"{where}: feature type {kind!r} is not supported "
            "(use Value, ClassLabel, Image, Audio or List)"
        )
    return feature_type.from_hf(obj, where)


class Features(Mapping[str, Feature]):
    """An ordered, immutable mapping from column name to feature."""

    def __init__(self, columns: Mapping[str, Feature] | Iterable[tuple[str, Feature]] = ()) -> None:
        items = list(columns.items()) if isinstance(columns, Mapping) else list(columns)
        self._columns: dict[str, Feature] = {}
        for name, feature in items:
            if not isinstance(name, str) or not name:
                raise InvalidInput(f"column names must be non-empty strings, got {_short(name)}")
            if name in self._columns:
                raise InvalidInput(f"column {name!r} appears twice")
            if not isinstance(feature, BaseFeature):
                raise InvalidInput(f"column {name!r}: {_short(feature)} is not a feature")
            self._columns[name] = feature

    def __getitem__(self, name: str) -> Feature:
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Features):
            return list(self._columns.items()) == list(other._columns.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._columns.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._columns.items())
        return f"Features({{{inner}}})"

    # --- conversions -------------------------------------------------------------------
    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face features JSON (``{column: {"_type": …}}``)."""
        return {name: feature.to_hf() for name, feature in self._columns.items()}

    @classmethod
    def from_hf(cls, obj: Any) -> Features:
        """Build from the Hugging Face features JSON; InvalidInput names the bad column."""
        if not isinstance(obj, Mapping):
            raise InvalidInput(f"features must be an object of column → feature, got {_short(obj)}")
        return cls((name, feature_from_hf(spec, f"column {name!r}")) for name, spec in obj.items())

    def hf_metadata(self) -> dict[bytes, bytes]:
        """The ``huggingface`` schema-metadata entry that stock ``datasets`` reads."""
        payload = {"info": {"features": self.to_hf()}}
        return {HF_METADATA_KEY.encode(): json.dumps(payload).encode()}

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema, carrying the ``huggingface`` metadata key."""
        fields = [pa.field(name, f.arrow_type()) for name, f in self._columns.items()]
        return pa.schema(fields, metadata=self.hf_metadata())

    @classmethod
    def from_arrow_schema(cls, schema: pa.Schema) -> Features:
        """Read features back from a schema's ``huggingface`` metadata key."""
        raw = (schema.metadata or {}).get(HF_METADATA_KEY.encode())
        if raw is None:
            raise InvalidInput("the Parquet schema has no 'huggingface' metadata key")
        try:
            features = json.loads(raw)["info"]["features"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("the 'huggingface' metadata key holds no info.features") from None
        return cls.from_hf(features)

    # --- selections --------------------------------------------------------------------
    def media_columns(self) -> list[str]:
        """Columns holding Image or Audio values."""
        return [name for name, f in self._columns.items() if f.is_media]

    def label_names(self) -> dict[str, list[str]]:
        """Class names of each ClassLabel column."""
        return {
            name: list(f.names) for name, f in self._columns.items() if isinstance(f, ClassLabel)
        }

    def _check_known(self, names: Iterable[str]) -> list[str]:
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in self._columns]
        if unknown:
            raise InvalidInput(f"unknown column(s) {unknown}; columns are {list(self._columns)}")
        return names

    def drop(self, names: Iterable[str]) -> Features:
        """These features without ``names``."""
        gone = set(self._check_known(names))
        return Features((k, v) for k, v in self._columns.items() if k not in gone)

    def select(self, names: Iterable[str]) -> Features:
        """Only ``names``, in the order given."""
        return Features((k, self._columns[k]) for k in self._check_known(names))

    # --- rows --------------------------------------------------------------------------
    def encode_row(self, row: Mapping[str, Any], where: str = "row") -> dict[str, Any]:
        """Validate a Python row and return it ready for Arrow (labels as indices).

        Every column must be present (``None`` is a null); unknown keys are refused.
        """
        if not isinstance(row, Mapping):
            raise InvalidInput(f"{where}: expected a mapping of column → value, got {_short(row)}")
        missing = [name for name in self._columns if name not in row]
        if missing:
            raise InvalidInput(f"{where}: missing column(s) {missing}")
        extra = [name for name in row if name not in self._columns]
        if extra:
            raise InvalidInput(
                f"{where}: unknown column(s) {extra}; columns are {list(self._columns)}"
            )
        return {
            name: feature.encode(row[name], f"{where}, column {name!r}")
            for name, feature in self._columns.items()
        }


def approx_size(value: Any) -> int:
    """A cheap estimate of an encoded value's size in bytes (for buffering decisions)."""
    if value is None:
        return 1
    if isinstance(value, bytes | str):
        return len(value) + 4
    if isinstance(value, dict):
        return sum(approx_size(v) for v in value.values())
    if isinstance(value, list):
        return sum(approx_size(v) for v in value) + 4
    return 8


__all__ = [
    "HF_METADATA_KEY",
    "MEDIA_STRUCT",
    "Audio",
    "BaseFeature",
    "ClassLabel",
    "Feature",
    "Features",
    "Image",
    "Sequence",
    "Value",
    "approx_size",
    "feature_from_hf",
]
