"""Fixtures for the dataset-format tests: small real PNG/WAV files and a written dataset."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# Stock `datasets` must never reach the network in these tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.formats.manifest import HeldOutSplit, Manifest, SplitInfo
from heldout.formats.writer import write_split

CLASSES = ["cat", "dog", "bird"]


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (4, 3)) -> bytes:
    """A small solid-colour RGB PNG."""
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def audio_bytes(seed: int, rate: int = 16000, seconds: float = 0.05, fmt: str = "WAV") -> bytes:
    """A short random mono clip encoded with soundfile (16-bit PCM)."""
    import soundfile as sf

    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, int(rate * seconds))
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def color_of(index: int) -> tuple[int, int, int]:
    return (index * 7 % 256, index * 13 % 256, index * 29 % 256)


@pytest.fixture
def image_features() -> Features:
    return Features({"id": Value("string"), "image": Image(), "label": ClassLabel(CLASSES)})


def image_rows(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"id": f"ex{i:04d}", "image": png_bytes(color_of(i)), "label": CLASSES[i % len(CLASSES)]}
        for i in range(start, start + count)
    ]


@dataclass
class WrittenVersion:
    directory: Path
    manifest: Manifest
    features: Features


@pytest.fixture
def written_version(tmp_path: Path, image_features: Features) -> WrittenVersion:
    """A version folder: train (12 rows, labelled) and test (6 rows, labels held out)."""
    directory = tmp_path / "demo" / "1.0.0"
    train = write_split(directory, "train", image_features, image_rows(12))
    public = image_features.drop(["label"])
    test_rows = [{k: v for k, v in r.items() if k != "label"} for r in image_rows(6, start=100)]
    test = write_split(directory, "test", public, test_rows)
    manifest = Manifest(
        name="demo",
        version="1.0.0",
        title="Demo colours",
        description="Tiny solid-colour images with three classes.",
        license="CC-BY-4.0",
        task="image-classification",
        modality="image",
        features=image_features.to_hf(),
        splits={
            "train": SplitInfo.from_shards("train", train),
            "test": SplitInfo.from_shards("test", test),
        },
        held_out={"test": HeldOutSplit(split="test", label_columns=["label"], num_rows=6)},
        citation="@misc{demo, title={Demo}}",
    )
    return WrittenVersion(directory, manifest, image_features)


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    return png_bytes
