"""Submissions over HTTP: upload (multipart, streamed), read, list one's own, select, disqualify."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from heldout.accounts.roles import Principal
from heldout.api.deps import (
    MAX_OFFSET,
    AuthFirstRoute,
    client_ip,
    get_services,
    request_id,
    require_admin,
    require_user,
)
from heldout.api.problems import http_problem
from heldout.api.routers.benchmarks import BENCHMARK, actor_of
from heldout.api.schemas.benchmarks import (
    Disqualified,
    DisqualifyBody,
    SelectBody,
    SubmissionDoc,
)
from heldout.api.schemas.common import Page, next_url
from heldout.benchmarks import actions, submissions
from heldout.errors import InvalidInput
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["submissions"], route_class=AuthFirstRoute)
UPLOAD_PATH = r"^/api/v1/benchmarks/[^/]+/submissions$"
MULTIPART_OVERHEAD = 1024 * 1024  # form fields and part headers around the file
SUBMISSION = Path(description="submission id (from the upload's answer)")
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "model_name"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "predictions: .csv, .jsonl or .parquet, keyed by id"},
        "model_name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S",
                       "description": "1 to 200 characters, not all blank"},
        "description": {"type": "string"},
        "link": {"type": "string", "description": "code or paper URL"}}}}}}}


def _text(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return str(value)


@router.post("/benchmarks/{benchmark_id}/submissions", status_code=202,
             response_model=SubmissionDoc, summary="Submit a prediction file",
             openapi_extra=UPLOAD_BODY)
async def create_submission(
    request: Request,
    benchmark_id: str = BENCHMARK,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key",
                                         description="a retried upload with the same key "
                                         "returns the first submission"),
    user: Principal = Depends(require_user),
    services: Services = Depends(get_services),
) -> Any:
    """202 with the queued submission; a file the scoring engine rejects is a 422 listing
    every problem (it costs no quota); 429 with Retry-After when the quota is used up."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return http_problem(415, f"send the predictions as multipart/form-data (a 'file' part "
                            f"and 'model_name'), not {content_type or 'no content type'!r}",
                            request.url.path)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the form needs a 'file' part with the predictions")
        model_name = _text(form, "model_name")
        if model_name is None:
            raise InvalidInput("the form needs a 'model_name' field")
        doc = await anyio.to_thread.run_sync(lambda: submissions.create_submission(
            services, benchmark_id=benchmark_id, user=user, file=upload.file,
            filename=upload.filename or "predictions", model_name=model_name,
            description=_text(form, "description"), link=_text(form, "link") or None,
            idempotency_key=idempotency_key, client_ip=client_ip(request),
            request_id=request_id(request)))
    return JSONResponse(SubmissionDoc.model_validate(doc).model_dump(mode="json"),
                        status_code=202, headers={"Location": f"/api/v1/submissions/{doc['id']}"})


@router.get("/benchmarks/{benchmark_id}/submissions", response_model=Page[SubmissionDoc],
            summary="Your (and your team's) submissions to a benchmark")
def list_submissions(request: Request, benchmark_id: str = BENCHMARK,
                     mine: bool = Query(True, description="1: yours and your team's; 0: "
                                        "every submission (admins; others still see theirs)"),
                     limit: int = Query(50, ge=1, le=500),
                     offset: int = Query(0, ge=0, le=MAX_OFFSET),
                     user: Principal = Depends(require_user),
                     services: Services = Depends(get_services)) -> dict[str, Any]:
    items, total = submissions.list_mine(services, user, benchmark_id, limit, offset,
                                         everyone=user.is_admin and not mine)
    return {"items": items, "total": total, "limit": limit, "offset": offset,
            "next": next_url(request.url, total, limit, offset)}


@router.get("/submissions/{submission_id}", response_model=SubmissionDoc,
            summary="One submission (its owner, their team and admins)")
def get_submission(submission_id: str = SUBMISSION, user: Principal = Depends(require_user),
                   services: Services = Depends(get_services)) -> dict[str, Any]:
    """Status, scores with 95% intervals (private ones once revealed), failure reason.
    Anyone else gets 404."""
    return submissions.get_submission(services, user, submission_id)


@router.post("/submissions/{submission_id}/select", response_model=SubmissionDoc,
             summary="Mark (or unmark) a final selection")
def select_submission(submission_id: str = SUBMISSION,
           body: SelectBody | None = Body(None),
           user: Principal = Depends(require_user),
           services: Services = Depends(get_services)) -> dict[str, Any]:
    """Up to the benchmark's ``max_final_selections`` per team; without any, the best public
    ones count on the private leaderboard."""
    return submissions.select_final(services, user, submission_id,
                                    body.selected if body else True)


@router.post("/submissions/{submission_id}/disqualify", response_model=Disqualified,
             summary="Disqualify a submission (admin)")
def disqualify(request: Request, body: DisqualifyBody, submission_id: str = SUBMISSION,
               user: Principal = Depends(require_admin),
               services: Services = Depends(get_services)) -> dict[str, Any]:
    actions.disqualify(services, submission_id, body.reason, actor_of(request, user))
    return {"submission_id": submission_id, "reason": body.reason.strip()}
