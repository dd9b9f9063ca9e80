"""Request dependencies: the app's Services and the caller (from ``Authorization: Bearer``)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from heldout.accounts import audit
from heldout.accounts.keys import authenticate
from heldout.accounts.roles import Principal
from heldout.errors import Forbidden, Unauthorized
from heldout.services import Services

MAX_OFFSET = 1_000_000_000  # larger offsets overflow database integers; no list is that long


def get_services(request: Request) -> Services:
    """The long-lived services the app was built with."""
    services: Services = request.app.state.services
    return services


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (None without the header)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <api key>'")
    return token.strip()


def optional_user(request: Request) -> Principal | None:
    """The caller, or None for an anonymous request; an invalid key is 401, never anonymous."""
    token = bearer_token(request)
    if token is None:
        return None
    services = get_services(request)
    with services.catalog.session() as session:
        principal = authenticate(session, token)
    request.state.principal = principal
    return principal


def require_user(user: Principal | None = Depends(optional_user)) -> Principal:
    """The caller; 401 without a key."""
    if user is None:
        raise Unauthorized("this route needs an API key: send 'Authorization: Bearer <key>'")
    return user


class RoleCheck:
    """A dependency that admits callers with one of ``roles`` (401 anonymous, 403 otherwise).

    ``roles`` is also read by the OpenAPI document, which names the roles of each operation.
    """

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def __call__(self, user: Principal = Depends(require_user)) -> Principal:
        if user.role not in self.roles:
            raise Forbidden(
                f"user {user.name!r} has role {user.role!r}; this route needs "
                + " or ".join(repr(r) for r in self.roles)
            )
        return user


def require_role(*roles: str) -> RoleCheck:
    """A dependency that admits callers with one of ``roles`` (401 anonymous, 403 otherwise)."""
    return RoleCheck(*roles)


require_admin = require_role("admin")
require_publisher = require_role("admin", "publisher")


def page_url(request: Request) -> str:
    """This request's URL as users reach the service (``public_base_url``), for ``next`` links."""
    root = get_services(request).settings.public_base_url.rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{root}{request.url.path}{query}"


def client_ip(request: Request) -> str | None:
    """The caller's address (uvicorn resolves trusted proxy headers into it)."""
    return request.client.host if request.client else None


def request_id(request: Request) -> str | None:
    """The request id set by the middleware."""
    value = getattr(request.state, "request_id", None)
    return str(value) if value else None


def audit_request(services: Services, request: Request, user: Principal | None, action: str,
                  target: str, detail: dict[str, Any] | None = None) -> None:
    """Append an audit event for this request: who, what, from where, with its request id."""
    with services.catalog.session() as session:
        audit.record(session, action, target, user_id=user.id if user else None,
                     client_ip=client_ip(request), request_id=request_id(request), detail=detail)
