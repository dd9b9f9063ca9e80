"""README promises of the repository that a bug could break silently: commit checks that the
held-out labels cover exactly the public ids, and exactly one of concurrent commits wins."""

from __future__ import annotations

import io
import threading
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

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
