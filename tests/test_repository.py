"""Publishing, committing and resolving dataset versions, on the local store and real S3."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout import layout
from heldout.catalog.datasets import list_datasets, list_versions, sync_from_bucket
from heldout.catalog.db import Catalog
from heldout.errors import (
    Conflict,
    IntegrityError,
    InvalidName,
    NotFound,
    StoreUnavailable,
    VersionImmutable,
)
from heldout.repository import DatasetRepository
from heldout.services import build_stores
from heldout.storage.base import Stores
from tests.dbfixtures import database_url
from tests.helpers import LABELS, image_features, image_rows, metadata, publish_tiny
from tests.s3server import make_settings

__all__ = ["database_url"]


def test_commit_publishes_a_complete_self_describing_version(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    manifest = publish_tiny(repo)
    assert manifest.splits["train"].num_rows == 10
    assert manifest.held_out["test"].label_columns == ["label"]
    prefix = layout.version_prefix("tiny", "1.0.0")
    keys = {info.key.removeprefix(prefix) for info in stores.public.list(prefix)}
    assert keys == {
        "manifest.json",
        "croissant.json",
        "README.md",
        "data/train-00000-of-00001.parquet",
        "data/test-00000-of-00001.parquet",
    }
    assert repo.manifest("tiny") == manifest
    # the draft lock is gone, the labels are private
    assert not list(stores.private.list("private/drafts/"))
    assert stores.private.exists(layout.labels_key("tiny", "1.0.0", "test"))
    assert not any(info.key.startswith("private/") for info in stores.public.list(""))


def test_held_out_split_public_shards_carry_no_label(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    publish_tiny(repo)
    test_shard = layout.shard_key("tiny", "1.0.0", "data/test-00000-of-00001.parquet")
    public = pq.read_table(pa.BufferReader(stores.public.get_bytes(test_shard)))
    assert public.column_names == ["id", "image"]
    labels = pq.read_table(
        pa.BufferReader(stores.private.get_bytes(layout.labels_key("tiny", "1.0.0", "test")))
    )
    assert labels.column_names == ["id", "label"]
    # Held-out ids are drawn afresh (96 random bits); the source id → id map is private.
    new_id = repo.report("tiny")["held_out_ids"]["test"]
    assert sorted(new_id) == [f"test-{i:04d}" for i in range(6)]
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in new_id.values())
    expected = {new_id[row["id"]]: row["label"] for row in image_rows("test", 6, offset=100)}
    assert (
        dict(zip(labels.column("id").to_pylist(), labels.column("label").to_pylist(), strict=True))
        == expected
    )
    assert sorted(public.column("id").to_pylist()) == sorted(expected)
    # Media names follow the new ids: the source name could give the label away.
    assert {r["image"]["path"] for r in public.to_pylist()} == {f"{i}.png" for i in expected}


def _download_version(stores: Stores, name: str, version: str, folder: Path) -> None:
    prefix = layout.version_prefix(name, version)
    for info in stores.public.list(prefix):
        target = folder / info.key.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stores.public.get_bytes(info.key))


def test_stock_datasets_loads_a_version_committed_to_s3(s3_stores: Stores, tmp_path: Path) -> None:
    import datasets

    repo = DatasetRepository(s3_stores)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 10))
    draft.write_split("validation", image_rows("validation", 4, offset=50))
    draft.commit()
    folder = tmp_path / "tiny"
    _download_version(s3_stores, "tiny", "1.0.0", folder)
    loaded = datasets.load_dataset("parquet", data_dir=str(folder / "data"))
    train = loaded["train"]
    assert isinstance(train.features["image"], datasets.Image)
    assert isinstance(train.features["label"], datasets.ClassLabel)
    assert train.features["label"].names == LABELS
    assert train.num_rows == 10 and loaded["validation"].num_rows == 4
    first = train[0]
    assert first["image"].size == (8, 8)
    assert first["image"].tobytes() == _pixels(image_rows("train", 1)[0]["image"]["bytes"])
    assert first["label"] == 0


def test_stock_datasets_loads_a_held_out_version_by_its_card(
    s3_stores: Stores, tmp_path: Path
) -> None:
    import datasets

    publish_tiny(DatasetRepository(s3_stores))
    folder = tmp_path / "tiny"
    _download_version(s3_stores, "tiny", "1.0.0", folder)
    train = datasets.load_dataset(str(folder), split="train")
    assert train.features["label"].names == LABELS
    test = datasets.load_dataset(str(folder), "test", split="test")
    assert set(test.features) == {"id", "image"}
    assert test.num_rows == 6
    # held-out media file names are the row ids, never the original (label-revealing) names
    assert {
        row["image"]["path"] for row in test.cast_column("image", datasets.Image(decode=False))
    } == {f"{i}.png" for i in test["id"]}


def _pixels(png: bytes) -> bytes:
    from PIL import Image as PILImage

    return PILImage.open(io.BytesIO(png)).tobytes()


def test_a_committed_version_is_immutable(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    publish_tiny(repo)
    with pytest.raises(VersionImmutable, match=r"tiny@1\.0\.0 is already committed"):
        repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())


def test_latest_is_the_newest_semantic_version(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    for version in ("1.9.0", "1.10.0", "1.10.0-rc.1"):
        publish_tiny(repo, version=version)
    assert repo.list_versions("tiny") == ["1.10.0", "1.10.0-rc.1", "1.9.0"]
    assert repo.manifest("tiny", "latest").version == "1.10.0"
    with pytest.raises(NotFound, match="does not exist"):
        repo.manifest("tiny", "2.0.0")


def test_a_live_draft_blocks_a_second_one_and_is_never_served(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 4))
    with pytest.raises(Conflict, match="draft in progress"):
        repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    with pytest.raises(NotFound):
        repo.manifest("tiny", "1.0.0")
    assert repo.list_versions("tiny") == []
    draft.abort()
    assert not list(stores.public.list("datasets/"))
    assert not list(stores.private.list("private/"))


def test_an_abandoned_draft_is_cleaned_up(stores: Stores) -> None:
    repo = DatasetRepository(stores, draft_ttl_seconds=3600)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 4))
    draft.write_split("test", image_rows("test", 3), held_out=True, label_columns=["label"])
    # ... and the publishing process dies here.
    assert repo.cleanup_abandoned_drafts() == []  # still fresh
    later = datetime.now(UTC) + timedelta(hours=2)
    assert repo.cleanup_abandoned_drafts(now=later) == ["tiny@1.0.0"]
    assert not list(stores.public.list("datasets/"))
    assert not list(stores.private.list("private/"))


def test_a_stale_draft_is_taken_over_by_a_new_publish(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores, draft_ttl_seconds=0)
    stale = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    stale.write_split("train", image_rows("train", 4))
    time.sleep(0.01)
    manifest = publish_tiny(repo)
    assert manifest.splits["train"].num_rows == 10
    with pytest.raises(Conflict, match="no longer live"):
        stale.commit()


def test_commit_refuses_a_shard_changed_in_the_store(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 5))
    key = layout.shard_key("tiny", "1.0.0", "data/train-00000-of-00001.parquet")
    other = pa.table({"id": ["x"]})
    buffer = io.BytesIO()
    pq.write_table(other, buffer)
    stores.public.put(key, buffer.getvalue())
    with pytest.raises(IntegrityError, match=r"train-00000-of-00001\.parquet"):
        draft.commit()
    assert not stores.public.exists(layout.manifest_key("tiny", "1.0.0"))


def test_a_failed_write_leaves_nothing_visible(stores: Stores) -> None:
    repo = DatasetRepository(stores)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())

    def rows_then_crash():  # type: ignore[no-untyped-def]
        yield from image_rows("train", 3)
        raise RuntimeError("source disappeared")

    with pytest.raises(RuntimeError):
        draft.write_split("train", rows_then_crash())
    draft.abort()
    assert not list(stores.public.list(""))
    assert not list(stores.private.list(""))


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("../etc", "1.0.0"),
        ("Tiny", "1.0.0"),
        ("a/b", "1.0.0"),
        ("tiny", "1.0"),
        ("tiny", "../1.0.0"),
        ("", "1.0.0"),
        ("x" * 65, "1.0.0"),
    ],
)
def test_bad_names_and_versions_are_refused(local_stores: Stores, name: str, version: str) -> None:
    repo = DatasetRepository(local_stores)
    with pytest.raises(InvalidName):
        repo.create_draft(name, version, features=image_features(), metadata=metadata())
    assert not list(local_stores.public.list(""))


def test_a_store_that_is_down_is_a_typed_error(tmp_path: Path) -> None:
    from tests.s3server import S3Endpoint

    dead = S3Endpoint(endpoint="127.0.0.1:9", access_key="k" * 8, secret_key="s" * 16)
    repo = DatasetRepository(build_stores(make_settings("s3", tmp_path, dead)))
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:9"):
        repo.manifest("tiny")


def test_commit_indexes_the_catalog_and_reindex_rebuilds_it(
    local_stores: Stores, database_url: str
) -> None:
    catalog = Catalog(database_url)
    catalog.upgrade()
    repo = DatasetRepository(local_stores, catalog)
    publish_tiny(repo, version="1.0.0")
    publish_tiny(repo, version="1.1.0")
    with catalog.session() as session:
        assert [d.latest_version for d in list_datasets(session)] == ["1.1.0"]
    # A fresh catalog is rebuilt from the bucket alone; versions gone from the bucket drop out.
    fresh = (
        Catalog(database_url.replace("catalog.db", "fresh.db"))
        if database_url.startswith("sqlite")
        else catalog
    )
    fresh.upgrade()
    local_stores.public.delete(layout.manifest_key("tiny", "1.1.0"))
    with fresh.session() as session:
        report = sync_from_bucket(session, list(repo.iter_manifests()))
    with fresh.session() as session:
        assert [v.version for v in list_versions(session, "tiny")] == ["1.0.0"]
        assert list_datasets(session)[0].latest_version == "1.0.0"
        assert list_datasets(session)[0].task == "image-classification"
    assert report.versions_seen == 1
    catalog.dispose()
    fresh.dispose()
