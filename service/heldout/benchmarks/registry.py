"""Benchmarks in the catalog: sync from YAML files, create/update, look up, documents.

A benchmark that has submissions keeps its scoring rules: a change to any score-relevant field
(``spec.SCORE_FIELDS`` and phase splits; their sha256 is stored) is refused unless ``version``
increases. Other fields (title, description, dates, quotas…) may change at any time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heldout.benchmarks import trials as trial_lists
from heldout.benchmarks.spec import BenchmarkSpec, SpecError, load_spec, score_hash, spec_dict
from heldout.benchmarks.truth import load_truth, manifest_of
from heldout.catalog.benchmark_models import Benchmark, Submission
from heldout.errors import BenchmarkVersionConflict, HeldoutError, NotFound
from heldout.formats.manifest import Manifest
from heldout.names import check_name
from heldout.services import Services


@dataclass(frozen=True)
class SyncResult:
    """What sync did with one benchmark: ``created``, ``updated`` or ``unchanged``."""

    id: str
    version: int
    action: str
    source: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "warnings": list(self.warnings)}


def get_row(session: Session, benchmark_id: str) -> Benchmark:
    """The catalog row of a benchmark; NotFound otherwise."""
    row = session.scalar(select(Benchmark).where(Benchmark.name == benchmark_id))
    if row is None:
        raise NotFound(f"benchmark {benchmark_id!r} does not exist")
    return row


def spec_of(row: Benchmark) -> BenchmarkSpec:
    return BenchmarkSpec.model_validate(row.spec)


def _check_dataset(services: Services, spec: BenchmarkSpec, source: str) -> Manifest:
    """Sync-time checks against the dataset version (split, columns, truth, trials)."""
    try:
        manifest = manifest_of(services, spec)
    except NotFound as exc:
        raise SpecError(f"{source}: field 'dataset': {exc.detail}", file=source) from None
    columns = set(manifest.features)
    missing = [c for c in spec.input_columns if c not in columns]
    if missing:
        raise SpecError(f"{source}: field 'input_columns': {', '.join(missing)} not in "
                        f"{spec.dataset} (columns: {', '.join(sorted(columns))})", file=source)
    for split in {spec.split, *(p.split for p in spec.phases if p.split)}:
        held = manifest.held_out.get(split)
        if held is None:
            raise SpecError(f"{source}: field 'split': {split!r} is not a held-out split of "
                            f"{spec.dataset} (held out: {', '.join(manifest.held_out) or 'none'})",
                            file=source)
        if spec.task != "verification" and spec.truth_column not in held.label_columns:
            raise SpecError(f"{source}: field 'truth_column': {spec.truth_column!r} is not a "
                            f"held-out label column of {split} "
                            f"({', '.join(held.label_columns)})", file=source)
    try:
        if spec.task == "verification":
            trial_lists.ensure_trials(services, spec)
        for split in {spec.split, *(p.split for p in spec.phases if p.split)}:
            load_truth(services, spec, split)
    except HeldoutError as exc:
        raise SpecError(f"{source}: {exc.detail}", file=source) from None
    return manifest


def _has_submissions(session: Session, row: Benchmark) -> bool:
    found = session.scalar(select(func.count()).select_from(Submission)
                           .where(Submission.benchmark_id == row.id))
    return bool(found)


def _check_change(session: Session, row: Benchmark, spec: BenchmarkSpec, digest: str,
                  source: str) -> None:
    if spec.version < row.version:
        raise BenchmarkVersionConflict(f"{source}: field 'version': {spec.version} is lower than "
                                       f"the stored version {row.version} of {spec.id!r}")
    if (digest != row.score_hash and spec.version == row.version
            and _has_submissions(session, row)):
        raise BenchmarkVersionConflict(
            f"{source}: {spec.id!r} has submissions and this change alters scores (one of "
            "dataset, split, filter, task, truth_column, metrics, primary_metric, normalizer, "
            "top_k, missing, public_fraction, trials, phase splits); raise 'version' to "
            f"{row.version + 1} to publish it as a new version")


def upsert(services: Services, spec: BenchmarkSpec, source: str) -> SyncResult:
    """Create or update one benchmark after the dataset checks; refuses unversioned changes."""
    manifest = _check_dataset(services, spec, source)
    digest = score_hash(spec)
    data = spec_dict(spec)
    public, reason = manifest.held_out_labels_public, manifest.held_out_labels_public_reason
    with services.catalog.session() as session:
        row = session.scalar(select(Benchmark).where(Benchmark.name == spec.id))
        if row is None:
            row = Benchmark(name=spec.id, created_at=datetime.now(UTC))
            session.add(row)
            action = "created"
        else:
            _check_change(session, row, spec, digest, source)
            same = row.spec == data and row.labels_public == public
            action = "unchanged" if same else "updated"
        if action != "unchanged":
            row.version, row.title, row.task = spec.version, spec.title, spec.task
            row.dataset, row.dataset_version = spec.dataset_name, spec.dataset_version
            row.spec, row.score_hash, row.source = data, digest, source
            row.labels_public, row.labels_public_reason = public, reason
            row.updated_at = datetime.now(UTC)
    warnings = (labels_public_warning(spec.dataset, reason),) if public else ()
    return SyncResult(spec.id, spec.version, action, source, warnings)


def sync_benchmarks(services: Services, folder: Path) -> list[SyncResult]:
    """Validate every ``*.yaml``/``*.yml`` in ``folder`` first, then create/update them all.

    Any invalid file stops the sync before anything is written (SpecError names file, field
    and what was expected).
    """
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    specs = [(load_spec(path), path) for path in files]
    seen: dict[str, Path] = {}
    for spec, path in specs:
        if spec.id in seen:
            raise SpecError(f"{path}: field 'id': {spec.id!r} is also defined in {seen[spec.id]}",
                            file=str(path))
        seen[spec.id] = path
    return [upsert(services, spec, str(path)) for spec, path in specs]


def labels_public_warning(dataset: str, reason: str | None) -> str:
    """The warning every document of such a benchmark carries."""
    text = (f"the held-out labels of {dataset} are public elsewhere, so scores on this "
            "benchmark can be inflated by training or tuning on them")
    return text + (f" ({reason})" if reason else "")


def list_rows(session: Session) -> list[Benchmark]:
    return list(session.scalars(select(Benchmark).order_by(Benchmark.name)))


def find(session: Session, benchmark_id: str) -> tuple[Benchmark, BenchmarkSpec]:
    """Row and spec of a benchmark (the id is checked first)."""
    row = get_row(session, check_name(benchmark_id, "benchmark id"))
    return row, spec_of(row)
