"""Per-client request rate limits: a token bucket per verified user (else per address).

Each process keeps its own buckets (the API is stateless, so N workers allow up to N times the
rate; put a shared limiter in the proxy when that matters). :mod:`heldout.api.identity` decides
whose bucket a request spends, after verifying its key: an unverified key prefix never names a
bucket. A request over the limit gets 429 problem+json with ``Retry-After`` before any route runs.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

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
