"""The built-in datasets publish, hold back test labels and load with stock ``datasets``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from heldout.ingest.builtin import build_builtin, datasets_dir
from heldout.repository import DatasetRepository
from heldout.storage.base import Stores
from tests.ingest.conftest import read_labels, read_split


def _download(stores: Stores, name: str, version: str, target: Path) -> Path:
    """Copy a version's public objects to a folder, as a user downloading it would."""
    prefix = f"datasets/{name}/{version}/"
    for info in stores.public.list(prefix):
        path = target / info.key[len(prefix):]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stores.public.get_bytes(info.key))
    return target


def test_digits_publishes_and_loads_with_datasets(repo: DatasetRepository,
                                                  tmp_path: Path) -> None:
    import datasets
    from sklearn.datasets import load_digits

    manifest = build_builtin(repo, "digits").manifest
    assert {s: i.num_rows for s, i in manifest.splits.items()} == {
        "train": 1257, "validation": 179, "test": 361}
    assert sum(manifest.statistics["class_balance"]["test"].values()) == 361
    assert manifest.held_out["test"].label_columns == ["label"]
    assert read_split(repo, manifest, "test").column_names == ["id", "image"]
    labels = read_labels(repo, manifest, "test")
    assert labels.num_rows == 361 and labels.column("label").null_count == 0
    folder = _download(repo.stores, "digits", "1.0.0", tmp_path / "digits")
    ds = datasets.load_dataset("parquet", data_files={
        "train": str(folder / "data" / "train-*.parquet")}, split="train")
    assert isinstance(ds.features["image"], datasets.Image)
    assert ds.features["label"].names == [str(d) for d in range(10)]
    # Pixel values round-trip: the first training image is one of sklearn's, scaled to 0-255.
    digits = load_digits()
    image = ds[0]["image"]
    assert image.size == (8, 8) and image.mode == "L"
    import numpy as np

    pixels = np.asarray(image)
    matches = np.all(np.rint(digits.images * 255 / 16).astype(np.uint8) == pixels, axis=(1, 2))
    assert matches.any()
    assert int(digits.target[np.flatnonzero(matches)[0]]) == ds[0]["label"]


def test_spoken_digits_publishes_and_loads_with_datasets(repo: DatasetRepository,
                                                         tmp_path: Path) -> None:
    import datasets

    manifest = build_builtin(repo, "spoken-digits").manifest
    counts = {s: i.num_rows for s, i in manifest.splits.items()}
    assert sum(counts.values()) >= 300
    assert manifest.statistics["sample_rate"]["train"] == {"16000": counts["train"]}
    labels = read_labels(repo, manifest, "test")
    assert sorted(labels.column_names) == ["digit", "id", "language", "speaker_id", "transcript"]
    train = read_split(repo, manifest, "train").to_pylist()
    # Speakers are disjoint between train and test; both languages appear.
    assert not {r["speaker_id"] for r in train} & set(labels.column("speaker_id").to_pylist())
    assert {r["language"] for r in train} == {"en", "cmn"}
    chinese = next(r for r in train if r["language"] == "cmn" and r["digit"] is None)
    assert all("\u4e00" <= ch <= "\u9fff" or ch == "零" for ch in chinese["transcript"])
    folder = _download(repo.stores, "spoken-digits", "1.0.0", tmp_path / "sd")
    ds = datasets.load_dataset("parquet", data_files={
        "train": str(folder / "data" / "train-*.parquet")}, split="train")
    audio = ds.features["audio"]
    assert isinstance(audio, datasets.Audio) and audio.sampling_rate == 16000
    raw = ds.cast_column("audio", datasets.Audio(decode=False))[0]["audio"]["bytes"]
    import io

    info = sf.info(io.BytesIO(raw))
    assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    assert "espeak-ng" in (folder / "README.md").read_text()


@pytest.mark.skipif(shutil.which("espeak-ng") is None,
                    reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_spoken_digits_generator_runs(tmp_path: Path) -> None:
    script = datasets_dir() / "spoken-digits" / "generate.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    committed = datasets_dir() / "spoken-digits" / "audio"
    for split in ("train", "validation", "test"):
        made = (tmp_path / "audio" / split / "metadata.csv").read_text()
        assert made == (committed / split / "metadata.csv").read_text()
    clip = sorted((tmp_path / "audio" / "test").glob("*.flac"))[0]
    info = sf.info(str(clip))
    assert (info.samplerate, info.channels) == (16000, 1) and 0.2 < info.duration < 3
