"""Publishing over HTTP: create a draft, stream shards and labels into it, commit or abort."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from heldout import layout
from heldout.accounts import access
from heldout.accounts.quotas import check_publisher_quotas
from heldout.accounts.roles import Principal
from heldout.api.deps import AuthFirstRoute, audit_request, get_services, require_publisher
from heldout.api.params import DRAFT_ID, NAME, SEMVER, SEMVER_SCHEMA, SPLIT
from heldout.api.schemas.publish import (
    DraftAborted,
    DraftCreated,
    LabelsUploaded,
    ReportUploaded,
)
from heldout.errors import InvalidInput
from heldout.formats.features import Features
from heldout.formats.manifest import LICENSE_PATTERN, TASK_PATTERN, Manifest, ShardInfo
from heldout.ingest.media_guard import check_draft_media
from heldout.names import check_name, check_split, check_version
from heldout.repository import DatasetMetadata, Draft
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["publishing"], route_class=AuthFirstRoute)
DRAFT = "/datasets/{name}/versions/{version}/drafts/{draft_id}"
HOP_BYTES = 1024 * 1024  # body bytes moved per event-loop → worker-thread hop
# JSON Schema (ECMA 262) regexes have no Python-style named groups.
SHARD_FILENAME_PATTERN = "^" + re.sub(r"\?P<\w+>", "", layout.SHARD_FILENAME.pattern) + "$"
UPLOAD_PATH = r"^/api/v1/datasets/[^/]+/versions/[^/]+/drafts/[^/]+/(shards/|labels/|report$)"


class DraftAccess(BaseModel):
    """Who may read the dataset, set as the draft is created (never briefly public)."""

    visibility: str | None = Field(None, description="public, gated or private")
    terms_version: str | None = None
    terms_text: str | None = None


class CreateDraft(BaseModel):
    """A new version: its number, features (Hugging Face features JSON) and metadata."""

    version: str = Field(json_schema_extra=SEMVER_SCHEMA)
    features: dict[str, Any]
    metadata: DatasetMetadata = Field(default_factory=DatasetMetadata)
    access: DraftAccess | None = Field(None, description="visibility and terms of the dataset")


class CommitDraft(BaseModel):
    """What the publisher uploaded (checked against the store) and what to put in the manifest."""

    shards: list[ShardInfo] | None = None
    statistics: dict[str, Any] = Field(default_factory=dict)
    skipped_files: list[dict[str, Any]] = Field(default_factory=list)
    leakage: dict[str, Any] = Field(default_factory=dict)


class BodyReader(io.RawIOBase):
    """A blocking file over the request body, read from a worker thread (never all in memory)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def _next(self, want: int) -> bytes | None:
        """Up to about ``want`` bytes from the event loop in one hop (None at the end)."""

        async def pull() -> bytes | None:
            parts: list[bytes] = []
            got = 0
            while got < want:
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    break
                parts.append(chunk)
                got += len(chunk)
            return b"".join(parts) if parts else None

        return anyio.from_thread.run(pull)

    def read(self, size: int | None = -1) -> bytes:
        want = -1 if size is None else size
        while not self._eof and (want < 0 or len(self._buffer) < want):
            chunk = self._next(max(want - len(self._buffer), HOP_BYTES))
            if chunk is None:
                self._eof = True
            else:
                self._buffer.extend(chunk)
        take = len(self._buffer) if want < 0 else min(want, len(self._buffer))
        out = bytes(self._buffer[:take])
        del self._buffer[:take]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def check_metadata(metadata: DatasetMetadata) -> None:
    """422 now for metadata the manifest would refuse at commit (an empty task, say)."""
    for field, pattern in (("task", TASK_PATTERN), ("license", LICENSE_PATTERN)):
        value = getattr(metadata, field)
        if not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value):
            raise InvalidInput(f"metadata.{field} {value[:80]!r} is not allowed: it must match "
                               f"{pattern}")


def _summary(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                     for e in exc.errors()[:5])


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _open_draft(services: Services, user: Principal, name: str, version: str,
                draft_id: str) -> Draft:
    check_version(version)
    with services.catalog.session() as session:
        access.check_can_publish(session, user, name)
    return services.repository.open_draft(name, version, draft_id)


@router.post("/datasets/{name}/versions", status_code=201, summary="Start a draft version",
             response_model=DraftCreated)
def create_draft(
    request: Request,
    body: CreateDraft,
    name: str = NAME,
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> DraftCreated:
    """201 with the ``draft_id``; 409 if the version is committed or has a live draft.
    A draft claims no name: a new dataset becomes its publisher's at its first commit."""
    check_name(name, "dataset name")
    check_version(body.version)
    features = Features.from_hf(body.features)
    check_metadata(body.metadata)
    with services.catalog.session() as session:
        dataset = access.check_can_publish(session, user, name)
        check_publisher_quotas(session, services.stores.private, services.settings, user, name)
        if body.access is not None:  # on a row that claims no name until the first commit
            dataset = dataset or access.ensure_dataset(session, name)
            access.set_access(session, dataset, **body.access.model_dump())
    if body.access is not None:
        audit_request(services, request, user, "dataset.changed", name,
                      body.access.model_dump(exclude={"terms_text"}) | {"via": "publish"})
    draft = services.repository.create_draft(name, body.version, features=features,
                                             metadata=body.metadata)
    audit_request(services, request, user, "draft.created", f"{name}@{body.version}",
           {"draft_id": draft.draft_id})
    return DraftCreated(draft_id=draft.draft_id, name=name, version=body.version)


async def _stream_into(request: Request, upload: Any) -> Any:
    reader = BodyReader(request.stream().__aiter__())
    return await anyio.to_thread.run_sync(upload, reader)


@router.put(DRAFT + "/shards/{filename}", summary="Upload one shard (raw body, streamed)",
            response_model=ShardInfo,
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_shard(
    request: Request,
    name: str = NAME,
    version: str = SEMVER,
    draft_id: str = DRAFT_ID,
    filename: str = Path(description="{split}-{i:05d}-of-{n:05d}.parquet",
                         json_schema_extra={"pattern": SHARD_FILENAME_PATTERN}),
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> ShardInfo:
    """Stores ``data/{filename}`` (``{split}-{i:05d}-of-{n:05d}.parquet``); returns its
    ShardInfo (sha256 and rows as stored)."""
    draft = await anyio.to_thread.run_sync(_open_draft, services, user, name, version, draft_id)
    length = _declared_length(request)
    shard = await _stream_into(request, lambda reader: draft.upload_shard(filename, reader,
                                                                         length))
    result: ShardInfo = shard
    return result


@router.put(DRAFT + "/labels/{split}", summary="Upload a split's held-out labels (streamed)",
            response_model=LabelsUploaded,
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_labels(
    request: Request,
    name: str = NAME,
    version: str = SEMVER,
    draft_id: str = DRAFT_ID,
    split: str = SPLIT,
    label_columns: str = Query(..., description="comma-separated label columns, e.g. label",
                               pattern=r"[^,\s]"),
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> LabelsUploaded:
    """A Parquet file with ``id`` and the label columns; stored in the private store only.
    The answer names the columns and counts, never a label value."""
    check_split(split)
    columns = [c.strip() for c in label_columns.split(",") if c.strip()]
    if not columns:
        raise InvalidInput("label_columns must name at least one column")
    draft = await anyio.to_thread.run_sync(_open_draft, services, user, name, version, draft_id)
    length = _declared_length(request)
    shard = await _stream_into(
        request, lambda reader: draft.upload_labels(split, columns, reader, length)
    )
    return LabelsUploaded(split=split, label_columns=columns, num_rows=shard.num_rows,
                          num_bytes=shard.num_bytes, sha256=shard.sha256)


@router.put(DRAFT + "/report", response_model=ReportUploaded,
            summary="Upload the publisher's private ingest report (JSON)",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object"}}}}})
async def upload_report(
    request: Request,
    name: str = NAME,
    version: str = SEMVER,
    draft_id: str = DRAFT_ID,
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> ReportUploaded:
    """The publisher's own private report (held-out source names → ids, full findings),
    streamed into the private store and merged into the version's private report at commit.
    Never public."""
    draft = await anyio.to_thread.run_sync(_open_draft, services, user, name, version, draft_id)
    length = _declared_length(request)
    size = await _stream_into(request, lambda reader: draft.upload_report(reader, length))
    return ReportUploaded(num_bytes=size)


@router.post(DRAFT + "/commit", summary="Verify and commit a draft; returns the manifest",
             response_model=Manifest)
def commit_draft(
    request: Request,
    body: CommitDraft,
    name: str = NAME,
    version: str = SEMVER,
    draft_id: str = DRAFT_ID,
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> Response:
    """The server checks every shard's size, sha256 and row count (and the declared shards)."""
    draft = _open_draft(services, user, name, version, draft_id)
    check_draft_media(services.stores.public, name, version, draft.features,
                      draft.state.splits, set(draft.state.held_out))
    try:
        manifest = draft.commit(statistics=body.statistics, skipped_files=body.skipped_files,
                                leakage=body.leakage, declared_shards=body.shards,
                                owner_id=user.id)
    except ValidationError as exc:  # what the publisher sent would make an invalid manifest
        raise InvalidInput(f"the version's manifest would be invalid: {_summary(exc)}") from None
    audit_request(services, request, user, "version.committed", f"{name}@{version}",
           {"draft_id": draft_id, "rows": manifest.total_rows})
    return Response(manifest.to_json(), media_type="application/json")


@router.delete(DRAFT, summary="Abort a draft (nothing of it stays)",
               response_model=DraftAborted)
def abort_draft(
    request: Request,
    name: str = NAME,
    version: str = SEMVER,
    draft_id: str = DRAFT_ID,
    user: Principal = Depends(require_publisher),
    services: Services = Depends(get_services),
) -> DraftAborted:
    """Deletes the draft's shards, labels and lock."""
    draft = _open_draft(services, user, name, version, draft_id)
    draft.abort()
    audit_request(services, request, user, "draft.aborted", f"{name}@{version}",
                  {"draft_id": draft_id})
    return DraftAborted(aborted=draft_id)
