"""Publish a locally written version folder through the server's draft routes.

The folder holds ``data/{split}-{i:05d}-of-{n:05d}.parquet`` shards (as written by
``heldout.formats.writer.ShardWriter``) and, for held-out splits, the labels of each split in
``labels/{split}.parquet`` (or ``labels/data/{split}-00000-of-00001.parquet``): an ``id`` column
plus the label columns. A ``manifest.json`` in the folder (e.g. from a pull) supplies features
and metadata. Shards are streamed from disk (never held whole in memory), hashed on the way
and compared with what the server stored; the server verifies everything again at commit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyarrow.parquet as pq

from heldout.errors import HeldoutError, IntegrityError, InvalidInput
from heldout.formats.features import Features
from heldout.formats.manifest import Manifest, ShardInfo
from heldout.layout import parse_shard_filename
from heldout.names import check_name, check_split, check_version

if TYPE_CHECKING:
    from heldout.client.download import ProgressCallback
    from heldout.client.http import Client

CHUNK = 1024 * 1024
METADATA_FIELDS = ("title", "description", "license", "task", "modality", "source", "citation")


@dataclass
class LocalVersion:
    """What a folder holds: shards per split, labels per split, features and metadata."""

    folder: Path
    shards: list[Path]
    labels: dict[str, Path]
    features: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in [*self.shards, *self.labels.values()])


@dataclass
class UploadedDraft:
    """A draft on the server with its uploaded shards (as hashed locally)."""

    name: str
    version: str
    draft_id: str
    shards: list[ShardInfo]
    extras: dict[str, Any]


def _labels_in(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    root = folder / "labels"
    if not root.is_dir():
        return found
    for path in sorted(root.glob("*.parquet")):
        found[check_split(path.stem)] = path
    for path in sorted((root / "data").glob("*.parquet")):
        parsed = parse_shard_filename(path.name)
        if parsed is None:
            raise InvalidInput(f"{path}: labels files must be named {{split}}.parquet")
        if parsed.count != 1:
            raise InvalidInput(f"{path}: the labels of a split must be one file")
        found.setdefault(parsed.split, path)
    return found


def _features_of(path: Path) -> Features:
    try:
        return Features.from_arrow_schema(pq.read_schema(path))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.detail}") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from None


def scan_folder(folder: str | Path, labels: Mapping[str, str | Path] | None = None,
                features: Mapping[str, Any] | None = None,
                metadata: Mapping[str, Any] | None = None) -> LocalVersion:
    """Find shards, labels, features and metadata of a folder; InvalidInput says what is off."""
    root = Path(folder).expanduser()
    shards = sorted((root / "data").glob("*.parquet"))
    if not shards:
        raise InvalidInput(f"{root}: no Parquet shards in {root / 'data'}")
    for shard in shards:
        if parse_shard_filename(shard.name) is None:
            raise InvalidInput(f"{shard}: shard names must look like train-00000-of-00001.parquet")
    label_files = {check_split(k): Path(v) for k, v in (labels or {}).items()} or _labels_in(root)
    meta: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    manifest_file = root / "manifest.json"
    hf: dict[str, Any] | None = dict(features) if features is not None else None
    if manifest_file.exists():
        manifest = Manifest.from_json(manifest_file.read_bytes(), where=str(manifest_file))
        meta = {k: getattr(manifest, k) for k in METADATA_FIELDS if getattr(manifest, k)}
        extras = {"statistics": manifest.statistics, "skipped_files": manifest.skipped_files,
                  "leakage": manifest.leakage}
        hf = hf or manifest.features
    if hf is None:  # the widest shard's columns first (held-out splits lack their labels)
        found = sorted((_features_of(p) for p in shards), key=len, reverse=True)
        columns: dict[str, Any] = {}
        for features_of_shard in found:
            for name, feature in features_of_shard.items():
                columns.setdefault(name, feature)
        for path in label_files.values():
            for name, feature in _features_of(path).items():
                columns.setdefault(name, feature)
        hf = Features(columns).to_hf()
    meta.update(metadata or {})
    return LocalVersion(root, shards, label_files, hf, meta, extras)


def _put_file(client: Client, url_path: str, path: Path, progress: ProgressCallback | None,
              params: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """Stream ``path`` to ``url_path`` in chunks; returns the answer and the file's sha256."""
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:  # called again for a retry, which starts over
        nonlocal digest
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                if progress is not None:
                    progress(len(chunk), 0)
                yield chunk

    response = client.request(
        "PUT", url_path, content=body, params=params,
        headers={"Content-Type": "application/octet-stream",
                 "Content-Length": str(path.stat().st_size)},
        what=f"uploading {path.name}",
    )
    return response.json(), digest.hexdigest()


def upload_draft(
    client: Client,
    folder: str | Path,
    name: str,
    version: str,
    *,
    features: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    labels: Mapping[str, str | Path] | None = None,
    progress: ProgressCallback | None = None,
    report: Path | None = None,
    access: Mapping[str, Any] | None = None,
) -> UploadedDraft:
    """Create a draft of ``name@version`` and stream the folder's shards and labels into it
    (and ``report``, a private ingest report JSON file, into the private store).

    ``access`` (``visibility``, ``terms_version``, ``terms_text``) is set on the dataset as the
    draft is created, so a private or gated dataset is never readable by others, not even
    for a moment."""
    check_name(name)
    check_version(version)
    local = scan_folder(folder, labels, features, metadata)
    body = {"version": version, "features": local.features, "metadata": local.metadata}
    created = client.request(
        "POST", f"/datasets/{quote(name)}/versions",
        json=body | ({"access": dict(access)} if access else {}),
        what=f"creating a draft of {name}@{version}",
    ).json()
    draft_id = str(created["draft_id"])
    base = f"/datasets/{quote(name)}/versions/{quote(version)}/drafts/{quote(draft_id)}"
    if progress is not None:
        progress(0, local.total_bytes)
    shards: list[ShardInfo] = []
    try:
        for path in local.shards:
            stored, digest = _put_file(client, f"{base}/shards/{quote(path.name)}", path, progress)
            info = ShardInfo.model_validate(stored)
            if info.sha256 != digest:
                raise IntegrityError(f"{path}: the server stored sha256 {info.sha256}, "
                                     f"the file has {digest}")
            shards.append(info)
        for split, path in sorted(local.labels.items()):
            columns = [c for c in pq.read_schema(path).names if c != "id"]
            _put_file(client, f"{base}/labels/{quote(split)}", path, progress,
                      params={"label_columns": ",".join(columns)})
        if report is not None:
            _put_file(client, f"{base}/report", report, progress)
    except BaseException:
        abort_draft(client, name, version, draft_id)
        raise
    return UploadedDraft(name, version, draft_id, shards, local.extras)


def abort_draft(client: Client, name: str, version: str, draft_id: str) -> None:
    """Throw a draft away on the server (best effort)."""
    with contextlib.suppress(HeldoutError):
        client.request("DELETE", f"/datasets/{quote(name)}/versions/{quote(version)}"
                                 f"/drafts/{quote(draft_id)}", what="aborting the draft")


def commit_draft(client: Client, draft: UploadedDraft, **extras: Any) -> Manifest:
    """Commit an uploaded draft; the server re-verifies every shard. Returns the manifest."""
    body = {
        "shards": [s.model_dump() for s in draft.shards],
        "statistics": extras.get("statistics", draft.extras.get("statistics", {})),
        "skipped_files": extras.get("skipped_files", draft.extras.get("skipped_files", [])),
        "leakage": extras.get("leakage", draft.extras.get("leakage", {})),
    }
    response = client.request(
        "POST", f"/datasets/{quote(draft.name)}/versions/{quote(draft.version)}"
                f"/drafts/{quote(draft.draft_id)}/commit",
        json=body, what=f"committing {draft.name}@{draft.version}",
    )
    return Manifest.from_json(response.content, where=f"committed manifest of {draft.name}")


def publish_folder(
    client: Client,
    folder: str | Path,
    name: str,
    version: str,
    *,
    features: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    labels: Mapping[str, str | Path] | None = None,
    statistics: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    report: Path | None = None,
    findings: Mapping[str, Any] | None = None,
    access: Mapping[str, Any] | None = None,
) -> Manifest:
    """Upload a folder as ``name@version`` and commit it; a failed commit aborts the draft.

    ``findings`` (``statistics``, ``skipped_files``, ``leakage``) are the checks' full results:
    the server publishes only their public view and keeps the rest in the private report."""
    draft = upload_draft(client, folder, name, version, features=features, metadata=metadata,
                         labels=labels, progress=progress, report=report, access=access)
    extras = dict(findings or {})
    if statistics is not None:
        extras["statistics"] = statistics
    try:
        return commit_draft(client, draft, **extras)
    except BaseException:
        abort_draft(client, name, version, draft.draft_id)
        raise


__all__ = ["LocalVersion", "UploadedDraft", "abort_draft", "commit_draft", "publish_folder",
           "scan_folder", "upload_draft"]
