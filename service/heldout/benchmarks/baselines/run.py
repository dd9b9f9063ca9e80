"""Compute the built-in baselines and submit them as the system user, then score them.

Each benchmark whose definition names a ``baseline.model_name`` found in ``BASELINES`` gets
one baseline submission per benchmark version: the model is trained on the dataset's public
``train`` split and predicts the public inputs of the benchmark's held-out split (plus the
public trial list for verification). Nothing here reads a held-out label. Submissions go
through ``create_submission(..., baseline=True)`` (no quota) and are scored by the queue.
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select

from heldout.accounts.roles import Principal
from heldout.accounts.users import create_user
from heldout.benchmarks.baselines.data import read_public_split
from heldout.benchmarks.baselines.models import BASELINES, BaselineInputs
from heldout.benchmarks.queue import drain, worker_name
from heldout.benchmarks.registry import find, list_rows, spec_of
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.benchmarks.submissions import create_submission
from heldout.benchmarks.trials import public_trials
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.catalog.models import User
from heldout.services import Services

SYSTEM_USER = "heldout-baselines"
TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class BaselineResult:
    """What happened to one benchmark's baseline: ``submitted``, ``present`` or ``skipped``."""

    benchmark: str
    model_name: str | None
    action: str
    submission_id: str | None = None
    status: str | None = None
    primary_metric: str | None = None
    primary: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def system_user(services: Services) -> Principal:
    """The participant account that owns baseline submissions (created on first use)."""
    with services.catalog.session() as session:
        user = session.scalar(select(User).where(User.name == SYSTEM_USER))
        if user is None:
            user = create_user(session, SYSTEM_USER, "participant")
        return Principal(id=user.id, name=user.name, role=user.role, key_prefix="",
                         masked_key="")


def model_of(spec: BenchmarkSpec) -> str | None:
    """The baseline model a benchmark names, if it is one of ours."""
    name = (spec.baseline or {}).get("model_name")
    return str(name) if name in BASELINES else None


def inputs_for(services: Services, spec: BenchmarkSpec) -> BaselineInputs:
    """Public train rows, public test inputs and (verification) the public trial list."""
    name, version = spec.dataset_name, spec.dataset_version
    manifest = services.repository.manifest(name, version)
    test = read_public_split(services.repository, name, version, spec.split)
    names = manifest.label_names.get(spec.truth_column)
    return BaselineInputs(
        train=read_public_split(services.repository, name, version, TRAIN_SPLIT),
        test=test.select(["id", spec.input_columns[0]]), truth_column=spec.truth_column,
        input_column=spec.input_columns[0], label_names=tuple(names) if names else None,
        train_filter=dict(spec.filter),
        trials=public_trials(services, spec) if spec.task == "verification" else None,
    )


def existing_baseline(services: Services, benchmark_id: str) -> Submission | None:
    """A live baseline submission of the benchmark's current version, if there is one."""
    with services.catalog.session() as session:
        row = session.scalar(select(Benchmark).where(Benchmark.name == benchmark_id))
        if row is None:
            return None
        found: Submission | None = session.scalar(select(Submission).where(
            Submission.benchmark_id == row.id, Submission.benchmark_version == row.version,
            Submission.baseline.is_(True), Submission.status != "failed",
            Submission.disqualified.is_(False)).order_by(Submission.created_at.desc()))
        if found is not None:
            session.expunge(found)
        return found


def _parquet(table: pa.Table) -> io.BytesIO:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    sink.seek(0)
    return sink


def _cache_key(spec: BenchmarkSpec, model: str) -> tuple[Any, ...]:
    return (model, spec.dataset, spec.split, spec.truth_column, tuple(spec.input_columns),
            tuple(sorted(spec.filter.items())), spec.id if spec.task == "verification" else "")


class BaselineRunner:
    """Submits baselines, reusing one model's predictions across benchmarks that share them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.user = system_user(services)
        self.cache: dict[tuple[Any, ...], pa.Table] = {}

    def predictions(self, spec: BenchmarkSpec, model: str) -> pa.Table:
        key = _cache_key(spec, model)
        if key not in self.cache:
            self.cache[key] = BASELINES[model](inputs_for(self.services, spec))
        return self.cache[key]

    def submit(self, spec: BenchmarkSpec, model: str) -> dict[str, Any]:
        """Compute and submit one baseline; returns the submission document."""
        return create_submission(
            self.services, benchmark_id=spec.id, user=self.user,
            file=_parquet(self.predictions(spec, model)), filename=f"{model}.parquet",
            model_name=model, description=(spec.baseline or {}).get("description")
            or f"Built-in baseline: {BASELINES[model].__doc__ or model}".strip(),
            baseline=True)

    def run_one(self, benchmark_id: str, if_missing: bool) -> BaselineResult:
        """Submit the baseline of one benchmark (or say why not)."""
        with self.services.catalog.session() as session:
            _row, spec = find(session, benchmark_id)
        model = model_of(spec)
        if model is None:
            return BaselineResult(spec.id, None, "skipped", reason="no built-in baseline named")
        present = existing_baseline(self.services, spec.id) if if_missing else None
        if present is not None:
            return BaselineResult(spec.id, model, "present", present.id, present.status)
        doc = self.submit(spec, model)
        return BaselineResult(spec.id, model, "submitted", doc["id"], doc["status"])


def with_scores(services: Services, result: BaselineResult) -> BaselineResult:
    """``result`` with its submission's status and primary score as stored now."""
    if result.submission_id is None:
        return result
    with services.catalog.session() as session:
        sub = session.get(Submission, result.submission_id)
        if sub is None:
            return result
        scores = sub.public_scores or {}
        return BaselineResult(result.benchmark, result.model_name, result.action, sub.id,
                              sub.status, scores.get("primary_metric"), scores.get("primary"),
                              sub.failure_reason)


def run_baselines(services: Services, benchmark_ids: list[str] | None = None,
                  if_missing: bool = False) -> list[BaselineResult]:
    """Submit the baselines of ``benchmark_ids`` (default: every benchmark), then score every
    queued submission; returns one result per benchmark."""
    if benchmark_ids is None:
        with services.catalog.session() as session:
            benchmark_ids = [row.name for row in list_rows(session)
                             if model_of(spec_of(row)) is not None]
    runner = BaselineRunner(services)
    results = [runner.run_one(benchmark_id, if_missing) for benchmark_id in benchmark_ids]
    drain(services, worker_name())
    wait_finished(services, [r.submission_id for r in results if r.submission_id])
    return [with_scores(services, r) for r in results]


def wait_finished(services: Services, ids: list[str], timeout: float = 900.0) -> None:
    """Wait while another worker (a running server's) still scores one of ``ids``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.catalog.session() as session:
            pending = session.scalar(select(func.count()).select_from(Submission).where(
                Submission.id.in_(ids), Submission.status.in_(("queued", "scoring"))))
        if not pending:
            return
        drain(services, worker_name())
        time.sleep(0.2)
