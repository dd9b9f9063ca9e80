"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from heldout.api.schemas.common import ApiModel

__all__ = ["Health", "Readiness"]


class Health(ApiModel):
    """The process is up."""

    status: Literal["ok"] = Field(description="always `ok`")


class Readiness(ApiModel):
    """Every dependency answered (a failing one makes the answer a 503 problem instead)."""

    status: Literal["ready"] = Field(description="always `ready` on a 200")
    checks: dict[str, str] = Field(description="dependency → `ok`",
                                   examples=[{"database": "ok", "public_store": "ok",
                                              "private_store": "ok"}])
