"""Publish, commit and resolve dataset versions over the object store (and the catalog, if any).

A version is published as a *draft*: a lock and state object in the private store, shards written
in place under ``datasets/{name}/{version}/data/`` and held-out labels under ``private/labels/``.
Commit verifies every shard (size, sha256, row count from the Parquet footer), writes
``croissant.json`` and ``README.md``, and writes ``manifest.json`` last with an atomic
put-if-absent: a version exists for readers exactly when its manifest does. Drafts whose state was
not touched for ``draft_ttl_seconds`` are abandoned and cleaned up.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from heldout import layout
from heldout.catalog.db import Catalog
from heldout.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    ObjectNotFound,
    VersionImmutable,
)
from heldout.formats.card import render_card
from heldout.formats.croissant import build_croissant
from heldout.formats.features import Features
from heldout.formats.manifest import HeldOutSplit, Manifest, Modality, ShardInfo, SplitInfo
from heldout.formats.writer import ShardWriter
from heldout.names import SemVer, check_name, check_split, check_version, only_prereleases
from heldout.parquet_footer import read_footer
from heldout.storage.base import ObjectInfo, ObjectStore, Stores

DEFAULT_SHARD_BYTES = 256 * 1024**2


class DatasetMetadata(BaseModel):
    """What a publisher says about a dataset; copied into every version's manifest."""

    title: str = ""
    description: str = ""
    license: str = "other"
    task: str = ""
    modality: Modality = "multimodal"
    source: dict[str, Any] = Field(default_factory=dict)
    citation: str | None = None
    card_markdown: str | None = None


class DraftState(BaseModel):
    """The persisted state of a draft (private store), so any API process can continue it."""

    draft_id: str
    name: str
    version: str
    created_at: datetime
    updated_at: datetime
    features: dict[str, Any]
    metadata: DatasetMetadata
    splits: dict[str, SplitInfo] = Field(default_factory=dict)
    held_out: dict[str, HeldOutSplit] = Field(default_factory=dict)
    labels: dict[str, ShardInfo] = Field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


class DatasetRepository:
    """Dataset versions in a pair of stores, optionally indexed in a catalog."""

    def __init__(
        self,
        stores: Stores,
        catalog: Catalog | None = None,
        *,
        shard_target_bytes: int = DEFAULT_SHARD_BYTES,
        draft_ttl_seconds: int = 24 * 3600,
        base_url: str = "http://127.0.0.1:8000/api/v1",
    ) -> None:
        self.stores = stores
        self.catalog = catalog
        self.shard_target_bytes = shard_target_bytes
        self.draft_ttl = timedelta(seconds=draft_ttl_seconds)
        self.base_url = base_url.rstrip("/")

    # -- reading -------------------------------------------------------------------------
    def list_datasets(self) -> list[str]:
        """Names of datasets with at least one committed version (from the bucket)."""
        names = {m.name for m in self.iter_manifests()}
        return sorted(names)

    def list_versions(self, name: str) -> list[str]:
        """Committed versions of ``name``, newest first (from the bucket)."""
        versions = [
            parsed[1]
            for info in self.stores.public.list(layout.dataset_prefix(name))
            if (parsed := layout.parse_manifest_key(info.key)) is not None
        ]
        return [str(v) for v in sorted((SemVer(v) for v in versions), reverse=True)]

    def resolve_version(self, name: str, version: str = "latest") -> str:
        """The concrete version ``version`` stands for; ``latest`` is the newest committed."""
        check_name(name)
        if version == "latest":
            versions = self.list_versions(name)
            if not versions:
                raise NotFound(f"dataset {name!r} does not exist (no committed version)")
            releases = [v for v in versions if not SemVer(v).prerelease]
            if not releases:
                raise NotFound(only_prereleases(name, versions))
            return releases[0]
        check_version(version)
        if not self.stores.public.exists(layout.manifest_key(name, version)):
            raise NotFound(f"dataset {name}@{version} does not exist (or is not committed)")
        return version

    def manifest(self, name: str, version: str = "latest") -> Manifest:
        """The committed manifest of ``name@version``."""
        resolved = self.resolve_version(name, version)
        try:
            data = self.stores.public.get_bytes(layout.manifest_key(name, resolved))
        except ObjectNotFound as exc:
            raise NotFound(f"dataset {name}@{resolved} does not exist") from exc
        return Manifest.from_json(data)

    def iter_manifests(self) -> Iterator[Manifest]:
        """Every committed manifest in the bucket."""
        for info in self.stores.public.list(layout.DATASETS_PREFIX):
            if layout.parse_manifest_key(info.key) is not None:
                yield Manifest.from_json(self.stores.public.get_bytes(info.key))

    # -- publishing ----------------------------------------------------------------------
    def create_draft(
        self, name: str, version: str, *, features: Features, metadata: DatasetMetadata
    ) -> Draft:
        """Start publishing ``name@version``; refuses committed versions and live drafts."""
        check_name(name, "dataset name")
        check_version(version)
        if self.stores.public.exists(layout.manifest_key(name, version)):
            raise VersionImmutable(
                f"dataset {name}@{version} is already committed; versions are immutable — "
                "publish a new version instead"
            )
        now = _now()
        state = DraftState(
            draft_id=uuid.uuid4().hex,
            name=name,
            version=version,
            created_at=now,
            updated_at=now,
            features=features.to_hf(),
            metadata=metadata,
        )
        body = state.model_dump_json().encode()
        key = layout.draft_key(name, version)
        if not self.stores.private.put_if_absent(key, body):
            existing = self._load_state(name, version)
            if existing is not None and now - existing.updated_at < self.draft_ttl:
                raise Conflict(
                    f"dataset {name}@{version} has a draft in progress "
                    f"(id {existing.draft_id}, last active {existing.updated_at.isoformat()})"
                )
            self._clean_version(name, version)
            if not self.stores.private.put_if_absent(key, body):
                raise Conflict(f"dataset {name}@{version}: another draft was started just now")
        return Draft(self, state)

    def open_draft(self, name: str, version: str, draft_id: str) -> Draft:
        """Continue a draft started elsewhere (another request or process)."""
        state = self._load_state(name, version)
        if state is None or state.draft_id != draft_id:
            raise NotFound(f"no draft {draft_id!r} for dataset {name}@{version}")
        return Draft(self, state)

    def cleanup_abandoned_drafts(self, now: datetime | None = None) -> list[str]:
        """Remove drafts idle for longer than the TTL, and uncommitted leftovers; returns refs."""
        now = now or _now()
        cleaned = []
        for info in list(self.stores.private.list(layout.DRAFTS_PREFIX)):
            parsed = layout.parse_draft_key(info.key)
            if parsed is None:
                continue
            name, version = parsed
            state = self._load_state(name, version)
            if state is None or now - state.updated_at >= self.draft_ttl:
                self._clean_version(name, version)
                cleaned.append(f"{name}@{version}")
        return cleaned

    def _load_state(self, name: str, version: str) -> DraftState | None:
        try:
            data = self.stores.private.get_bytes(layout.draft_key(name, version))
        except ObjectNotFound:
            return None
        return DraftState.model_validate_json(data)

    def _clean_version(self, name: str, version: str) -> None:
        """Delete every object of an uncommitted version, then its draft lock."""
        if self.stores.public.exists(layout.manifest_key(name, version)):
            self.stores.private.delete(layout.draft_key(name, version))
            return
        self.stores.public.delete_prefix(layout.version_prefix(name, version))
        self.stores.private.delete_prefix(layout.labels_prefix(name, version))
        self.stores.private.delete(layout.draft_key(name, version))


class Draft:
    """A version being published. Nothing is visible to readers until :meth:`commit`."""

    def __init__(self, repository: DatasetRepository, state: DraftState) -> None:
        self.repository = repository
        self.state = state
        self.features = Features.from_hf(state.features)

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def version(self) -> str:
        return self.state.version

    @property
    def draft_id(self) -> str:
        return self.state.draft_id

    def _save(self) -> None:
        self.state.updated_at = _now()
        self.repository.stores.private.put(
            layout.draft_key(self.name, self.version),
            self.state.model_dump_json().encode(),
            content_type="application/json",
        )

    def _check_new_split(self, split: str) -> None:
        check_split(split)
        if split in self.state.splits:
            raise Conflict(f"split {split!r} was already written to this draft")

    def write_split(
        self,
        split: str,
        rows: Iterable[dict[str, Any]],
        *,
        held_out: bool = False,
        label_columns: list[str] | None = None,
        on_row: Callable[[], None] | None = None,
    ) -> SplitInfo:
        """Stream ``rows`` into shards of ``split`` and upload them.

        With ``held_out``, ``label_columns`` go to the private labels object (with ``id``) and
        the public shards carry only ``id`` and the inputs.
        """
        self._check_new_split(split)
        label_columns = list(label_columns or [])
        if held_out:
            self._check_label_columns(label_columns)
        public_features = self.features.drop(label_columns) if held_out else self.features
        label_features = self.features.select(["id", *label_columns]) if held_out else None
        target = self.repository.shard_target_bytes
        with tempfile.TemporaryDirectory(prefix="heldout-draft-") as tmp:
            public_writer = ShardWriter(
                Path(tmp) / "public", split, public_features, target_bytes=target
            )
            label_writer = (
                ShardWriter(Path(tmp) / "labels", split, label_features, target_bytes=2**62)
                if label_features is not None
                else None
            )
            try:
                for row in rows:
                    if label_writer is not None:
                        public_writer.write_row(_public_row(row, public_features))
                        label_writer.write_row({k: row.get(k) for k in label_features or {}})
                    else:
                        public_writer.write_row(row)
                    if on_row is not None:
                        on_row()
                shards = public_writer.close()
                labels = label_writer.close() if label_writer is not None else []
            except BaseException:
                public_writer.abort()
                if label_writer is not None:
                    label_writer.abort()
                raise
            for shard in shards:
                self.repository.stores.public.put_file(
                    layout.shard_key(self.name, self.version, shard.path),
                    str(Path(tmp) / "public" / shard.path),
                    sha256=shard.sha256,
                )
            if label_writer is not None:
                (label_shard,) = labels
                key = layout.labels_key(self.name, self.version, split)
                self.repository.stores.private.put_file(
                    key, str(Path(tmp) / "labels" / label_shard.path), sha256=label_shard.sha256
                )
                self.state.labels[split] = ShardInfo(
                    path=key,
                    sha256=label_shard.sha256,
                    num_rows=label_shard.num_rows,
                    num_bytes=label_shard.num_bytes,
                )
                self.state.held_out[split] = HeldOutSplit(
                    split=split, label_columns=label_columns, num_rows=label_shard.num_rows
                )
        info = SplitInfo(
            name=split,
            num_rows=sum(s.num_rows for s in shards),
            num_bytes=sum(s.num_bytes for s in shards),
            shards=shards,
        )
        self.state.splits[split] = info
        self._save()
        return info

    def _check_label_columns(self, label_columns: list[str]) -> None:
        if "id" not in self.features:
            raise InvalidInput("a held-out split needs an 'id' column in the features")
        if not label_columns:
            raise InvalidInput("a held-out split needs at least one label column")
        unknown = [c for c in label_columns if c not in self.features or c == "id"]
        if unknown:
            raise InvalidInput(f"label columns {unknown} are not input features of this dataset")

    def upload_shard(self, filename: str, data: BinaryIO, length: int | None = None) -> ShardInfo:
        """Stream one ready-made shard (``{split}-{i:05d}-of-{n:05d}.parquet``) into the draft."""
        parsed = layout.parse_shard_filename(filename)
        if parsed is None:
            raise InvalidInput(
                f"shard file name {filename!r} must look like train-00000-of-00001.parquet"
            )
        path = layout.DATA_DIR + filename
        key = layout.shard_key(self.name, self.version, path)
        stored = self.repository.stores.public.put(key, data, length)
        footer = read_footer(self.repository.stores.public, key, stored.size)
        shard = ShardInfo(
            path=path, sha256=_digest(stored), num_rows=footer.num_rows, num_bytes=stored.size
        )
        split = parsed.split
        current = self.state.splits.get(split) or SplitInfo(
            name=split, num_rows=0, num_bytes=0, shards=[]
        )
        shards = sorted(
            [s for s in current.shards if s.path != path] + [shard], key=lambda s: s.path
        )
        self.state.splits[split] = SplitInfo(
            name=split,
            num_rows=sum(s.num_rows for s in shards),
            num_bytes=sum(s.num_bytes for s in shards),
            shards=shards,
        )
        self._save()
        return shard

    def upload_labels(
        self, split: str, label_columns: list[str], data: BinaryIO, length: int | None = None
    ) -> ShardInfo:
        """Stream the held-out labels (``id`` + ``label_columns``) of ``split`` into the draft."""
        check_split(split)
        self._check_label_columns(label_columns)
        key = layout.labels_key(self.name, self.version, split)
        stored = self.repository.stores.private.put(key, data, length)
        footer = read_footer(self.repository.stores.private, key, stored.size)
        columns = set(footer.schema.to_arrow_schema().names)
        missing = {"id", *label_columns} - columns
        if missing:
            self.repository.stores.private.delete(key)
            raise InvalidInput(f"labels file for split {split!r} lacks columns {sorted(missing)}")
        shard = ShardInfo(
            path=key, sha256=_digest(stored), num_rows=footer.num_rows, num_bytes=stored.size
        )
        self.state.labels[split] = shard
        self.state.held_out[split] = HeldOutSplit(
            split=split, label_columns=label_columns, num_rows=footer.num_rows
        )
        self._save()
        return shard

    def commit(
        self,
        *,
        statistics: dict[str, Any] | None = None,
        skipped_files: list[dict[str, Any]] | None = None,
        leakage: dict[str, Any] | None = None,
        declared_shards: list[ShardInfo] | None = None,
    ) -> Manifest:
        """Verify every object, then write croissant, card and (last, atomically) the manifest."""
        current = self.repository._load_state(self.name, self.version)
        if current is None or current.draft_id != self.draft_id:
            raise Conflict(f"draft {self.draft_id} of {self.name}@{self.version} is no longer live")
        self.state = current
        if not self.state.splits:
            raise InvalidInput("nothing to commit: the draft has no splits")
        self._verify(declared_shards)
        manifest = Manifest(
            name=self.name,
            version=self.version,
            created_at=_now(),
            title=self.state.metadata.title or self.name,
            description=self.state.metadata.description,
            license=self.state.metadata.license,
            task=self.state.metadata.task,
            modality=self.state.metadata.modality,
            features=self.state.features,
            label_names=self.features.label_names(),
            splits=self.state.splits,
            held_out=self.state.held_out,
            statistics=statistics or {},
            source=self.state.metadata.source,
            citation=self.state.metadata.citation,
            skipped_files=skipped_files or [],
            leakage=leakage or {},
        )
        public = self.repository.stores.public
        files_url = f"{self.repository.base_url}/datasets/{self.name}/versions/{self.version}/files"
        croissant = build_croissant(manifest, files_url)
        public.put(
            layout.croissant_key(self.name, self.version),
            json.dumps(croissant, indent=2).encode(),
            content_type="application/ld+json",
        )
        public.put(
            layout.card_key(self.name, self.version),
            render_card(manifest, self.state.metadata.card_markdown).encode(),
            content_type="text/markdown; charset=utf-8",
        )
        if not public.put_if_absent(
            layout.manifest_key(self.name, self.version), manifest.to_json()
        ):
            raise VersionImmutable(f"dataset {self.name}@{self.version} was committed meanwhile")
        self.repository.stores.private.delete(layout.draft_key(self.name, self.version))
        if self.repository.catalog is not None:
            from heldout.catalog.datasets import record_version

            with self.repository.catalog.session() as session:
                record_version(session, manifest)
        return manifest

    def _verify(self, declared: list[ShardInfo] | None) -> None:
        public = self.repository.stores.public
        if declared is not None:
            self._compare_declared(declared)
        for split, info in self.state.splits.items():
            expected = [
                layout.shard_path(split, i, len(info.shards)) for i in range(len(info.shards))
            ]
            actual = [s.path for s in info.shards]
            if sorted(actual) != expected:
                raise IntegrityError(
                    f"split {split!r}: shards {actual} are not a complete set {expected}"
                )
            for shard in info.shards:
                self._verify_object(
                    public, layout.shard_key(self.name, self.version, shard.path), shard
                )
        for split, labels in self.state.labels.items():
            if split not in self.state.splits:
                raise IntegrityError(
                    f"labels were uploaded for split {split!r} but it has no shards"
                )
            self._verify_object(self.repository.stores.private, labels.path, labels)
            self._verify_ids(split, labels)

    def _compare_declared(self, declared: list[ShardInfo]) -> None:
        uploaded = {s.path: s for info in self.state.splits.values() for s in info.shards}
        claimed = {s.path: s for s in declared}
        if set(uploaded) != set(claimed):
            raise IntegrityError(
                f"declared shards {sorted(claimed)} differ from uploaded shards {sorted(uploaded)}"
            )
        for path, shard in claimed.items():
            got = uploaded[path]
            if (shard.sha256, shard.num_rows) != (got.sha256, got.num_rows):
                raise IntegrityError(
                    f"{path}: declared sha256 {shard.sha256[:12]}… / {shard.num_rows} rows, "
                    f"uploaded {got.sha256[:12]}… / {got.num_rows} rows"
                )

    @staticmethod
    def _verify_object(store: ObjectStore, key: str, shard: ShardInfo) -> None:
        try:
            stat = store.stat(key)
        except ObjectNotFound as exc:
            raise IntegrityError(f"{key}: missing from the store") from exc
        if stat.size != shard.num_bytes:
            raise IntegrityError(f"{key}: {stat.size} bytes stored, {shard.num_bytes} expected")
        if stat.sha256 != shard.sha256:
            raise IntegrityError(f"{key}: sha256 {stat.sha256} stored, {shard.sha256} expected")
        rows = read_footer(store, key, stat.size).num_rows
        if rows != shard.num_rows:
            raise IntegrityError(f"{key}: {rows} rows stored, {shard.num_rows} expected")

    def _verify_ids(self, split: str, labels: ShardInfo) -> None:
        stores = self.repository.stores
        label_ids = _read_ids(stores.private, labels.path)
        public_ids: list[Any] = []
        for shard in self.state.splits[split].shards:
            public_ids.extend(
                _read_ids(stores.public, layout.shard_key(self.name, self.version, shard.path))
            )
        if len(set(public_ids)) != len(public_ids):
            raise IntegrityError(f"split {split!r}: ids are not unique")
        if set(label_ids) != set(public_ids) or len(label_ids) != len(public_ids):
            missing = sorted(set(public_ids) - set(label_ids))[:10]
            extra = sorted(set(label_ids) - set(public_ids))[:10]
            raise IntegrityError(
                f"split {split!r}: held-out labels do not cover the public ids "
                f"(without label: {missing}; label without input: {extra})"
            )

    def abort(self) -> None:
        """Throw the draft away: nothing of it stays in either store."""
        self.repository._clean_version(self.name, self.version)


def _read_ids(store: ObjectStore, key: str) -> list[Any]:
    """The ``id`` column of a stored Parquet file."""
    table = pq.read_table(pa.BufferReader(store.get_bytes(key)), columns=["id"])
    return table.column("id").to_pylist()


def _digest(info: ObjectInfo) -> str:
    if not info.sha256:
        raise IntegrityError(f"{info.key}: the store returned no sha256 for the upload")
    return info.sha256


def _public_row(row: dict[str, Any], public_features: Features) -> dict[str, Any]:
    """The public part of a held-out row. Media file names are replaced by the row id, since an
    original name such as ``dog/123.png`` would give the label away."""
    public = {}
    for column, feature in public_features.items():
        value = row.get(column)
        if feature.is_media and isinstance(value, dict) and value.get("path"):
            suffix = Path(str(value["path"])).suffix
            value = {**value, "path": f"{row.get('id')}{suffix}"}
        public[column] = value
    return public
