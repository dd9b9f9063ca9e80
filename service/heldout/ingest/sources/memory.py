"""Examples made in memory (the built-in datasets): bytes plus fields, already split."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from heldout.formats.features import Features
from heldout.ingest.media import Kind
from heldout.ingest.sources.base import Example, Source, check_unique_ids


class MemorySource(Source):
    """A source over lists of Examples per split."""

    def __init__(self, kind: Kind, features: Features, splits: dict[str, list[Example]],
                 description: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.features = features
        self._splits = splits
        self._description = description or {"format": "memory"}
        for name, examples in splits.items():
            check_unique_ids(name, [e.id for e in examples])

    @property
    def splits(self) -> list[str]:
        return list(self._splits)

    def examples(self, split: str) -> Iterator[Example]:
        return iter(self._splits[split])

    def count(self, split: str) -> int | None:
        return len(self._splits[split])

    def describe(self) -> dict[str, Any]:
        return dict(self._description)
