"""Reading datasets: listing, details, manifests, file URLs, streamed files, rows, previews."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from heldout import layout
from heldout.accounts import access
from heldout.accounts.roles import Principal
from heldout.api import preview, views
from heldout.api.deps import (
    MAX_OFFSET,
    AuthFirstRoute,
    audit_request,
    get_services,
    optional_user,
    page_url,
    require_user,
)
from heldout.api.params import NAME, SPLIT, VERSION
from heldout.api.schemas.common import Page, next_url, page
from heldout.api.schemas.datasets import (
    DatasetDetail,
    DatasetSummary,
    FileListing,
    IngestReport,
    Manifest,
    TermsAcceptance,
)
from heldout.api.schemas.rows import RowsPage
from heldout.api.streaming import object_response
from heldout.benchmarks import phases
from heldout.catalog.datasets import DatasetQuery, latest_of, search_datasets
from heldout.catalog.datasets import list_versions as catalog_versions
from heldout.catalog.lifecycle import WARNING_HEADER, lifecycle_warning
from heldout.catalog.models import Dataset
from heldout.errors import HeldoutError, NotFound
from heldout.names import check_name, check_split
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["datasets"], route_class=AuthFirstRoute)
METADATA_FILES = layout.META_FILES
MEDIA_TYPES = {
    "manifest.json": "application/json",
    "croissant.json": "application/ld+json",
    "README.md": "text/markdown; charset=utf-8",
}
BINARY = {"schema": {"type": "string", "format": "binary"}}
CROISSANT_SCHEMA = {
    "type": "object", "description": "Croissant 1.1 JSON-LD (passes `mlcroissant validate`)",
    "required": ["@context", "@type", "name"],
    "properties": {"@context": {"type": "object"}, "@type": {"const": "sc:Dataset"},
                   "name": {"type": "string"}},
}
FILE_CONTENT = {  # 200: each file whole, by its name (a shard, manifest.json, croissant.json …)
    "application/vnd.apache.parquet": BINARY,
    "application/json": {"schema": {"$ref": "#/components/schemas/Manifest"}},
    "application/ld+json": {"schema": CROISSANT_SCHEMA},
    "text/markdown": {"schema": {"type": "string", "description": "the dataset card"}},
}
PARTIAL_CONTENT = {media: BINARY for media in FILE_CONTENT}  # 206: a byte range of any of them

@dataclass
class Opened:
    """A dataset version the caller may read."""

    row: Dataset | None
    manifest: Manifest
    warning: str | None = None  # yanked version or deprecated dataset: said in a header
    embargo: dict[str, datetime] = field(default_factory=dict)  # split → phase start

    @property
    def headers(self) -> dict[str, str]:
        """``X-Heldout-Warning`` (one line, ASCII) when the caller should be told something."""
        if not self.warning:
            return {}
        return {WARNING_HEADER: self.warning.encode("ascii", "replace").decode()[:500]}

    def check_split(self, split: str) -> None:
        """Refuse a split whose competition phase has not started (benchmarks.phases)."""
        phases.check_not_embargoed(self.embargo, self.manifest.name, split)

    @property
    def audited(self) -> bool:
        """Downloads of gated and private datasets go to the audit log."""
        return self.row is not None and self.row.visibility in ("gated", "private")

    @property
    def public(self) -> bool:
        return self.row is None or self.row.visibility == "public"


def open_version(services: Services, user: Principal | None, name: str, version: str) -> Opened:
    """Check the caller may read ``name``'s data, then load the manifest of ``version``."""
    check_name(name, "dataset name")
    with services.catalog.session() as session:
        row = access.check_read(session, user, name)
        if version == "latest" and row is not None:
            version = latest_of(session, row)
        warning = lifecycle_warning(session, row, version) if row is not None else None
    manifest = services.repository.manifest(name, version)
    with services.catalog.session() as session:
        embargo = ({} if user is not None and user.is_admin
                   else phases.embargoed_splits(session, name, manifest.version))
    return Opened(row, manifest, warning, embargo)


def version_base(services: Services, name: str, version: str) -> str:
    """Absolute URL of a version's routes on this service."""
    root = services.settings.public_base_url.rstrip("/")
    return f"{root}/api/v1/datasets/{name}/versions/{version}"


@router.get("/datasets", summary="List datasets (filter, search, paginate)",
            response_model=Page[DatasetSummary])
def list_datasets(
    request: Request,
    task: str | None = Query(None, description="exact task, e.g. image-classification"),
    modality: str | None = Query(None, description="image, audio, text, tabular, multimodal"),
    license: str | None = Query(None, description="SPDX id, e.g. CC-BY-4.0"),
    q: str | None = Query(None, max_length=200, description="text in name, title, description"),
    limit: int = Query(50, ge=1, le=1000, description="the most entries in the page"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="entries to skip"),
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> Page[DatasetSummary]:
    """Datasets with a committed version, by name; private ones only for who may read them."""
    query = DatasetQuery(task=task, modality=modality, license=license, text=q)
    with services.catalog.session() as session:
        total, rows = search_datasets(session, query, access.visible_clause(session, user),
                                      limit=limit, offset=offset)
        items = [DatasetSummary.model_validate(views.dataset_item(row)) for row in rows]
    return page(items, total, limit, offset, page_url(request))


@router.get("/datasets/{name}", summary="A dataset and its versions (newest first)",
            response_model=DatasetDetail)
def get_dataset(
    name: str = NAME,
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> dict[str, Any]:
    """Description, visibility, terms (gated), the caller's access and every version."""
    check_name(name, "dataset name")
    with services.catalog.session() as session:
        row = access.find_dataset(session, name)
        if not access.may_see(session, user, row):
            raise NotFound(f"dataset {name!r} does not exist")
        committed = catalog_versions(session, name) if row is not None else []
        if row is not None and committed:
            body = views.dataset_item(row)
            body["versions"] = [views.version_item(v) for v in committed if v.yanked_at is None]
            body["yanked_versions"] = [{"version": v.version, "reason": v.yank_reason}
                                       for v in committed if v.yanked_at is not None]
            latest = next((v for v in body["versions"] if v["version"] == row.latest_version),
                          None)
            body.update({k: (latest or {}).get(k) for k in views.LABELS_PUBLIC})
            body["held_out_labels_public"] = bool(body["held_out_labels_public"])
            body["created_at"] = views.iso(row.created_at)
            body["updated_at"] = views.iso(row.updated_at)
            if row.visibility == "gated":
                accepted = (access.has_accepted_terms(session, user, row)
                            if user is not None else False)
                body["terms"] = {"version": row.terms_version, "text": row.terms_text,
                                 "accepted": accepted}
            try:
                access.check_read(session, user, name)
                body["can_download"] = True
            except HeldoutError:
                body["can_download"] = False
            return body
    versions = services.repository.list_versions(name)
    if not versions:
        raise NotFound(f"dataset {name!r} does not exist")
    manifests = [services.repository.manifest(name, v) for v in versions]
    body = views.manifest_item(manifests[0])
    body["versions"] = [views.manifest_version_item(m) for m in manifests]
    body["can_download"] = True
    return body


@router.get("/datasets/{name}/versions/{version}", summary="The manifest of a version",
            response_model=Manifest)
def get_manifest(
    request: Request,
    name: str = NAME,
    version: str = VERSION,
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> Response:
    """``manifest.json`` of ``name@version`` (``latest``: the newest committed), byte for
    byte as stored: format ``heldout.manifest/1``, keys sorted. A read of a gated or private
    dataset is audited."""
    opened = open_version(services, user, name, version)
    if opened.audited:
        audit_request(services, request, user, "dataset.manifest",
                      f"{name}@{opened.manifest.version}", {"requested": version})
    return Response(opened.manifest.to_json(), media_type="application/json",
                    headers=opened.headers)


@router.get("/datasets/{name}/versions/{version}/report", response_model=IngestReport,
            summary="The private ingest report of a version (owner and admins only)")
def get_report(
    request: Request,
    name: str = NAME,
    version: str = VERSION,
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> dict[str, Any]:
    """Held-out source names → ids, full statistics (class balance of held-out splits),
    skipped files, duplicates and leakage with names. 404 to anyone but the dataset's owner
    and admins, as if it did not exist."""
    check_name(name, "dataset name")
    with services.catalog.session() as session:
        row = access.find_dataset(session, name)
        allowed = access.is_owner_or_admin(user, row)
    if not allowed:
        raise NotFound(f"dataset {name}@{version} has no report you can read")
    if version == "latest" and row is not None and row.latest_version:
        version = row.latest_version
    report = services.repository.report(name, version)
    audit_request(services, request, user, "dataset.report", f"{name}@{report['version']}", {})
    return report


@router.get("/datasets/{name}/versions/{version}/files",
            summary="Download URLs of a version's files", response_model=FileListing)
def list_files(
    request: Request,
    response: Response,
    name: str = NAME,
    version: str = VERSION,
    split: str | None = Query(None, description="only this split's shards"),
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> dict[str, Any]:
    """Shards (with sha256, sizes, rows) and the manifest, Croissant and card, each with a URL:
    presigned GET on S3, this service's streaming route on the local store."""
    opened = open_version(services, user, name, version)
    response.headers.update(opened.headers)
    manifest = opened.manifest
    splits = [check_split(split)] if split else [
        name_of for name_of in manifest.splits if name_of not in opened.embargo]
    if split:
        manifest.split_info(split)
        opened.check_split(split)
    store = services.stores.public
    expiry = services.settings.presign_expiry_seconds
    base = version_base(services, name, manifest.version)

    def url(path: str) -> str:
        key = layout.shard_key(name, manifest.version, path)
        return store.presigned_get_url(key, expiry) or f"{base}/files/{path}"

    files = []
    for path in METADATA_FILES:
        key = layout.shard_key(name, manifest.version, path)
        info = store.stat(key)
        sha = info.sha256
        if sha is None:  # an object written by another tool: hash it
            sha = hashlib.sha256(store.get_bytes(key)).hexdigest()
        files.append({"path": path, "split": None, "sha256": sha, "num_bytes": info.size,
                      "num_rows": None, "url": url(path)})
    for name_of_split in splits:
        for shard in manifest.splits[name_of_split].shards:
            files.append({"path": shard.path, "split": name_of_split, "sha256": shard.sha256,
                          "num_bytes": shard.num_bytes, "num_rows": shard.num_rows,
                          "url": url(shard.path)})
    if opened.audited:
        audit_request(services, request, user, "dataset.files", f"{name}@{manifest.version}",
                        {"split": split, "files": len(files)})
    return {"name": name, "version": manifest.version, "expires_in": expiry, "files": files}


@router.head("/datasets/{name}/versions/{version}/files/{path:path}", include_in_schema=False)
@router.get("/datasets/{name}/versions/{version}/files/{path:path}",
            summary="Stream one file (Range supported)", response_class=Response,
            responses={200: {"description": "the whole file", "content": FILE_CONTENT},
                       206: {"description": "the requested byte range",
                             "content": PARTIAL_CONTENT},
                       304: {"description": "not modified (If-None-Match matched the ETag)"}})
def get_file(
    request: Request,
    path: str,
    name: str = NAME,
    version: str = VERSION,
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> Response:
    """A shard, the manifest, the Croissant or the card; ``ETag`` is the sha256."""
    opened = open_version(services, user, name, version)
    manifest = opened.manifest
    store = services.stores.public
    key = layout.shard_key(name, manifest.version, path) if path in METADATA_FILES else None
    shard = next((s for s in manifest.all_shards() if s.path == path), None)
    if key is None and shard is None:
        raise NotFound(f"{name}@{manifest.version} has no file {path!r}; files are "
                       f"{', '.join(METADATA_FILES)} and the shards listed by …/files")
    sha: str | None
    if shard is not None:
        for split_name, split_info in manifest.splits.items():
            if shard in split_info.shards:
                opened.check_split(split_name)
        key = layout.shard_key(name, manifest.version, shard.path)
        size, sha = shard.num_bytes, shard.sha256
        media_type: str = "application/vnd.apache.parquet"
    else:
        assert key is not None
        info = store.stat(key)
        size, sha = info.size, info.sha256
        media_type = MEDIA_TYPES.get(path) or mimetypes.guess_type(path)[0] or "text/plain"
    if opened.audited and request.method == "GET":
        audit_request(services, request, user, "dataset.download",
                        f"{name}@{manifest.version}/{path}",
                        {"range": request.headers.get("range")})
    cache = "public, max-age=31536000, immutable" if opened.public else "private, no-store"
    return object_response(
        store, key, size=size, sha256=sha, media_type=media_type,
        range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
        if_none_match=request.headers.get("if-none-match"), head=request.method == "HEAD",
        cache_control=cache,
    )


@router.get("/datasets/{name}/versions/{version}/rows", summary="A page of rows (preview)",
            response_model=RowsPage)
def get_rows(
    request: Request,
    name: str = NAME,
    version: str = VERSION,
    split: str | None = Query(None, description="split (default: train, else the first)"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    length: int = Query(20, ge=1, le=preview.MAX_PAGE, description="the most rows in the page"),
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> RowsPage:
    """Rows ``offset … offset+length`` of a split's public columns; media as preview URLs."""
    opened = open_version(services, user, name, version)
    manifest = opened.manifest
    chosen = split or ("train" if "train" in manifest.splits else next(iter(manifest.splits)))
    check_split(chosen)
    opened.check_split(chosen)
    base = version_base(services, name, manifest.version) + "/preview"
    rows = preview.read_rows(services.stores.public, manifest, chosen, offset, length, base)
    if opened.audited:
        audit_request(services, request, user, "dataset.rows", f"{name}@{manifest.version}",
                        {"split": chosen, "offset": offset, "length": rows["length"]})
    return RowsPage(items=rows["rows"], total=rows["num_rows_total"], limit=length,
                    next=next_url(page_url(request), rows["num_rows_total"], length, offset,
                                  size="length"), **rows)


@router.get("/datasets/{name}/versions/{version}/preview/{split}/{row_index}/{column}",
            summary="A thumbnail (PNG) or a short clip (WAV) of one media cell",
            response_class=Response,
            responses={200: {"description": "the preview", "content": {
                "image/png": BINARY, "audio/wav": BINARY}}})
def get_preview(
    request: Request,
    column: str,
    split: str = SPLIT,
    row_index: int = Path(ge=0, le=MAX_OFFSET),
    name: str = NAME,
    version: str = VERSION,
    user: Principal | None = Depends(optional_user),
    services: Services = Depends(get_services),
) -> Response:
    """A PNG of at most 128 px for images, the first 5 s as WAV for audio (≤ 2 channels,
    ≤ 48 kHz), made once and cached in the store; 503 with Retry-After while every preview
    slot is busy; 422 for media too large to preview (checked from headers, not decoded)."""
    opened = open_version(services, user, name, version)
    manifest = opened.manifest
    check_split(split)
    opened.check_split(split)
    data, media_type = preview.preview_bytes(services.stores, manifest, split, row_index,
                                             column, request.app.state.preview_slots)
    if opened.audited:
        audit_request(services, request, user, "dataset.preview",
                        f"{name}@{manifest.version}/{split}/{row_index}/{column}", {})
    cache = "public, max-age=86400" if opened.public else "private, no-store"
    return Response(data, media_type=media_type, headers={"Cache-Control": cache})


@router.post("/datasets/{name}/terms", summary="Accept the current terms of a gated dataset",
             status_code=201, response_model=TermsAcceptance)
def accept_terms(
    request: Request,
    name: str = NAME,
    user: Principal = Depends(require_user),
    services: Services = Depends(get_services),
) -> TermsAcceptance:
    """Records who accepted which terms version, and when."""
    check_name(name, "dataset name")
    with services.catalog.session() as session:
        row = access.find_dataset(session, name)
        if row is None or not access.may_see(session, user, row):
            raise NotFound(f"dataset {name!r} does not exist")
        accepted = access.accept_terms(session, user, row)
    audit_request(services, request, user, "dataset.terms_accepted", name,
                  {"terms_version": accepted.terms_version})
    return TermsAcceptance(dataset=name, user=user.name, terms_version=accepted.terms_version,
                           accepted_at=accepted.accepted_at)
