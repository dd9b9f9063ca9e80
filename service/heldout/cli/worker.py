"""``heldout worker``: run the background jobs (see :mod:`heldout.worker`)."""

from __future__ import annotations

import logging
import signal
import threading

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import print_json
from heldout.cli.server import open_services
from heldout.logs import configure_logging
from heldout.worker import Worker, default_jobs


@handle_errors
def worker(
    once: bool = typer.Option(False, "--once", help="Run every job once, print the reports "
                              "as JSON and exit."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Run background jobs until stopped (SIGTERM or Ctrl-C): sweep abandoned drafts, score
    queued submissions."""
    configure_logging(log_level)
    with open_services() as services:
        runner = Worker(services, default_jobs(services.settings.draft_ttl_seconds))
        if once:
            print_json(runner.run_due())
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        logging.getLogger("heldout.worker").info(
            "worker started: %s", ", ".join(job.name for job in runner.jobs))
        runner.run_forever(stop)
