"""The Parquet shard writer: shard sizes and names, checksums, layout, and stock loaders."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from heldout.errors import AlreadyExists, InvalidInput
from heldout.formats.features import Audio, ClassLabel, Features, Image, Value
from heldout.formats.writer import ShardWriter, write_split

from .conftest import CLASSES, audio_bytes, color_of, image_rows


def data_files(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "data").iterdir())


def test_rolls_over_at_target_size_and_names_shards(tmp_path: Path) -> None:
    features = Features({"id": Value("int64"), "payload": Value("binary")})
    # 10 row groups of 10 rows of ~1.1 KB (incompressible): a 4 KB target closes a shard
    # after its 4th group (4 + 4 + 2 groups)
    rng = np.random.default_rng(0)
    rows = [{"id": i, "payload": rng.bytes(100)} for i in range(100)]
    with ShardWriter(tmp_path, "train", features, target_bytes=4000, rows_per_group=10) as writer:
        writer.write_rows(rows)
        shards = writer.close()
    assert [s.path for s in shards] == [
        "data/train-00000-of-00003.parquet",
        "data/train-00001-of-00003.parquet",
        "data/train-00002-of-00003.parquet",
    ]
    assert data_files(tmp_path) == [Path(s.path).name for s in shards]  # no temp files left
    assert [s.num_rows for s in shards] == [40, 40, 20]
    ids: list[int] = []
    for shard in shards:
        file = tmp_path / shard.path
        assert shard.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()
        assert shard.num_bytes == file.stat().st_size
        table = pq.read_table(file)
        assert table.num_rows == shard.num_rows
        ids += table.column("id").to_pylist()
    assert ids == list(range(100))  # order preserved across shards


def test_media_layout_row_groups_compression_and_page_index(
    tmp_path: Path, image_features: Features
) -> None:
    shards = write_split(tmp_path, "train", image_features, image_rows(250))
    assert len(shards) == 1
    parquet = pq.ParquetFile(tmp_path / shards[0].path)
    meta = parquet.metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 50]
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            assert column.has_offset_index, column.path_in_schema
            if column.path_in_schema.startswith("image."):
                assert column.compression == "UNCOMPRESSED"
                assert not column.has_dictionary_page
                assert "RLE_DICTIONARY" not in column.encodings
                assert "PLAIN_DICTIONARY" not in column.encodings
            else:
                assert column.compression == "ZSTD", column.path_in_schema
                assert column.has_dictionary_page, column.path_in_schema
    hf = json.loads(parquet.schema_arrow.metadata[b"huggingface"])
    assert hf == {"info": {"features": image_features.to_hf()}}


def test_plain_columns_use_large_row_groups(tmp_path: Path) -> None:
    features = Features({"text": Value("string"), "label": ClassLabel(["a", "b"])})
    rows = [{"text": f"t{i}", "label": i % 2} for i in range(2500)]
    shards = write_split(tmp_path, "train", features, rows, rows_per_group=1000)
    meta = pq.ParquetFile(tmp_path / shards[0].path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]


def test_every_shard_carries_hf_metadata(tmp_path: Path, image_features: Features) -> None:
    shards = write_split(
        tmp_path, "train", image_features, image_rows(30), target_bytes=1000, media_rows_per_group=5
    )
    assert len(shards) >= 3
    for shard in shards:
        schema = pq.read_schema(tmp_path / shard.path)
        assert Features.from_arrow_schema(schema) == image_features


def test_empty_split_gives_one_valid_empty_shard(tmp_path: Path, image_features: Features) -> None:
    with ShardWriter(tmp_path, "validation", image_features) as writer:
        shards = writer.close()
    assert [s.path for s in shards] == ["data/validation-00000-of-00001.parquet"]
    assert shards[0].num_rows == 0
    table = pq.read_table(tmp_path / shards[0].path)
    assert table.num_rows == 0
    assert Features.from_arrow_schema(table.schema) == image_features


def test_exception_inside_context_aborts_and_removes_files(
    tmp_path: Path, image_features: Features
) -> None:
    with (
        pytest.raises(RuntimeError),
        ShardWriter(tmp_path, "train", image_features, target_bytes=500) as writer,
    ):
        writer.write_rows(image_rows(20))
        raise RuntimeError("crash")
    assert data_files(tmp_path) == []


def test_abort_after_close_removes_final_shards(tmp_path: Path, image_features: Features) -> None:
    writer = ShardWriter(tmp_path, "train", image_features)
    writer.write_rows(image_rows(3))
    writer.close()
    assert len(data_files(tmp_path)) == 1
    writer.abort()
    assert data_files(tmp_path) == []
    with pytest.raises(InvalidInput, match=r"aborted"):
        writer.write_row(image_rows(1)[0])


def test_bad_row_names_row_and_column_and_writes_nothing(
    tmp_path: Path, image_features: Features
) -> None:
    rows = image_rows(5)
    rows[3]["label"] = "horse"
    with (
        pytest.raises(InvalidInput, match=r"train row 3, column 'label': unknown label 'horse'"),
        ShardWriter(tmp_path, "train", image_features) as writer,
    ):
        writer.write_rows(rows)
    assert data_files(tmp_path) == []


def test_split_written_twice_is_refused(tmp_path: Path, image_features: Features) -> None:
    write_split(tmp_path, "train", image_features, image_rows(2))
    with pytest.raises(AlreadyExists, match=r"split 'train' already has shards"):
        ShardWriter(tmp_path, "train", image_features)
    with pytest.raises(InvalidInput, match=r"split '\.\./x' is not allowed"):
        ShardWriter(tmp_path, "../x", image_features)


def test_write_table_reorders_casts_and_checks_labels(tmp_path: Path) -> None:
    features = Features({"id": Value("int64"), "label": ClassLabel(["a", "b", "c"])})
    table = pa.table({"label": pa.array([0, 2, 1], pa.int32()), "id": [1, 2, 3]})
    with ShardWriter(tmp_path, "train", features) as writer:
        writer.write_row({"id": 0, "label": "b"})
        writer.write_table(table)
        shards = writer.close()
    written = pq.read_table(tmp_path / shards[0].path)
    assert written.column_names == ["id", "label"]
    assert written.schema.field("label").type == pa.int64()
    assert written.column("id").to_pylist() == [0, 1, 2, 3]
    assert written.column("label").to_pylist() == [1, 0, 2, 1]

    bad = pa.table({"id": [1, 2], "label": [1, 3]})
    with (
        pytest.raises(InvalidInput, match=r"test row 1, column 'label': label index 3 is out of"),
        ShardWriter(tmp_path, "test", features) as writer,
    ):
        writer.write_table(bad)
    with (
        pytest.raises(InvalidInput, match=r"missing \['label'\], unknown \['y'\]"),
        ShardWriter(tmp_path, "test", features) as writer,
    ):
        writer.write_table(pa.table({"id": [1], "y": [2]}))


def test_image_and_labels_load_with_stock_datasets(
    tmp_path: Path, image_features: Features
) -> None:
    write_split(tmp_path, "train", image_features, image_rows(7), media_rows_per_group=3)
    write_split(tmp_path, "test", image_features, image_rows(4, start=50))
    loaded = datasets.load_dataset(
        "parquet", data_dir=str(tmp_path / "data"), cache_dir=str(tmp_path / "cache")
    )
    assert set(loaded) == {"train", "test"}
    train = loaded["train"]
    assert isinstance(train.features["image"], datasets.Image)
    assert isinstance(train.features["label"], datasets.ClassLabel)
    assert train.features["label"].names == CLASSES
    assert train.num_rows == 7 and loaded["test"].num_rows == 4
    for i, example in enumerate(train):
        image = example["image"]
        assert image.size == (4, 3)
        assert image.convert("RGB").getpixel((2, 1)) == color_of(i)
        assert train.features["label"].int2str(example["label"]) == CLASSES[i % 3]
    assert loaded["test"][0]["image"].convert("RGB").getpixel((0, 0)) == color_of(50)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_audio_loads_with_stock_datasets(tmp_path: Path, fmt: str) -> None:
    features = Features({"audio": Audio(sampling_rate=16000), "text": Value("string")})
    clips = [audio_bytes(seed, fmt=fmt) for seed in range(3)]
    rows = [
        {"audio": {"bytes": c, "path": f"{i}.{fmt.lower()}"}, "text": f"utterance {i}"}
        for i, c in enumerate(clips)
    ]
    write_split(tmp_path, "train", features, rows)
    loaded = datasets.load_dataset(
        "parquet",
        data_dir=str(tmp_path / "data"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded.features["audio"] == datasets.Audio(sampling_rate=16000)
    raw = loaded.cast_column("audio", datasets.Audio(decode=False))
    for i, example in enumerate(raw):
        assert example["audio"]["bytes"] == clips[i]
        assert example["text"] == f"utterance {i}"
        samples, rate = sf.read(io.BytesIO(example["audio"]["bytes"]))
        assert rate == 16000 and len(samples) == 800


def test_sha256_is_computed_while_writing_not_from_disk(
    tmp_path: Path, image_features: Features
) -> None:
    # The digest must describe the bytes that went out: corrupting the file afterwards
    # makes the stored digest disagree, as a later integrity check expects.
    shards = write_split(tmp_path, "train", image_features, image_rows(3))
    file = tmp_path / shards[0].path
    assert hashlib.sha256(file.read_bytes()).hexdigest() == shards[0].sha256
    data = bytearray(file.read_bytes())
    data[10] ^= 0xFF
    file.write_bytes(bytes(data))
    assert hashlib.sha256(file.read_bytes()).hexdigest() != shards[0].sha256


def test_image_only_features_write(tmp_path: Path) -> None:
    features = Features({"image": Image()})
    shards = write_split(tmp_path, "train", features, [{"image": b"\x89PNG"}] * 3)
    assert pq.read_table(tmp_path / shards[0].path).num_rows == 3


def test_write_table_maps_label_names_to_indices(tmp_path: Path) -> None:
    features = Features({"id": Value("int64"), "label": ClassLabel(["a", "b", "c"])})
    table = pa.table({"id": [1, 2, 3], "label": ["c", None, "a"]})
    shards = write_split(tmp_path, "train", features, [])  # a sibling split, to share the dir
    assert shards[0].num_rows == 0
    with ShardWriter(tmp_path, "dev", features) as writer:
        writer.write_table(table)
        dev = writer.close()
    assert pq.read_table(tmp_path / dev[0].path).column("label").to_pylist() == [2, None, 0]
    with (
        pytest.raises(InvalidInput, match=r"test row 1, column 'label': unknown label 'zebra'"),
        ShardWriter(tmp_path, "test", features) as writer,
    ):
        writer.write_table(pa.table({"id": [1, 2], "label": ["a", "zebra"]}))


def test_empty_shard_is_readable_by_stock_tools(tmp_path: Path, image_features: Features) -> None:
    # (stock `load_dataset` refuses any split with 0 examples, so read the shard directly)
    shards = write_split(tmp_path, "test", image_features, [])
    path = tmp_path / shards[0].path
    schema = pq.read_schema(path)
    stock = datasets.Features.from_arrow_schema(schema)
    assert stock["label"].names == CLASSES
    assert isinstance(stock["image"], datasets.Image)
    assert pq.read_table(path).to_pandas().empty
