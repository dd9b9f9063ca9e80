"""The caller's own account (``GET /api/v1/whoami``)."""

from __future__ import annotations

from pydantic import Field

from heldout.api.schemas.common import ApiModel


class WhoAmI(ApiModel):
    """The user an API key belongs to."""

    user: str = Field(description="user name")
    role: str = Field(description="admin, publisher, participant or lab")
    teams: list[str] = Field(description="teams the user belongs to")
    key: str = Field(description="the key in use, masked to its prefix and last 4 characters")
