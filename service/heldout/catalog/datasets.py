"""Catalog operations on datasets and their versions (the bucket stays the source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from heldout.catalog.models import Dataset, DatasetVersion
from heldout.errors import NotFound
from heldout.formats.manifest import Manifest
from heldout.names import SemVer, only_prereleases


def record_version(session: Session, manifest: Manifest, *, owner_id: int | None = None,
                   assign_owner: bool = False) -> DatasetVersion:
    """Insert or refresh the catalog rows for a committed version from its manifest.

    Ownership is taken at first commit: a dataset with no committed version yet gets
    ``owner_id`` (None: operator-owned, only admins publish more); ``assign_owner`` (an
    operator naming the owner) sets it on an existing dataset too.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.name == manifest.name))
    if dataset is None:
        dataset = Dataset(name=manifest.name)
        session.add(dataset)
    if assign_owner or dataset.id is None or not has_committed(session, dataset):
        dataset.owner_id = owner_id
    dataset.title = manifest.title or dataset.title
    dataset.description = manifest.description or dataset.description
    dataset.task = manifest.task
    dataset.modality = manifest.modality
    dataset.license = manifest.license
    session.flush()
    row = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == manifest.version
        )
    )
    if row is None:
        row = DatasetVersion(dataset_id=dataset.id, version=manifest.version)
        session.add(row)
    row.status = "committed"
    row.manifest = manifest.model_dump(mode="json")
    row.num_rows = manifest.total_rows
    row.num_bytes = sum(split.num_bytes for split in manifest.splits.values())
    row.created_at = manifest.created_at
    row.committed_at = row.committed_at or datetime.now(UTC)
    session.flush()
    refresh_latest(session, dataset)
    return row


def has_committed(session: Session, dataset: Dataset) -> bool:
    """Whether ``dataset`` has a committed version (yanked and pre-releases count: a dataset
    whose only versions are those still belongs to its owner)."""
    return session.scalar(select(DatasetVersion.id).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == "committed"
    ).limit(1)) is not None


def choose_latest(versions: list[str], yanked: set[str], pinned: str | None) -> str | None:
    """What ``latest`` means: the pinned version if it is usable, else the newest release that
    is not yanked. A pre-release is never ``latest`` unless pinned; None if nothing qualifies."""
    usable = [v for v in versions if v not in yanked]
    if pinned is not None and pinned in usable:
        return pinned
    releases = [SemVer(v) for v in usable if not SemVer(v).prerelease]
    return str(max(releases)) if releases else None


def latest_of(session: Session, dataset: Dataset) -> str:
    """The version ``latest`` stands for, or NotFound saying why there is none."""
    if dataset.latest_version:
        return dataset.latest_version
    versions = sorted(session.scalars(select(DatasetVersion.version).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == "committed")).all(),
        key=SemVer, reverse=True)
    if not versions:
        raise NotFound(f"dataset {dataset.name!r} does not exist (no committed version)")
    raise NotFound(only_prereleases(dataset.name, versions))


def refresh_latest(session: Session, dataset: Dataset) -> None:
    """Recompute ``dataset.latest_version`` after a commit, yank or pin."""
    rows = session.execute(
        select(DatasetVersion.version, DatasetVersion.yanked_at).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == "committed"
        )
    ).all()
    dataset.latest_version = choose_latest([v for v, _ in rows],
                                           {v for v, y in rows if y is not None},
                                           dataset.pinned_latest)


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex changed."""

    versions_seen: int
    versions_added: int
    versions_removed: int
    datasets_removed: int

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def sync_from_bucket(session: Session, manifests: list[Manifest]) -> ReindexReport:
    """Make the catalog's dataset versions match the committed manifests found in the bucket.

    Catalog-only settings (visibility, terms, grants) of datasets that still exist are kept.
    """
    present = {(m.name, m.version) for m in manifests}
    known = {
        (row.dataset.name, row.version): row
        for row in session.scalars(
            select(DatasetVersion).options(selectinload(DatasetVersion.dataset))
        ).all()
    }
    added = 0
    for manifest in manifests:
        if (manifest.name, manifest.version) not in known:
            added += 1
        record_version(session, manifest)
    removed = 0
    for key, row in known.items():
        if key not in present:
            session.delete(row)
            removed += 1
    session.flush()
    datasets_removed = 0
    for dataset in session.scalars(select(Dataset)).all():
        session.refresh(dataset)
        if not dataset.versions:
            session.delete(dataset)
            datasets_removed += 1
        else:
            refresh_latest(session, dataset)
    return ReindexReport(len(manifests), added, removed, datasets_removed)


def get_dataset(session: Session, name: str) -> Dataset:
    """The dataset row, or NotFound."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound(f"dataset {name!r} does not exist")
    return dataset


def list_datasets(session: Session) -> list[Dataset]:
    """Every dataset with at least one committed version, by name."""
    return list(
        session.scalars(
            select(Dataset).where(Dataset.latest_version.is_not(None)).order_by(Dataset.name)
        ).all()
    )


def list_versions(session: Session, name: str) -> list[DatasetVersion]:
    """Committed versions of ``name``, newest first."""
    dataset = get_dataset(session, name)
    rows = session.scalars(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == "committed"
        )
    ).all()
    return sorted(rows, key=lambda row: SemVer(row.version), reverse=True)


@dataclass(frozen=True)
class DatasetQuery:
    """Filters of a dataset search; empty ones select everything."""

    task: str | None = None
    modality: str | None = None
    license: str | None = None
    text: str | None = None  # in name, title or description, any case


def search_datasets(session: Session, query: DatasetQuery, visible: ColumnElement[bool], *,
                    limit: int, offset: int) -> tuple[int, list[Dataset]]:
    """One page of committed datasets matching ``query`` that ``visible`` lets through, by
    name, and how many match in all."""
    statement = select(Dataset).where(Dataset.latest_version.is_not(None), visible)
    if query.task:
        statement = statement.where(Dataset.task == query.task)
    if query.modality:
        statement = statement.where(Dataset.modality == query.modality)
    if query.license:
        statement = statement.where(func.lower(Dataset.license) == query.license.lower())
    if query.text:
        pattern = f"%{query.text.lower()}%"
        statement = statement.where(or_(func.lower(Dataset.name).like(pattern),
                                        func.lower(Dataset.title).like(pattern),
                                        func.lower(Dataset.description).like(pattern)))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.order_by(Dataset.name).limit(limit).offset(offset)).all()
    return total, list(rows)
