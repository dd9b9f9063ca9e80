"""README promises of the repository that a bug could break silently: commit checks that the
held-out labels cover exactly the public ids, and exactly one of concurrent commits wins."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout import layout
from heldout.errors import Conflict, IntegrityError, NotFound, VersionImmutable
from heldout.formats.features import Features
from heldout.repository import DatasetRepository, Draft
from heldout.storage.base import Stores
from tests.helpers import image_features, image_rows, metadata


def parquet(table: pa.Table) -> io.BytesIO:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    return buffer


def public_shard(rows: list[dict[str, Any]], features: Features) -> io.BytesIO:
    """A held-out split's public shard: ``id`` and the image only."""
    schema = features.drop(["label"]).arrow_schema()
    return parquet(pa.Table.from_pylist([{"id": r["id"], "image": r["image"]} for r in rows],
                                        schema=schema))


def labels_file(ids: list[str]) -> io.BytesIO:
    return parquet(pa.table({"id": ids, "label": [i % 3 for i in range(len(ids))]}))


TEST_IDS = [f"t-{i}" for i in range(6)]


@pytest.mark.parametrize(
    ("case", "label_ids"),
    [
        ("a public id has no label", TEST_IDS[:-1]),
        ("a label has no public input", [*TEST_IDS, "t-extra"]),
        ("one id swapped for another", [*TEST_IDS[:-1], "t-other"]),
        ("an id labelled twice", [*TEST_IDS, TEST_IDS[0]]),
        ("no labels at all", []),
    ],
)
def test_commit_refuses_labels_that_do_not_cover_exactly_the_public_ids(
    local_stores: Stores, case: str, label_ids: list[str]
) -> None:
    repo = DatasetRepository(local_stores)
    features = image_features()
    draft = repo.create_draft("cover", "1.0.0", features=features, metadata=metadata())
    draft.write_split("train", image_rows("train", 4))
    rows = [{**row, "id": TEST_IDS[i]} for i, row in enumerate(image_rows("test", 6))]
    draft.upload_shard("test-00000-of-00001.parquet", public_shard(rows, features))
    draft.upload_labels("test", ["label"], labels_file(label_ids))
    with pytest.raises(IntegrityError, match="test"):
        draft.commit()
    with pytest.raises(NotFound):
        repo.manifest("cover", "1.0.0")
    assert repo.list_versions("cover") == []


def test_commit_accepts_labels_covering_the_ids_in_any_order(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    features = image_features()
    draft = repo.create_draft("cover", "1.0.0", features=features, metadata=metadata())
    rows = [{**row, "id": TEST_IDS[i]} for i, row in enumerate(image_rows("test", 6))]
    draft.upload_shard("test-00000-of-00001.parquet", public_shard(rows, features))
    draft.upload_labels("test", ["label"], labels_file(list(reversed(TEST_IDS))))
    manifest = draft.commit()
    assert manifest.held_out["test"].num_rows == 6
    assert repo.manifest("cover", "1.0.0").splits["test"].num_rows == 6


def _commit_in_threads(drafts: list[Draft]) -> tuple[dict[int, Any], dict[int, BaseException]]:
    barrier = threading.Barrier(len(drafts))
    won: dict[int, Any] = {}
    lost: dict[int, BaseException] = {}

    def commit(i: int) -> None:
        barrier.wait()
        try:
            won[i] = drafts[i].commit(statistics={"committed_by": i})
        except BaseException as exc:  # reported below
            lost[i] = exc

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(drafts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, lost


def test_concurrent_commits_of_one_version_exactly_one_wins(stores: Stores) -> None:
    """Several API processes committing the same draft at once (a retried request, two
    publishers' clients): one manifest, the winner's, and every other commit is refused."""
    repo = DatasetRepository(stores)
    for trial in range(3):
        name = f"race{trial}"
        draft = repo.create_draft(name, "1.0.0", features=image_features(), metadata=metadata())
        draft.write_split("train", image_rows("train", 4))
        draft.write_split("test", image_rows("test", 3, offset=50), held_out=True,
                          label_columns=["label"])
        copies = [repo.open_draft(name, "1.0.0", draft.draft_id) for _ in range(6)]
        won, lost = _commit_in_threads(copies)
        assert len(won) == 1, f"{len(won)} commits of {name}@1.0.0 succeeded"
        (winner, manifest), = won.items()
        assert all(isinstance(e, VersionImmutable | Conflict) for e in lost.values()), lost
        stored = repo.manifest(name, "1.0.0")
        assert stored == manifest
        assert stored.statistics == {"committed_by": winner}
        assert repo.list_versions(name) == ["1.0.0"]


def test_refusals_name_what_was_not_found(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    with pytest.raises(NotFound, match=r"dataset 'ghost' does not exist \(no committed"):
        repo.manifest("ghost")
    with pytest.raises(NotFound, match=r"dataset ghost@1\.0\.0 does not exist"):
        repo.manifest("ghost", "1.0.0")
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    with pytest.raises(NotFound, match=r"no draft 'not-the-id' for dataset tiny@1\.0\.0"):
        repo.open_draft("tiny", "1.0.0", "not-the-id")
    assert repo.open_draft("tiny", "1.0.0", draft.draft_id).draft_id == draft.draft_id
    with pytest.raises(NotFound):
        repo.open_draft("tiny", "2.0.0", draft.draft_id)  # right id, no such draft
    draft.write_split("train", image_rows("train", 2))
    with pytest.raises(Conflict, match="split 'train' was already written"):
        draft.write_split("train", image_rows("train", 2))


def test_cleanup_skips_stray_objects_and_uses_the_ttl_boundary(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores, draft_ttl_seconds=3600)
    local_stores.private.put("private/drafts/junk.json", b"{}")  # not name/version: skipped
    first = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    second = repo.create_draft("tiny", "2.0.0", features=image_features(), metadata=metadata())
    assert repo.cleanup_abandoned_drafts(
        now=first.state.updated_at + timedelta(seconds=3599)) == []
    cleaned = repo.cleanup_abandoned_drafts(now=max(first.state.updated_at,
                                                    second.state.updated_at)
                                            + timedelta(seconds=3600))
    assert cleaned == ["tiny@1.0.0", "tiny@2.0.0"]  # idle exactly the TTL counts as abandoned
    assert [i.key for i in local_stores.private.list("private/")] == ["private/drafts/junk.json"]


def test_cleanup_after_a_crash_between_manifest_and_lock_keeps_the_version(
    local_stores: Stores,
) -> None:
    """A commit that died after writing the manifest leaves its lock: the sweep removes the lock
    and nothing of the committed version."""
    repo = DatasetRepository(local_stores, draft_ttl_seconds=0)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 3))
    lock = layout.draft_key("tiny", "1.0.0")
    state = local_stores.private.get_bytes(lock)
    manifest = draft.commit()
    local_stores.private.put(lock, state)
    public = sorted(i.key for i in local_stores.public.list(""))
    assert repo.cleanup_abandoned_drafts() == ["tiny@1.0.0"]
    assert list(local_stores.private.list("private/drafts/")) == []
    assert sorted(i.key for i in local_stores.public.list("")) == public
    assert repo.manifest("tiny", "1.0.0") == manifest


def test_write_split_cuts_shards_at_the_target_size(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores, shard_target_bytes=1500)
    draft = repo.create_draft("tiny", "1.0.0", features=image_features(), metadata=metadata())
    info = draft.write_split("train", image_rows("train", 12))
    assert len(info.shards) > 1
    assert sum(s.num_rows for s in info.shards) == info.num_rows == 12
    manifest = draft.commit()
    assert [s.path for s in manifest.splits["train"].shards] == [
        f"data/train-{i:05d}-of-{len(info.shards):05d}.parquet" for i in range(len(info.shards))]
