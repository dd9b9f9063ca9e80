"""The scoring queue: the submissions table itself.

A worker claims the oldest ``queued`` submission — or a ``scoring`` one whose lease expired
because its worker died — with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on
SQLite with a conditional ``UPDATE … WHERE id = ? AND <still claimable>`` whose row count
says who won. Each claim gets a fresh token; the result is written only by ``UPDATE … WHERE
claim = token AND status = 'scoring'``, so a worker that lost its lease can't write a second
score: every submission is scored exactly once. The lease is renewed while scoring runs.
``queued → scoring → scored | failed``; a failure's reason is shown to the owner, and a
failure that is not the file's fault gives the quota back.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from heldout.benchmarks import ladder, quota
from heldout.benchmarks.registry import spec_of
from heldout.benchmarks.scorer import score_submission
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.errors import HeldoutError, InvalidInput
from heldout.services import Services

log = logging.getLogger("heldout.benchmarks.queue")
CANDIDATES = 8


def _claimable(now: datetime) -> Any:
    return or_(Submission.status == "queued",
               (Submission.status == "scoring") & (Submission.lease_expires_at < now))


def _candidates(session: Session, now: datetime) -> list[str]:
    query = (select(Submission.id).where(_claimable(now))
             .order_by(Submission.created_at, Submission.id).limit(CANDIDATES))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True).limit(1)
    return list(session.scalars(query))


def claim(services: Services, worker: str) -> tuple[str, str] | None:
    """Claim one job: (submission id, claim token), or None when nothing is claimable."""
    lease = timedelta(seconds=services.settings.scoring_lease_seconds)
    with services.catalog.session() as session:
        now = datetime.now(UTC)
        for sid in _candidates(session, now):
            token = f"{worker}:{secrets.token_hex(6)}"
            result = session.execute(
                update(Submission).where(Submission.id == sid, _claimable(now))
                .values(status="scoring", claimed_by=token, lease_expires_at=now + lease,
                        attempts=Submission.attempts + 1))
            if getattr(result, "rowcount", 0) == 1:
                return sid, token
    return None


def renew(services: Services, sid: str, token: str) -> bool:
    """Extend the lease of a job this worker still holds."""
    until = datetime.now(UTC) + timedelta(seconds=services.settings.scoring_lease_seconds)
    with services.catalog.session() as session:
        result = session.execute(update(Submission).where(
            Submission.id == sid, Submission.claimed_by == token,
            Submission.status == "scoring").values(lease_expires_at=until))
        return getattr(result, "rowcount", 0) == 1


def _finish(services: Services, sid: str, token: str, values: dict[str, Any],
            refund: bool = False) -> bool:
    """Write the outcome if this claim still holds the job; False if it was lost."""
    with services.catalog.session() as session:
        sub = session.get(Submission, sid)
        if sub is None or sub.claimed_by != token or sub.status != "scoring":
            return False
        if "public_scores" in values:
            row = session.get(Benchmark, sub.benchmark_id)
            assert row is not None
            spec = spec_of(row)
            if spec.public_feedback == "ladder":
                values["shown_public"] = ladder.shown_score(
                    session, spec, sub, values["public_scores"]["primary"])
        result = session.execute(update(Submission).where(
            Submission.id == sid, Submission.claimed_by == token,
            Submission.status == "scoring").values(lease_expires_at=None, **values))
        if getattr(result, "rowcount", 0) != 1:
            session.rollback()
            return False
        if refund and not sub.history and not sub.baseline:
            quota.refund_submission(session, sub.benchmark_id, sub.holder, sub.phase,
                                    sub.created_at)
        return True


def _load(services: Services, sid: str) -> tuple[Submission, Any]:
    with services.catalog.session() as session:
        sub = session.get(Submission, sid)
        assert sub is not None
        row = session.get(Benchmark, sub.benchmark_id)
        assert row is not None
        return sub, spec_of(row)


def _heartbeat(services: Services, sid: str, token: str, stop: threading.Event) -> None:
    interval = max(0.5, services.settings.scoring_lease_seconds / 3)
    while not stop.wait(interval):
        if not renew(services, sid, token):
            return


def score_claimed(services: Services, sid: str, token: str) -> bool:
    """Score a claimed job and record the outcome; True if this worker's outcome stuck."""
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(services, sid, token, stop), daemon=True)
    beat.start()
    try:
        sub, spec = _load(services, sid)
        public, private = score_submission(services, spec, sub)
    except InvalidInput as exc:  # the file's fault (validated at upload, so rare)
        return _finish(services, sid, token, {"status": "failed", "failure_reason": exc.detail,
                                              "scored_at": datetime.now(UTC)})
    except HeldoutError as exc:
        log.warning("scoring %s failed: %s", sid, exc.detail)
        return _finish(services, sid, token, {
            "status": "failed", "scored_at": datetime.now(UTC),
            "failure_reason": f"server error while scoring ({exc.title}); the submission "
                              "did not count against the quota"}, refund=True)
    except Exception:
        log.exception("scoring %s failed unexpectedly", sid)
        return _finish(services, sid, token, {
            "status": "failed", "scored_at": datetime.now(UTC),
            "failure_reason": f"internal error while scoring; quote submission {sid} when "
                              "reporting it (the submission did not count against the quota)"},
            refund=True)
    finally:
        stop.set()
    return _finish(services, sid, token, {"status": "scored", "public_scores": public,
                                          "private_scores": private, "failure_reason": None,
                                          "scored_at": datetime.now(UTC)})


def run_next_job(services: Services, worker: str = "worker") -> bool:
    """Claim and score one queued submission; True if one ran."""
    claimed = claim(services, worker)
    if claimed is None:
        return False
    score_claimed(services, *claimed)
    return True


def drain(services: Services, worker: str = "worker", limit: int = 1000) -> int:
    """Run jobs until the queue is empty (or ``limit``); returns how many ran."""
    count = 0
    while count < limit and run_next_job(services, worker):
        count += 1
    return count


def worker_name() -> str:
    """``host:pid``: who holds a claim (shown in the catalog while a job runs)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def work_loop(services: Services, stop: threading.Event, poll_seconds: float = 2.0) -> None:
    """Score jobs until ``stop`` is set; between jobs wait for a wake-up (a new submission)
    or ``poll_seconds`` (jobs queued by other processes, expired leases)."""
    name = worker_name()
    while not stop.is_set():
        try:
            ran = run_next_job(services, name)
        except HeldoutError as exc:  # e.g. the database is down: try again later
            log.warning("scoring worker: %s", exc.detail)
            ran = False
        if not ran:
            services.scoring_wakeup.wait(poll_seconds)
            services.scoring_wakeup.clear()
