"""JSON documents of benchmarks and submissions, as the API, CLI and client show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from heldout.benchmarks import phases
from heldout.benchmarks.registry import labels_public_warning
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.catalog.models import iso


def warnings_of(row: Benchmark) -> list[str]:
    """Warnings every document of this benchmark carries."""
    if not row.labels_public:
        return []
    return [labels_public_warning(f"{row.dataset}@{row.dataset_version}",
                                  row.labels_public_reason)]


def phase_doc(spec: BenchmarkSpec, now: datetime) -> list[dict[str, Any]]:
    return [{"name": p.name, "starts": iso(p.starts), "ends": iso(p.ends), "split": p.split,
             "daily_quota": p.daily_quota, "total_quota": p.total_quota,
             "status": phases.status(p, now)} for p in spec.phases]


def benchmark_doc(row: Benchmark, spec: BenchmarkSpec, now: datetime,
                  submissions: int = 0) -> dict[str, Any]:
    """Everything public about a benchmark (never a label, never which ids count where)."""
    current = phases.open_phase(spec, now)
    challenge = None
    if spec.challenge is not None:
        challenge = {"target": spec.challenge.target, "prize": spec.challenge.prize,
                     "met_by": row.challenge_submission,
                     "confirmed_at": iso(row.challenge_confirmed_at)}
    return {
        "id": spec.id, "version": spec.version, "title": spec.title,
        "description": spec.description, "dataset": spec.dataset, "split": spec.split,
        "filter": spec.filter, "task": spec.task, "truth_column": spec.truth_column,
        "input_columns": spec.input_columns, "metrics": spec.metrics,
        "primary_metric": spec.primary_metric,
        "direction": "lower-is-better" if spec.lower_is_better else "higher-is-better",
        "normalizer": spec.normalizer, "top_k": spec.top_k, "missing": spec.missing,
        "kind": "competition" if spec.is_competition else "standing",
        "public_fraction": spec.public_fraction, "public_feedback": spec.public_feedback,
        "ladder_threshold": spec.ladder_threshold if spec.public_feedback == "ladder" else None,
        "max_final_selections": spec.max_final_selections,
        "phases": phase_doc(spec, now), "current_phase": current.name if current else None,
        "private_scores_visible": spec.is_competition and phases.private_visible(row, spec, now),
        "challenge": challenge, "license": spec.license, "terms": spec.terms,
        "baseline": spec.baseline, "trials": spec.task == "verification",
        "held_out_labels_public": row.labels_public,
        "held_out_labels_public_reason": row.labels_public_reason,
        "warnings": warnings_of(row), "submissions": submissions,
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
    }


def submission_doc(sub: Submission, row: Benchmark, spec: BenchmarkSpec, now: datetime, *,
                   user_name: str, team_name: str | None, admin: bool) -> dict[str, Any]:
    """A submission as its owner (or an admin) sees it: status, scores, failure reason.

    Under Ladder feedback the owner sees the Ladder's public score, not the raw one; private
    scores show once revealed (admins always see everything).
    """
    private_ok = admin or not spec.is_competition or phases.private_visible(row, spec, now)
    public = sub.public_scores
    if spec.public_feedback == "ladder" and not admin and public is not None:
        public = {"primary_metric": spec.primary_metric, "ladder": sub.shown_public}
    return {
        "id": sub.id, "benchmark": row.name, "benchmark_version": sub.benchmark_version,
        "phase": sub.phase, "status": sub.status, "model_name": sub.model_name,
        "description": sub.description, "link": sub.link, "filename": sub.filename,
        "size": sub.size, "sha256": sub.sha256, "user": user_name, "team": team_name,
        "baseline": sub.baseline, "created_at": iso(sub.created_at),
        "scored_at": iso(sub.scored_at), "failure_reason": sub.failure_reason,
        "scores": {"public": public,
                   "private": sub.private_scores if private_ok and spec.is_competition else None},
        "selected": sub.selected, "disqualified": sub.disqualified,
        "disqualified_reason": sub.disqualified_reason,
        "history": sub.history if admin else [],
        "warnings": warnings_of(row),
    }
