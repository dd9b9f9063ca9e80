"""A dataset's life after publishing: yank or restore a version, deprecate, pin ``latest``.

The bucket is immutable, so all of this lives in the catalog: a yanked version keeps its files
(anyone who asks for it by number still gets it, with a warning), but is left out of
``latest`` and of the version listing, as on PyPI.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from heldout.catalog.datasets import refresh_latest
from heldout.catalog.models import Dataset, DatasetVersion
from heldout.errors import InvalidInput, NotFound

REASON_MAX = 500


def find_version(session: Session, dataset: Dataset, version: str) -> DatasetVersion:
    """The committed version row, or NotFound."""
    row = session.scalar(select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == version,
        DatasetVersion.status == "committed"))
    if row is None:
        raise NotFound(f"dataset {dataset.name}@{version} does not exist (or is not committed)")
    return row


def _reason(text: str | None, what: str) -> str:
    reason = (text or "").strip()
    if not 1 <= len(reason) <= REASON_MAX:
        raise InvalidInput(f"{what} needs a reason of 1-{REASON_MAX} characters (--reason)")
    return reason


def yank(session: Session, dataset: Dataset, version: str, reason: str | None) -> DatasetVersion:
    """Hide ``version`` from ``latest`` and listings, recording why."""
    row = find_version(session, dataset, version)
    row.yanked_at = row.yanked_at or datetime.now(UTC)
    row.yank_reason = _reason(reason, f"yanking {dataset.name}@{version}")
    if dataset.pinned_latest == version:
        dataset.pinned_latest = None
    session.flush()
    refresh_latest(session, dataset)
    return row


def unyank(session: Session, dataset: Dataset, version: str) -> DatasetVersion:
    """Undo a yank."""
    row = find_version(session, dataset, version)
    row.yanked_at = None
    row.yank_reason = None
    session.flush()
    refresh_latest(session, dataset)
    return row


def deprecate(session: Session, dataset: Dataset, message: str | None) -> Dataset:
    """Mark the whole dataset deprecated (still readable; every answer says so)."""
    dataset.deprecation_message = _reason(message, f"deprecating {dataset.name}")
    dataset.deprecated_at = dataset.deprecated_at or datetime.now(UTC)
    session.flush()
    return dataset


def undeprecate(session: Session, dataset: Dataset) -> Dataset:
    """Undo a deprecation."""
    dataset.deprecated_at = None
    dataset.deprecation_message = None
    session.flush()
    return dataset


def pin_latest(session: Session, dataset: Dataset, version: str | None) -> Dataset:
    """Make ``version`` (a pre-release too) what ``latest`` means; None: back to automatic."""
    if version is not None:
        row = find_version(session, dataset, version)
        if row.yanked_at is not None:
            raise InvalidInput(f"{dataset.name}@{version} is yanked: it cannot be latest")
    dataset.pinned_latest = version
    session.flush()
    refresh_latest(session, dataset)
    return dataset


def yanked_versions(session: Session, dataset: Dataset) -> dict[str, str]:
    """Yanked version → reason."""
    rows = session.execute(select(DatasetVersion.version, DatasetVersion.yank_reason).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.yanked_at.is_not(None))).all()
    return {version: reason or "" for version, reason in rows}


WARNING_HEADER = "X-Heldout-Warning"


def lifecycle_warning(session: Session, dataset: Dataset, version: str) -> str | None:
    """What a reader of ``version`` should be told: yanked (and why), deprecated (and why)."""
    notes = []
    row = session.scalar(select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == version))
    if row is not None and row.yanked_at is not None:
        notes.append(f"{dataset.name}@{version} is yanked: {row.yank_reason}")
    if dataset.deprecated_at is not None:
        notes.append(f"{dataset.name} is deprecated: {dataset.deprecation_message}")
    return "; ".join(notes) or None
