"""Leaderboards: the best entry per team (or user), ranked, with intervals and tie marks.

- ``view="public"``: each holder's best public score (the Ladder's score under Ladder
  feedback, then without intervals or secondary metrics, which would leak the raw score).
- ``view="private"`` (competitions, once revealed or over; admins any time): each holder's
  final selections, else their ``max_final_selections`` best public ones; the best private
  score among them counts.
- Ranks follow the primary metric's direction; equal scores go to the earlier submission.
- ``tied_with_leader``: the paired bootstrap (``heldout.scoring.compare``) can't tell the entry
  from the leader (P(leader better) < 0.95 on the primary metric); checked for the first
  ``TIE_CHECKS`` entries. Baselines are flagged. Documents are cached per process until a
  submission, selection, reveal or disqualification changes the benchmark.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heldout.benchmarks import phases
from heldout.benchmarks.documents import warnings_of
from heldout.benchmarks.memo import Memo
from heldout.benchmarks.registry import find
from heldout.benchmarks.scorer import p_leader_better
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.catalog.models import Team, User, iso
from heldout.errors import Forbidden, InvalidInput
from heldout.services import Services

TIE_CHECKS = 20
SIGNIFICANT = 0.95
_BOARDS = Memo(256)  # per catalog


@dataclass(frozen=True)
class Candidate:
    sub: Submission
    value: float
    scores: dict[str, Any] | None


def _fingerprint(session: Session, row: Benchmark) -> tuple[Any, ...]:
    stats = session.execute(select(
        func.count(), func.max(Submission.scored_at),
        func.sum(func.cast(Submission.selected, Submission.attempts.type)),
        func.sum(func.cast(Submission.disqualified, Submission.attempts.type)),
    ).where(Submission.benchmark_id == row.id)).one()
    return (row.id, row.version, row.score_hash, row.updated_at, row.revealed_at,
            row.challenge_confirmed_at, *stats)


def _sort(cands: Sequence[Candidate], spec: BenchmarkSpec) -> list[Candidate]:
    sign = 1.0 if spec.lower_is_better else -1.0
    return sorted(cands, key=lambda c: (sign * c.value, c.sub.created_at, c.sub.id))


def _public_candidate(sub: Submission, spec: BenchmarkSpec) -> Candidate | None:
    if sub.public_scores is None:
        return None
    if spec.public_feedback == "ladder":
        shown = sub.shown_public or {}
        return Candidate(sub, float(shown.get("value", sub.public_scores["primary"])),
                         {"primary_metric": spec.primary_metric,
                          "primary": shown.get("value"), "metrics": {}, "intervals": {}})
    return Candidate(sub, float(sub.public_scores["primary"]), sub.public_scores)


def _best_public(subs: list[Submission], spec: BenchmarkSpec) -> Candidate | None:
    ranked = _sort([c for s in subs if (c := _public_candidate(s, spec))], spec)
    return ranked[0] if ranked else None


def _private_candidate(subs: list[Submission], spec: BenchmarkSpec) -> Candidate | None:
    chosen = [s for s in subs if s.selected]
    if not chosen:
        public = _sort([c for s in subs if (c := _public_candidate(s, spec))], spec)
        chosen = [c.sub for c in public[:spec.max_final_selections]]
    cands = [Candidate(s, float(s.private_scores["primary"]), s.private_scores)
             for s in chosen if s.private_scores]
    best = _sort(cands, spec)
    return best[0] if best else None


def _entries(session: Session, row: Benchmark, spec: BenchmarkSpec,
             view: str) -> tuple[list[Candidate], dict[str, int]]:
    subs = session.scalars(select(Submission).where(
        Submission.benchmark_id == row.id, Submission.benchmark_version == row.version,
        Submission.status == "scored", Submission.disqualified.is_(False))
        .order_by(Submission.created_at, Submission.id)).all()
    by_holder: dict[str, list[Submission]] = {}
    for sub in subs:
        by_holder.setdefault(sub.holder, []).append(sub)
    counts = {holder: int(n) for holder, n in session.execute(
        select(Submission.holder, func.count()).where(Submission.benchmark_id == row.id)
        .group_by(Submission.holder))}
    best: list[Candidate] = []
    for holder_subs in by_holder.values():
        cand = (_private_candidate(holder_subs, spec) if view == "private"
                else _best_public(holder_subs, spec))
        if cand is not None:
            best.append(cand)
    return _sort(best, spec), counts


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    users = {pk: name for pk, name in session.execute(select(User.id, User.name))}
    teams = {pk: name for pk, name in session.execute(select(Team.id, Team.name))}
    return users, teams


def _ties(services: Services, spec: BenchmarkSpec, ranked: list[Candidate],
          view: str) -> list[bool | None]:
    if spec.public_feedback == "ladder" and view == "public":
        return [None] * len(ranked)
    out: list[bool | None] = []
    for i, cand in enumerate(ranked):
        if i == 0:
            out.append(True)
        elif i >= TIE_CHECKS:
            out.append(None)
        else:
            p = p_leader_better(services, spec, ranked[0].sub, cand.sub, view == "private")
            out.append(p < SIGNIFICANT)
    return out


def _entry_doc(rank: int, cand: Candidate, tied: bool | None, counts: dict[str, int],
               users: dict[int, str], teams: dict[int, str],
               challenge_sub: str | None) -> dict[str, Any]:
    sub = cand.sub
    team = teams.get(sub.team_id) if sub.team_id is not None else None
    scores = cand.scores or {}
    return {
        "rank": rank, "participant": team or users.get(sub.user_id, "?"), "team": team,
        "user": users.get(sub.user_id, "?"), "submission_id": sub.id,
        "model_name": sub.model_name, "link": sub.link, "baseline": sub.baseline,
        "primary": cand.value, "primary_interval": scores.get("intervals", {}).get(
            scores.get("primary_metric", "")),
        "metrics": scores.get("metrics", {}), "intervals": scores.get("intervals", {}),
        "tied_with_leader": tied, "submissions": counts.get(sub.holder, 0),
        "date": iso(sub.created_at), "met_challenge": sub.id == challenge_sub,
    }


def _check_view(row: Benchmark, spec: BenchmarkSpec, view: str, admin: bool) -> None:
    if view not in ("public", "private"):
        raise InvalidInput(f"view must be public or private, not {view!r}")
    if view == "private":
        if not spec.is_competition:
            raise InvalidInput(f"{spec.id!r} is a standing benchmark: it has only the public "
                               "view (every submission is scored on the whole test set)")
        if not admin and not phases.private_visible(row, spec, phases.now_utc()):
            raise Forbidden(f"the private leaderboard of {spec.id!r} shows when the "
                            "competition ends or an admin reveals it")


@dataclass
class Board:
    """A leaderboard document and its renderings (JSON bytes, CSV), cached together."""

    doc: dict[str, Any]
    renders: dict[str, bytes] = field(default_factory=dict)


def leaderboard(services: Services, benchmark_id: str, view: str = "public",
                admin: bool = False) -> dict[str, Any]:
    """The leaderboard document of a benchmark (cached until something changes)."""
    return _board(services, benchmark_id, view, admin).doc


def rendered(services: Services, benchmark_id: str, view: str, admin: bool, form: str,
             render: Callable[[dict[str, Any]], bytes]) -> tuple[dict[str, Any], bytes]:
    """The leaderboard and ``render(doc)``, kept with the cached document so that repeated
    reads of an unchanged board skip rendering; ``form`` names the rendering."""
    board = _board(services, benchmark_id, view, admin)
    out = board.renders.get(form)
    if out is None:
        out = board.renders[form] = render(board.doc)
    return board.doc, out


def _board(services: Services, benchmark_id: str, view: str, admin: bool) -> Board:
    with services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        _check_view(row, spec, view, admin)
        key = (*_fingerprint(session, row), view)
        cached: Board | None = _BOARDS.get(services.catalog, key)
        if cached is not None:
            return cached
        ranked, counts = _entries(session, row, spec, view)
        users, teams = _names(session)
    ties = _ties(services, spec, ranked, view)
    doc = {
        "benchmark": spec.id, "version": spec.version, "title": spec.title, "view": view,
        "primary_metric": spec.primary_metric, "metrics": spec.metrics,
        "direction": "lower-is-better" if spec.lower_is_better else "higher-is-better",
        "public_feedback": spec.public_feedback,
        "kind": "competition" if spec.is_competition else "standing",
        "challenge": _challenge(spec, row, ranked),
        "entries": [_entry_doc(i + 1, c, t, counts, users, teams, row.challenge_submission)
                    for i, (c, t) in enumerate(zip(ranked, ties, strict=True))],
        "warnings": warnings_of(row),
    }
    board = Board(doc)
    _BOARDS.put(services.catalog, key, board)
    return board


def _challenge(spec: BenchmarkSpec, row: Benchmark,
               ranked: list[Candidate]) -> dict[str, Any] | None:
    if spec.challenge is None:
        return None
    met = next((c for c in ranked if c.sub.id == row.challenge_submission), None)
    return {"target": spec.challenge.target, "prize": spec.challenge.prize,
            "met": None if row.challenge_submission is None else {
                "submission_id": row.challenge_submission,
                "confirmed_at": iso(row.challenge_confirmed_at),
                "date": iso(met.sub.created_at) if met else None}}


def _cell(value: Any) -> str:
    """A CSV cell; text starting with = + - @ (or tab/CR) is prefixed with ' (formula
    injection)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) \
        else str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(doc: dict[str, Any]) -> str:
    """The leaderboard as CSV: one row per entry, each metric with its interval."""
    metrics: list[str] = doc["metrics"]
    header = ["rank", "participant", "team", "user", "model_name", "baseline",
              doc["primary_metric"]]
    for m in metrics:
        header += [f"{m}", f"{m}_low", f"{m}_high"]
    header += ["tied_with_leader", "submissions", "date", "submission_id", "link"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for e in doc["entries"]:
        cells: list[Any] = [e["rank"], e["participant"], e["team"], e["user"], e["model_name"],
                            e["baseline"], e["primary"]]
        for m in metrics:
            interval = e["intervals"].get(m) or {}
            cells += [e["metrics"].get(m), interval.get("low"), interval.get("high")]
        cells += [e["tied_with_leader"], e["submissions"], e["date"], e["submission_id"],
                  e["link"]]
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()
