"""Reading committed datasets: which names and versions exist, what ``latest`` stands for, and
the private ingest report, as a reader of the repository sees them."""

from __future__ import annotations

import json

import pytest

from heldout import layout
from heldout.errors import InvalidInput, NotFound, VersionImmutable
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.storage.base import Stores
from tests.helpers import image_features, image_rows, metadata, publish_tiny


def publish_train_only(repo: DatasetRepository, name: str, version: str) -> None:
    draft = repo.create_draft(name, version, features=image_features(), metadata=metadata())
    draft.write_split("train", image_rows("train", 3))
    draft.commit()


def test_list_datasets_names_each_committed_dataset_once_in_order(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    assert repo.list_datasets() == []
    publish_train_only(repo, "zebra", "1.0.0")
    publish_train_only(repo, "apple", "1.0.0")
    publish_train_only(repo, "apple", "1.1.0")
    repo.create_draft("drafted", "1.0.0", features=image_features(), metadata=metadata())
    assert repo.list_datasets() == ["apple", "zebra"]


def test_latest_is_the_newest_release_and_ignores_prereleases(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    publish_train_only(repo, "pre", "1.0.0")
    publish_train_only(repo, "pre", "2.0.0-rc.1")
    assert repo.resolve_version("pre") == "1.0.0"
    assert repo.manifest("pre").version == "1.0.0"
    assert repo.manifest("pre", "2.0.0-rc.1").version == "2.0.0-rc.1"


def test_only_prereleases_leave_latest_undefined_and_say_how_to_ask(
    local_stores: Stores,
) -> None:
    repo = DatasetRepository(local_stores)
    publish_train_only(repo, "early", "0.9.0-beta.1")
    publish_train_only(repo, "early", "1.0.0-rc.1")
    with pytest.raises(NotFound) as caught:
        repo.resolve_version("early")
    assert str(caught.value) == (
        "dataset 'early' has no release to call latest (versions: 1.0.0-rc.1, 0.9.0-beta.1); "
        "pre-releases and yanked versions are never latest: ask for one by number "
        "(early@VERSION), or its owner can pin one with "
        "`heldout datasets manage early --latest VERSION`")
    assert repo.resolve_version("early", "0.9.0-beta.1") == "0.9.0-beta.1"


def test_unknown_datasets_and_versions_are_named_in_the_error(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    with pytest.raises(NotFound, match=r"^dataset 'nothing' does not exist \(no committed"):
        repo.manifest("nothing")
    publish_train_only(repo, "some", "1.0.0")
    for call in (lambda: repo.manifest("some", "1.0.1"),
                 lambda: repo.resolve_version("some", "1.0.1")):
        with pytest.raises(NotFound) as caught:
            call()
        assert str(caught.value) == "dataset some@1.0.1 does not exist (or is not committed)"


def test_a_draft_version_is_not_readable_until_committed(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    publish_train_only(repo, "drafty", "1.0.0")
    repo.create_draft("drafty", "1.1.0", features=image_features(), metadata=metadata())
    assert repo.manifest("drafty").version == "1.0.0"
    with pytest.raises(NotFound, match=r"drafty@1\.1\.0 does not exist"):
        repo.manifest("drafty", "1.1.0")


def test_report_is_the_asked_versions_private_report(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    publish_tiny(repo, "reported", "1.0.0")
    publish_tiny(repo, "reported", "1.1.0")
    assert repo.report("reported")["version"] == "1.1.0"
    old = repo.report("reported", "1.0.0")
    assert old["version"] == "1.0.0" and old["name"] == "reported"
    assert not local_stores.public.exists(layout.report_key("reported", "1.0.0"))


def test_a_version_without_a_report_gets_a_stub_that_says_so(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    publish_tiny(repo, "legacy", "1.0.0")
    local_stores.private.delete(layout.report_key("legacy", "1.0.0"))
    assert repo.report("legacy", "1.0.0") == {
        "format": "heldout.ingest-report/1",
        "name": "legacy", "version": "1.0.0",
        "missing": "published before private ingest reports existed; republish the version "
                   "to get one"}
    assert repo.report("legacy")["version"] == "1.0.0"


def test_a_commit_stores_croissant_and_card_with_their_media_types(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    publish_train_only(repo, "described", "1.0.0")
    croissant_key = layout.croissant_key("described", "1.0.0")
    croissant = json.loads(local_stores.public.get_bytes(croissant_key))
    assert croissant["name"] == "described" and "@context" in croissant
    assert local_stores.public.stat(croissant_key).content_type == "application/ld+json"
    card_key = layout.card_key("described", "1.0.0")
    assert local_stores.public.get_bytes(card_key).decode().lstrip().startswith("---")
    assert local_stores.public.stat(card_key).content_type == "text/markdown; charset=utf-8"


def test_the_manifest_carries_the_metadata_and_only_public_findings(
    local_stores: Stores,
) -> None:
    repo = DatasetRepository(local_stores)
    meta = DatasetMetadata(
        title="", description="Shapes, described", license="CC0-1.0", task="image-classification",
        modality="image", source={"url": "https://example.org/shapes"},
        citation="@misc{shapes}", card_markdown="## How it was made\n\nBy hand.",
        held_out_labels_public=True, held_out_labels_public_reason="the labels were on the web")
    draft = repo.create_draft("meta", "1.0.0", features=image_features(), metadata=meta)
    draft.write_split("train", image_rows("train", 3))
    draft.write_split("test", image_rows("test", 3), held_out=True, label_columns=["label"])
    skipped = [{"split": "train", "file": "train/a.png", "reason": "not an image"},
               {"split": "test", "file": "test/dog/b.png", "reason": "not an image"}]
    leakage = {"exact_duplicates": 2, "examples": [
        {"sha256": "aa" * 32, "splits": "train/validation", "train": "x.png"},
        {"sha256": "bb" * 32, "splits": "train/test", "train": "y.png", "test": "dog/z.png"}]}
    manifest = draft.commit(statistics={"rows": 6}, skipped_files=skipped, leakage=leakage)
    assert manifest == repo.manifest("meta", "1.0.0")
    assert manifest.title == "meta"  # no title: the dataset's name
    assert (manifest.description, manifest.source, manifest.citation) == (
        "Shapes, described", {"url": "https://example.org/shapes"}, "@misc{shapes}")
    assert manifest.label_names == {"label": ["cat", "dog", "fox"]}
    assert manifest.held_out_labels_public is True
    assert manifest.held_out_labels_public_reason == "the labels were on the web"
    assert manifest.skipped_files == [skipped[0]]  # the held-out split's file names stay private
    assert manifest.statistics["skipped_files"] == {"train": 1, "test": 1}
    assert manifest.leakage == {"exact_duplicates": 2, "examples": [leakage["examples"][0]]}
    card = local_stores.public.get_bytes(layout.card_key("meta", "1.0.0")).decode()
    assert "## How it was made\n\nBy hand." in card


def test_a_draft_needs_a_valid_name_and_an_uncommitted_version(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores)
    with pytest.raises(InvalidInput) as caught:
        repo.create_draft("Bad Name", "1.0.0", features=image_features(), metadata=metadata())
    assert str(caught.value).startswith("dataset name 'Bad Name' is not allowed: ")
    publish_train_only(repo, "done", "1.0.0")
    with pytest.raises(VersionImmutable) as immutable:
        repo.create_draft("done", "1.0.0", features=image_features(), metadata=metadata())
    assert str(immutable.value) == (
        "dataset done@1.0.0 is already committed; versions are immutable — publish a new "
        "version instead")


def test_croissant_file_urls_start_at_the_servers_api(local_stores: Stores) -> None:
    repo = DatasetRepository(local_stores, base_url="https://data.example/api/v1/")
    publish_train_only(repo, "urls", "1.0.0")
    text = local_stores.public.get_bytes(layout.croissant_key("urls", "1.0.0")).decode()
    assert "https://data.example/api/v1/datasets/urls/versions/1.0.0/files" in text
    assert "v1//datasets" not in text
