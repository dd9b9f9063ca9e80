"""Accounts: users, API keys, teams, dataset access settings and grants (admin routes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from heldout.api.schemas.common import ApiModel, Timestamp
from heldout.api.schemas.datasets import Visibility

__all__ = ["ApiKey", "DatasetAccessView", "Grant", "IssuedKey", "Team", "TeamMembership",
           "User"]

RoleName = Literal["admin", "publisher", "participant", "lab"]


class User(ApiModel):
    """A user (never its keys)."""

    name: str = Field(description="user name", examples=["ada"])
    role: RoleName = Field(description="admin, publisher, participant or lab")
    email: str | None = Field(None, description="contact address")
    disabled: bool = Field(False, description="a disabled user's keys answer 401")
    created_at: Timestamp | None = Field(None, description="when the user was created")


class ApiKey(ApiModel):
    """A stored API key: its prefix and last 4 characters, never the secret or its hash."""

    prefix: str = Field(description="public id of the key (revoke it by this)",
                        examples=["k3x9q2ab"])
    user: str = Field(description="owner", examples=["ada"])
    label: str = Field(description="what the key is for", examples=["laptop"])
    masked: str = Field(description="printable form", examples=["hld_k3x9q2ab_…9f2c"])
    created_at: Timestamp | None = Field(None, description="when it was issued")
    last_used_at: Timestamp | None = Field(None, description="last request made with it")
    revoked_at: Timestamp | None = Field(None, description="when it was revoked")
    active: bool = Field(description="not revoked")


class IssuedKey(ApiModel):
    """A new API key. ``key`` is shown in this answer only: only its hash is stored."""

    key: str = Field(description="the secret: send it as `Authorization: Bearer <key>`",
                     examples=["hld_k3x9q2ab_0123456789abcdef0123456789abcdef"])
    prefix: str = Field(description="public id of the key", examples=["k3x9q2ab"])
    user: str = Field(description="owner", examples=["ada"])
    label: str = Field(description="what the key is for", examples=["laptop"])
    masked: str = Field(description="printable form", examples=["hld_k3x9q2ab_…cdef"])
    created_at: Timestamp = Field(description="when it was issued")
    note: str = Field(description="a reminder to store the key now")


class Team(ApiModel):
    """A team of users (grants and competition entries can name a team)."""

    name: str = Field(description="team name", examples=["vision-lab"])
    created_at: Timestamp | None = Field(None, description="when the team was created")


class TeamMembership(ApiModel):
    """A user added to a team, generally or for one benchmark."""

    team: str = Field(description="team name", examples=["vision-lab"])
    user: str = Field(description="user name", examples=["ada"])
    benchmark: str | None = Field(None, description="the benchmark this membership is for; "
                                                    "null: every benchmark")


class DatasetAccessView(ApiModel):
    """Who may read a dataset: its visibility and (gated) its terms."""

    name: str = Field(description="dataset name", examples=["gated-set"])
    visibility: Visibility = Field(description="public, gated or private")
    terms_version: str | None = Field(None, description="current terms version (gated)")
    terms_text: str | None = Field(None, description="current terms (gated, Markdown)")


class Grant(ApiModel):
    """A user or a team allowed to read a private dataset (exactly one of the two is set)."""

    dataset: str = Field(description="dataset name", examples=["private-set"])
    user: str | None = Field(None, description="granted user")
    team: str | None = Field(None, description="granted team")
