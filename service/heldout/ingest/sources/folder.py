"""Image and audio folders: ``root/[split/][class/]file`` plus an optional ``metadata.csv``.

Layouts (the same as Hugging Face's imagefolder/audiofolder):

- ``root/{split}/{class}/file``: splits and labels from folder names;
- ``root/{class}/file``: labels from folders; splits assigned by a seeded stratified split;
- ``root/{split}/file`` + ``root/{split}/metadata.csv`` (``file_name`` + any columns).

Top-level folders count as splits when every one of them is a split name (train, test,
validation, valid, val, dev, eval). Hidden files and files with other extensions are ignored;
a file with a media extension that is not really media is reported by validation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import soundfile as sf

from heldout.errors import IngestError
from heldout.formats.features import Audio, ClassLabel, Feature, Features, Image, Value
from heldout.ingest.media import EXTENSIONS, Kind
from heldout.ingest.sources.base import (
    Example,
    MediaRef,
    Source,
    merge_value_features,
    stable_id,
    value_feature,
)
from heldout.ingest.splitting import DEFAULT_FRACTIONS, stratified_split
from heldout.names import SPLIT_PATTERN

SPLIT_NAMES = frozenset({"train", "test", "validation", "valid", "val", "dev", "eval"})
METADATA_FILES = ("metadata.csv", "metadata.jsonl")
SPLIT_ORDER = ["train", "validation", "valid", "val", "dev", "eval", "test"]


def _walk(folder: Path, extensions: frozenset[str]) -> list[tuple[str, str]]:
    """(path relative to ``folder`` in POSIX form, full path) of the media files under
    ``folder``: recursive, sorted, hidden entries skipped. Plain strings: pathlib is slow
    for many files."""
    found: list[tuple[str, str]] = []
    top = str(folder)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, top).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in sorted(filenames):
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions:
                found.append((prefix + name, os.path.join(dirpath, name)))
    return found


def _read_metadata(folder: Path) -> pa.Table | None:
    for name in METADATA_FILES:
        path = folder / name
        if path.is_file():
            try:
                table = (pacsv.read_csv(path) if name.endswith(".csv")
                         else pajson.read_json(path))
            except (pa.ArrowInvalid, OSError) as exc:
                raise IngestError(f"{path}: cannot read: {exc}") from None
            if "file_name" not in table.column_names:
                raise IngestError(f"{path}: needs a 'file_name' column "
                                  f"(columns are {table.column_names})")
            return table
    return None


class FolderSource(Source):
    """An image folder (``kind="image"``) or audio folder (``kind="audio"``)."""

    def __init__(
        self,
        root: str | Path,
        kind: Kind,
        *,
        fractions: dict[str, float] | None = None,
        seed: int = 0,
        column_features: dict[str, Feature] | None = None,
        sampling_rate: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.kind = kind
        if not self.root.is_dir():
            raise IngestError(f"{self.root} is not a folder")
        self._missing: list[dict[str, str]] = []
        # Overridden ClassLabel columns are matched by name: a CSV value 3 is the class "3".
        self._by_name = {c for c, f in (column_features or {}).items()
                         if isinstance(f, ClassLabel)}
        self._examples: dict[str, list[Example]] = {}
        self._layout = ""
        subdirs = [d for d in sorted(self.root.iterdir())
                   if d.is_dir() and not d.name.startswith(".")]
        split_layout = bool(subdirs) and all(d.name.lower() in SPLIT_NAMES for d in subdirs)
        label_names: set[str] = set()
        columns: dict[str, Feature] = {}
        if split_layout:
            self._layout = "split folders"
            for d in subdirs:
                if not SPLIT_PATTERN.fullmatch(d.name):
                    raise IngestError(f"{d}: split folder names must be lower case")
                self._examples[d.name] = self._scan(d, d.name, label_names, columns)
        else:
            self._layout = "assigned split"
            fractions = fractions or DEFAULT_FRACTIONS
            pool = self._scan(self.root, "", label_names, columns)
            assigned = stratified_split([e.name for e in pool],
                                        [e.fields.get("label") for e in pool], fractions, seed)
            for name in fractions:
                self._examples[name] = []
            for example, split in zip(pool, assigned, strict=True):
                example.split = split
                self._examples[split].append(example)
        if not any(self._examples.values()) and not self._missing:
            exts = ", ".join(sorted(EXTENSIONS[kind]))
            raise IngestError(f"{self.root}: no {kind} files found ({exts})")
        self.fractions = fractions if not split_layout else None
        self.seed = seed
        self.features = self._build_features(label_names, columns, column_features or {},
                                             sampling_rate)

    # --- scanning ----------------------------------------------------------------------
    def _scan(self, folder: Path, split: str, label_names: set[str],
              columns: dict[str, Feature]) -> list[Example]:
        files = _walk(folder, EXTENSIONS[self.kind])
        metadata = _read_metadata(folder)
        meta_rows: dict[str, dict[str, Any]] = {}
        if metadata is not None:
            for name in metadata.column_names:
                if name == "file_name":
                    continue
                if name in ("id", "label") or name == self.kind:
                    raise IngestError(f"{folder}/metadata: column {name!r} is reserved")
                feature = value_feature(metadata.schema.field(name).type)
                columns[name] = merge_value_features(columns.get(name, feature), feature, name)
            for row in metadata.to_pylist():
                meta_rows[str(row.pop("file_name"))] = row
        labelled = {"/" in rel for rel, _ in files}
        if len(labelled) > 1:
            raise IngestError(
                f"{folder}: some files are in class folders and some are not; put every file "
                "in a class folder, or none"
            )
        split_prefix = "" if folder == self.root else self._rel(folder) + "/"
        examples: list[Example] = []
        seen_meta: set[str] = set()
        for rel, full in files:
            name = split_prefix + rel
            fields: dict[str, Any] = {}
            if True in labelled:
                label = rel.split("/", 1)[0]
                label_names.add(label)
                fields["label"] = label
            if metadata is not None:
                row = meta_rows.get(rel)
                if row is None:
                    self._missing.append({"file": name,
                                          "reason": "has no row in the metadata file"})
                    continue
                seen_meta.add(rel)
                fields.update(row)
                for column in self._by_name & fields.keys():
                    if fields[column] is not None and not isinstance(fields[column], str):
                        fields[column] = str(fields[column])
            examples.append(Example(
                split=split,
                id=stable_id(name),
                name=name,
                media={self.kind: MediaRef(full, None, rel.rsplit("/", 1)[-1])},
                fields=fields,
            ))
        for rel in sorted(set(meta_rows) - seen_meta):
            self._missing.append({"file": split_prefix + rel,
                                  "reason": "listed in the metadata file but not found"})
        return examples

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _build_features(self, label_names: set[str], columns: dict[str, Feature],
                        overrides: dict[str, Feature], sampling_rate: int | None) -> Features:
        media: Feature
        if self.kind == "image":
            media = Image()
        else:
            media = Audio(sampling_rate=sampling_rate or self._first_rate())
        out: list[tuple[str, Feature]] = [("id", Value("string")), (self.kind, media)]
        if label_names:
            out.append(("label", ClassLabel(sorted(label_names))))
        out.extend((name, overrides.get(name, feature)) for name, feature in columns.items())
        unknown = set(overrides) - {name for name, _ in out}
        if unknown:
            raise IngestError(f"column feature(s) given for unknown column(s) {sorted(unknown)}")
        return Features(out)

    def _first_rate(self) -> int:
        """The sample rate of the first readable audio file (the Audio feature's rate)."""
        for examples in self._examples.values():
            for example in examples:
                path = example.media[self.kind].path
                try:
                    return int(sf.info(path).samplerate)
                except Exception:  # unreadable files are reported by validation
                    continue
        return 16000

    # --- Source ------------------------------------------------------------------------
    @property
    def splits(self) -> list[str]:
        def order(name: str) -> tuple[int, str]:
            return (SPLIT_ORDER.index(name) if name in SPLIT_ORDER else 3, name)

        return sorted(self._examples, key=order)

    def examples(self, split: str) -> Iterator[Example]:
        return iter(self._examples[split])

    def count(self, split: str) -> int | None:
        return len(self._examples[split])

    def missing(self) -> list[dict[str, str]]:
        return list(self._missing)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": f"{self.kind}folder", "layout": self._layout}
        if self.fractions is not None:
            out.update(split_fractions=self.fractions, split_seed=self.seed)
        return out
