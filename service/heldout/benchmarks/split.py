"""The public/private split of a competition's test ids, by a keyed hash nobody else can compute.

Each id goes to the public part when HMAC-SHA256(key, id), read as a number in [0, 1), is below
``public_fraction``. The key is derived from the server's secret and the benchmark id, so a
participant cannot tell which ids count where, and two benchmarks split differently.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_SCALE = float(2**64)


def split_key(secret_key: str, benchmark_id: str) -> bytes:
    """The benchmark's split key: HMAC of its id under the server secret."""
    return hmac.new(secret_key.encode(), f"heldout-split:{benchmark_id}".encode(),
                    hashlib.sha256).digest()


def public_mask(ids: Sequence[str], key: bytes, public_fraction: float) -> NDArray[np.bool_]:
    """True for each id in the public part (everything when the fraction is 1)."""
    if public_fraction >= 1:
        return np.ones(len(ids), dtype=bool)
    out = np.empty(len(ids), dtype=bool)
    for i, value in enumerate(ids):
        digest = hmac.new(key, str(value).encode(), hashlib.sha256).digest()
        out[i] = int.from_bytes(digest[:8], "big") / _SCALE < public_fraction
    return out
