"""Who is calling, decided from the ``Authorization`` header before anything reads the body.

:class:`IdentityMiddleware` verifies the bearer key (one indexed lookup, in a worker thread),
then spends one token of the caller's rate-limit bucket: a verified user's own bucket, else
the client address's (anonymous requests and failed keys alike, so neither a forged key prefix
nor a random one buys a fresh bucket). A failed key is answered 401 at once. Routes that need
a user refuse an anonymous caller before their body is read or parsed
(:class:`heldout.api.deps.AuthFirstRoute`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from heldout.accounts.keys import authenticate
from heldout.accounts.roles import Principal
from heldout.api.problems import error_response, http_problem
from heldout.api.ratelimit import TokenBuckets
from heldout.errors import HeldoutError, Unauthorized
from heldout.services import Services

IDENTITY_SCOPE_KEY = "heldout.identity"
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True)
class Identity:
    """The verified caller (None: anonymous), the key's failure if any, and the address."""

    principal: Principal | None
    error: Unauthorized | None
    address: str

    @property
    def bucket(self) -> str:
        """The rate-limit bucket: the verified user's, else the client address's."""
        if self.principal is not None:
            return f"user:{self.principal.id}"
        return f"ip:{self.address}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` value (None without the header)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <api key>'")
    return token.strip()


def verify(services: Services, authorization: str | None) -> Principal | None:
    """The principal of an Authorization header value (None if absent); Unauthorized if bad."""
    token = bearer_token(authorization)
    if token is None:
        return None
    with services.catalog.session() as session:
        return authenticate(session, token)


async def identify(services: Services, scope: Scope) -> Identity:
    """The caller of ``scope``, verified in a worker thread (the lookup is a database query)."""
    client = scope.get("client")
    address = client[0] if client else "unknown"
    header = Headers(scope=scope).get("authorization")
    if header is None:
        return Identity(None, None, address)
    try:
        principal = await run_in_threadpool(verify, services, header)
    except Unauthorized as exc:
        return Identity(None, exc, address)
    return Identity(principal, None, address)


class IdentityMiddleware:
    """Verify the caller, charge its rate-limit bucket (429), refuse a bad key (401)."""

    def __init__(self, app: ASGIApp, services: Services,
                 buckets: TokenBuckets | None = None) -> None:
        self.app = app
        self.services = services
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            identity = await identify(self.services, scope)
        except HeldoutError as exc:  # the database is down: 503, not a 500
            await error_response(exc, scope["path"])(scope, receive, send)
            return
        scope[IDENTITY_SCOPE_KEY] = identity
        scope.setdefault("state", {})["principal"] = identity.principal
        if self.buckets is not None:
            wait = self.buckets.take(identity.bucket)
            if wait > 0:
                await self._too_many(identity, wait, scope, receive, send)
                return
        if identity.error is not None:
            await error_response(identity.error, scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _too_many(self, identity: Identity, wait: float, scope: Scope, receive: Receive,
                        send: Send) -> None:
        assert self.buckets is not None
        seconds = max(1, math.ceil(wait))
        who = "user" if identity.principal is not None else "address"
        response = http_problem(
            429, f"too many requests from this {who}: at most "
            f"{round(self.buckets.rate * 60)} per minute (bursts of "
            f"{int(self.buckets.burst)}); retry in {seconds} s", scope["path"],
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)


def scope_identity(scope: Scope) -> Identity | None:
    """The identity :class:`IdentityMiddleware` put in ``scope`` (None if it did not run)."""
    identity: Identity | None = scope.get(IDENTITY_SCOPE_KEY)
    return identity
