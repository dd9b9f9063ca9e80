"""Small builders shared by tests: PNG bytes, a tiny image-classification dataset."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image as PILImage

from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.repository import DatasetMetadata, DatasetRepository

LABELS = ["cat", "dog", "fox"]


def png_bytes(seed: int, size: int = 8) -> bytes:
    """A deterministic small grayscale PNG."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def image_features() -> Features:
    return Features({"id": Value("string"), "image": Image(), "label": ClassLabel(LABELS)})


def image_rows(split: str, count: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{split}-{i:04d}",
            "image": {"bytes": png_bytes(offset + i), "path": f"{split}-{i:04d}.png"},
            "label": (offset + i) % len(LABELS),
        }
        for i in range(count)
    ]


def metadata() -> DatasetMetadata:
    return DatasetMetadata(
        title="Tiny shapes",
        description="A tiny test dataset",
        license="CC-BY-4.0",
        task="image-classification",
        modality="image",
    )


def publish_tiny(repo: DatasetRepository, name: str = "tiny", version: str = "1.0.0") -> Any:
    """Publish train (10 rows) and a held-out test split (6 rows); returns the manifest."""
    draft = repo.create_draft(name, version, features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 10))
    draft.write_split("test", image_rows("test", 6, offset=100), held_out=True,
                      label_columns=["label"])
    return draft.commit(statistics={"class_balance": {"train": {"cat": 4, "dog": 3, "fox": 3}}})
