"""Dataset shapes: listing entries, a dataset with its versions, the manifest, files, terms."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from heldout.api.schemas.common import ApiModel, Timestamp
from heldout.formats.manifest import Manifest

Visibility = Literal["public", "gated", "private"]

__all__ = ["DatasetDetail", "DatasetSummary", "DatasetTerms", "FileEntry", "FileListing",
           "Manifest", "TermsAcceptance", "VersionSummary", "Visibility", "YankedVersion"]


class DatasetSummary(ApiModel):
    """One dataset in the listing (only datasets with a committed version are listed)."""

    name: str = Field(description="dataset name, `[a-z0-9][a-z0-9._-]{0,63}`",
                      examples=["digits"])
    title: str | None = Field(None, description="human title", examples=["Handwritten digits"])
    description: str | None = Field(None, description="what the data is (Markdown)")
    task: str | None = Field(None, description="task family", examples=["image-classification"])
    modality: str | None = Field(None, description="image, audio, text, tabular or multimodal",
                                 examples=["image"])
    license: str | None = Field(None, description="SPDX license id", examples=["CC-BY-4.0"])
    visibility: Visibility = Field(
        description="public: anyone; gated: signed-in users who accepted the terms; "
                    "private: owner, admins and granted users or teams")
    latest_version: str | None = Field(
        None, description="what `latest` means: the newest release that is not yanked, or the "
                          "version the owner pinned (a pre-release only when pinned)",
        examples=["1.0.0"])
    deprecated: bool = Field(False, description="the owner deprecated the dataset (still "
                                                "readable; downloads carry a warning)")
    deprecation_message: str | None = Field(None, description="why, and what to use instead")


class VersionSummary(ApiModel):
    """One committed version of a dataset (details are in its manifest)."""

    version: str = Field(description="semantic version", examples=["1.0.0"])
    num_rows: int | None = Field(None, ge=0, description="rows over all splits")
    num_bytes: int | None = Field(None, ge=0, description="bytes of all public shards")
    splits: dict[str, int | None] = Field(description="rows per split",
                                          examples=[{"train": 1257, "test": 360}])
    held_out: list[str] = Field(description="splits whose labels are withheld",
                                examples=[["test"]])
    held_out_labels_public: bool = Field(
        False, description="the held-out labels can be had elsewhere (a demo, not a secret test)")
    held_out_labels_public_reason: str | None = Field(None, description="why they are public")
    created_at: Timestamp | None = Field(None, description="when the version was created")
    committed_at: Timestamp | None = Field(None, description="when it was committed")


class YankedVersion(ApiModel):
    """A version its owner yanked, and why."""

    version: str = Field(description="semantic version", examples=["1.1.0"])
    reason: str | None = Field(None, description="why it was yanked")


class DatasetTerms(ApiModel):
    """The terms of a gated dataset and whether the caller has accepted them."""

    version: str | None = Field(None, description="terms version", examples=["2026-12"])
    text: str | None = Field(None, description="the terms (Markdown)")
    accepted: bool = Field(description="the caller accepted this terms version")


class DatasetDetail(DatasetSummary):
    """A dataset, its versions (newest first) and what the caller may do with it."""

    versions: list[VersionSummary] = Field(description="committed versions that are not "
                                                       "yanked, newest first")
    yanked_versions: list[YankedVersion] = Field(
        default_factory=list, description="versions hidden from `latest` and this list; still "
                                          "readable by their exact number, with a warning")
    held_out_labels_public: bool = Field(
        False, description="the latest version's held-out labels can be had elsewhere")
    held_out_labels_public_reason: str | None = Field(None, description="why they are public")
    created_at: Timestamp | None = Field(None, description="when the dataset was first published")
    updated_at: Timestamp | None = Field(None, description="last change to the dataset entry")
    terms: DatasetTerms | None = Field(None, description="gated datasets only")
    can_download: bool = Field(description="the caller may read the data (manifest, files, "
                                           "rows); false e.g. for gated terms not yet accepted")


class FileEntry(ApiModel):
    """One downloadable file of a version."""

    path: str = Field(description="path inside the version folder",
                      examples=["data/train-00000-of-00001.parquet"])
    split: str | None = Field(description="the split of a shard; null for metadata files")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="checksum of the whole file")
    num_bytes: int = Field(ge=0, description="size in bytes")
    num_rows: int | None = Field(description="rows of a shard; null for metadata files")
    url: str = Field(description="GET this (no Authorization header for presigned S3 URLs)")


class FileListing(ApiModel):
    """Download URLs of a version's metadata files and (a split's) shards."""

    name: str = Field(description="dataset name", examples=["digits"])
    version: str = Field(description="the resolved version (never `latest`)",
                         examples=["1.0.0"])
    expires_in: int = Field(description="seconds the presigned URLs stay valid")
    files: list[FileEntry] = Field(description="manifest, Croissant, card, then the shards")


class TermsAcceptance(ApiModel):
    """A record that a user accepted a version of a dataset's terms."""

    dataset: str = Field(description="dataset name", examples=["gated-set"])
    user: str = Field(description="user name", examples=["ada"])
    terms_version: str | None = Field(description="the terms version accepted",
                                      examples=["2026-12"])
    accepted_at: Timestamp | None = Field(description="when")


class IngestReport(ApiModel):
    """A version's private ingest report (owner and admins only): what the public documents
    withhold about held-out splits."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, extra="allow")

    format: str = Field(description="report format id", examples=["heldout.ingest-report/1"])
    name: str = Field(description="dataset name", examples=["digits"])
    version: str = Field(description="the version the report belongs to", examples=["1.0.0"])
    created_at: str | None = Field(default=None, description="when the version was published")
    held_out_ids: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="per held-out split: source name → published id")
    statistics: dict[str, Any] = Field(
        default_factory=dict, description="full statistics, held-out splits included")
    skipped_files: list[dict[str, Any]] = Field(
        default_factory=list, description="files left out, with their source names and why")
    leakage: dict[str, Any] = Field(
        default_factory=dict, description="cross-split duplicates, with source names")
    missing: str | None = Field(
        default=None, description="set when the version predates private reports")
