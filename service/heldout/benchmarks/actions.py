"""Admin acts on a benchmark, each written to the audit log: create (over the API), reveal,
rescore, disqualify, confirm a challenge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from heldout.accounts import audit
from heldout.benchmarks.registry import SyncResult, find, upsert
from heldout.benchmarks.spec import BenchmarkSpec, parse_spec
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.errors import Conflict, InvalidInput, NotFound
from heldout.services import Services


@dataclass(frozen=True)
class Actor:
    """Who acts and from where (for the audit log); all optional for CLI use."""

    user_id: int | None = None
    client_ip: str | None = None
    request_id: str | None = None

    def record(self, session: Session, action: str, target: str,
               detail: dict[str, Any] | None = None) -> None:
        audit.record(session, action, target, user_id=self.user_id, client_ip=self.client_ip,
                     request_id=self.request_id, detail=detail)


def create_benchmark(services: Services, spec: BenchmarkSpec | dict[str, Any],
                     actor: Actor) -> SyncResult:
    """Create or update a benchmark from a definition (same checks as sync)."""
    if not isinstance(spec, BenchmarkSpec):
        spec = parse_spec(spec, "request body")
    result = upsert(services, spec, "api")
    with services.catalog.session() as session:
        actor.record(session, f"benchmark.{result.action}", result.id,
                     {"version": result.version})
    return result


def reveal(services: Services, benchmark_id: str, actor: Actor) -> datetime:
    """Show private scores now (before the competition ends)."""
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        if not spec.is_competition:
            raise InvalidInput(f"{spec.id!r} is a standing benchmark: it has no private scores")
        row.revealed_at = row.revealed_at or datetime.now(UTC)
        actor.record(session, "benchmark.revealed", spec.id)
        return row.revealed_at


def rescore(services: Services, benchmark_id: str, actor: Actor) -> int:
    """Queue every scored or failed submission of the current version again; the old scores
    move to the submission's history. Returns how many were queued."""
    now = datetime.now(UTC)
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        subs = session.scalars(select(Submission).where(
            Submission.benchmark_id == row.id, Submission.benchmark_version == row.version,
            Submission.status.in_(("scored", "failed")))).all()
        for sub in subs:
            sub.history = [*sub.history, {
                "status": sub.status, "public_scores": sub.public_scores,
                "private_scores": sub.private_scores, "shown_public": sub.shown_public,
                "failure_reason": sub.failure_reason, "scored_at": sub.scored_at.isoformat()
                if sub.scored_at else None, "replaced_at": now.isoformat()}]
            sub.status, sub.claimed_by, sub.lease_expires_at = "queued", None, None
            sub.shown_public = None
        actor.record(session, "benchmark.rescored", spec.id, {"submissions": len(subs)})
        return len(subs)


def disqualify(services: Services, submission_id: str, reason: str, actor: Actor) -> None:
    """Take a submission off the leaderboard (it stays in the catalog, marked)."""
    if not reason.strip():
        raise InvalidInput("a disqualification needs a reason")
    with services.catalog.session() as session:
        sub = session.get(Submission, submission_id) if len(submission_id) <= 32 else None
        if sub is None:
            raise NotFound(f"submission {submission_id!r} does not exist")
        sub.disqualified, sub.disqualified_reason = True, reason.strip()
        row = session.get(Benchmark, sub.benchmark_id)
        assert row is not None
        actor.record(session, "submission.disqualified", f"{row.name}/{sub.id}",
                     {"reason": reason.strip()})


def meets(spec: BenchmarkSpec, value: float) -> bool:
    assert spec.challenge is not None
    target = spec.challenge.target
    return value <= target if spec.lower_is_better else value >= target


def challenge_candidate(session: Session, row: Benchmark, spec: BenchmarkSpec) -> Submission | None:
    """The earliest scored, not disqualified submission whose private score meets the target."""
    if spec.challenge is None:
        return None
    subs = session.scalars(select(Submission).where(
        Submission.benchmark_id == row.id, Submission.benchmark_version == row.version,
        Submission.status == "scored", Submission.disqualified.is_(False))
        .order_by(Submission.created_at, Submission.id)).all()
    return next((s for s in subs if s.private_scores is not None
                 and meets(spec, float(s.private_scores["primary"]))), None)


def confirm_challenge(services: Services, benchmark_id: str, actor: Actor) -> dict[str, Any]:
    """Record the first submission meeting the challenge target, after an admin looked."""
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        if spec.challenge is None:
            raise InvalidInput(f"{spec.id!r} posts no challenge target")
        if row.challenge_submission is not None:
            raise Conflict(f"the challenge of {spec.id!r} was already met by "
                           f"{row.challenge_submission}")
        sub = challenge_candidate(session, row, spec)
        if sub is None:
            raise Conflict(f"no submission to {spec.id!r} meets the target "
                           f"{spec.challenge.target} on {spec.primary_metric} yet")
        assert sub.private_scores is not None
        session.execute(update(Benchmark).where(Benchmark.id == row.id).values(
            challenge_submission=sub.id, challenge_confirmed_at=datetime.now(UTC)))
        detail = {"submission_id": sub.id, "holder": sub.holder,
                  "score": sub.private_scores["primary"], "submitted_at":
                  sub.created_at.isoformat()}
        actor.record(session, "benchmark.challenge_met", spec.id, detail)
        return detail
