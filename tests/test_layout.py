"""layout.py owns every key and file name: formatting and parsing agree, and nothing else."""

from __future__ import annotations

import pytest

from heldout import layout
from heldout.errors import InvalidName


def test_shard_names_round_trip() -> None:
    name = layout.shard_filename("train", 3, 12)
    assert name == "train-00003-of-00012.parquet"
    assert layout.parse_shard_filename(name) == layout.ShardName("train", 3, 12)
    assert layout.shard_path("train", 3, 12) == "data/" + name
    assert layout.parse_shard_path("data/" + name) == layout.ShardName("train", 3, 12)
    assert layout.is_shard_path("data/" + name)


@pytest.mark.parametrize("bad", [
    "Train-00000-of-00001.parquet", "train-0000-of-00001.parquet", "train-00000-of-00001.csv",
    "../train-00000-of-00001.parquet", "train-00000-of-00001.parquet.tmp",
    "1x-00000-of-00001.parquet",
])
def test_other_file_names_are_not_shards(bad: str) -> None:
    assert layout.parse_shard_filename(bad) is None
    assert not layout.is_shard_path("data/" + bad)


def test_shard_regex_splits_are_the_names_module_splits() -> None:
    longest = "s" * 32
    assert layout.parse_shard_filename(f"{longest}-00000-of-00001.parquet") is not None
    assert layout.parse_shard_filename(f"{longest}s-00000-of-00001.parquet") is None
    with pytest.raises(InvalidName):
        layout.shard_filename(longest + "s", 0, 1)


def test_draft_and_manifest_keys_round_trip() -> None:
    key = layout.draft_key("pets", "1.2.0-rc.1")
    assert key == "private/drafts/pets/1.2.0-rc.1.json"
    assert layout.parse_draft_key(key) == ("pets", "1.2.0-rc.1")
    assert layout.parse_draft_key("private/drafts/pets/notaversion.json") is None
    assert layout.parse_draft_key("private/drafts/a/b/1.0.0.json") is None
    manifest = layout.manifest_key("pets", "1.0.0")
    assert layout.parse_manifest_key(manifest) == ("pets", "1.0.0")
    assert layout.parse_manifest_key(layout.card_key("pets", "1.0.0")) is None
    assert layout.parse_manifest_key("datasets/pets/1.0.0/data/manifest.json") is None


def test_keys_refuse_unchecked_names() -> None:
    for build in (lambda: layout.manifest_key("../x", "1.0.0"),
                  lambda: layout.labels_key("pets", "1.0.0", "../x"),
                  lambda: layout.draft_key("pets", "latest")):
        with pytest.raises(InvalidName):
            build()


def test_every_built_key_passes_the_key_check() -> None:
    keys = [layout.manifest_key("a", "1.0.0"), layout.croissant_key("a", "1.0.0"),
            layout.card_key("a", "1.0.0"), layout.labels_key("a", "1.0.0", "test"),
            layout.draft_key("a", "1.0.0"), layout.submission_key("b", "s1"),
            layout.shard_key("a", "1.0.0", layout.shard_path("train", 0, 1))]
    assert [layout.check_key(k) for k in keys] == keys


def test_relative_paths_follow_the_key_rules() -> None:
    assert layout.check_relative_path("data/x.parquet") == "data/x.parquet"
    for bad in ("", "/abs", "a/../b", "a//b", "a\\b"):
        with pytest.raises(InvalidName):
            layout.check_relative_path(bad)
