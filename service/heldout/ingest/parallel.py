"""Run file checks on worker processes in order, with a bounded number of files in flight.

Decoding is CPU-bound and Pillow/numpy hold the GIL for much of it (threads measured no
faster than one thread on two cores), so big inputs go to a process pool. Results come back
in input order; at most ``window`` batches are pending, so memory stays bounded whatever the
dataset size. Small inputs are checked inline.

Workers are forked where the platform can (Linux): that starts in milliseconds and does not
re-import the caller's ``__main__`` (which ``spawn`` does, breaking unguarded scripts). The
workers are started before any other thread of the publish (progress bar, uploads) runs,
and they only run :func:`check_batch`, which takes no locks shared with the parent.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

from heldout.ingest.media import Checked, Kind, check_batch

T = TypeVar("T")
FileRef = tuple[str | None, bytes | None]  # (path to read, or the bytes themselves)
BATCH = 32
POOL_THRESHOLD = 200  # files; below this a pool does not pay for its start-up


def default_workers() -> int:
    """Worker processes to use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Checker:
    """Checks (read, hash, decode) files, in a process pool when it pays. Close it after use."""

    def __init__(self, kind: Kind, *, want_phash: bool, workers: int | None = None,
                 expected_files: int | None = None) -> None:
        self.kind = kind
        self.want_phash = want_phash
        workers = default_workers() if workers is None else workers
        big = expected_files is None or expected_files >= POOL_THRESHOLD
        self._pool: Executor | None = None
        if workers > 1 and big:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            pool = ProcessPoolExecutor(max_workers=workers,
                                       mp_context=multiprocessing.get_context(method))
            # Start every worker now, before the publish starts threads of its own.
            for future in [pool.submit(default_workers) for _ in range(workers)]:
                future.result()
            self._pool = pool
        self.window = 4 * max(1, workers)

    def map(
        self, items: Iterable[T], files: Callable[[T], list[FileRef]]
    ) -> Iterator[tuple[T, list[Checked]]]:
        """Check the files of each item; yield ``(item, [Checked per file])`` in input order."""
        iterator = iter(items)
        if self._pool is None:
            for item in iterator:
                yield item, check_batch(self.kind, files(item), self.want_phash)
            return
        pending: deque[tuple[list[tuple[T, int]], Future[list[Checked]]]] = deque()
        while True:
            while len(pending) < self.window:
                chunk = list(islice(iterator, BATCH))
                if not chunk:
                    break
                refs: list[FileRef] = []
                owners: list[tuple[T, int]] = []
                for item in chunk:
                    item_refs = files(item)
                    owners.append((item, len(item_refs)))
                    refs.extend(item_refs)
                pending.append(
                    (owners, self._pool.submit(check_batch, self.kind, refs, self.want_phash))
                )
            if not pending:
                return
            owners, future = pending.popleft()
            results = future.result()
            start = 0
            for item, count in owners:
                yield item, results[start:start + count]
                start += count

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
