"""The audit log: who read or changed what, when, from where."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from heldout.api.schemas.common import ApiModel, Timestamp

__all__ = ["AuditEvent"]


class AuditEvent(ApiModel):
    """One audited action (reads of gated and private datasets, admin changes, publishing)."""

    id: int = Field(description="event id (increasing)")
    at: Timestamp | None = Field(description="when")
    user: str | None = Field(description="who (null: anonymous)", examples=["ada"])
    action: str = Field(description="what", examples=["dataset.download"])
    target: str = Field(description="on what", examples=["pets@1.0.0/data/test-00000-of-00001"
                                                          ".parquet"])
    client_ip: str | None = Field(description="the caller's address")
    request_id: str | None = Field(description="the request's X-Request-ID")
    detail: dict[str, Any] | None = Field(description="action-specific details")
