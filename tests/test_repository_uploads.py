"""Draft uploads as a publisher sees them: a truncated or malformed upload is refused with the
reason and leaves nothing behind; the publisher's own private report is size-capped, merged
into the private ingest report at commit and then removed from the draft."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout import layout, repository
from heldout.errors import IntegrityError, InvalidInput
from heldout.repository import DatasetRepository, Draft
from heldout.storage.base import Stores
from tests.helpers import image_features, image_rows, metadata
from tests.test_repository_promises import TEST_IDS, labels_file, parquet, public_shard


def make_draft(local_stores: Stores, name: str = "uploads") -> Draft:
    repo = DatasetRepository(local_stores)
    return repo.create_draft(name, "1.0.0", features=image_features(), metadata=metadata())


def held_out_rows() -> list[dict[str, object]]:
    return [{**row, "id": TEST_IDS[i]} for i, row in enumerate(image_rows("test", 6))]


def test_a_labels_stream_shorter_than_its_declared_length_is_refused(
    local_stores: Stores,
) -> None:
    draft = make_draft(local_stores)
    body = labels_file(TEST_IDS).getvalue()
    with pytest.raises(InvalidInput) as caught:
        draft.upload_labels("test", ["label"], io.BytesIO(body), len(body) + 10)
    assert str(caught.value) == (
        f"stream ended after {len(body)} bytes but length {len(body) + 10} was given")
    assert not local_stores.private.exists(layout.labels_key("uploads", "1.0.0", "test"))


def test_a_labels_file_without_its_columns_is_refused_and_removed(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    body = parquet(pa.table({"id": TEST_IDS, "other": list(range(6))}))
    with pytest.raises(InvalidInput) as caught:
        draft.upload_labels("test", ["label"], body)
    assert str(caught.value) == "labels file for split 'test' lacks columns ['label']"
    body = parquet(pa.table({"key": TEST_IDS, "label": list(range(6))}))
    with pytest.raises(InvalidInput, match=r"lacks columns \['id'\]"):
        draft.upload_labels("test", ["label"], body)
    assert not local_stores.private.exists(layout.labels_key("uploads", "1.0.0", "test"))


def test_labels_upload_records_what_was_stored(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    body = labels_file(TEST_IDS).getvalue()
    shard = draft.upload_labels("test", ["label"], io.BytesIO(body), len(body))
    assert (shard.num_rows, shard.num_bytes) == (6, len(body))
    stored = local_stores.private.get_bytes(layout.labels_key("uploads", "1.0.0", "test"))
    assert stored == body


def test_the_private_report_is_capped_and_an_oversized_one_is_not_kept(
    local_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "MAX_UPLOADED_REPORT", 100)
    draft = make_draft(local_stores)
    key = layout.uploaded_report_key("uploads", "1.0.0")
    at_limit = json.dumps({"note": "x" * 88}).encode()
    assert len(at_limit) == 100
    assert draft.upload_report(io.BytesIO(at_limit), len(at_limit)) == 100
    assert local_stores.private.get_bytes(key) == at_limit
    over = json.dumps({"note": "x" * 89}).encode()
    with pytest.raises(InvalidInput) as caught:
        draft.upload_report(io.BytesIO(over))
    assert str(caught.value) == "the private report is 101 bytes; at most 100 are accepted"
    assert not local_stores.private.exists(key)


def test_a_truncated_private_report_is_refused(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    with pytest.raises(InvalidInput, match="stream ended after 2 bytes but length 5"):
        draft.upload_report(io.BytesIO(b"{}"), 5)
    assert not local_stores.private.exists(layout.uploaded_report_key("uploads", "1.0.0"))


def test_the_uploaded_report_joins_the_private_report_and_leaves_the_draft(
    local_stores: Stores,
) -> None:
    draft = make_draft(local_stores)
    rows = held_out_rows()
    draft.upload_shard("test-00000-of-00001.parquet", public_shard(rows, image_features()))
    draft.upload_labels("test", ["label"], labels_file(TEST_IDS))
    mine = {"pipeline": "publisher-side", "held_out_ids": {"test": {"src-a.png": TEST_IDS[0]}}}
    draft.upload_report(io.BytesIO(json.dumps(mine).encode()))
    draft.commit()
    report = DatasetRepository(local_stores).report("uploads", "1.0.0")
    assert report["pipeline"] == "publisher-side"
    assert set(report["held_out_ids"]["test"]) == {"src-a.png"}
    assert not local_stores.private.exists(layout.uploaded_report_key("uploads", "1.0.0"))


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "the uploaded private report is not JSON: "),
    (b"[1, 2]", "the uploaded private report must be a JSON object"),
])
def test_a_private_report_that_is_not_a_json_object_fails_the_commit(
    local_stores: Stores, body: bytes, message: str
) -> None:
    draft = make_draft(local_stores)
    draft.write_split("train", image_rows("train", 3))
    draft.upload_report(io.BytesIO(body))
    with pytest.raises(InvalidInput) as caught:
        draft.commit()
    assert str(caught.value).startswith(message)


def test_write_split_reports_each_row_as_it_is_read(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    seen: list[int] = []
    info = draft.write_split("train", image_rows("train", 7), on_row=lambda: seen.append(1))
    assert len(seen) == 7 and info.num_rows == 7


def test_a_ready_made_split_with_a_repeated_public_id_is_refused_at_commit(
    local_stores: Stores,
) -> None:
    draft = make_draft(local_stores)
    ids = [*TEST_IDS[:5], TEST_IDS[0]]
    rows = [{**row, "id": ids[i]} for i, row in enumerate(image_rows("test", 6))]
    draft.upload_shard("test-00000-of-00001.parquet", public_shard(rows, image_features()))
    draft.upload_labels("test", ["label"], labels_file(TEST_IDS[:5]))
    with pytest.raises(IntegrityError) as caught:
        draft.commit()
    assert str(caught.value) == "split 'test': ids are not unique"


def test_the_private_report_holds_every_finding_and_maps_sources_to_final_ids(
    local_stores: Stores,
) -> None:
    draft = make_draft(local_stores, "findings")
    draft.write_split("train", image_rows("train", 3))
    draft.write_split("test", image_rows("test", 3), held_out=True, label_columns=["label"])
    statistics = {"class_balance": {"train": {"cat": 1, "dog": 1, "fox": 1},
                                    "test": {"cat": 1, "dog": 1, "fox": 1}}}
    skipped = [{"split": "test", "file": "test/broken.png", "reason": "not an image"}]
    leakage = {"exact_duplicates": 1,
               "examples": [{"sha256": "ab" * 32, "train": "a.png", "test": "b.png"}]}
    sources = {f"test-{i:04d}": f"speaker-{i}/clip.wav" for i in range(3)}
    manifest = draft.commit(statistics=statistics, skipped_files=skipped, leakage=leakage,
                            report={"source_names": {"test": sources}, "pipeline": "v2",
                                    "held_out_ids": {"train": {"x.png": "train-0000"}}})
    report = DatasetRepository(local_stores).report("findings", "1.0.0")
    assert report["created_at"] == manifest.created_at.isoformat()
    assert (report["statistics"], report["skipped_files"], report["leakage"]) == (
        statistics, skipped, leakage)
    assert report["pipeline"] == "v2" and "source_names" not in report
    assert set(report["held_out_ids"]) == {"test"}  # a map for a public split is dropped
    final_ids = set(report["held_out_ids"]["test"].values())
    assert set(report["held_out_ids"]["test"]) == set(sources.values())
    labels = local_stores.private.get_bytes(layout.labels_key("findings", "1.0.0", "test"))
    assert final_ids == set(pq.read_table(io.BytesIO(labels)).column("id").to_pylist())
