"""Publishing over HTTP: answers of the draft routes (the commit answers the manifest)."""

from __future__ import annotations

from pydantic import Field

from heldout.api.schemas.common import ApiModel
from heldout.formats.manifest import ShardInfo

__all__ = ["DraftAborted", "DraftCreated", "LabelsUploaded", "ShardInfo"]


class DraftCreated(ApiModel):
    """A new draft version: upload its shards and labels under ``…/drafts/{draft_id}``."""

    draft_id: str = Field(description="id of the draft (in every upload and the commit)")
    name: str = Field(description="dataset name", examples=["pets"])
    version: str = Field(description="the version being drafted", examples=["1.0.0"])


class LabelsUploaded(ApiModel):
    """A split's held-out labels, stored privately; no label value is ever echoed."""

    split: str = Field(description="the held-out split", examples=["test"])
    label_columns: list[str] = Field(description="columns withheld", examples=[["label"]])
    num_rows: int = Field(ge=0, description="rows in the labels file")
    num_bytes: int = Field(ge=0, description="size of the labels file")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="checksum of the labels file")


class DraftAborted(ApiModel):
    """The draft and everything uploaded into it are gone."""

    aborted: str = Field(description="id of the aborted draft")


class ReportUploaded(ApiModel):
    """The publisher's private ingest report, stored privately until commit."""

    num_bytes: int = Field(ge=0, description="size of the stored report")
