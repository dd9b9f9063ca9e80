"""Dated phases: which one is open, when private scores show, which splits are embargoed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from heldout.benchmarks.spec import BenchmarkSpec, Phase
from heldout.catalog.benchmark_models import Benchmark
from heldout.errors import Embargoed

PhaseStatus = Literal["upcoming", "open", "closed"]


def check_not_embargoed(embargo: dict[str, datetime], name: str, split: str) -> None:
    """Raise Embargoed if ``split`` is in ``embargo`` (from :func:`embargoed_splits`)."""
    if split in embargo:
        raise Embargoed(f"split {split!r} of {name} is embargoed until its competition phase "
                        f"starts ({embargo[split].isoformat()})", split=split,
                        starts=embargo[split].isoformat())


def now_utc() -> datetime:
    return datetime.now(UTC)


def status(phase: Phase, now: datetime) -> PhaseStatus:
    """Where ``now`` falls relative to the phase's dates."""
    if phase.starts is not None and now < phase.starts:
        return "upcoming"
    if phase.ends is not None and now >= phase.ends:
        return "closed"
    return "open"


def open_phase(spec: BenchmarkSpec, now: datetime) -> Phase | None:
    """The phase accepting submissions now (the first open one), or None."""
    return next((p for p in spec.phases if status(p, now) == "open"), None)


def competition_over(spec: BenchmarkSpec, now: datetime) -> bool:
    """Whether every phase has ended (then private scores show without a reveal)."""
    return all(p.ends is not None and now >= p.ends for p in spec.phases)


def private_visible(row: Benchmark, spec: BenchmarkSpec, now: datetime) -> bool:
    """Private scores show after an admin reveal or once the last phase has ended."""
    return row.revealed_at is not None or competition_over(spec, now)


def split_of(spec: BenchmarkSpec, phase_name: str) -> str:
    """The held-out split a phase scores against."""
    phase = next((p for p in spec.phases if p.name == phase_name), None)
    return (phase.split if phase and phase.split else None) or spec.split


def embargoed_splits(session: Session, name: str, version: str,
                     now: datetime | None = None) -> dict[str, datetime]:
    """Splits of ``name@version`` whose inputs stay hidden: a phase scoring on them has not
    started. Maps split → the start date."""
    now = now or now_utc()
    out: dict[str, datetime] = {}
    rows = session.scalars(select(Benchmark.spec).where(
        Benchmark.dataset == name, Benchmark.dataset_version == version)).all()
    for data in rows:
        for phase in BenchmarkSpec.model_validate(data).phases:
            if phase.split and phase.starts is not None and now < phase.starts:
                earliest = out.get(phase.split)
                out[phase.split] = min(earliest, phase.starts) if earliest else phase.starts
    return out
