"""The version manifest (``manifest.json``, format ``heldout.manifest/1``).

A manifest describes one committed dataset version completely: its features, splits and
shards (with sha256 and row counts), which splits have held-out labels, statistics, source
and citation. It is written last at commit, so a visible manifest means a complete version.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from heldout.errors import InvalidInput, InvalidName, NotFound
from heldout.formats.features import Features
from heldout.layout import SHARD_PATH, check_relative_path, parse_shard_path, shard_path
from heldout.names import check_name, check_split, check_version

MANIFEST_FORMAT: Final = "heldout.manifest/1"
# SPDX ids and simple expressions ("MIT", "CC-BY-4.0", "Apache-2.0 OR MIT", "LicenseRef-x"),
# also the lower-case ids used on dataset hubs ("cc-by-4.0", "other").
LICENSE_PATTERN = r"^[A-Za-z0-9(][A-Za-z0-9.+\-:() ]{0,127}$"
TASK_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
# Documents _check_path in JSON Schema (no look-around): '/'-separated parts, none empty, '.'
# or '..', no backslash.
_PART = r"([^/\\.][^/\\]*|\.[^/\\.][^/\\]*|\.\.[^/\\]+)"
RELATIVE_PATH_PATTERN = f"^{_PART}(/{_PART})*$"

Modality = Literal["image", "audio", "text", "tabular", "multimodal"]
NonNegative = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShardInfo(_Model):
    """One Parquet file: its path or key (relative, no '..'), checksum, rows and size.

    Public shards live at ``data/{split}-{i:05d}-of-{n:05d}.parquet``; the manifest checks
    that. The same record also describes private label files.
    """

    path: str = Field(json_schema_extra={"pattern": RELATIVE_PATH_PATTERN})
    sha256: str = Field(pattern=SHA256_PATTERN)
    num_rows: NonNegative
    num_bytes: NonNegative

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        try:
            return check_relative_path(value)
        except InvalidName:
            raise ValueError(
                f"path {value!r} must be relative, '/'-separated, without '.' or '..' parts"
            ) from None

    @property
    def split(self) -> str:
        """The split a public shard belongs to (from its ``data/…`` path)."""
        parsed = parse_shard_path(self.path)
        if parsed is None:
            raise ValueError(f"{self.path!r} is not a public shard path")
        return parsed.split


class SplitInfo(_Model):
    """A split and its shards; row and byte counts are the shards' sums.

    A draft may hold a split that is still being uploaded; the Manifest checks that the
    shards are complete (``…-00000-of-n`` to ``…-{n-1}-of-n``).
    """

    name: str
    num_rows: NonNegative
    num_bytes: NonNegative
    shards: list[ShardInfo] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _as_value_error(check_split, value)

    @model_validator(mode="after")
    def _check_totals(self) -> SplitInfo:
        rows = sum(s.num_rows for s in self.shards)
        if rows != self.num_rows:
            raise ValueError(
                f"split {self.name!r} says num_rows={self.num_rows} but its shards hold {rows}"
            )
        size = sum(s.num_bytes for s in self.shards)
        if size != self.num_bytes:
            raise ValueError(
                f"split {self.name!r} says num_bytes={self.num_bytes} but its shards hold {size}"
            )
        return self

    def check_complete(self) -> None:
        """Raise ValueError unless the shards are exactly ``data/{name}-i-of-n``, i < n, n ≥ 1."""
        count = len(self.shards)
        if count == 0:
            raise ValueError(f"split {self.name!r} has no shards")
        for index, shard in enumerate(self.shards):
            expected = shard_path(self.name, index, count)
            if shard.path != expected:
                raise ValueError(
                    f"shard {index} of split {self.name!r} is {shard.path!r}, expected {expected!r}"
                )

    @classmethod
    def from_shards(cls, name: str, shards: list[ShardInfo]) -> SplitInfo:
        """A SplitInfo whose totals are summed from ``shards``."""
        return cls(
            name=name,
            num_rows=sum(s.num_rows for s in shards),
            num_bytes=sum(s.num_bytes for s in shards),
            shards=shards,
        )


class HeldOutSplit(_Model):
    """A split whose label columns are withheld into the private labels file."""

    split: str
    label_columns: list[str] = Field(min_length=1)
    num_rows: NonNegative


def _as_value_error(check: Any, value: str) -> str:
    """Run a heldout.names check, turning its error into a pydantic ValueError."""
    try:
        result: str = check(value)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None
    return result


class Manifest(_Model):
    """The self-description of one dataset version."""

    format: Literal["heldout.manifest/1"] = MANIFEST_FORMAT
    name: str
    version: str
    created_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    title: str | None = None
    description: str = ""
    license: str = Field(pattern=LICENSE_PATTERN)
    task: str = Field(pattern=TASK_PATTERN)
    modality: Modality
    features: dict[str, Any]
    label_names: dict[str, list[str]] = Field(default_factory=dict)
    splits: dict[str, SplitInfo]
    held_out: dict[str, HeldOutSplit] = Field(default_factory=dict)
    statistics: dict[str, Any] = Field(default_factory=dict)
    source: dict[str, Any] | str | None = None
    citation: str | None = None
    skipped_files: list[dict[str, Any]] = Field(default_factory=list)
    leakage: dict[str, Any] = Field(default_factory=dict)
    # True when the labels of the held-out splits can be had elsewhere (a dataset built from
    # public sources, or audio committed to a repository): a demo, not a real held-out test.
    held_out_labels_public: bool = False
    held_out_labels_public_reason: str | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _as_value_error(check_name, value)

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        return _as_value_error(check_version, value)

    @field_validator("features")
    @classmethod
    def _check_features(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            features = Features.from_hf(value)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        if not features:
            raise ValueError("a dataset needs at least one column")
        return features.to_hf()

    @model_validator(mode="before")
    @classmethod
    def _fill_label_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("label_names") and "features" in data:
            with contextlib.suppress(InvalidInput):  # the features validator reports it
                data = {**data, "label_names": Features.from_hf(data["features"]).label_names()}
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> Manifest:
        features = Features.from_hf(self.features)
        if self.label_names != features.label_names():
            raise ValueError(
                f"label_names {self.label_names} do not match the ClassLabel columns of "
                f"features {features.label_names()}"
            )
        if not self.splits:
            raise ValueError("a dataset needs at least one split")
        for key, split in self.splits.items():
            if key != split.name:
                raise ValueError(f"splits[{key!r}] is named {split.name!r}")
            split.check_complete()
        for key, held in self.held_out.items():
            if key != held.split:
                raise ValueError(f"held_out[{key!r}] is for split {held.split!r}")
            if key not in self.splits:
                raise ValueError(
                    f"held-out split {key!r} is not one of the splits {sorted(self.splits)}"
                )
            unknown = [c for c in held.label_columns if c not in features]
            if unknown:
                raise ValueError(
                    f"held-out split {key!r}: label column(s) {unknown} are not in the features"
                )
            if held.num_rows != self.splits[key].num_rows:
                raise ValueError(
                    f"held-out split {key!r} has {held.num_rows} label rows "
                    f"but the split has {self.splits[key].num_rows} rows"
                )
        return self

    # --- serialisation -----------------------------------------------------------------
    def to_json(self) -> bytes:
        """Canonical JSON: sorted keys, indented, UTF-8, trailing newline."""
        data = self.model_dump(mode="json")
        return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str, where: str = "manifest.json") -> Manifest:
        """Parse and validate a manifest; InvalidInput says what is wrong and where."""
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{where} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise InvalidInput(f"{where} must hold a JSON object, got {type(obj).__name__}")
        if "format" not in obj:
            raise InvalidInput(f"{where} has no 'format' field (expected {MANIFEST_FORMAT!r})")
        if obj["format"] != MANIFEST_FORMAT:
            raise InvalidInput(
                f"{where} has unknown format {obj['format']!r}; this Heldout reads "
                f"{MANIFEST_FORMAT!r}"
            )
        return cls.validate_dict(obj, where)

    @classmethod
    def validate_dict(cls, obj: dict[str, Any], where: str = "manifest") -> Manifest:
        """Validate a manifest given as a dict, with readable errors."""
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise InvalidInput(f"{where} is invalid: {describe_validation_error(exc)}") from None

    # --- views -------------------------------------------------------------------------
    def features_obj(self) -> Features:
        """The full features (label columns included) as a Features object."""
        return Features.from_hf(self.features)

    def split_info(self, split: str) -> SplitInfo:
        """The SplitInfo of ``split``; NotFound names the splits there are."""
        return self._split(split)

    def _split(self, split: str) -> SplitInfo:
        try:
            return self.splits[split]
        except KeyError:
            raise NotFound(
                f"{self.name}@{self.version} has no split {split!r}; "
                f"splits are {sorted(self.splits)}"
            ) from None

    def label_columns(self, split: str) -> list[str]:
        """Columns withheld from ``split``'s public shards (empty when none)."""
        self._split(split)
        held = self.held_out.get(split)
        return list(held.label_columns) if held else []

    def public_features(self, split: str) -> dict[str, Any]:
        """HF features JSON of ``split``'s public shards (held-out label columns removed)."""
        return self.public_features_obj(split).to_hf()

    def public_features_obj(self, split: str) -> Features:
        """Features of ``split``'s public shards."""
        return self.features_obj().drop(self.label_columns(split))

    @property
    def total_rows(self) -> int:
        """Rows over all splits."""
        return sum(s.num_rows for s in self.splits.values())

    @property
    def total_bytes(self) -> int:
        """Bytes of all public shards."""
        return sum(s.num_bytes for s in self.splits.values())

    def all_shards(self) -> list[ShardInfo]:
        """Every shard of every split, in split order."""
        return [shard for split in self.splits.values() for shard in split.shards]


def describe_validation_error(exc: ValidationError, limit: int = 5) -> str:
    """Turn a pydantic error into '<field path>: <message>' items joined by '; '."""
    parts = []
    for error in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {message}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more error(s)")
    return "; ".join(parts)


__all__ = [
    "MANIFEST_FORMAT",
    "SHARD_PATH",
    "HeldOutSplit",
    "Manifest",
    "ShardInfo",
    "SplitInfo",
    "describe_validation_error",
    "shard_path",
]
