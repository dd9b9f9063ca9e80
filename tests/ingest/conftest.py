"""Fixtures for ingest tests: small real media files made in the test, a repository per store."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from heldout.formats.manifest import Manifest
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.storage.base import Stores


def image_bytes(seed: int, size: tuple[int, int] = (12, 10), fmt: str = "PNG") -> bytes:
    """A small random RGB image, distinct per seed."""
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def audio_bytes(seed: int, seconds: float = 0.25, rate: int = 16000, fmt: str = "WAV") -> bytes:
    """A short tone with a seed-dependent frequency."""
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.3 * np.sin(2 * np.pi * (200 + 37 * seed) * t).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def repo(stores: Stores) -> DatasetRepository:
    """A repository over each store backend in turn (local folder, real S3)."""
    return DatasetRepository(stores)


@pytest.fixture
def local_repo(local_stores: Stores) -> DatasetRepository:
    """A repository over local stores (tests that do not depend on the backend)."""
    return DatasetRepository(local_stores)


def metadata(task: str = "image-classification") -> DatasetMetadata:
    """Minimal metadata for test publishes."""
    return DatasetMetadata(title="Test", license="CC-BY-4.0", task=task)


def read_split(repo: DatasetRepository, manifest: Manifest, split: str) -> pa.Table:
    """All public shards of ``split`` read back from the store."""
    tables = []
    for shard in manifest.splits[split].shards:
        key = f"datasets/{manifest.name}/{manifest.version}/{shard.path}"
        tables.append(pq.read_table(pa.BufferReader(repo.stores.public.get_bytes(key))))
    return pa.concat_tables(tables)


def read_labels(repo: DatasetRepository, manifest: Manifest, split: str) -> pa.Table:
    """The private labels object of a held-out split."""
    key = f"private/labels/{manifest.name}/{manifest.version}/{split}.parquet"
    return pq.read_table(pa.BufferReader(repo.stores.private.get_bytes(key)))


def rows_by_path(table: pa.Table, media: str) -> dict[str, dict[str, Any]]:
    """Rows keyed by the media value's file name."""
    return {row[media]["path"]: row for row in table.to_pylist()}
