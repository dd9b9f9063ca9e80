"""Seeded, stratified assignment of examples to splits (when the source has no split folders)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np

from heldout.errors import IngestError
from heldout.names import check_split

DEFAULT_FRACTIONS = {"train": 0.8, "test": 0.2}


def parse_fractions(text: str) -> dict[str, float]:
    """``"train=0.8,test=0.2"`` → ``{"train": 0.8, "test": 0.2}`` (must sum to 1)."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if not sep or fraction <= 0:
            raise IngestError(
                f"split fraction {part!r} is not NAME=FRACTION with a fraction above 0"
            )
        out[check_split(name.strip())] = fraction
    check_fractions(out)
    return out


def check_fractions(fractions: dict[str, float]) -> None:
    """Fractions must be positive and sum to 1."""
    if not fractions:
        raise IngestError("give at least one split fraction, e.g. train=0.8,test=0.2")
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6 or any(f <= 0 for f in fractions.values()):
        raise IngestError(
            f"split fractions {fractions} must be positive and sum to 1 (got {total})"
        )


def _counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Largest-remainder apportionment of ``n`` items."""
    raw = [n * f for f in fractions]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def stratified_split(
    keys: Sequence[str], labels: Sequence[Hashable], fractions: dict[str, float], seed: int
) -> list[str]:
    """The split of each item: per label, items sorted by key, shuffled with ``seed`` and cut by
    ``fractions`` (largest remainder), so every class is spread the same way and the result
    depends only on the keys, labels, fractions and seed — not on listing order.
    """
    check_fractions(fractions)
    if len(keys) != len(labels):
        raise ValueError("keys and labels differ in length")
    names = list(fractions)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)
    out = [""] * len(keys)
    rng = np.random.default_rng(seed)
    for label in sorted(groups, key=lambda v: (v is None, str(v))):
        members = sorted(groups[label], key=lambda i: keys[i])
        members = [members[i] for i in rng.permutation(len(members))]
        start = 0
        for name, count in zip(names, _counts(len(members), list(fractions.values())),
                               strict=True):
            for i in members[start:start + count]:
                out[i] = name
            start += count
    return out
