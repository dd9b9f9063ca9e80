"""The private ingest report of a version (owner and admins only)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from heldout.api.schemas.common import ApiModel

__all__ = ["IngestReport"]


class IngestReport(ApiModel):
    """Everything withheld from the public documents of a version: held-out source names →
    random ids, the full statistics (class balance of held-out splits included), skipped
    files, duplicates, near-duplicates and leakage with file names. A publisher's pipeline
    may add fields of its own."""

    model_config = ConfigDict(extra="allow")

    format: str = Field(description="report format", examples=["heldout.ingest-report/1"])
    name: str = Field(description="dataset name")
    version: str = Field(description="the concrete version")
    created_at: str | None = Field(None, description="when the version was committed")
    held_out_ids: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="held-out split → {source name: public id}")
    statistics: dict[str, Any] = Field(default_factory=dict,
                                       description="all statistics, held-out splits included")
    skipped_files: list[dict[str, Any]] = Field(default_factory=list,
                                                description="every skipped file and why")
    leakage: dict[str, Any] = Field(default_factory=dict,
                                    description="leakage counts and every example pair")
    missing: str | None = Field(None, description="set for versions published before "
                                                  "reports existed")
