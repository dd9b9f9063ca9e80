"""The benchmark definition (one YAML file per benchmark), validated with precise errors.

Every problem names the file, the field and what was expected. Checks that need the dataset
(the version exists, the split is held out, the columns exist) run at sync, in
:mod:`heldout.benchmarks.registry`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from heldout.errors import InvalidBenchmark
from heldout.names import NAME_PATTERN, SPLIT_PATTERN, parse_ref
from heldout.scoring.normalizers import NORMALIZERS
from heldout.scoring.score import LOWER_IS_BETTER

CLASSIFICATION_METRICS = (
    "accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
    "precision_micro", "recall_micro", "f1_micro", "precision_weighted", "recall_weighted",
    "f1_weighted",
)
SCORE_METRICS = ("log_loss", "roc_auc_ovr_macro", "roc_auc_ovr_weighted")  # need probabilities
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS + SCORE_METRICS,
    "speech-recognition": ("wer", "cer", "mer", "wil"),
    "verification": ("eer", "min_dcf"),
}
# Fields that change a score: a change to any of them needs a new benchmark version.
SCORE_FIELDS = ("id", "dataset", "split", "filter", "task", "truth_column", "metrics",
                "primary_metric", "normalizer", "top_k", "missing", "public_fraction", "trials")


SpecError = InvalidBenchmark  # the name used across heldout.benchmarks


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(Strict):
    """A dated part of a competition; ``split`` points at the phase's own held-out split."""

    name: str = Field(pattern=f"^{NAME_PATTERN.pattern}$")
    starts: datetime | None = None
    ends: datetime | None = None
    split: str | None = Field(default=None, pattern=f"^{SPLIT_PATTERN.pattern}$")
    daily_quota: int | None = Field(default=10, ge=0)
    total_quota: int | None = Field(default=None, ge=0)

    @field_validator("starts", "ends")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValueError(f"phase {self.name!r}: ends must be after starts")
        return self


class Trials(Strict):
    """Verification: how the private trial list is drawn from the held-out labels at sync."""

    speaker_column: str
    pairs: int = Field(default=2000, ge=2, le=10_000_000)


class Challenge(Strict):
    """A posted target on the primary metric (competitions only)."""

    target: float
    prize: str = ""


class BenchmarkSpec(Strict):
    """One benchmark; see CONTRACTS.md / README for every field."""

    id: str = Field(pattern=f"^{NAME_PATTERN.pattern}$")
    version: int = Field(default=1, ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    dataset: str
    split: str = Field(default="test", pattern=f"^{SPLIT_PATTERN.pattern}$")
    filter: dict[str, str | int | float | bool] = Field(default_factory=dict)
    task: Literal["classification", "speech-recognition", "verification"]
    truth_column: str = "label"
    input_columns: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(min_length=1)
    primary_metric: str
    normalizer: str = "none"
    top_k: list[int] | None = None
    missing: Literal["error", "count-as-wrong"] = "error"
    public_fraction: float = Field(default=1.0, gt=0, le=1)
    public_feedback: Literal["full", "ladder"] = "full"
    ladder_threshold: float = Field(default=0.01, ge=0)
    max_final_selections: int = Field(default=2, ge=1, le=100)
    trials: Trials | None = None
    phases: list[Phase] = Field(default_factory=lambda: [Phase(name="main")], min_length=1)
    challenge: Challenge | None = None
    license: str = ""
    terms: str | None = None
    baseline: dict[str, Any] | None = None

    @field_validator("dataset")
    @classmethod
    def _dataset_ref(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("expected name@version with an exact version, e.g. digits@1.0.0")
        name, version = parse_ref(value)
        if version == "latest":
            raise ValueError("expected an exact version (name@1.0.0), not latest")
        return f"{name}@{version}"

    @field_validator("normalizer")
    @classmethod
    def _normalizer(cls, value: str) -> str:
        if value not in NORMALIZERS:
            raise ValueError(f"expected one of {', '.join(NORMALIZERS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BenchmarkSpec:
        problems = _metric_problems(self) + _kind_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def dataset_name(self) -> str:
        return self.dataset.split("@", 1)[0]

    @property
    def dataset_version(self) -> str:
        return self.dataset.split("@", 1)[1]

    @property
    def lower_is_better(self) -> bool:
        """Direction of the primary metric (from heldout.scoring)."""
        return self.primary_metric in LOWER_IS_BETTER

    @property
    def is_competition(self) -> bool:
        return self.public_fraction < 1

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)


def allowed_metrics(task: str, top_k: list[int] | None) -> tuple[str, ...]:
    """Metric names ``score()`` reports for ``task`` (top-k ones for the configured k)."""
    extra = tuple(f"top_{k}_accuracy" for k in top_k or ()) if task == "classification" else ()
    return TASK_METRICS[task] + extra


def _metric_problems(spec: BenchmarkSpec) -> list[str]:
    allowed = allowed_metrics(spec.task, spec.top_k)
    problems = []
    for name in spec.metrics:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"field 'metrics': {name!r} is not a {spec.task} metric{hint}; "
                            f"expected names as in ScoreReport.metrics: {', '.join(allowed)}")
    if len(set(spec.metrics)) != len(spec.metrics):
        problems.append("field 'metrics': a metric is listed twice")
    if spec.primary_metric not in spec.metrics:
        problems.append(f"field 'primary_metric': {spec.primary_metric!r} must be one of the "
                        f"metrics ({', '.join(spec.metrics)})")
    elif spec.primary_metric in SCORE_METRICS or spec.primary_metric.startswith("top_"):
        problems.append(f"field 'primary_metric': {spec.primary_metric!r} needs probabilities, "
                        "which a submission may leave out; choose a metric every file yields")
    return problems


def _kind_problems(spec: BenchmarkSpec) -> list[str]:
    problems = []
    if (spec.task == "verification") != (spec.trials is not None):
        problems.append("field 'trials': required for verification and only for it")
    if spec.task != "speech-recognition" and spec.normalizer != "none":
        problems.append("field 'normalizer': only speech-recognition benchmarks normalise text")
    if spec.challenge is not None and not spec.is_competition:
        problems.append("field 'challenge': only competitions (public_fraction < 1) post targets")
    names = [p.name for p in spec.phases]
    if len(set(names)) != len(names):
        problems.append("field 'phases': phase names must be unique")
    if spec.task == "verification" and any(p.split for p in spec.phases):
        problems.append("field 'phases': a verification benchmark has one trial list; "
                        "phase splits are not supported")
    return problems


def parse_spec(data: Any, source: str = "<api>") -> BenchmarkSpec:
    """Validate a mapping; SpecError lists every problem as '<source>: field '<f>': <what>'."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping of benchmark fields, got "
                        f"{type(data).__name__}", file=source)
    try:
        return BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"{source}: " + "; ".join(_describe(e) for e in exc.errors()),
                        file=source, errors=[_describe(e) for e in exc.errors()]) from None


def _describe(error: Any) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown field (not part of the benchmark schema)"
    return f"field {loc!r}: {message}" if loc else message


def load_spec(path: Path) -> BenchmarkSpec:
    """Read and validate one YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}", file=str(path)) from None
    return parse_spec(data, str(path))


def spec_dict(spec: BenchmarkSpec) -> dict[str, Any]:
    """JSON-ready dict of a spec (dates as ISO text)."""
    return spec.model_dump(mode="json")


def score_hash(spec: BenchmarkSpec) -> str:
    """sha256 of the fields that change scores (phase splits included)."""
    data = spec_dict(spec)
    relevant = {name: data[name] for name in SCORE_FIELDS}
    relevant["phase_splits"] = [[p.name, p.split] for p in spec.phases]
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


