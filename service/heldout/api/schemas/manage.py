"""Publisher self-service: what the owner of a dataset (or an admin) may change."""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictBool, model_validator

from heldout.api.schemas.common import ApiModel

REASON_MAX = 500  # the catalog checks the same bound (heldout.catalog.lifecycle.REASON_MAX)


class DatasetChanges(ApiModel):
    """What to change; absent fields stay as they are."""

    visibility: str | None = Field(None, description="public, gated or private")
    terms_version: str | None = Field(None, description="version of the terms, e.g. 2026-12")
    terms_text: str | None = Field(None, description="terms users accept (gated datasets)")
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    deprecated: StrictBool | None = Field(None, description="true: deprecate (needs a message)")
    deprecation_message: str | None = Field(None, description="why, and what to use instead")
    latest: str | None = Field(None, description="pin `latest` to this version (a pre-release "
                                                 "too); null: back to the newest release")


class Grant(ApiModel):
    """A user or a team allowed to read a private dataset (exactly one of the two)."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, json_schema_extra={
        "oneOf": [
            {"required": ["user"], "properties": {"user": {"type": "string"}}},
            {"required": ["team"], "properties": {"team": {"type": "string"}}},
        ]})

    user: str | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Grant:
        if (self.user is None) == (self.team is None):
            raise ValueError("a grant names exactly one of 'user' or 'team'")
        return self


class Yank(ApiModel):
    """Why a version is yanked (shown to whoever still downloads it)."""

    reason: str = Field(min_length=1, max_length=REASON_MAX)


class DatasetSettings(ApiModel):
    """What the owner can change, as it is now."""

    name: str
    owner: str | None
    visibility: str
    terms_version: str | None
    title: str
    description: str
    deprecated: bool
    deprecation_message: str | None
    deprecated_at: str | None
    latest_version: str | None
    pinned_latest: str | None
    grants: list[str]
    yanked: dict[str, str] = Field(description="yanked version → reason")
