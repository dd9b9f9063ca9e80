"""The background worker: periodic jobs that no request waits for.

It sweeps abandoned drafts (a publish that crashed or was never committed leaves a draft lock
and maybe some shards; after ``HELDOUT_DRAFT_TTL_SECONDS`` they are deleted, so nothing
half-written lingers in the store) and scores queued submissions (claimed from the
submissions table, see :mod:`heldout.benchmarks.queue`). Jobs are small named callables; any
number of workers may run, since each job is safe to run twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from heldout.benchmarks.queue import drain, worker_name
from heldout.errors import HeldoutError
from heldout.services import Services

log = logging.getLogger("heldout.worker")


@dataclass(frozen=True)
class Job:
    """A named periodic job: ``run(services)`` returns a small JSON-able report."""

    name: str
    run: Callable[[Services], dict[str, Any]]
    every_seconds: float


def sweep_drafts(services: Services) -> dict[str, Any]:
    """Delete drafts idle for longer than the draft TTL, with everything they wrote."""
    return {"cleaned": services.repository.cleanup_abandoned_drafts()}


def score_submissions(services: Services) -> dict[str, Any]:
    """Score queued submissions (and ones whose worker died) until the queue is empty."""
    return {"scored": drain(services, worker_name())}


def default_jobs(settings_ttl: int) -> list[Job]:
    """The worker's jobs; drafts are swept a few times per TTL (at most once a minute),
    the scoring queue is polled every second."""
    return [Job("sweep-drafts", sweep_drafts, every_seconds=max(60.0, settings_ttl / 4)),
            Job("score-submissions", score_submissions, every_seconds=1.0)]


@dataclass
class Worker:
    """Runs each job when it is due; a failing job is logged and retried at its next turn."""

    services: Services
    jobs: list[Job]
    clock: Callable[[], float] = time.monotonic
    _due: dict[str, float] = field(default_factory=dict)

    def run_due(self) -> dict[str, dict[str, Any]]:
        """Run every job that is due now; returns their reports (or errors) by name."""
        now = self.clock()
        reports: dict[str, dict[str, Any]] = {}
        for job in self.jobs:
            if self._due.get(job.name, now) > now:
                continue
            self._due[job.name] = now + job.every_seconds
            try:
                reports[job.name] = job.run(self.services)
            except HeldoutError as exc:  # e.g. the store is down: try again next time
                log.warning("job %s failed: %s", job.name, exc.detail)
                reports[job.name] = {"error": exc.detail}
            else:
                log.info("job %s: %s", job.name, reports[job.name])
        return reports

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Run due jobs until ``stop`` is set."""
        while not stop.is_set():
            self.run_due()
            stop.wait(poll_seconds)
