"""Hugging Face ``datasets``: an in-memory ``Dataset``/``DatasetDict`` or a ``save_to_disk`` folder.

Image and Audio columns are read with ``decode=False``, so their encoded bytes (PNG, JPEG,
FLAC…) are carried over as they are: nothing is decoded to pixels/samples and re-encoded.
Rows stream from the memory-mapped Arrow files in batches. ``datasets`` is imported lazily
(it is slow to import).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from heldout.errors import IngestError
from heldout.formats.features import Audio, Features, Value
from heldout.ingest.media import Kind
from heldout.ingest.sources.base import Example, MediaRef, Source, check_unique_ids

BATCH_ROWS = 256


class HFSource(Source):
    """A ``datasets.Dataset`` (one split, named ``split``), a ``DatasetDict`` or a folder."""

    def __init__(self, data: Any, *, split: str = "train") -> None:
        # Through importlib: for type checkers the repository's data folder ``datasets/`` would
        # shadow the Hugging Face package of the same name.
        datasets: Any = importlib.import_module("datasets")
        if isinstance(data, str | Path):
            self.origin = str(data)
            try:
                data = datasets.load_from_disk(str(data))
            except (FileNotFoundError, ValueError) as exc:
                raise IngestError(f"{self.origin}: not a save_to_disk folder: {exc}") from None
        else:
            self.origin = "in-memory"
        if isinstance(data, datasets.Dataset):
            data = datasets.DatasetDict({split: data})
        if not isinstance(data, datasets.DatasetDict) or not data:
            raise IngestError("expected a datasets.Dataset or a non-empty DatasetDict")
        feature_sets = {name: ds.features for name, ds in data.items()}
        first = next(iter(feature_sets.values()))
        for name, feats in feature_sets.items():
            if feats != first:
                raise IngestError(f"split {name!r} has different features from the others")
        media: dict[str, Kind] = {}
        for column, feature in first.items():
            if isinstance(feature, datasets.Image):
                media[column] = "image"
            elif isinstance(feature, datasets.Audio):
                media[column] = "audio"
        if not media:
            raise IngestError("the dataset has no Image or Audio column; Heldout ingests image "
                              "and speech datasets")
        kinds = set(media.values())
        if len(kinds) > 1:
            raise IngestError(f"mixed image and audio columns {media} are not supported")
        self.kind = kinds.pop()
        self._media = media
        self._dicts = {
            name: ds.cast(datasets.Features({
                c: (type(f)(decode=False) if c in media else f) for c, f in ds.features.items()
            }))
            for name, ds in data.items()
        }
        hf_json = {c: f for c, f in first.to_dict().items()}
        self._has_id = "id" in hf_json
        columns: list[tuple[str, Any]] = [("id", Value("string"))]
        base = Features.from_hf({
            c: self._plain(c, spec) for c, spec in hf_json.items() if c != "id"
        })
        columns.extend(base.items())
        self.features = Features(columns)

    def _plain(self, column: str, spec: dict[str, Any]) -> dict[str, Any]:
        """HF feature JSON without ``decode``/``id`` keys; an Audio rate filled in if absent."""
        spec = {k: v for k, v in spec.items() if k not in ("decode", "id", "num_classes")}
        if spec.get("_type") == "Audio" and not spec.get("sampling_rate"):
            spec["sampling_rate"] = self._native_rate(column)
        if spec.get("_type") == "Image" and spec.get("mode") is None:
            spec.pop("mode", None)
        return spec

    def _native_rate(self, column: str) -> int:
        import io

        import soundfile as sf

        for ds in getattr(self, "_dicts", {}).values():
            for row in ds.select_columns([column]).iter(batch_size=1):
                value = row[column][0] or {}
                try:
                    if value.get("bytes"):
                        return int(sf.info(io.BytesIO(value["bytes"])).samplerate)
                    if value.get("path"):
                        return int(sf.info(value["path"]).samplerate)
                except Exception:  # unreadable: validation reports it
                    return Audio().sampling_rate
                break
        return Audio().sampling_rate

    @property
    def splits(self) -> list[str]:
        return list(self._dicts)

    def count(self, split: str) -> int | None:
        return len(self._dicts[split])

    def describe(self) -> dict[str, Any]:
        return {"format": "huggingface", "origin": self.origin}

    def examples(self, split: str) -> Iterator[Example]:
        ds = self._dicts[split]
        if self._has_id:
            check_unique_ids(split, [str(v) for v in ds["id"]])
        index = 0
        for batch in ds.iter(batch_size=BATCH_ROWS):
            size = len(next(iter(batch.values())))
            for i in range(size):
                row = {c: v[i] for c, v in batch.items()}
                identifier = str(row.pop("id")) if self._has_id else f"{split}-{index:07d}"
                media = {c: self._ref(row.pop(c)) for c in self._media}
                yield Example(split=split, id=identifier, name=f"{split} row {index}",
                              media=media, fields=row)
                index += 1

    @staticmethod
    def _ref(value: Any) -> MediaRef:
        if not isinstance(value, dict):
            return MediaRef(None, b"", None)
        path = value.get("path")
        name = PurePosixPath(path).name if path else None
        if value.get("bytes") is None and path:
            return MediaRef(path, None, name)
        return MediaRef(None, value.get("bytes") or b"", name)
