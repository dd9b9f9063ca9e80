"""Submission quotas, taken atomically in the database.

A counter row per (benchmark, holder, phase, kind, day) — ``day`` is the UTC date, or '' for
the phase total. Taking one is ``INSERT … ON CONFLICT DO NOTHING`` followed by a conditional
``UPDATE … SET used = used + 1 WHERE used < limit`` whose row count says whether it fit: the
database serialises concurrent updates of one row, so two uploads can't both slip under.
``kind`` is ``accepted`` (files that passed validation) or ``rejected`` (a separate cap).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from heldout.accounts.users import team_ids
from heldout.catalog.benchmark_models import QuotaCounter
from heldout.catalog.models import Team, TeamMember
from heldout.errors import QuotaExceeded


def holder_of(session: Session, user_id: int, benchmark: str) -> tuple[str, int | None, str]:
    """Who a submission counts for: the user's team for this benchmark (or general team),
    else the user alone. Returns (holder key, team id, team name or '')."""
    scoped = session.execute(
        select(Team.id, Team.name).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id, TeamMember.benchmark == benchmark)).first()
    if scoped is not None:
        return f"team:{scoped[0]}", scoped[0], scoped[1]
    teams = team_ids(session, user_id)
    if teams:
        name = session.scalar(select(Team.name).where(Team.id == teams[0])) or ""
        return f"team:{teams[0]}", teams[0], name
    return f"user:{user_id}", None, ""


def today(now: datetime) -> str:
    return now.astimezone(UTC).date().isoformat()


def seconds_to_midnight(now: datetime) -> int:
    """Seconds until the next UTC day starts."""
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                  microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


def _slot(benchmark_id: int, holder: str, phase: str, kind: str, day: str) -> dict[str, Any]:
    return {"benchmark_id": benchmark_id, "holder": holder, "phase": phase, "kind": kind,
            "day": day}


def _ensure(session: Session, slot: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(QuotaCounter).values(**slot, used=0).on_conflict_do_nothing())


def _where(slot: dict[str, Any]) -> list[Any]:
    return [getattr(QuotaCounter, name) == value for name, value in slot.items()]


def take(session: Session, slot: dict[str, Any], limit: int | None) -> bool:
    """Add one use to ``slot`` if it stays within ``limit`` (None: no limit); atomic."""
    _ensure(session, slot)
    statement = update(QuotaCounter).where(*_where(slot))
    if limit is not None:
        statement = statement.where(QuotaCounter.used < limit)
    result = session.execute(statement.values(used=QuotaCounter.used + 1))
    return bool(getattr(result, "rowcount", 0) == 1)


def give_back(session: Session, slot: dict[str, Any]) -> None:
    """Refund one use (a server-side failure must not cost the participant)."""
    session.execute(update(QuotaCounter).where(*_where(slot), QuotaCounter.used > 0)
                    .values(used=QuotaCounter.used - 1))


def used(session: Session, slot: dict[str, Any]) -> int:
    value = session.scalar(select(QuotaCounter.used).where(*_where(slot)))
    return int(value or 0)


def exceeded(which: str, limit: int, phase: str, now: datetime) -> QuotaExceeded:
    """The 429 for a used-up ``daily`` or ``total`` quota."""
    if which == "daily":
        return QuotaExceeded(f"the daily quota of {limit} submissions for phase {phase!r} is "
                             "used up; it resets at 00:00 UTC", seconds_to_midnight(now),
                             quota="daily", limit=limit)
    return QuotaExceeded(f"the quota of {limit} submissions for phase {phase!r} is used up",
                         seconds_to_midnight(now), quota="total", limit=limit)


def check_left(session: Session, benchmark_id: int, holder: str, phase: str,
               daily: int | None, total: int | None, now: datetime) -> None:
    """Raise early when a quota is already used up (the atomic take comes later)."""
    if daily is not None and used(session, accepted_slot(
            benchmark_id, holder, phase, today(now))) >= daily:
        raise exceeded("daily", daily, phase, now)
    if total is not None and used(session, accepted_slot(benchmark_id, holder, phase,
                                                         "")) >= total:
        raise exceeded("total", total, phase, now)


def take_submission(session: Session, benchmark_id: int, holder: str, phase: str,
                    daily: int | None, total: int | None, now: datetime) -> None:
    """Take one accepted submission from the daily and the phase quota, or raise 429."""
    if not take(session, accepted_slot(benchmark_id, holder, phase, today(now)), daily):
        raise exceeded("daily", daily or 0, phase, now)
    if not take(session, accepted_slot(benchmark_id, holder, phase, ""), total):
        raise exceeded("total", total or 0, phase, now)


def refund_submission(session: Session, benchmark_id: int, holder: str, phase: str,
                      created: datetime) -> None:
    """Give back what :func:`take_submission` took for a submission made at ``created``."""
    give_back(session, _slot(benchmark_id, holder, phase, "accepted", today(created)))
    give_back(session, _slot(benchmark_id, holder, phase, "accepted", ""))


def accepted_slot(benchmark_id: int, holder: str, phase: str, day: str) -> dict[str, Any]:
    return _slot(benchmark_id, holder, phase, "accepted", day)


def rejected_slot(benchmark_id: int, holder: str, phase: str, now: datetime) -> dict[str, Any]:
    return _slot(benchmark_id, holder, phase, "rejected", today(now))
