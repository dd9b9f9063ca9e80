"""Secrecy of held-out splits by construction: random ids, a secret row order, public views.

- Held-out ids are drawn from :mod:`secrets` (96 bits, 24 hex characters) each time a version
  is written, so they cannot be recomputed from file names, indices or content, and two
  publishes of the same source share none. The source → id map goes to the private report.
- Held-out rows are written in a fresh uniformly random order (:class:`SecretOrder`: a
  scatter shuffle with a 64-bit key per row from :mod:`secrets`; rows spill to disk in
  buckets past a memory budget, so any split size is shuffled with bounded memory).
- :func:`public_view` keeps only what may be public of statistics, skipped files and leakage:
  no label-derived statistic of a held-out split, and no per-example fact (file names, ids)
  about held-out items; those are counted. Everything goes to the private report.
"""

from __future__ import annotations

import pickle
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from heldout.errors import InvalidInput

ID_BYTES: Final = 12  # 96 bits
REPORT_FORMAT: Final = "heldout.ingest-report/1"
MEMORY_BUDGET: Final = 64 * 1024**2
BUCKET_BITS: Final = 6  # 64 spill buckets
# Per-split statistics computed from the inputs alone (public anyway); anything else keyed by
# a held-out split (class balance, a publisher's own label histogram…) stays private.
INPUT_STATISTICS: Final = frozenset({
    "num_files", "num_bytes", "formats", "image_width", "image_height",
    "audio_duration_seconds", "sample_rate",
})
COUNTED_STATISTICS: Final = frozenset({"duplicates", "near_duplicates"})


def new_id() -> str:
    """A fresh random held-out id: 24 hex characters (96 bits from :mod:`secrets`)."""
    return secrets.token_hex(ID_BYTES)


class HeldOutIds:
    """Draws a fresh random id for each source id of one split, and remembers the map."""

    def __init__(self, split: str) -> None:
        self.split = split
        self.mapping: dict[str, str] = {}
        self._drawn: set[str] = set()

    def draw(self, source_id: object) -> str:
        """The new id of ``source_id`` (refuses a source id seen twice)."""
        key = str(source_id)
        if key in self.mapping:
            raise InvalidInput(f"split {self.split!r}: id {key!r} appears more than once")
        new = new_id()
        while new in self._drawn:  # 2^-96 per pair; cheap to rule out anyway
            new = new_id()
        self._drawn.add(new)
        self.mapping[key] = new
        return new


class SecretOrder:
    """Rows in, the same rows out in a uniformly random order drawn from :mod:`secrets`.

    Each row gets a 64-bit random key; rows are sorted by key. Past ``memory_bytes`` the rows
    spill into ``2**BUCKET_BITS`` temporary files by the key's top bits and each bucket is
    sorted on its own (Rao-Sandelius scatter shuffle, still uniform).
    """

    def __init__(self, folder: str | Path | None = None,
                 memory_bytes: int = MEMORY_BUDGET) -> None:
        self._folder = folder
        self._memory_bytes = memory_bytes
        self._rows: list[tuple[int, Any]] = []
        self._size = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._files: list[IO[bytes]] = []

    def add(self, row: Any, size: int) -> None:
        """Queue ``row`` (``size``: its approximate bytes, for the memory budget)."""
        key = secrets.randbits(64)
        if self._files:
            pickle.dump((key, row), self._files[key >> (64 - BUCKET_BITS)],
                        protocol=pickle.HIGHEST_PROTOCOL)
            return
        self._rows.append((key, row))
        self._size += size
        if self._size > self._memory_bytes:
            self._spill()

    def _spill(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="heldout-order-", dir=self._folder)
        root = Path(self._tmp.name)
        self._files = [open(root / f"{i:02d}", "w+b") for i in range(2**BUCKET_BITS)]  # noqa: SIM115
        rows, self._rows = self._rows, []
        for key, row in rows:
            pickle.dump((key, row), self._files[key >> (64 - BUCKET_BITS)],
                        protocol=pickle.HIGHEST_PROTOCOL)

    def __iter__(self) -> Iterator[Any]:
        if not self._files:
            rows, self._rows = self._rows, []
            rows.sort(key=lambda item: item[0])
            yield from (row for _, row in rows)
            return
        try:
            for handle in self._files:
                yield from _sorted_bucket(handle)
        finally:
            self.close()

    def close(self) -> None:
        """Remove spilled rows (also when iteration stops early)."""
        for handle in self._files:
            handle.close()
        self._files = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _sorted_bucket(handle: IO[bytes]) -> Iterator[Any]:
    """The rows this process pickled into one bucket file, by key (trusted data only)."""
    handle.flush()
    handle.seek(0)
    bucket: list[tuple[int, Any]] = []
    while True:
        try:
            bucket.append(pickle.load(handle))  # our own temporary file: trusted
        except EOFError:
            break
    bucket.sort(key=lambda item: item[0])
    yield from (row for _, row in bucket)


def shuffled(rows: Iterable[Any], size_of: Any, folder: str | Path | None = None) -> SecretOrder:
    """All of ``rows`` queued in a :class:`SecretOrder` (iterate it for the secret order)."""
    order = SecretOrder(folder)
    for row in rows:
        order.add(row, size_of(row))
    return order


# --- public views --------------------------------------------------------------------------
def public_statistics(statistics: dict[str, Any], held_out: set[str]) -> dict[str, Any]:
    """``statistics`` without what a held-out split's labels or example names could leak."""
    out: dict[str, Any] = {}
    for key, value in statistics.items():
        if key in COUNTED_STATISTICS and isinstance(value, dict):
            out[key] = _counted(key, value, held_out)
        elif isinstance(value, dict) and key not in INPUT_STATISTICS:
            out[key] = {split: v for split, v in value.items() if split not in held_out}
        else:
            out[key] = value
    return out


def _counted(key: str, value: dict[str, Any], held_out: set[str]) -> dict[str, Any]:
    """Duplicate and near-duplicate reports: counts for held-out splits, no examples."""
    if key == "near_duplicates":
        kept = [e for e in value.get("examples", [])
                if isinstance(e, dict) and not held_out & set(e)]
        return {**value, "examples": kept}
    out: dict[str, Any] = {}
    for split, entry in value.items():
        if split in held_out and isinstance(entry, dict):
            out[split] = {k: v for k, v in entry.items() if k in ("groups", "extra_copies")}
        else:
            out[split] = entry
    return out


def public_skipped(skipped: list[dict[str, Any]], held_out: set[str]) -> list[dict[str, Any]]:
    """Skipped files of public splits only; those of held-out splits (or of no known split,
    when any split is held out) are counted in ``statistics.skipped_files`` instead."""
    if not held_out:
        return list(skipped)
    return [entry for entry in skipped if entry.get("split") not in (held_out | {None})]


def skipped_counts(skipped: list[dict[str, Any]]) -> dict[str, int]:
    """How many files were skipped per split (``unknown`` when an entry names no split)."""
    counts: dict[str, int] = {}
    for entry in skipped:
        split = str(entry.get("split") or "unknown")
        counts[split] = counts.get(split, 0) + 1
    return counts


def public_leakage(leakage: dict[str, Any], held_out: set[str]) -> dict[str, Any]:
    """Leakage counts; example pairs only when neither file is in a held-out split."""
    if not leakage:
        return {}
    examples = [e for e in leakage.get("examples", [])
                if isinstance(e, dict) and not held_out & _splits_of(e)]
    return {**leakage, "examples": examples}


def _splits_of(entry: dict[str, Any]) -> set[str]:
    named = str(entry.get("splits", "")).split("/")
    return {s for s in named if s} | {k for k in entry if k not in ("sha256", "splits")}


def private_report(
    *, name: str, version: str, created_at: str, held_out_ids: dict[str, dict[str, str]],
    statistics: dict[str, Any], skipped_files: list[dict[str, Any]], leakage: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The private ingest report: everything withheld from the public documents."""
    return {
        **(extra or {}),
        "format": REPORT_FORMAT,
        "name": name,
        "version": version,
        "created_at": created_at,
        "held_out_ids": held_out_ids,
        "statistics": statistics,
        "skipped_files": skipped_files,
        "leakage": leakage,
    }


def compose_ids(given: dict[str, str] | None, drawn: dict[str, str],
                names: dict[str, str] | None = None) -> dict[str, str]:
    """source → final id, from an earlier map ``given`` (source → id) and the ids ``drawn``
    here (earlier id → new id); without ``given``, sources are ``names`` of the earlier ids."""
    if given is None:
        names = names or {}
        given = {names.get(old, old): old for old in drawn}
    return {source: drawn.get(old, old) for source, old in given.items()}


__all__ = [
    "REPORT_FORMAT",
    "HeldOutIds",
    "SecretOrder",
    "compose_ids",
    "new_id",
    "private_report",
    "public_leakage",
    "public_skipped",
    "public_statistics",
    "shuffled",
    "skipped_counts",
]
