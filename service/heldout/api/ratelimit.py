"""Per-client request rate limits: a token bucket per API key (or per address without one).

Each process keeps its own buckets (the API is stateless, so N workers allow up to N times the
rate; put a shared limiter in the proxy when that matters). A request over the limit gets 429
problem+json with ``Retry-After``, before any route or database work runs.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from heldout.accounts.keys import KEY_PATTERN
from heldout.api.problems import http_problem

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
MAX_CLIENTS = 100_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``rate_per_minute`` sustained and ``burst`` at once per client; the least recently seen
    clients are forgotten beyond ``max_clients`` (a forgotten client starts with a full bucket)."""

    def __init__(self, rate_per_minute: int, burst: int, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(max(1, burst))
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one token of ``client``: 0.0 if allowed, else the seconds until one is back."""
        now = self.clock()
        bucket = self._buckets.pop(client, None) or Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[client] = bucket
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def client_of(scope: Scope) -> str:
    """The key prefix of a ``Bearer hld_…`` request, else the client address."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    match = KEY_PATTERN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
    if match:
        return "key:" + match.group("prefix")
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    """Refuse requests over the client's rate with 429 and ``Retry-After`` (health exempt)."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        wait = self.buckets.take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            who = "API key" if client.startswith("key:") else "address"
            response = http_problem(
                429, f"too many requests from this {who}: at most "
                f"{round(self.buckets.rate * 60)} per minute (bursts of "
                f"{int(self.buckets.burst)}); retry in {seconds} s", scope["path"],
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
