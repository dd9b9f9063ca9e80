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
    assert "test" not in manifest.statistics["class_balance"]  # private: in the report
    assert sum(repo.report("digits")["statistics"]["class_balance"]["test"].values()) == 361
    assert manifest.held_out["test"].label_columns == ["label"]
    assert manifest.held_out_labels_public
    assert "scikit-learn" in (manifest.held_out_labels_public_reason or "")
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
    assert not manifest.held_out_labels_public  # espeak-ng made a secret test split


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_digits_test_split_is_new_at_every_build(local_repo: DatasetRepository) -> None:
    repo = local_repo
    assert not (datasets_dir() / "spoken-digits" / "audio" / "test").exists()
    first = build_builtin(repo, "spoken-digits", version="1.0.0").manifest
    second = build_builtin(repo, "spoken-digits", version="1.0.1").manifest
    a, b = (read_labels(repo, m, "test").to_pylist() for m in (first, second))
    assert len(a) == len(b) == 112
    assert not {r["id"] for r in a} & {r["id"] for r in b}
    # Fresh digits, strings and voices: the label sequences differ (by utterance order).
    assert sorted(r["transcript"] for r in a) != sorted(r["transcript"] for r in b)
    audio_a = {r["audio"]["bytes"] for r in read_split(repo, first, "test").to_pylist()}
    audio_b = {r["audio"]["bytes"] for r in read_split(repo, second, "test").to_pylist()}
    assert not audio_a & audio_b


def test_spoken_digits_without_espeak_is_marked(local_repo: DatasetRepository,
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    repo = local_repo
    manifest = build_builtin(repo, "spoken-digits").manifest
    assert manifest.held_out_labels_public
    assert "espeak-ng is not installed" in (manifest.held_out_labels_public_reason or "")
    assert set(manifest.splits) == {"train", "test"} and manifest.splits["test"].num_rows == 80
    card = repo.stores.public.get_bytes("datasets/spoken-digits/1.0.0/README.md").decode()
    assert "labels of the held-out splits are public" in card


@pytest.mark.skipif(shutil.which("espeak-ng") is None,
                    reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_spoken_digits_generator_runs(tmp_path: Path) -> None:
    script = datasets_dir() / "spoken-digits" / "generate.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path),
                           "--test", str(tmp_path / "secret-test")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    committed = datasets_dir() / "spoken-digits" / "audio"
    for split in ("train", "validation"):
        made = (tmp_path / "audio" / split / "metadata.csv").read_text()
        assert made == (committed / split / "metadata.csv").read_text()
    assert not (tmp_path / "audio" / "test").exists()
    clip = sorted((tmp_path / "secret-test").glob("*.flac"))[0]
    info = sf.info(str(clip))
    assert (info.samplerate, info.channels) == (16000, 1) and 0.2 < info.duration < 3


def test_the_datasets_folder_is_a_setting(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    from heldout.config import Settings
    from heldout.ingest.builtin import load_card

    shutil.copytree(datasets_dir() / "digits", tmp_path / "digits")
    card = tmp_path / "digits" / "card.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("title:", "title: Moved", 1),
                    encoding="utf-8")
    monkeypatch.setenv("HELDOUT_DATASETS_DIR", str(tmp_path))
    configured = Settings().datasets_dir
    assert configured == tmp_path
    assert load_card("digits", configured)[0]["title"].startswith("Moved")
    assert not load_card("digits")[0]["title"].startswith("Moved")
