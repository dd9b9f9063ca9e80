"""ASGI middleware: request ids (in every log line), access log, 500s, request body limits."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heldout.api.problems import http_problem
from heldout.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
BODY_LIMIT_SCOPE_KEY = "heldout.body_limit"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
access_log = logging.getLogger("heldout.api.access")
error_log = logging.getLogger("heldout.api")


class RequestContextMiddleware:
    """Request id in (``X-Request-ID``, else a new one) and out; access log; problem+json 500s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("request_id=%s %s %s failed with an unexpected error",
                                request_id, scope["method"], scope["path"])
            if status:
                raise
            status = 500
            response = http_problem(
                500, f"unexpected server error; quote request id {request_id} when reporting it",
                scope["path"],
            )
            await response(scope, receive, send_with_id)
        finally:
            principal: Any = scope.get("state", {}).get("principal")
            who = f"{principal.name} key={principal.masked_key}" if principal else "anonymous"
            access_log.info(
                "request_id=%s %s %s %s %.1fms %s", request_id, scope["method"], scope["path"],
                status, (time.perf_counter() - started) * 1000, who,
            )
            request_id_var.reset(token)


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI would parse a body of ``content_type`` as JSON (it does without one)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("application/") and (media.endswith("/json")
                                                 or media.endswith("+json"))


class BodyLimitMiddleware:
    """Refuse request bodies over a per-route limit with 413 problem+json.

    Upload routes (``rules``) take large streamed bodies; JSON bodies, parsed in memory, get
    ``json_limit``; anything else ``default_limit``. A declared ``Content-Length`` over the
    limit is refused before the app runs; bodies without one (chunked) are counted by
    Starlette's ``RequestBodyLimitMiddleware`` while the route reads them, and the 413 it
    raises goes through the app's problem handlers.
    """

    def __init__(self, app: ASGIApp, default_limit: int, json_limit: int | None = None,
                 rules: Sequence[tuple[re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.default_limit = default_limit
        self.json_limit = default_limit if json_limit is None else json_limit
        self.rules = list(rules)

    def limit_for(self, path: str, content_type: str | None = None) -> int:
        """The body limit of ``path``: the first matching rule's, else by content type."""
        for pattern, limit in self.rules:
            if pattern.match(path):
                return limit
        return self.json_limit if is_json(content_type) else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(scope["path"], headers.get("content-type"))
        scope[BODY_LIMIT_SCOPE_KEY] = limit
        declared = headers.get("content-length")
        if declared is not None and declared.isascii() and declared.isdigit() \
                and int(declared) > limit:
            response = http_problem(
                413, f"the request body is {declared} bytes; {scope['path']} accepts at most "
                f"{limit} bytes", scope["path"], headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        await RequestBodyLimitMiddleware(self.app, max_body_size=limit)(scope, receive, send)
