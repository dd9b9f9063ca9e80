"""A real worker process SIGKILLed mid-job: after its lease expires another worker scores the
job, exactly once, and the dead worker's claim can no longer write a result."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from heldout.accounts.keys import authenticate
from heldout.benchmarks import queue
from heldout.benchmarks.registry import find, sync_benchmarks
from heldout.benchmarks.scorer import TEST_DELAY_ENV
from heldout.benchmarks.submissions import create_submission
from heldout.benchmarks.truth import load_truth
from heldout.catalog.benchmark_models import Submission
from heldout.cli.main import app
from heldout.config import Settings
from heldout.scoring import ScoreConfig, score
from heldout.services import Services, build_services
from tests.api.conftest import seed_users
from tests.benchmarks.conftest import (
    LABELS,
    csv_predictions,
    database_for,
    publish_toy,
    spec,
    truth_table,
    write_specs,
)

LEASE = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for url in database_for(request.param):
        yield Settings(environment="test", data_dir=tmp_path / "data", storage_backend="local",
                       database_url=url, scoring_lease_seconds=LEASE)


def environ(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELDOUT_")}
    env.update(HELDOUT_ENVIRONMENT="test", HELDOUT_DATA_DIR=str(settings.data_dir),
               HELDOUT_STORAGE_BACKEND="local",
               HELDOUT_DATABASE_URL=settings.resolved_database_url,
               HELDOUT_SCORING_LEASE_SECONDS=str(LEASE), **extra)
    return env


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def row(services: Services, sid: str) -> Submission:
    with services.catalog.session() as session:
        sub = session.get(Submission, sid)
        assert sub is not None
        return sub


@pytest.mark.slow
def test_killed_worker_job_is_scored_once_by_another(settings: Settings) -> None:
    services = build_services(settings)
    try:
        keys = seed_users(services)
        publish_toy(services.repository)
        sync_benchmarks(services, write_specs(settings.data_dir / "benchmarks", spec()))
        truth = truth_table(services)
        body = csv_predictions(truth, "prediction",
                               [LABELS[(v + i % 2) % 3]
                                for i, v in enumerate(truth.column("label").to_pylist())])
        with services.catalog.session() as session:
            alice = authenticate(session, keys["alice"])
        sid = create_submission(services, benchmark_id="toy-cls", user=alice,
                                file=io.BytesIO(body), filename="p.csv", model_name="m")["id"]
        command = str(Path(sys.executable).parent / "heldout")
        slow = subprocess.Popen([command, "worker"], stderr=subprocess.DEVNULL,
                                env=environ(settings, **{TEST_DELAY_ENV: "600"}))
        try:
            wait_for(lambda: row(services, sid).status == "scoring", "the claim")
            dead_claim = row(services, sid).claimed_by
            assert dead_claim is not None and f":{slow.pid}:" in dead_claim
            slow.send_signal(signal.SIGKILL)
            slow.wait(10)
        finally:
            if slow.poll() is None:
                slow.kill()
        assert row(services, sid).status == "scoring"  # died mid-job
        wait_for(lambda: row(services, sid).lease_expires_at < datetime.now(UTC),  # type: ignore[operator]
                 "the lease to expire")
        done = CliRunner().invoke(app, ["worker", "--once"], env=environ(settings))
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["score-submissions"] == {"scored": 1}
        final = row(services, sid)
        assert (final.status, final.attempts, final.history) == ("scored", 2, [])
        assert final.claimed_by != dead_claim
        # the dead worker's claim can't write a second result, and nothing is left to claim
        assert queue._finish(services, sid, dead_claim, {"status": "failed"}) is False
        assert queue.run_next_job(services) is False
        with services.catalog.session() as session:
            _row, benchmark = find(session, "toy-cls")
        expected = score("classification", load_truth(services, benchmark), body,
                         ScoreConfig(primary_metric="accuracy"))
        assert final.public_scores is not None
        assert final.public_scores["metrics"]["accuracy"] == expected.metrics["accuracy"]
    finally:
        services.close()


def test_a_stalled_worker_cannot_write_over_the_reclaimed_job(settings: Settings) -> None:
    services = build_services(settings)
    try:
        keys = seed_users(services)
        publish_toy(services.repository)
        sync_benchmarks(services, write_specs(settings.data_dir / "benchmarks", spec()))
        truth = truth_table(services)
        body = csv_predictions(truth, "prediction",
                               [LABELS[v] for v in truth.column("label").to_pylist()])
        with services.catalog.session() as session:
            alice = authenticate(session, keys["alice"])
        sid = create_submission(services, benchmark_id="toy-cls", user=alice,
                                file=io.BytesIO(body), filename="p.csv", model_name="m")["id"]
        first = queue.claim(services, "stalled")
        assert first is not None and queue.claim(services, "other") is None  # leased
        with services.catalog.session() as session:
            session.execute(update(Submission).where(Submission.id == sid)
                            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        second = queue.claim(services, "fresh")
        assert second is not None and second[1] != first[1]
        # the stalled worker wakes up: its result must not land while "fresh" holds the job
        assert queue._finish(services, sid, first[1], {"status": "failed",
                                                       "failure_reason": "stale"}) is False
        assert queue.renew(services, sid, first[1]) is False
        assert queue.score_claimed(services, *second) is True
        final = row(services, sid)
        assert (final.status, final.attempts, final.failure_reason) == ("scored", 2, None)
    finally:
        services.close()
