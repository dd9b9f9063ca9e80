"""Creating, reading and selecting submissions.

``create_submission``: the prediction file is validated by the scoring engine first (the same
parse and checks as scoring, no bootstrap), so a bad file gets the full report at once and
costs no quota (it counts against a separate, higher cap on rejected attempts). A good file
streams to ``private/submissions/{benchmark}/{id}/predictions.{ext}``; then one transaction
takes the quota and inserts the row (status ``queued``), so a lost race on an
``Idempotency-Key`` or a full quota rolls both back and the stored file is deleted.
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import datetime
from pathlib import PurePath
from typing import IO, Any, BinaryIO, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.orm import Session

from heldout.accounts import access, audit
from heldout.accounts.roles import Principal
from heldout.accounts.users import team_ids
from heldout.benchmarks import phases, quota
from heldout.benchmarks.documents import submission_doc
from heldout.benchmarks.registry import find
from heldout.benchmarks.scope import in_scope
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.benchmarks.truth import load_truth, manifest_of
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.catalog.models import Team, User
from heldout.errors import (
    Conflict,
    DatasetGone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PhaseClosed,
)
from heldout.layout import submission_key
from heldout.scoring import ScoreConfig, read_predictions, score
from heldout.services import Services

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet", ".pq": "parquet"}
COPY_CHUNK = 1024 * 1024


def score_config(spec: BenchmarkSpec, max_bytes: int, resamples: int = 1000) -> ScoreConfig:
    """The benchmark's scoring options."""
    return ScoreConfig(missing=spec.missing, normalizer=spec.normalizer,
                       top_k=tuple(spec.top_k) if spec.top_k else None, resamples=resamples,
                       primary_metric=spec.primary_metric, max_bytes=max_bytes)


def _extension(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise InvalidInput(f"{filename!r}: prediction files are .csv, .jsonl or .parquet "
                           f"(got {suffix or 'no extension'!r})", file=filename)
    return EXTENSIONS[suffix]


def _check_fields(model_name: str, link: str | None, idempotency_key: str | None) -> None:
    if not model_name.strip() or len(model_name) > 200:
        raise InvalidInput("model_name must be 1 to 200 characters")
    if link is not None and (len(link) > 500 or not link.startswith(("https://", "http://"))):
        raise InvalidInput("link must be an http(s) URL of at most 500 characters")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("Idempotency-Key must be 1 to 128 characters")


def _seekable_copy(file: BinaryIO, limit: int, name: str) -> tuple[IO[bytes], int]:
    """The upload as a seekable file (copied to a spooled temp file if needed) and its size;
    PayloadTooLarge as soon as it crosses ``limit``."""
    if file.seekable():
        size = file.seek(0, 2)
        file.seek(0)
        if size > limit:
            raise PayloadTooLarge(f"{name}: {size} bytes is over the {limit}-byte limit for "
                                  "predictions", file=name, limit=limit)
        return file, size
    spool = tempfile.SpooledTemporaryFile(max_size=8 * COPY_CHUNK)  # noqa: SIM115
    size = 0
    while chunk := file.read(COPY_CHUNK):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise PayloadTooLarge(f"{name}: over the {limit}-byte limit for predictions",
                                  file=name, limit=limit)
        spool.write(chunk)
    spool.seek(0)
    return spool, size


def _existing(session: Session, user_id: int, key: str | None) -> Submission | None:
    if key is None:
        return None
    return session.scalar(select(Submission).where(Submission.user_id == user_id,
                                                   Submission.idempotency_key == key))


def _validate(services: Services, spec: BenchmarkSpec, phase: str, upload: IO[bytes],
              size: int, filename: str) -> None:
    """Fast validation: the scoring engine's parse and checks, without the bootstrap."""
    if size == 0:
        raise InvalidInput(f"{filename!r} is empty", file=filename)
    split = phases.split_of(spec, phase)
    truth = load_truth(services, spec, split)
    config = score_config(spec, services.settings.max_prediction_bytes, resamples=0)
    table, _ = read_predictions(cast(BinaryIO, upload), name=filename,
                                max_bytes=config.max_bytes)
    score(spec.task, truth, in_scope(services, spec, split, truth, table, filename), config,
          name=filename)
    upload.seek(0)


def _open_phase(spec: BenchmarkSpec, now: datetime) -> str:
    phase = phases.open_phase(spec, now)
    if phase is None:
        upcoming = [p for p in spec.phases if phases.status(p, now) == "upcoming"]
        when = (f"; the next phase {upcoming[0].name!r} opens {upcoming[0].starts.isoformat()}"
                if upcoming and upcoming[0].starts else "; every phase has ended")
        raise PhaseClosed(f"benchmark {spec.id!r} takes no submissions now{when}")
    return phase.name


def _check_benchmark(services: Services, spec: BenchmarkSpec) -> None:
    try:
        manifest_of(services, spec)
    except NotFound as exc:
        raise DatasetGone(exc.detail, dataset=spec.dataset) from None


def create_submission(services: Services, *, benchmark_id: str, user: Principal, file: BinaryIO,
                      filename: str, model_name: str, description: str | None = None,
                      link: str | None = None, idempotency_key: str | None = None,
                      baseline: bool = False, client_ip: str | None = None,
                      request_id: str | None = None) -> dict[str, Any]:
    """Validate, store and queue one prediction file; returns the submission document.

    A repeated ``idempotency_key`` of the same user returns the first submission unchanged.
    """
    _check_fields(model_name, link, idempotency_key)
    now = phases.now_utc()
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        access.check_read(session, user, spec.dataset_name)  # gated: terms accepted first
        previous = _existing(session, user.id, idempotency_key)
        if previous is not None:
            return document(session, previous, row, spec, user)
        holder, team_id, _team = quota.holder_of(session, user.id, spec.id)
    ext = _extension(filename)
    _check_benchmark(services, spec)
    phase = _open_phase(spec, now)
    _check_rejected_cap(services, row.id, holder, phase, now)
    if not baseline:
        _check_quota_left(services, row.id, holder, spec, phase, now)
    upload, size = _seekable_copy(file, services.settings.max_prediction_bytes, filename)
    try:
        _validate(services, spec, phase, upload, size, filename)
    except (InvalidInput, PayloadTooLarge):
        with services.catalog.session() as session:
            quota.take(session, quota.rejected_slot(row.id, holder, phase, now), None)
        raise
    sub = Submission(id=secrets.token_hex(12), benchmark_id=row.id,
                     benchmark_version=spec.version, phase=phase, user_id=user.id,
                     team_id=team_id, holder=holder, model_name=model_name.strip(),
                     description=description, link=link, filename=PurePath(filename).name[:200],
                     size=size, idempotency_key=idempotency_key, baseline=baseline,
                     status="queued", created_at=now, history=[])
    sub.object_key = submission_key(spec.id, sub.id, ext)
    info = services.stores.private.put(sub.object_key, upload, size)  # type: ignore[arg-type]
    sub.sha256 = info.sha256
    try:
        doc = _insert(services, sub, row, spec, user, now, client_ip, request_id)
    except BaseException:
        services.stores.private.delete(sub.object_key)
        raise
    services.scoring_wakeup.set()
    return doc


def _check_rejected_cap(services: Services, benchmark_pk: int, holder: str, phase: str,
                        now: datetime) -> None:
    cap = services.settings.rejected_daily_cap
    with services.catalog.session() as session:
        if quota.used(session, quota.rejected_slot(benchmark_pk, holder, phase, now)) >= cap:
            raise quota.QuotaExceeded(
                f"{cap} rejected uploads today: fix the file offline (`heldout score` checks "
                "it the same way) and try again tomorrow", quota.seconds_to_midnight(now),
                quota="rejected", limit=cap)


def _check_quota_left(services: Services, benchmark_pk: int, holder: str, spec: BenchmarkSpec,
                      phase: str, now: datetime) -> None:
    limits = spec.phase(phase)
    with services.catalog.session() as session:
        quota.check_left(session, benchmark_pk, holder, phase, limits.daily_quota,
                         limits.total_quota, now)


def _insert(services: Services, sub: Submission, row: Benchmark, spec: BenchmarkSpec,
            user: Principal, now: datetime, client_ip: str | None,
            request_id: str | None) -> dict[str, Any]:
    """Take the quota and insert the row in one transaction (the idempotency race loser
    gets the winner's submission)."""
    phase = spec.phase(sub.phase)
    try:
        with services.catalog.session() as session:
            if not sub.baseline:
                quota.take_submission(session, row.id, sub.holder, sub.phase,
                                      phase.daily_quota, phase.total_quota, now)
            session.add(sub)
            session.flush()
            audit.record(session, "submission.created", f"{spec.id}/{sub.id}", user_id=user.id,
                         client_ip=client_ip, request_id=request_id,
                         detail={"model_name": sub.model_name, "size": sub.size})
            return document(session, sub, row, spec, user)
    except SAIntegrityError:
        with services.catalog.session() as session:
            winner = _existing(session, user.id, sub.idempotency_key)
            if winner is None:
                raise
            services.stores.private.delete(sub.object_key)
            return document(session, winner, row, spec, user)


def names_of(session: Session, sub: Submission) -> tuple[str, str | None]:
    """(user name, team name) of a submission."""
    user = session.scalar(select(User.name).where(User.id == sub.user_id)) or "?"
    team = (session.scalar(select(Team.name).where(Team.id == sub.team_id))
            if sub.team_id is not None else None)
    return user, team


def document(session: Session, sub: Submission, row: Benchmark, spec: BenchmarkSpec,
             viewer: Principal | None) -> dict[str, Any]:
    user, team = names_of(session, sub)
    return submission_doc(sub, row, spec, phases.now_utc(), user_name=user, team_name=team,
                          admin=bool(viewer and viewer.is_admin))


def may_read(session: Session, viewer: Principal | None, sub: Submission) -> bool:
    """Owner, their team and admins."""
    if viewer is None:
        return False
    if viewer.is_admin or viewer.id == sub.user_id:
        return True
    return sub.team_id is not None and sub.team_id in team_ids(session, viewer.id)


def load_readable(session: Session, viewer: Principal | None,
                  submission_id: str) -> tuple[Submission, Benchmark, BenchmarkSpec]:
    """A submission the viewer may read; NotFound (as if absent) otherwise."""
    sub = session.get(Submission, submission_id) if len(submission_id) <= 32 else None
    if sub is None or not may_read(session, viewer, sub):
        raise NotFound(f"submission {submission_id!r} does not exist")
    row = session.get(Benchmark, sub.benchmark_id)
    assert row is not None
    return sub, row, find(session, row.name)[1]


def get_submission(services: Services, viewer: Principal | None,
                   submission_id: str) -> dict[str, Any]:
    with services.catalog.session() as session:
        sub, row, spec = load_readable(session, viewer, submission_id)
        return document(session, sub, row, spec, viewer)


def list_mine(services: Services, viewer: Principal, benchmark_id: str, limit: int = 50,
              offset: int = 0, everyone: bool = False) -> tuple[list[dict[str, Any]], int]:
    """The viewer's and their teams' submissions to a benchmark (``everyone``: all of them,
    for admins), newest first."""
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        teams = team_ids(session, viewer.id)
        clause = Submission.user_id == viewer.id
        if teams:
            clause = clause | Submission.team_id.in_(teams)
        query = select(Submission).where(Submission.benchmark_id == row.id)
        if not everyone:
            query = query.where(clause)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        subs = session.scalars(query.order_by(Submission.created_at.desc(), Submission.id)
                               .limit(limit).offset(offset)).all()
        return [document(session, s, row, spec, viewer) for s in subs], int(total)


def select_final(services: Services, viewer: Principal, submission_id: str,
                 selected: bool = True) -> dict[str, Any]:
    """Mark a scored submission as one of its holder's final selections (up to N)."""
    with services.catalog.session() as session:
        sub, row, spec = load_readable(session, viewer, submission_id)
        if sub.status != "scored":
            raise Conflict(f"submission {sub.id} is {sub.status}; only scored ones can be "
                           "selected")
        if selected and not sub.selected:
            count = session.scalar(select(func.count()).select_from(Submission).where(
                Submission.benchmark_id == row.id, Submission.holder == sub.holder,
                Submission.selected.is_(True))) or 0
            if count >= spec.max_final_selections:
                raise Conflict(f"already {count} final selections (the most this benchmark "
                               f"allows is {spec.max_final_selections}); unselect one first")
        sub.selected = selected
        return document(session, sub, row, spec, viewer)
