"""The Ladder (Blum & Hardt, ICML 2015): public feedback that resists leaderboard probing.

The public score a team sees changes only when a submission beats the team's best shown score
by more than ``ladder_threshold``; it is then rounded to a multiple of the threshold. Otherwise
the team sees its previous best again, so small random wiggles reveal nothing about the
public part's labels.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from heldout.benchmarks.spec import BenchmarkSpec
from heldout.catalog.benchmark_models import Submission


def better_by(new: float, best: float, margin: float, lower_is_better: bool) -> bool:
    """Whether ``new`` beats ``best`` by more than ``margin``."""
    return (best - new > margin) if lower_is_better else (new - best > margin)


def rounded(value: float, step: float) -> float:
    return round(round(value / step) * step, 12) if step > 0 else value


def shown_score(session: Session, spec: BenchmarkSpec, sub: Submission,
                raw: float) -> dict[str, Any]:
    """The Ladder's answer for a new raw public score: {value, best, updated}."""
    shown = session.scalars(select(Submission.shown_public).where(
        Submission.benchmark_id == sub.benchmark_id, Submission.holder == sub.holder,
        Submission.benchmark_version == sub.benchmark_version, Submission.id != sub.id,
        Submission.status == "scored")).all()
    bests = [s["best"] for s in shown if s]
    lower = spec.lower_is_better
    best = (min(bests) if lower else max(bests)) if bests else None
    if best is None or better_by(raw, best, spec.ladder_threshold, lower):
        value = rounded(raw, spec.ladder_threshold)
        return {"value": value, "best": value, "updated": True}
    return {"value": best, "best": best, "updated": False}
