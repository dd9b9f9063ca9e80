"""Response models of the benchmark, submission and leaderboard routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from heldout.api.schemas.common import ApiModel


class Interval(ApiModel):
    low: float | None = Field(description="lower end of the 95% bootstrap interval")
    high: float | None = Field(description="upper end of the 95% bootstrap interval")


class PhaseDoc(ApiModel):
    name: str
    starts: str | None = Field(description="ISO 8601 start (null: open from the beginning)")
    ends: str | None = Field(description="ISO 8601 end (null: open-ended)")
    split: str | None = Field(description="the phase's own held-out split, if any")
    daily_quota: int | None = Field(description="accepted submissions per team per UTC day")
    total_quota: int | None = Field(description="accepted submissions per team in the phase")
    status: str = Field(description="upcoming, open or closed")


class ChallengeDoc(ApiModel):
    target: float = Field(description="the target on the primary metric")
    prize: str
    met_by: str | None = Field(None, description="submission that met it (after confirmation)")
    confirmed_at: str | None = None


class BenchmarkDoc(ApiModel):
    """A benchmark: its definition and state (never a label or which ids count where)."""

    id: str = Field(examples=["digits-classification"])
    version: int
    title: str
    description: str
    dataset: str = Field(examples=["digits@1.0.0"])
    split: str
    filter: dict[str, Any]
    task: str = Field(examples=["classification"])
    truth_column: str
    input_columns: list[str]
    metrics: list[str]
    primary_metric: str
    direction: str = Field(description="higher-is-better or lower-is-better (primary metric)")
    normalizer: str
    top_k: list[int] | None
    missing: str
    kind: str = Field(description="standing (public_fraction 1) or competition")
    public_fraction: float
    public_feedback: str = Field(description="full or ladder")
    ladder_threshold: float | None
    max_final_selections: int
    phases: list[PhaseDoc]
    current_phase: str | None
    private_scores_visible: bool
    challenge: ChallengeDoc | None
    license: str
    terms: str | None
    baseline: dict[str, Any] | None
    trials: bool = Field(description="verification: GET …/trials lists the trials to score")
    held_out_labels_public: bool
    held_out_labels_public_reason: str | None
    warnings: list[str] = Field(description="shown wherever the benchmark appears")
    submissions: int = Field(description="submissions so far")
    created_at: str | None
    updated_at: str | None


class Scores(ApiModel):
    model_config = ConfigDict(extra="allow")

    primary_metric: str
    primary: float | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict)
    intervals: dict[str, Interval] = Field(default_factory=dict)
    confidence: float | None = None
    n: int | None = Field(None, description="examples (or trials) in this part")
    ladder: dict[str, Any] | None = Field(None, description="Ladder feedback: the score shown")


class SubmissionScores(ApiModel):
    public: Scores | None = Field(description="public part (the whole test set on a "
                                  "standing benchmark)")
    private: Scores | None = Field(description="private part, once revealed")


class SubmissionDoc(ApiModel):
    """One submission, as its owner, their team and admins see it."""

    id: str
    benchmark: str
    benchmark_version: int
    phase: str
    status: str = Field(description="queued, scoring, scored or failed")
    model_name: str
    description: str | None
    link: str | None
    filename: str
    size: int
    sha256: str | None
    user: str
    team: str | None
    baseline: bool
    created_at: str | None
    scored_at: str | None
    failure_reason: str | None
    scores: SubmissionScores
    selected: bool
    disqualified: bool
    disqualified_reason: str | None
    history: list[dict[str, Any]] = Field(description="earlier scores (admins)")
    warnings: list[str]


class LeaderboardEntry(ApiModel):
    rank: int
    participant: str = Field(description="team name, else user name")
    team: str | None
    user: str
    submission_id: str
    model_name: str
    link: str | None
    baseline: bool
    primary: float | None
    primary_interval: Interval | None
    metrics: dict[str, float | None]
    intervals: dict[str, Interval]
    tied_with_leader: bool | None = Field(description="the paired bootstrap can't separate it "
                                          "from the leader (null: not checked)")
    submissions: int
    date: str | None
    met_challenge: bool


class LeaderboardChallenge(ApiModel):
    target: float
    prize: str
    met: dict[str, Any] | None


class Leaderboard(ApiModel):
    benchmark: str
    version: int
    title: str
    view: str = Field(description="public or private")
    primary_metric: str
    metrics: list[str]
    direction: str
    public_feedback: str
    kind: str
    challenge: LeaderboardChallenge | None
    entries: list[LeaderboardEntry]
    warnings: list[str]


class SyncResultDoc(ApiModel):
    id: str
    version: int
    action: str = Field(description="created, updated or unchanged")
    source: str
    warnings: list[str]


class Trial(ApiModel):
    id: str
    enroll_id: str
    test_id: str


class Revealed(ApiModel):
    benchmark: str
    revealed_at: str


class Rescored(ApiModel):
    benchmark: str
    queued: int


class Disqualified(ApiModel):
    submission_id: str
    reason: str


class ChallengeMet(ApiModel):
    submission_id: str
    holder: str
    score: float
    submitted_at: str


class SelectBody(BaseModel):
    selected: bool = Field(True, description="false to unselect")


class DisqualifyBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
