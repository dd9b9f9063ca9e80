"""Request dependencies: the app's Services and the caller (from ``Authorization: Bearer``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from heldout.accounts import audit
from heldout.accounts.roles import Principal
from heldout.api.identity import scope_identity, verify
from heldout.errors import Forbidden, Unauthorized
from heldout.services import Services

MAX_OFFSET = 1_000_000_000  # larger offsets overflow database integers; no list is that long


def get_services(request: Request) -> Services:
    """The long-lived services the app was built with."""
    services: Services = request.app.state.services
    return services


def optional_user(request: Request) -> Principal | None:
    """The caller, or None for an anonymous request; an invalid key is 401, never anonymous.

    The identity middleware has already verified the header (before the body was read); without
    it (an app built by hand), the header is verified here.
    """
    identity = scope_identity(request.scope)
    if identity is not None:
        if identity.error is not None:
            raise identity.error
        return identity.principal
    principal = verify(get_services(request), request.headers.get("authorization"))
    request.state.principal = principal
    return principal


def require_user(user: Principal | None = Depends(optional_user)) -> Principal:
    """The caller; 401 without a key."""
    if user is None:
        raise Unauthorized(NEEDS_KEY)
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
NEEDS_KEY = "this route needs an API key: send 'Authorization: Bearer <key>'"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def needs_user(dependant: Dependant) -> bool:
    """Whether a route's dependencies (at any depth) include :func:`require_user`."""
    return any(call is require_user for call in _calls(dependant))


class AuthFirstRoute(APIRoute):
    """A route that refuses an anonymous caller of a route needing a user *before* FastAPI
    reads and parses the request body (FastAPI reads bodies before it solves dependencies).
    Every router uses it: ``APIRouter(route_class=AuthFirstRoute)``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not needs_user(self.dependant):
            return handler

        async def guarded(request: Request) -> Response:
            identity = scope_identity(request.scope)
            if identity is not None and identity.principal is None:
                raise Unauthorized(NEEDS_KEY)
            return await handler(request)

        return guarded


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
