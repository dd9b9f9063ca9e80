"""The audit log: who did what to which dataset (or account), when and from where."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heldout.catalog.models import AuditEvent, User, iso

TARGET_MAX = 300


def record(
    session: Session,
    action: str,
    target: str,
    *,
    user_id: int | None = None,
    client_ip: str | None = None,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (``action`` such as ``dataset.download``; ``target`` such as
    ``pets@1.0.0/data/train-00000-of-00001.parquet``)."""
    event = AuditEvent(
        action=action,
        target=target[:TARGET_MAX],
        user_id=user_id,
        client_ip=client_ip,
        request_id=request_id,
        detail=detail or {},
        at=datetime.now(UTC),
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session,
    *,
    action: str | None = None,
    user: str | None = None,
    target_prefix: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of events, newest first, and the total matching."""
    query = select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.user_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if user:
        query = query.where(User.name == user)
    if target_prefix:
        query = query.where(AuditEvent.target.startswith(target_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return [event_dict(event, name) for event, name in rows], total


def event_dict(event: AuditEvent, user_name: str | None) -> dict[str, Any]:
    """The JSON view of one event."""
    return {
        "id": event.id,
        "at": iso(event.at),
        "user": user_name,
        "action": event.action,
        "target": event.target,
        "client_ip": event.client_ip,
        "request_id": event.request_id,
        "detail": event.detail,
    }
