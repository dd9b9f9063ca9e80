"""Catalog tables of the benchmark service: benchmarks, submissions (the job queue), quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from heldout.catalog.models import Base, utcnow


class Benchmark(Base):
    """A benchmark definition: the validated spec (YAML) plus what the service adds to it."""

    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200), default="")
    task: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(64))
    dataset_version: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revealed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The dataset version says its held-out labels are public elsewhere: shown as a warning.
    labels_public: Mapped[bool] = mapped_column(Boolean, default=False)
    labels_public_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Challenge: the first submission meeting the target, once an admin confirmed it.
    challenge_submission: Mapped[str | None] = mapped_column(String(32), default=None)
    challenge_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class Submission(Base):
    """One uploaded prediction file; its status makes the row a job of the scoring queue."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_submissions_idempotency"),
        Index("ix_submissions_queue", "status", "created_at"),
        Index("ix_submissions_benchmark", "benchmark_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    benchmark_version: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    holder: Mapped[str] = mapped_column(String(64))  # "team:3" or "user:5": who ranks, who pays
    model_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    link: Mapped[str | None] = mapped_column(String(500), default=None)
    filename: Mapped[str] = mapped_column(String(200))
    object_key: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    scored_at: Mapped[datetime | None] = mapped_column(default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    public_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    private_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    shown_public: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)
    disqualified_reason: Mapped[str | None] = mapped_column(Text, default=None)


class QuotaCounter(Base):
    """Submissions used by one holder in one phase: per UTC ``day``, or in total (``day`` '')."""

    __tablename__ = "quota_counters"
    __table_args__ = (
        UniqueConstraint("benchmark_id", "holder", "phase", "kind", "day",
                         name="uq_quota_counters_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "accepted" or "rejected"
    day: Mapped[str] = mapped_column(String(10))
    used: Mapped[int] = mapped_column(Integer, default=0)
