"""Fixtures for client tests: a dataset published with the real repository, served over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.storage.base import Stores
from tests.client.fileserver import FileServer

LABELS = ["cat", "dog", "bird"]
FEATURES = Features({"id": Value("string"), "image": Image(), "label": ClassLabel(LABELS),
                     "note": Value("string")})


def png(seed: int, size: int = 8) -> bytes:
    """A small, valid, distinct PNG."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def make_rows(split: str, count: int, pad: int = 0) -> list[dict[str, Any]]:
    """Rows of the demo dataset (``pad`` random bytes appended to each PNG to grow shards)."""
    rng = np.random.default_rng(len(split) * 1000 + count)
    rows = []
    for i in range(count):
        data = png(hash((split, i)) % 2**32) + (rng.bytes(pad) if pad else b"")
        rows.append({"id": f"{split}-{i:04d}", "image": {"bytes": data, "path": f"{i}.png"},
                     "label": LABELS[i % 3], "note": f"row {i} of {split}"})
    return rows


def publish_demo(repository: DatasetRepository, name: str = "pets", version: str = "1.0.0",
                 *, train: int = 250, test: int = 60, pad: int = 2000) -> dict[str, list[Any]]:
    """Publish train (several shards) and a held-out test split; return the rows written."""
    draft = repository.create_draft(
        name, version, features=FEATURES,
        metadata=DatasetMetadata(title="Pets", description="demo", license="CC-BY-4.0",
                                 task="image-classification", modality="image"),
    )
    rows = {"train": make_rows("train", train, pad), "test": make_rows("test", test, pad)}
    draft.write_split("train", rows["train"])
    draft.write_split("test", rows["test"], held_out=True, label_columns=["label"])
    draft.commit()
    return rows


@pytest.fixture
def published(local_stores: Stores) -> tuple[DatasetRepository, dict[str, list[Any]], Path]:
    """A local-store repository with ``pets@1.0.0`` (train in 3+ shards); and the public root."""
    repository = DatasetRepository(local_stores, shard_target_bytes=200_000)
    rows = publish_demo(repository)
    root = Path(local_stores.public.root) / "datasets"  # type: ignore[attr-defined]
    return repository, rows, root


@pytest.fixture
def file_server(published: tuple[DatasetRepository, dict[str, list[Any]], Path]
                ) -> Iterator[FileServer]:
    """The published folder served over real HTTP (listing, manifest, ranged files)."""
    server = FileServer(published[2]).start()
    try:
        yield server
    finally:
        server.stop()


def expected_public(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows as they read back from the public shards (labels as indices, held-out dropped)."""
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in drop}
        if "label" in item:
            item["label"] = LABELS.index(item["label"])
        out.append(item)
    return out


def without_paths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with media file names blanked: held-out splits rename them so names leak nothing."""
    return [{k: ({**v, "path": None} if k == "image" else v) for k, v in row.items()}
            for row in rows]
