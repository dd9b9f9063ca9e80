"""When to try a request again: ``Retry-After``, else exponential backoff with full jitter."""

from __future__ import annotations

import email.utils
import random
import time

import httpx


def retry_delay(attempt: int, response: httpx.Response | None, base: float, cap: float) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): ``Retry-After`` or jittered backoff."""
    if response is not None:
        header = response.headers.get("Retry-After")
        if header:
            header = header.strip()
            if header.isdigit():
                return min(float(header), cap)
            parsed = email.utils.parsedate_to_datetime(header) if header else None
            if parsed is not None:
                return max(0.0, min(parsed.timestamp() - time.time(), cap))
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))
