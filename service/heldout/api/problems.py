"""RFC 9457 ``application/problem+json`` for every error the API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from heldout.errors import PROBLEM_BASE, HeldoutError, InvalidInput, error_class
from heldout.logs import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
log = logging.getLogger("heldout.api")

# Every error answer refers to the ``Problem`` schema (heldout.api.schemas.common), which
# heldout.api.openapi puts in the document's components.
PROBLEM_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT: dict[str, Any] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
# Documented on every route: any 4xx/5xx answer is a problem (this also replaces FastAPI's
# default 422 schema, which describes its own error body, not ours).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"description": "Client error (RFC 9457 problem)", "content": PROBLEM_CONTENT},
    "5XX": {"description": "Server error (RFC 9457 problem)", "content": PROBLEM_CONTENT},
}

# HTTP statuses the framework raises that no error class has (routing, content negotiation).
_EXTRA_SLUGS = {405: "method-not-allowed", 406: "not-acceptable", 415: "unsupported-media-type",
                416: "range-not-satisfiable", 400: "bad-request"}


def problem_response(
    status: int,
    type_uri: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; the request id is added to the body when one is set."""
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="heldout"')
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=all_headers)


def error_response(exc: HeldoutError, instance: str | None = None) -> JSONResponse:
    """The problem response of a typed Heldout error."""
    body = exc.to_problem(instance)
    status = int(body.pop("status"))
    headers: dict[str, str] | None = getattr(exc, "headers", None)  # e.g. Retry-After
    retry = body.get("retry_after")
    if retry and not headers:
        headers = {"Retry-After": str(retry)}
    return problem_response(status, body.pop("type"), body.pop("title"), body.pop("detail"),
                            headers=headers, **body)


def http_problem(status: int, detail: str, instance: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """The problem response for a bare HTTP status (framework errors)."""
    cls = error_class(status)
    if cls is not None:
        type_uri, title = PROBLEM_BASE + cls.slug, cls.title
    elif status in _EXTRA_SLUGS:
        type_uri, title = PROBLEM_BASE + _EXTRA_SLUGS[status], HTTPStatus(status).phrase
    else:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        type_uri = "about:blank"
    return problem_response(status, type_uri, title, detail, instance=instance, headers=headers)


async def _heldout_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HeldoutError)
    if exc.status >= 500:
        log.warning("request_id=%s %s %s failed: %s", _rid(), request.method, request.url.path,
                    exc.detail)
    return error_response(exc, request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path} (see /docs for the API)"
    elif exc.status_code == 405:
        allowed = allowed_methods(request)
        detail = (f"method {request.method} is not allowed on {request.url.path}"
                  + (f"; use {', '.join(allowed)}" if allowed else ""))
        if allowed:
            return http_problem(405, detail, request.url.path, {"Allow": ", ".join(allowed)})
    elif exc.status_code == 413:
        limit = request.scope.get("heldout.body_limit")
        detail = (f"the request body is larger than {request.url.path} accepts"
                  + (f" (at most {limit} bytes)" if limit else ""))
    return http_problem(exc.status_code, detail, request.url.path, dict(exc.headers or {}))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    return [method for method in HTTP_METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                   for route in request.app.router.routes)]


def describe_errors(errors: Any, limit: int = 5) -> tuple[str, list[dict[str, Any]]]:
    """'<where>: <message>' for FastAPI validation errors, and a JSON-safe list of them."""
    items = []
    for error in list(errors):
        loc = ".".join(str(p) for p in error.get("loc", ()))
        items.append({"loc": loc, "msg": str(error.get("msg", "")).removeprefix("Value error, "),
                      "type": error.get("type")})
    text = "; ".join(f"{e['loc']}: {e['msg']}" for e in items[:limit])
    if len(items) > limit:
        text += f"; and {len(items) - limit} more"
    return text or "the request is invalid", items


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail, items = describe_errors(exc.errors())
    return problem_response(422, PROBLEM_BASE + InvalidInput.slug, InvalidInput.title, detail,
                            instance=request.url.path, errors=items)


def _rid() -> str:
    return current_request_id() or "-"


def install_problem_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    app.add_exception_handler(HeldoutError, _heldout_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
