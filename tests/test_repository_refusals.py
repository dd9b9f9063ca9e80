"""What a draft refuses, as a publisher (or a hostile one) sees it: each refusal names the file,
split or column at fault, and a column that would make held-out labels public throws the whole
draft away."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout import layout
from heldout.errors import IntegrityError, InvalidInput, NotFound
from heldout.formats.features import Features, Value
from heldout.repository import DatasetRepository, Draft
from heldout.storage.base import Stores
from tests.helpers import image_features, image_rows, metadata
from tests.test_repository_promises import TEST_IDS, labels_file, parquet, public_shard

SHARD = "test-00000-of-00001.parquet"


def make_draft(stores: Stores, features: Features | None = None) -> Draft:
    repo = DatasetRepository(stores)
    return repo.create_draft("refusals", "1.0.0", features=features or image_features(),
                             metadata=metadata())


def held_out_rows() -> list[dict[str, object]]:
    return [{**row, "id": TEST_IDS[i]} for i, row in enumerate(image_rows("test", 6))]


def leaves_nothing(stores: Stores) -> bool:
    return (not list(stores.public.list(layout.dataset_prefix("refusals")))
            and not list(stores.private.list(layout.dataset_prefix("refusals"))))


def test_a_public_shard_carrying_the_labels_throws_the_draft_away(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    draft.upload_labels("test", ["label"], labels_file(TEST_IDS))
    leaking = parquet(pa.Table.from_pylist(held_out_rows(),
                                           schema=image_features().arrow_schema()))
    with pytest.raises(InvalidInput) as caught:
        draft.upload_shard(SHARD, leaking)
    assert str(caught.value) == (
        "data/test-00000-of-00001.parquet: column 'label' is a label column of a held-out "
        "split; its values must not be public (send them as the labels file)")
    assert caught.value.extra["column"] == "label"
    assert leaves_nothing(local_stores)
    with pytest.raises(NotFound):
        DatasetRepository(local_stores).open_draft("refusals", "1.0.0", draft.draft_id)


def test_labels_declared_after_a_leaking_shard_throw_the_draft_away(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    leaking = parquet(pa.Table.from_pylist(held_out_rows(),
                                           schema=image_features().arrow_schema()))
    draft.upload_shard(SHARD, leaking)  # nothing says "held out" yet
    with pytest.raises(InvalidInput, match="column 'label' is a label column"):
        draft.upload_labels("test", ["label"], labels_file(TEST_IDS))
    assert leaves_nothing(local_stores)


@pytest.mark.parametrize(("table", "message", "column"), [
    (pq.read_table(public_shard(held_out_rows(), image_features()))
     .append_column("note", pa.array(["n"] * 6)),
     "column 'note' is not one of the allowed columns", "note"),
    (pa.table({"id": TEST_IDS}), "lacks column(s) ['image']", "image"),
    (pa.table({"id": TEST_IDS, "image": list(range(6))}), "column 'image' is int64, expected",
     "image"),
])
def test_a_held_out_shard_with_other_columns_is_refused_naming_the_column(
    local_stores: Stores, table: pa.Table, message: str, column: str
) -> None:
    draft = make_draft(local_stores)
    draft.upload_labels("test", ["label"], labels_file(TEST_IDS))
    with pytest.raises(InvalidInput) as caught:
        draft.upload_shard(SHARD, parquet(table))
    assert str(caught.value).startswith(f"data/{SHARD}: ")
    assert message in str(caught.value)
    assert caught.value.extra["column"] == column
    assert leaves_nothing(local_stores)


def test_a_labels_file_with_a_column_beyond_the_labels_is_refused(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    draft.upload_shard(SHARD, public_shard(held_out_rows(), image_features()))
    extra = parquet(pa.table({"id": TEST_IDS, "label": [0] * 6, "image": [b"x"] * 6}))
    with pytest.raises(InvalidInput) as caught:
        draft.upload_labels("test", ["label"], extra)
    assert str(caught.value).startswith(
        "labels of split 'test': column 'image' is not one of the allowed columns")


def test_held_out_splits_need_an_id_and_a_label_column(local_stores: Stores) -> None:
    no_id = Features({"image": image_features()["image"], "label": image_features()["label"]})
    draft = make_draft(local_stores, no_id)
    with pytest.raises(InvalidInput) as caught:
        draft.write_split("test", [], held_out=True, label_columns=["label"])
    assert str(caught.value) == "a held-out split needs an 'id' column in the features"
    draft.abort()
    draft = make_draft(local_stores)
    for columns in ([], None):
        with pytest.raises(InvalidInput) as caught:
            draft.write_split("test", [], held_out=True, label_columns=columns)
        assert str(caught.value) == "a held-out split needs at least one label column"
    with pytest.raises(InvalidInput, match="at least one label column"):
        draft.upload_labels("test", [], labels_file(TEST_IDS))


def test_an_empty_draft_has_nothing_to_commit(local_stores: Stores) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_draft(local_stores).commit()
    assert str(caught.value) == "nothing to commit: the draft has no splits"


def test_labels_without_public_shards_are_refused_at_commit(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    draft.write_split("train", image_rows("train", 3))
    draft.upload_labels("test", ["label"], labels_file(TEST_IDS))
    with pytest.raises(IntegrityError) as caught:
        draft.commit()
    assert str(caught.value) == "labels were uploaded for split 'test' but it has no shards"


def test_an_incomplete_set_of_shards_is_refused_at_commit(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    rows = parquet(pa.Table.from_pylist(image_rows("train", 3),
                                        schema=image_features().arrow_schema()))
    draft.upload_shard("train-00001-of-00002.parquet", rows)
    with pytest.raises(IntegrityError) as caught:
        draft.commit()
    assert str(caught.value) == (
        "split 'train': shards ['data/train-00001-of-00002.parquet'] are not a complete set "
        "['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']")


def test_declared_shards_must_be_the_uploaded_ones(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    info = draft.write_split("train", image_rows("train", 3))
    other = info.shards[0].model_copy(update={"path": "data/train-00000-of-00002.parquet"})
    with pytest.raises(IntegrityError) as caught:
        draft.commit(declared_shards=[other])
    assert str(caught.value) == (
        "declared shards ['data/train-00000-of-00002.parquet'] differ from uploaded shards "
        "['data/train-00000-of-00001.parquet']")


def test_a_shard_gone_from_the_store_is_refused_at_commit(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    info = draft.write_split("train", image_rows("train", 3))
    key = layout.shard_key("refusals", "1.0.0", info.shards[0].path)
    local_stores.public.delete(key)
    with pytest.raises(IntegrityError) as caught:
        draft.commit()
    assert str(caught.value) == f"{key}: missing from the store"


def test_a_row_that_fails_mid_split_leaves_no_shard(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    rows = image_rows("train", 5)
    rows[3] = {**rows[3], "label": "not-a-class"}
    with pytest.raises(InvalidInput):
        draft.write_split("train", rows)
    assert not list(local_stores.public.list(layout.dataset_prefix("refusals")))
    assert draft.write_split("train", image_rows("train", 2)).num_rows == 2


def test_a_text_only_dataset_may_hold_out_a_split(local_stores: Stores) -> None:
    features = Features({"id": Value("string"), "text": Value("string"),
                         "label": Value("string")})
    draft = make_draft(local_stores, features)
    rows = [{"id": f"s{i}", "text": f"t{i}", "label": str(i % 2)} for i in range(4)]
    draft.write_split("test", rows, held_out=True, label_columns=["label"])
    manifest = draft.commit()
    assert manifest.held_out["test"].num_rows == 4


def test_an_empty_held_out_split_is_refused_and_nothing_uploaded(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    with pytest.raises(InvalidInput) as caught:
        draft.write_split("test", [], held_out=True, label_columns=["label"])
    assert str(caught.value) == "split 'test': a held-out split needs at least one row"
    assert leaves_nothing_but_the_draft(local_stores)


def test_a_repeated_source_id_in_a_held_out_split_is_refused(local_stores: Stores) -> None:
    rows = image_rows("test", 3)
    rows[2] = {**rows[2], "id": rows[0]["id"]}
    with pytest.raises(InvalidInput) as caught:
        make_draft(local_stores).write_split("test", rows, held_out=True, label_columns=["label"])
    assert str(caught.value) == "split 'test': id 'test-0000' appears more than once"
    assert leaves_nothing_but_the_draft(local_stores)


def test_a_declared_checksum_that_differs_is_named_with_both_digests(
    local_stores: Stores,
) -> None:
    draft = make_draft(local_stores)
    shard = draft.write_split("train", image_rows("train", 3)).shards[0]
    claimed = shard.model_copy(update={"sha256": "f" * 64, "num_rows": 4})
    with pytest.raises(IntegrityError) as caught:
        draft.commit(declared_shards=[claimed])
    assert str(caught.value) == (
        f"data/train-00000-of-00001.parquet: declared sha256 ffffffffffff… / 4 rows, "
        f"uploaded {shard.sha256[:12]}… / 3 rows")


def test_labels_that_miss_ids_say_how_many_each_way(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    draft.upload_shard(SHARD, public_shard(held_out_rows(), image_features()))
    draft.upload_labels("test", ["label"], labels_file([*TEST_IDS[:4], "t-x", "t-y", "t-z"]))
    with pytest.raises(IntegrityError) as caught:
        draft.commit()
    assert str(caught.value) == (
        "split 'test': held-out labels do not cover the public ids (2 id(s) without a label, "
        "3 label(s) without an input)")


def test_a_truncated_shard_upload_is_refused_and_not_kept(local_stores: Stores) -> None:
    draft = make_draft(local_stores)
    body = public_shard(held_out_rows(), image_features()).getvalue()
    with pytest.raises(InvalidInput, match=f"stream ended after {len(body)} bytes"):
        draft.upload_shard(SHARD, io.BytesIO(body), len(body) + 1)
    assert not list(local_stores.public.list(layout.dataset_prefix("refusals")))


def leaves_nothing_but_the_draft(stores: Stores) -> bool:
    return (not list(stores.public.list(layout.dataset_prefix("refusals")))
            and all(info.key == layout.draft_key("refusals", "1.0.0")
                    for info in stores.private.list(layout.dataset_prefix("refusals"))))


@pytest.mark.parametrize(("columns", "named"), [
    (["label", "colour"], "['colour']"), (["id"], "['id']"), (["label", "id"], "['id']")])
def test_label_columns_must_be_features_other_than_the_id(
    local_stores: Stores, columns: list[str], named: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_draft(local_stores).write_split("test", image_rows("test", 2), held_out=True,
                                             label_columns=columns)
    assert str(caught.value) == f"label columns {named} are not input features of this dataset"
