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
import secrets
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field, StrictBool

from heldout import layout, secrecy
from heldout.catalog.datasets import record_version
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
from heldout.formats.features import Features, approx_size
from heldout.formats.manifest import HeldOutSplit, Manifest, Modality, ShardInfo, SplitInfo
from heldout.formats.writer import ShardWriter
from heldout.names import SemVer, check_name, check_split, check_version, only_prereleases
from heldout.parquet_footer import id_hashes, iter_rows, read_footer
from heldout.storage.base import ObjectInfo, ObjectStore, Stores

DEFAULT_SHARD_BYTES = 256 * 1024**2
MAX_UPLOADED_REPORT = 256 * 1024**2


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
    held_out_labels_public: StrictBool = False  # JSON true/false only, as documented
    held_out_labels_public_reason: str | None = None


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
    # held-out split → {source id: random id} for splits whose ids were drawn here
    id_maps: dict[str, dict[str, str]] = Field(default_factory=dict)


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
            raise NotFound(_not_committed(name, version))
        return version

    def manifest(self, name: str, version: str = "latest") -> Manifest:
        """The committed manifest of ``name@version``."""
        if version == "latest":
            version = self.resolve_version(name, version)
        check_name(name)
        check_version(version)
        try:
            data = self.stores.public.get_bytes(layout.manifest_key(name, version))
        except ObjectNotFound as exc:
            raise NotFound(_not_committed(name, version)) from exc
        return Manifest.from_json(data)

    def report(self, name: str, version: str = "latest") -> dict[str, Any]:
        """The private ingest report of ``name@version`` (for its owner and admins only).

        Versions published before reports existed have none: a stub says so.
        """
        resolved = self.resolve_version(name, version)
        try:
            data = self.stores.private.get_bytes(layout.report_key(name, resolved))
        except ObjectNotFound:
            return {"format": secrecy.REPORT_FORMAT, "name": name, "version": resolved,
                    "missing": "published before private ingest reports existed; republish "
                               "the version to get one"}
        report: dict[str, Any] = json.loads(data)
        return report

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
        self.stores.private.delete_prefix(layout.reports_prefix(name, version))
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

        With ``held_out``, every row gets a fresh random id and the rows are written in a
        secret random order (:mod:`heldout.secrecy`; the source id → id map goes to the
        private report); ``label_columns`` go to the private labels object (with ``id``) and
        the public shards carry only ``id`` and the inputs.
        """
        self._check_new_split(split)
        labels = list(label_columns or []) if held_out else None
        if labels is not None:
            self._check_label_columns(labels)
        if on_row is not None:
            rows = _counting(rows, on_row)
        with tempfile.TemporaryDirectory(prefix="heldout-draft-") as tmp:
            folder = Path(tmp)
            if labels is not None:
                rows = self._sealed(split, rows, folder)
            shards, label_shard = self._write_local(split, rows, labels, folder)
            if labels is not None and not sum(shard.num_rows for shard in shards):
                raise InvalidInput(f"split {split!r}: a held-out split needs at least one row")
            self._upload_shards(folder / "public", shards)
            if labels is not None and label_shard is not None:
                self._store_labels(split, labels, folder / "labels" / label_shard.path,
                                   label_shard)
        info = SplitInfo.from_shards(split, shards)
        self.state.splits[split] = info
        self._save()
        return info

    def _sealed(self, split: str, rows: Iterable[dict[str, Any]],
                folder: Path) -> Iterable[dict[str, Any]]:
        """``rows`` with fresh random ids, in a secret random order (all read first)."""
        ids = secrecy.HeldOutIds(split)
        order = secrecy.shuffled(({**row, "id": ids.draw(row.get("id"))} for row in rows),
                                 approx_size, folder)
        self.state.id_maps[split] = ids.mapping
        return order

    def _write_local(
        self, split: str, rows: Iterable[dict[str, Any]], labels: list[str] | None, folder: Path
    ) -> tuple[list[ShardInfo], ShardInfo | None]:
        """Write public shards (and, for a held-out split, the one labels file) to ``folder``."""
        public_features = self.features.drop(labels) if labels is not None else self.features
        public = ShardWriter(folder / "public", split, public_features,
                             target_bytes=self.repository.shard_target_bytes)
        private = (ShardWriter(folder / "labels", split, self.features.select(["id", *labels]),
                               target_bytes=2**62) if labels is not None else None)
        try:
            for row in rows:
                if private is None:
                    public.write_row(row)
                else:
                    public.write_row(_public_row(row, public_features))
                    private.write_row({k: row.get(k) for k in private.features})
            shards = public.close()
            label_shards = private.close() if private is not None else []
        except BaseException:
            public.abort()
            if private is not None:
                private.abort()
            raise
        return shards, (label_shards[0] if label_shards else None)

    def _reseal(self, split: str) -> None:
        """Draw fresh ids and a fresh secret order for a held-out split that was uploaded
        ready-made: the server trusts neither a publisher's ids nor their order. The upload's
        id → new id map goes to the private report. Reads are bounded (row batches)."""
        stores = self.repository.stores
        held, label_info = self.state.held_out[split], self.state.labels[split]
        labels = {row["id"]: row for batch in
                  iter_rows(stores.private, label_info.path, label_info.num_bytes)
                  for row in batch}
        old = self.state.splits[split].shards
        keys = [layout.shard_key(self.name, self.version, s.path) for s in old]

        def rows() -> Iterator[dict[str, Any]]:
            for key, shard in zip(keys, old, strict=True):
                for batch in iter_rows(stores.public, key, shard.num_bytes):
                    yield from ({**row, **labels[row["id"]]} for row in batch)

        with tempfile.TemporaryDirectory(prefix="heldout-reseal-") as tmp:
            folder = Path(tmp)
            sealed = self._sealed(split, rows(), folder)  # reads everything first
            for key in keys:
                stores.public.delete(key)
            shards, label_shard = self._write_local(split, sealed, held.label_columns, folder)
            self._upload_shards(folder / "public", shards)
            assert label_shard is not None
            self._store_labels(split, held.label_columns, folder / "labels" / label_shard.path,
                               label_shard)
        self.state.splits[split] = SplitInfo.from_shards(split, shards)
        self._save()

    def _upload_shards(self, folder: Path, shards: list[ShardInfo]) -> None:
        for shard in shards:
            self.repository.stores.public.put_file(
                layout.shard_key(self.name, self.version, shard.path),
                str(folder / shard.path),
                sha256=shard.sha256,
            )

    def _store_labels(self, split: str, labels: list[str], path: Path, shard: ShardInfo) -> None:
        key = layout.labels_key(self.name, self.version, split)
        self.repository.stores.private.put_file(key, str(path), sha256=shard.sha256)
        self.state.labels[split] = ShardInfo(
            path=key, sha256=shard.sha256, num_rows=shard.num_rows, num_bytes=shard.num_bytes
        )
        self.state.held_out[split] = HeldOutSplit(
            split=split, label_columns=labels, num_rows=shard.num_rows
        )

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
        current = self.state.splits.get(split)
        shards = sorted(
            [s for s in (current.shards if current else []) if s.path != path] + [shard],
            key=lambda s: s.path,
        )
        self.state.splits[split] = SplitInfo.from_shards(split, shards)
        self._guarded(self._check_held_out_columns, split)
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
        self._guarded(self._check_held_out_columns, split)
        self._save()
        return shard

    def _guarded(self, check: Callable[..., None], *args: Any) -> None:
        """Run ``check``; a column that would make held-out labels public aborts the draft
        (nothing of it stays, not even in the public store) before the error goes out."""
        try:
            check(*args)
        except InvalidInput as exc:
            if "column" in exc.extra:
                self.abort()
            raise

    def upload_report(self, data: BinaryIO, length: int | None = None) -> int:
        """Stream the publisher's own private report (JSON: ``held_out_ids`` from their
        pipeline, full findings) into the draft; merged into the private report at commit."""
        key = layout.uploaded_report_key(self.name, self.version)
        stored = self.repository.stores.private.put(key, data, length)
        if stored.size > MAX_UPLOADED_REPORT:
            self.repository.stores.private.delete(key)
            raise InvalidInput(f"the private report is {stored.size} bytes; at most "
                               f"{MAX_UPLOADED_REPORT} are accepted")
        self._save()
        return stored.size

    def _uploaded_report(self) -> dict[str, Any]:
        key = layout.uploaded_report_key(self.name, self.version)
        try:
            data = self.repository.stores.private.get_bytes(key)
        except ObjectNotFound:
            return {}
        try:
            report = json.loads(data)
        except ValueError as exc:
            raise InvalidInput(f"the uploaded private report is not JSON: {exc}") from None
        if not isinstance(report, dict):
            raise InvalidInput("the uploaded private report must be a JSON object")
        return report

    def commit(
        self,
        *,
        statistics: dict[str, Any] | None = None,
        skipped_files: list[dict[str, Any]] | None = None,
        leakage: dict[str, Any] | None = None,
        declared_shards: list[ShardInfo] | None = None,
        report: dict[str, Any] | None = None,
        owner_id: int | None = None,
        assign_owner: bool = False,
    ) -> Manifest:
        """Verify every object, then write the private report, croissant, card and (last,
        atomically) the manifest.

        ``statistics``, ``skipped_files`` and ``leakage`` are the full findings: the manifest
        gets their public view (:mod:`heldout.secrecy`), the private report all of them.
        ``report`` adds to the private report: ``source_names`` ({split: {source id: name}})
        names the sources of drawn ids; ``held_out_ids`` ({split: {source: id}}) is a map
        made earlier (e.g. by a publisher's own pipeline). The first commit of a dataset makes
        ``owner_id`` its owner (None: operator-owned); ``assign_owner`` sets it regardless.
        """
        current = self.repository._load_state(self.name, self.version)
        if current is None or current.draft_id != self.draft_id:
            raise Conflict(f"draft {self.draft_id} of {self.name}@{self.version} is no longer live")
        self.state = current
        if not self.state.splits:
            raise InvalidInput("nothing to commit: the draft has no splits")
        self._guarded(self._verify, declared_shards)
        for split in self.state.held_out:
            if split not in self.state.id_maps:  # uploaded ready-made: not trusted
                self._reseal(split)
        findings = (statistics or {}, skipped_files or [], leakage or {})
        manifest = self._manifest(*findings)
        self._write_report(manifest, *findings, {**self._uploaded_report(), **(report or {})})
        self._write_public(manifest)
        self.repository.stores.private.delete(layout.draft_key(self.name, self.version))
        self.repository.stores.private.delete(layout.uploaded_report_key(self.name, self.version))
        if self.repository.catalog is not None:
            with self.repository.catalog.session() as session:
                record_version(session, manifest, owner_id=owner_id, assign_owner=assign_owner)
        return manifest

    def _manifest(self, statistics: dict[str, Any], skipped: list[dict[str, Any]],
                  leakage: dict[str, Any]) -> Manifest:
        """The manifest, with only the public view of what the checks found."""
        held = set(self.state.held_out)
        public_stats = secrecy.public_statistics(statistics, held)
        if skipped:
            public_stats["skipped_files"] = secrecy.skipped_counts(skipped)
        meta = self.state.metadata
        return Manifest(
            name=self.name,
            version=self.version,
            created_at=_now(),
            title=meta.title or self.name,
            description=meta.description,
            license=meta.license,
            task=meta.task,
            modality=meta.modality,
            features=self.state.features,
            label_names=self.features.label_names(),
            splits=self.state.splits,
            held_out=self.state.held_out,
            statistics=public_stats,
            source=meta.source,
            citation=meta.citation,
            skipped_files=secrecy.public_skipped(skipped, held),
            leakage=secrecy.public_leakage(leakage, held),
            held_out_labels_public=meta.held_out_labels_public,
            held_out_labels_public_reason=meta.held_out_labels_public_reason,
        )

    def _write_report(self, manifest: Manifest, statistics: dict[str, Any],
                      skipped: list[dict[str, Any]], leakage: dict[str, Any],
                      extra: dict[str, Any]) -> None:
        """The private ingest report (private store), written before the manifest."""
        extra = dict(extra)
        names = extra.pop("source_names", None) or {}
        given = dict(extra.pop("held_out_ids", None) or {})
        ids = {split: dict(m) for split, m in given.items() if split in self.state.held_out}
        for split, drawn in self.state.id_maps.items():
            ids[split] = secrecy.compose_ids(given.get(split), drawn, names.get(split))
        body = secrecy.private_report(
            name=self.name, version=self.version, created_at=manifest.created_at.isoformat(),
            held_out_ids=ids, statistics=statistics, skipped_files=skipped, leakage=leakage,
            extra=extra,
        )
        self.repository.stores.private.put(
            layout.report_key(self.name, self.version),
            json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    def _write_public(self, manifest: Manifest) -> None:
        """Croissant and card, then the manifest (put-if-absent: the commit point)."""
        public = self.repository.stores.public
        files_url = f"{self.repository.base_url}/datasets/{self.name}/versions/{self.version}/files"
        public.put(
            layout.croissant_key(self.name, self.version),
            json.dumps(build_croissant(manifest, files_url), indent=2).encode(),
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

    def _verify(self, declared: list[ShardInfo] | None) -> None:
        public = self.repository.stores.public
        if declared is not None:
            self._compare_declared(declared)
        for split, info in self.state.splits.items():
            actual = sorted(s.path for s in info.shards)
            expected = _complete_set(split, actual)
            if actual != expected:
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
            self._check_held_out_columns(split)
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
        """Public ids of a held-out split are unique and exactly the labels' ids (read with
        bounded memory: footers first, then keyed 64-bit hashes in batches)."""
        stores = self.repository.stores
        salt = secrets.token_bytes(16)
        label_ids = id_hashes(stores.private, labels.path, labels.num_bytes, salt)
        public_ids = np.concatenate([
            id_hashes(stores.public, layout.shard_key(self.name, self.version, shard.path),
                      shard.num_bytes, salt)
            for shard in self.state.splits[split].shards
        ])
        unique = np.unique(public_ids)
        if unique.size != public_ids.size:
            raise IntegrityError(f"split {split!r}: ids are not unique")
        if np.unique(label_ids).size != label_ids.size:
            raise IntegrityError(f"split {split!r}: the held-out labels repeat an id")
        without_label = np.setdiff1d(unique, label_ids).size
        without_input = np.setdiff1d(label_ids, unique).size
        if without_label or without_input:
            raise IntegrityError(
                f"split {split!r}: held-out labels do not cover the public ids "
                f"({without_label} id(s) without a label, {without_input} label(s) without "
                "an input)"
            )

    def _check_held_out_columns(self, split: str) -> None:
        """Public shards of a held-out split hold exactly ``id`` + the input columns, its
        labels file exactly ``id`` + the label columns; InvalidInput names the column."""
        held = self.state.held_out.get(split)
        if held is None:
            return
        stores = self.repository.stores
        public = self.features.drop(held.label_columns)
        for shard in (self.state.splits.get(split) or SplitInfo.from_shards(split, [])).shards:
            key = layout.shard_key(self.name, self.version, shard.path)
            schema = read_footer(stores.public, key, shard.num_bytes).schema.to_arrow_schema()
            _check_columns(schema, public.arrow_schema(), shard.path, held.label_columns)
        labels = self.state.labels[split]
        schema = read_footer(stores.private, labels.path, labels.num_bytes).schema
        wanted = self.features.select(["id", *held.label_columns]).arrow_schema()
        _check_columns(schema.to_arrow_schema(), wanted, f"labels of split {split!r}", [])

    def abort(self) -> None:
        """Throw the draft away: nothing of it stays in either store."""
        self.repository._clean_version(self.name, self.version)


def _check_columns(got: pa.Schema, wanted: pa.Schema, where: str,
                   label_columns: list[str]) -> None:
    """``got`` has exactly the columns of ``wanted`` (and struct children of the same names)."""
    for name in got.names:
        if name in label_columns:
            raise InvalidInput(f"{where}: column {name!r} is a label column of a held-out split; "
                               "its values must not be public (send them as the labels file)",
                               column=name)
        if name not in wanted.names:
            raise InvalidInput(f"{where}: column {name!r} is not one of the allowed columns "
                               f"{wanted.names}", column=name)
        field, expected = got.field(name), wanted.field(name)
        if pa.types.is_struct(expected.type) and (
            not pa.types.is_struct(field.type)
            or sorted(f.name for f in field.type) != sorted(f.name for f in expected.type)
        ):
            raise InvalidInput(f"{where}: column {name!r} is {field.type}, expected "
                               f"{expected.type}", column=name)
    missing = [n for n in wanted.names if n not in got.names]
    if missing:
        raise InvalidInput(f"{where}: lacks column(s) {missing}", column=missing[0])


def _counting(rows: Iterable[dict[str, Any]],
              on_row: Callable[[], None]) -> Iterator[dict[str, Any]]:
    for row in rows:
        on_row()
        yield row


def _digest(info: ObjectInfo) -> str:
    if not info.sha256:
        raise IntegrityError(f"{info.key}: the store returned no sha256 for the upload")
    return info.sha256


def _complete_set(split: str, paths: list[str]) -> list[str]:
    """The shard paths a split with these uploads must have: ``-of-N`` from the largest N
    named (the count uploaded if none is larger)."""
    named = [parsed.count for p in paths if (parsed := layout.parse_shard_path(p)) is not None]
    total = max([len(paths), *named])
    return [layout.shard_path(split, i, total) for i in range(total)]


def _not_committed(name: str, version: str) -> str:
    return f"dataset {name}@{version} does not exist (or is not committed)"


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
