"""Exact duplicates (sha256) within and across splits, and near-duplicate images (pHash).

A file whose bytes appear in two splits is *leakage*: a model trained on one split has seen
the other's example. Images whose 64-bit perceptual hashes differ in at most
``NEAR_DUPLICATE_THRESHOLD`` bits across train and an evaluation split are flagged as
near-duplicates (re-encodes, resizes, small edits); they are reported, not refused.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NEAR_DUPLICATE_THRESHOLD = 4  # Hamming distance in bits, of 64
EXAMPLES_SHOWN = 20
EVALUATION_SPLITS = frozenset({"test", "validation", "valid", "val", "dev", "eval"})


@dataclass
class DuplicateTracker:
    """Collects (sha256, phash, name) of every valid file while a publish streams."""

    near_threshold: int = NEAR_DUPLICATE_THRESHOLD
    _first: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    _within: dict[str, list[list[str]]] = field(default_factory=lambda: defaultdict(list))
    _groups: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _phashes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _phash_names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, split: str, name: str, sha256: str, phash: int | None) -> None:
        """Record one valid file."""
        first = self._first[split].get(sha256)
        if first is None:
            self._first[split][sha256] = name
        else:
            group = self._groups.get((split, sha256))
            if group is None:
                group = [first]
                self._groups[(split, sha256)] = group
                self._within[split].append(group)
            group.append(name)
        if phash is not None:
            self._phashes[split].append(phash)
            self._phash_names[split].append(name)

    def duplicates(self) -> dict[str, Any]:
        """Exact duplicates within each split: groups, extra copies and the first groups."""
        out: dict[str, Any] = {}
        for split, groups in self._within.items():
            out[split] = {
                "groups": len(groups),
                "extra_copies": sum(len(g) - 1 for g in groups),
                "examples": [list(g) for g in groups[:EXAMPLES_SHOWN]],
            }
        return out

    def leakage_pairs(self) -> list[dict[str, str]]:
        """Every file whose exact bytes are in two splits (one entry per pair of splits)."""
        splits = sorted(self._first)
        pairs: list[dict[str, str]] = []
        for i, a in enumerate(splits):
            for b in splits[i + 1:]:
                small, big = sorted((a, b), key=lambda s: len(self._first[s]))
                for sha, name in self._first[small].items():
                    other = self._first[big].get(sha)
                    if other is not None:
                        pairs.append({"sha256": sha, small: name, big: other,
                                      "splits": f"{small}/{big}"})
        return pairs

    def near_duplicates(self, pairs_of_splits: list[tuple[str, str]]) -> dict[str, Any]:
        """Image pairs across ``pairs_of_splits`` within the Hamming threshold (not identical)."""
        found: list[dict[str, Any]] = []
        total = 0
        for a, b in pairs_of_splits:
            if not self._phashes.get(a) or not self._phashes.get(b):
                continue
            ha = np.array(self._phashes[a], dtype=np.uint64)
            hb = np.array(self._phashes[b], dtype=np.uint64)
            for start in range(0, len(ha), 1024):
                block = ha[start:start + 1024]
                distance = np.bitwise_count(block[:, None] ^ hb[None, :])
                rows, cols = np.nonzero(distance <= self.near_threshold)
                total += len(rows)
                for r, c in zip(rows[: EXAMPLES_SHOWN], cols[: EXAMPLES_SHOWN], strict=True):
                    if len(found) < EXAMPLES_SHOWN:
                        found.append({a: self._phash_names[a][start + int(r)],
                                      b: self._phash_names[b][int(c)],
                                      "distance": int(distance[r, c])})
        return {
            "method": "pHash (64-bit DCT hash, as imagehash.phash)",
            "threshold_bits": self.near_threshold,
            "compared": [f"{a}/{b}" for a, b in pairs_of_splits],
            "pairs": total,
            "examples": found,
        }


def comparison_pairs(splits: list[str], held_out: list[str]) -> list[tuple[str, str]]:
    """Which split pairs to compare for near-duplicates: each training split against each
    evaluation split (``test``, ``validation``… or any held-out split)."""
    evaluation = [s for s in splits if s in held_out or s in EVALUATION_SPLITS]
    training = [s for s in splits if s not in evaluation]
    return [(t, e) for t in training for e in evaluation]
