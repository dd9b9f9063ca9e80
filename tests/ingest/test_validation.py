"""Bad files, duplicates, leakage and near-duplicates: refused or recorded, never half-published."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from heldout.errors import IngestError
from heldout.ingest import PublishOptions, publish_source
from heldout.ingest.sources import FolderSource
from heldout.repository import DatasetRepository
from tests.ingest.conftest import audio_bytes, image_bytes, metadata, read_split, write


def _bad_folder(root: Path) -> None:
    for i in range(3):
        write(root / "train" / "a" / f"ok{i}.png", image_bytes(i))
        write(root / "test" / "a" / f"ok{i}.png", image_bytes(10 + i))
    write(root / "train" / "a" / "truncated.png", image_bytes(99, size=(64, 64))[:300])
    write(root / "train" / "a" / "empty.wav", b"")
    write(root / "test" / "a" / "notes.jpg", b"this is a text file, not a JPEG\n")


def _nothing_stored(repo: DatasetRepository) -> bool:
    return not list(repo.stores.public.list("datasets/")) and not list(
        repo.stores.private.list("private/"))


def test_bad_files_fail_with_a_report_naming_each(repo: DatasetRepository,
                                                  tmp_path: Path) -> None:
    root = tmp_path / "src"
    _bad_folder(root)
    # An image folder only lists image extensions, so the .wav is not part of this source;
    # the table test below and the audio-folder test cover it.
    with pytest.raises(IngestError) as info:
        publish_source(repo, FolderSource(root, "image"), "bad", "1.0.0", metadata())
    detail = info.value.detail
    assert "train/a/truncated.png: PNG does not decode" in detail
    assert "test/a/notes.jpg: not an image" in detail
    assert "nothing was published" in detail
    assert _nothing_stored(repo)


def test_mixed_bad_files_named_in_one_report(local_repo: DatasetRepository,
                                             tmp_path: Path) -> None:
    """A truncated PNG, a zero-byte WAV and a text file named .jpg, in one table source."""
    from heldout.ingest.sources import TableSource

    root = tmp_path / "src"
    _bad_folder(root)
    lines = ["file,split"] + [f"{p.relative_to(root).as_posix()},{p.relative_to(root).parts[0]}"
                              for p in sorted(root.rglob("*.*"))]
    (root / "index.csv").write_text("\n".join(lines) + "\n")
    source = TableSource(root / "index.csv", media_column="file", kind="image",
                         split_column="split")
    with pytest.raises(IngestError) as info:
        publish_source(local_repo, source, "bad", "1.0.0", metadata())
    problems = {p["file"].split(" (")[1].rstrip(")"): p["reason"]
                for p in info.value.extra["invalid_files"]}
    assert set(problems) == {"train/a/truncated.png", "train/a/empty.wav", "test/a/notes.jpg"}
    assert "truncated" in problems["train/a/truncated.png"]
    assert problems["train/a/empty.wav"] == "empty file (0 bytes)"
    assert problems["test/a/notes.jpg"].startswith("not an image")
    assert _nothing_stored(local_repo)


def test_zero_byte_wav_in_audio_folder_is_reported(local_repo: DatasetRepository,
                                                   tmp_path: Path) -> None:
    root = tmp_path / "src"
    write(root / "train" / "yes" / "a.wav", audio_bytes(1))
    write(root / "train" / "yes" / "empty.wav", b"")
    with pytest.raises(IngestError, match=r"train/yes/empty.wav: empty file \(0 bytes\)"):
        publish_source(local_repo, FolderSource(root, "audio"), "bad", "1.0.0",
                       metadata("audio-classification"))


def test_skip_invalid_publishes_the_rest_and_records_them(repo: DatasetRepository,
                                                          tmp_path: Path) -> None:
    root = tmp_path / "src"
    _bad_folder(root)
    result = publish_source(repo, FolderSource(root, "image"), "bad", "1.0.0", metadata(),
                            PublishOptions(skip_invalid=True))
    manifest = result.manifest
    assert manifest.splits["train"].num_rows == 3 and manifest.splits["test"].num_rows == 3
    assert sorted(f["file"] for f in manifest.skipped_files) == [
        "test/a/notes.jpg", "train/a/truncated.png"]
    assert len(read_split(repo, manifest, "train")) == 3


def test_test_image_copied_into_train_is_leakage(repo: DatasetRepository,
                                                 tmp_path: Path) -> None:
    root = tmp_path / "src"
    for i in range(3):
        write(root / "train" / "a" / f"tr{i}.png", image_bytes(i))
        write(root / "test" / "a" / f"te{i}.png", image_bytes(10 + i))
    shutil.copy(root / "test" / "a" / "te1.png", root / "train" / "a" / "copy.png")
    with pytest.raises(IngestError, match="leakage") as info:
        publish_source(repo, FolderSource(root, "image"), "leak", "1.0.0", metadata())
    assert "train/a/copy.png" in info.value.detail and "test/a/te1.png" in info.value.detail
    assert _nothing_stored(repo)
    result = publish_source(repo, FolderSource(root, "image"), "leak", "1.0.0", metadata(),
                            PublishOptions(allow_leakage=True))
    assert result.manifest.leakage["exact_duplicates_across_splits"] == 1
    assert result.manifest.leakage["allowed"] is True


def test_duplicates_within_a_split_are_reported(local_repo: DatasetRepository,
                                                tmp_path: Path) -> None:
    root = tmp_path / "src"
    for i in range(3):
        write(root / "train" / "a" / f"tr{i}.png", image_bytes(i))
    write(root / "train" / "a" / "again.png", image_bytes(1))
    write(root / "test" / "a" / "te.png", image_bytes(50))
    manifest = publish_source(local_repo, FolderSource(root, "image"), "dups", "1.0.0",
                              metadata()).manifest
    dup = manifest.statistics["duplicates"]["train"]
    assert dup["groups"] == 1 and dup["extra_copies"] == 1
    assert sorted(dup["examples"][0]) == ["train/a/again.png", "train/a/tr1.png"]


def test_near_duplicate_across_train_and_test_is_flagged(local_repo: DatasetRepository,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "src"
    original = Image.open(io.BytesIO(image_bytes(7, size=(64, 64))))
    resized = io.BytesIO()
    original.resize((48, 48)).save(resized, format="JPEG", quality=85)
    for i in range(3):
        write(root / "train" / "a" / f"tr{i}.png", image_bytes(i, size=(64, 64)))
    write(root / "train" / "a" / "orig.png", image_bytes(7, size=(64, 64)))
    write(root / "test" / "a" / "resized.jpg", resized.getvalue())
    manifest = publish_source(local_repo, FolderSource(root, "image"), "near", "1.0.0",
                              metadata()).manifest
    near = manifest.statistics["near_duplicates"]
    assert near["pairs"] == 1 and near["threshold_bits"] == 4
    assert near["examples"][0]["train"] == "train/a/orig.png"
    assert near["examples"][0]["test"] == "test/a/resized.jpg"
    assert manifest.leakage["near_duplicates_across_splits"] == 1
