"""Each source kind, published to both stores and read back value by value."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from heldout.ingest import PublishOptions, publish_source
from heldout.ingest.sources import FolderSource, HFSource, TableSource
from heldout.repository import DatasetRepository
from tests.ingest.conftest import (
    audio_bytes,
    image_bytes,
    metadata,
    read_labels,
    read_split,
    rows_by_path,
    write,
)


def test_imagefolder_with_split_folders(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    files = {}
    for s, split in enumerate(("train", "test")):
        for c, cls in enumerate(("cat", "dog")):
            for i in range(3):
                data = image_bytes(100 * s + 10 * c + i)
                write(tmp_path / split / cls / f"{cls}{i}.png", data)
                files[(split, f"{cls}{i}.png")] = (cls, data)
    result = publish_source(repo, FolderSource(tmp_path, "image"), "pets", "1.0.0", metadata())
    manifest = result.manifest
    assert manifest.label_names == {"label": ["cat", "dog"]}
    assert manifest.statistics["class_balance"]["train"] == {"cat": 3, "dog": 3}
    assert manifest.statistics["image_width"]["test"]["counts"] == [0, 0, 0, 0, 0, 6, 0, 0, 0, 0]
    assert len(manifest.statistics["image_width"]["test"]["bin_edges"]) == 11
    for split in ("train", "test"):
        rows = rows_by_path(read_split(repo, manifest, split), "image")
        assert len(rows) == 6
        for (s, name), (cls, data) in files.items():
            if s == split:
                assert rows[name]["image"]["bytes"] == data
                assert manifest.label_names["label"][rows[name]["label"]] == cls
    # Ids are stable across runs.
    again = publish_source(repo, FolderSource(tmp_path, "image"), "pets", "1.0.1", metadata())
    assert (read_split(repo, again.manifest, "train").column("id").to_pylist()
            == read_split(repo, manifest, "train").column("id").to_pylist())


def test_imagefolder_without_splits_is_split_stratified(local_repo: DatasetRepository,
                                                        tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    for c, cls in enumerate(("a", "b")):
        for i in range(10):
            write(tmp_path / cls / f"{i}.png", image_bytes(20 * c + i))
    source = FolderSource(tmp_path, "image", fractions={"train": 0.7, "test": 0.3}, seed=1)
    manifest = publish_source(local_repo, source, "ab", "1.0.0", metadata()).manifest
    assert manifest.statistics["class_balance"] == {"train": {"a": 7, "b": 7},
                                                    "test": {"a": 3, "b": 3}}
    assert manifest.source == {"format": "imagefolder", "layout": "assigned split",
                               "split_fractions": {"train": 0.7, "test": 0.3}, "split_seed": 1}


def test_audiofolder_with_metadata(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    clips = {}
    for split in ("train", "test"):
        lines = ["file_name,transcript,speaker_id"]
        for i in range(3):
            data = audio_bytes(i + (10 if split == "test" else 0), fmt="FLAC")
            write(tmp_path / split / f"u{i}.flac", data)
            lines.append(f"u{i}.flac,say {split} {i},spk{i}")
            clips[(split, f"u{i}.flac")] = data
        (tmp_path / split / "metadata.csv").write_text("\n".join(lines) + "\n")
    source = FolderSource(tmp_path, "audio")
    result = publish_source(repo, source, "speech", "1.0.0",
                            metadata("automatic-speech-recognition"),
                            PublishOptions(held_out=["test"]))
    manifest = result.manifest
    assert manifest.features["audio"] == {"_type": "Audio", "sampling_rate": 16000}
    assert manifest.statistics["sample_rate"]["train"] == {"16000": 3}
    assert manifest.statistics["audio_duration_seconds"]["train"]["mean"] == 0.25
    train = rows_by_path(read_split(repo, manifest, "train"), "audio")
    assert train["u2.flac"]["transcript"] == "say train 2"
    assert train["u2.flac"]["speaker_id"] == "spk2"
    assert train["u2.flac"]["audio"]["bytes"] == clips[("train", "u2.flac")]
    samples, rate = sf.read(io.BytesIO(train["u1.flac"]["audio"]["bytes"]))
    assert rate == 16000 and len(samples) == 4000
    # Held out: public test shards have id + audio only; labels keep transcript and speaker.
    test = read_split(repo, manifest, "test")
    assert test.column_names == ["id", "audio"]
    assert all(row["audio"]["path"] == row["id"] + ".flac" for row in test.to_pylist())
    labels = read_labels(repo, manifest, "test")
    assert sorted(labels.column_names) == ["id", "speaker_id", "transcript"]
    assert sorted(labels.column("transcript").to_pylist()) == [f"say test {i}" for i in range(3)]
    assert set(labels.column("id").to_pylist()) == set(test.column("id").to_pylist())


def test_csv_table_with_paths(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    lines = ["path,kind,split,note"]
    expected = {}
    for i in range(6):
        data = image_bytes(50 + i)
        write(tmp_path / "img" / f"{i}.png", data)
        split = "test" if i >= 4 else "train"
        lines.append(f"img/{i}.png,{'round' if i % 2 else 'square'},{split},n{i}")
        expected[f"{i}.png"] = (data, "round" if i % 2 else "square", f"n{i}")
    (tmp_path / "index.csv").write_text("\n".join(lines) + "\n")
    source = TableSource(tmp_path / "index.csv", media_column="path", class_column="kind",
                         split_column="split")
    old_name = TableSource(tmp_path / "index.csv", media_column="path", label_column="kind",
                           split_column="split")  # the deprecated name of class_column
    assert old_name.features == source.features
    manifest = publish_source(repo, source, "shapes", "1.0.0", metadata()).manifest
    assert manifest.splits["train"].num_rows == 4 and manifest.splits["test"].num_rows == 2
    names = manifest.label_names["kind"]
    for split in ("train", "test"):
        for name, row in rows_by_path(read_split(repo, manifest, split), "image").items():
            data, kind, note = expected[name]
            assert row["image"]["bytes"] == data
            assert names[row["kind"]] == kind and row["note"] == note


def test_parquet_table_with_inline_bytes(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    clips = [audio_bytes(i) for i in range(5)]
    table = pa.table({"clip": clips, "text": [f"t{i}" for i in range(5)],
                      "key": [f"k{i}" for i in range(5)],
                      "split": ["train", "train", "train", "test", "test"]})
    pq.write_table(table, tmp_path / "clips.parquet")
    source = TableSource(tmp_path / "clips.parquet", media_column="clip", kind="audio",
                         split_column="split", id_column="key")
    manifest = publish_source(repo, source, "clips", "1.0.0",
                              metadata("automatic-speech-recognition")).manifest
    rows = {r["id"]: r for r in read_split(repo, manifest, "train").to_pylist()}
    assert sorted(rows) == ["k0", "k1", "k2"]
    assert rows["k1"]["audio"]["bytes"] == clips[1] and rows["k1"]["text"] == "t1"


def _hf_dataset(tmp_path: Path) -> object:
    import datasets

    images = [image_bytes(70 + i, fmt="JPEG") for i in range(4)]
    ds = datasets.Dataset.from_dict(
        {"image": [{"bytes": b, "path": f"p{i}.jpg"} for i, b in enumerate(images)],
         "label": [0, 1, 1, 0], "caption": ["a", "b", "c", "d"]},
        features=datasets.Features({"image": datasets.Image(),
                                    "label": datasets.ClassLabel(names=["x", "y"]),
                                    "caption": datasets.Value("string")}),
    )
    return datasets.DatasetDict({"train": ds.select([0, 1, 2]), "test": ds.select([3])}), images


def test_hf_datasetdict_in_memory_keeps_bytes(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    dd, images = _hf_dataset(tmp_path)
    manifest = publish_source(repo, HFSource(dd), "hfimg", "1.0.0", metadata()).manifest
    assert manifest.features["label"] == {"_type": "ClassLabel", "names": ["x", "y"]}
    rows = read_split(repo, manifest, "train").to_pylist()
    assert [r["image"]["bytes"] for r in rows] == images[:3]  # not re-encoded
    assert [r["label"] for r in rows] == [0, 1, 1]
    assert [r["caption"] for r in rows] == ["a", "b", "c"]
    assert [r["id"] for r in rows] == ["train-0000000", "train-0000001", "train-0000002"]


def test_hf_save_to_disk_audio(repo: DatasetRepository, tmp_path: Path) -> None:
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    import datasets

    clips = [audio_bytes(i, fmt="FLAC") for i in range(3)]
    # Built as a plain struct column, then cast to Audio: encoding Audio needs torchcodec.
    ds = datasets.Dataset.from_dict(
        {"audio": [{"bytes": c, "path": f"c{i}.flac"} for i, c in enumerate(clips)],
         "text": ["one", "two", "three"], "id": ["a", "b", "c"]},
    ).cast_column("audio", datasets.Audio(sampling_rate=16000))
    ds.save_to_disk(str(tmp_path / "saved"))
    manifest = publish_source(repo, HFSource(tmp_path / "saved"), "hfaudio", "1.0.0",
                              metadata("automatic-speech-recognition")).manifest
    rows = {r["id"]: r for r in read_split(repo, manifest, "train").to_pylist()}
    assert rows["b"]["text"] == "two"
    assert rows["b"]["audio"] == {"bytes": clips[1], "path": "c1.flac"}
    assert hashlib.sha256(rows["c"]["audio"]["bytes"]).hexdigest() == hashlib.sha256(
        clips[2]).hexdigest()
