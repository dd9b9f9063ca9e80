"""The manifest model: JSON round trip, derived views and precise rejections."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heldout.errors import InvalidInput, NotFound
from heldout.formats.manifest import MANIFEST_FORMAT, Manifest, ShardInfo, SplitInfo

from .conftest import WrittenVersion

SHA = "0" * 64


def base_dict() -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "name": "kws-demo",
        "version": "1.2.0",
        "created_at": "2025-01-02T03:04:05Z",
        "license": "Apache-2.0",
        "task": "keyword-spotting",
        "modality": "audio",
        "features": {
            "id": {"_type": "Value", "dtype": "string"},
            "audio": {"_type": "Audio", "sampling_rate": 16000},
            "label": {"_type": "ClassLabel", "names": ["yes", "no"]},
        },
        "splits": {
            "train": {
                "name": "train",
                "num_rows": 5,
                "num_bytes": 30,
                "shards": [
                    {
                        "path": "data/train-00000-of-00002.parquet",
                        "sha256": SHA,
                        "num_rows": 3,
                        "num_bytes": 10,
                    },
                    {
                        "path": "data/train-00001-of-00002.parquet",
                        "sha256": SHA,
                        "num_rows": 2,
                        "num_bytes": 20,
                    },
                ],
            },
            "test": {
                "name": "test",
                "num_rows": 4,
                "num_bytes": 7,
                "shards": [
                    {
                        "path": "data/test-00000-of-00001.parquet",
                        "sha256": SHA,
                        "num_rows": 4,
                        "num_bytes": 7,
                    },
                ],
            },
        },
        "held_out": {"test": {"split": "test", "label_columns": ["label"], "num_rows": 4}},
    }


def load(obj: dict[str, Any]) -> Manifest:
    return Manifest.from_json(json.dumps(obj).encode())


def test_round_trip_and_canonical_json(written_version: WrittenVersion) -> None:
    manifest = written_version.manifest
    text = manifest.to_json()
    assert Manifest.from_json(text) == manifest
    assert Manifest.from_json(text).to_json() == text
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert text.startswith(b"{\n  ") and text.endswith(b"}\n")
    assert data["format"] == "heldout.manifest/1"
    assert data["label_names"] == {"label": ["cat", "dog", "bird"]}


def test_views() -> None:
    manifest = load(base_dict())
    assert manifest.total_rows == 9
    assert [s.path for s in manifest.all_shards()] == [
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
        "data/test-00000-of-00001.parquet",
    ]
    assert list(manifest.public_features("test")) == ["id", "audio"]
    assert list(manifest.public_features("train")) == ["id", "audio", "label"]
    assert manifest.label_columns("test") == ["label"]
    assert manifest.label_names == {"label": ["yes", "no"]}  # filled from the features
    assert manifest.all_shards()[0].split == "train"
    with pytest.raises(NotFound, match=r"kws-demo@1\.2\.0 has no split 'dev'"):
        manifest.public_features("dev")
    assert manifest.split_info("test").num_rows == 4


def test_rejects_bad_json_and_unknown_format() -> None:
    with pytest.raises(InvalidInput, match=r"manifest\.json is not valid JSON"):
        Manifest.from_json(b"{not json")
    with pytest.raises(InvalidInput, match=r"must hold a JSON object"):
        Manifest.from_json(b"[1]")
    obj = base_dict()
    del obj["format"]
    with pytest.raises(InvalidInput, match=r"has no 'format' field"):
        load(obj)
    with pytest.raises(InvalidInput, match=r"unknown format 'heldout\.manifest/2'; this Heldout"):
        load({**base_dict(), "format": "heldout.manifest/2"})


def mutate(path: str, value: Any) -> dict[str, Any]:
    obj = base_dict()
    *parents, last = path.split(".")
    target: Any = obj
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is ...:
        del target[last]
    else:
        target[last] = value
    return obj


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("name", "../etc", r"name: name '../etc' is not allowed"),
        ("version", "1.0", r"version: version '1.0' is not a semantic version"),
        ("license", "MIT; rm -rf", r"license: String should match pattern"),
        ("task", "Image Classification", r"task: String should match pattern"),
        ("modality", "video", r"modality: Input should be 'image', 'audio'"),
        ("created_at", "2025-01-02T03:04:05", r"created_at: Input should have timezone info"),
        ("splits.train.shards.0.sha256", "abc", r"splits.train.shards.0.sha256: String should"),
        (
            "splits.train.shards.0.path",
            "../../private/labels/x.parquet",
            r"splits.train.shards.0.path: path '../../private/labels/x.parquet' must be relative",
        ),
        (
            "splits.train.shards.1.path",
            "data/train-00001-of-00003.parquet",
            r"shard 1 of split 'train' is 'data/train-00001-of-00003.parquet', expected "
            r"'data/train-00001-of-00002.parquet'",
        ),
        ("splits.train.num_rows", 6, r"split 'train' says num_rows=6 but its shards hold 5"),
        ("splits.train.num_bytes", 31, r"split 'train' says num_bytes=31 but its shards hold 30"),
        ("splits.train.shards.0.num_rows", -1, r"num_rows: Input should be greater than or"),
        ("splits.train.name", "dev", r"splits\['train'\] is named 'dev'"),
        ("splits.train.shards", [], r"split 'train' says num_rows=5 but its shards hold 0"),
        (
            "splits.train.shards.0.path",
            "private/labels/train.parquet",
            r"shard 0 of split 'train' is 'private/labels/train.parquet', expected 'data/train-",
        ),
        (
            "held_out.test.label_columns",
            ["speaker"],
            r"held-out split 'test': label column\(s\) \['speaker'\] are not in the features",
        ),
        ("held_out.test.num_rows", 3, r"held-out split 'test' has 3 label rows but the split"),
        ("features.label", {"_type": "Nope"}, r"features: .*column 'label'.*'Nope' is not supp"),
        ("label_names", {"label": ["no", "yes"]}, r"label_names .* do not match"),
        ("splits", {}, r"a dataset needs at least one split"),
        ("surprise", 1, r"surprise: Extra inputs are not permitted"),
        ("task", ..., r"task: Field required"),
    ],
)
def test_rejections_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        load(mutate(path, value))
    assert info.value.detail.startswith("manifest.json is invalid: ")


def test_held_out_split_must_exist() -> None:
    obj = base_dict()
    obj["held_out"] = {"dev": {"split": "dev", "label_columns": ["label"], "num_rows": 4}}
    with pytest.raises(InvalidInput, match=r"held-out split 'dev' is not one of the splits"):
        load(obj)


def test_shard_info_model() -> None:
    shard = ShardInfo(path="data/train-00000-of-00001.parquet", sha256=SHA, num_rows=1, num_bytes=2)
    assert shard.split == "train"
    labels = ShardInfo(
        path="private/labels/d/1.0.0/test.parquet", sha256=SHA, num_rows=1, num_bytes=2
    )
    with pytest.raises(ValueError, match=r"is not a public shard path"):
        _ = labels.split
    for bad in ("/abs/train.parquet", "data/../x.parquet", "data//x", "a\\b", "./x", ""):
        with pytest.raises(ValueError, match=r"must be relative"):
            ShardInfo(path=bad, sha256=SHA, num_rows=1, num_bytes=2)
    # a draft's split may be partial; the manifest refuses it
    partial = SplitInfo.from_shards(
        "train",
        [ShardInfo(path="data/train-00001-of-00002.parquet", sha256=SHA, num_rows=1, num_bytes=2)],
    )
    with pytest.raises(ValueError, match=r"shard 0 of split 'train' is 'data/train-00001-of-0"):
        partial.check_complete()
    with pytest.raises(ValueError, match=r"split 'dev' has no shards"):
        SplitInfo(name="dev", num_rows=0, num_bytes=0).check_complete()
