"""``heldout worker``: periodic jobs; today the sweep of abandoned drafts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from heldout.config import Settings
from heldout.errors import StoreUnavailable
from heldout.services import Services, build_services
from heldout.worker import Job, Worker
from tests.helpers import image_features, image_rows, metadata


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_jobs_run_when_due_and_a_failure_is_retried_next_turn(tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(_services: Services) -> dict[str, Any]:
        calls.append("flaky")
        if len(calls) == 1:
            raise StoreUnavailable("object store down")
        return {"ok": True}

    clock = Clock()
    runner = Worker(None, [Job("flaky", flaky, every_seconds=10)], clock=clock)  # type: ignore[arg-type]
    assert runner.run_due() == {"flaky": {"error": "object store down"}}
    clock.now = 5
    assert runner.run_due() == {}  # not due yet
    clock.now = 10
    assert runner.run_due() == {"flaky": {"ok": True}}
    assert calls == ["flaky", "flaky"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("HELDOUT_DATABASE_URL", "HELDOUT_STORAGE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELDOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELDOUT_DRAFT_TTL_SECONDS", "0")
    return Settings()


def test_worker_once_sweeps_an_abandoned_draft(env: Settings) -> None:
    services = build_services(env)
    try:
        draft = services.repository.create_draft("tiny", "1.0.0", features=image_features(),
                                                 metadata=metadata())
        draft.write_split("train", image_rows("train", 5))  # then the publisher crashed
        assert list(services.stores.public.list("datasets/tiny/1.0.0/"))
    finally:
        services.close()

    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sweep-drafts": {"cleaned": ["tiny@1.0.0"]},
                                         "score-submissions": {"scored": 0}}
    services = build_services(env)
    try:
        assert list(services.stores.public.list("datasets/tiny/")) == []
        assert list(services.stores.private.list("private/drafts/")) == []
    finally:
        services.close()


def test_worker_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    environ = {**os.environ, "HELDOUT_DATA_DIR": str(tmp_path / "data"),
               "HELDOUT_STORAGE_BACKEND": "local"}
    environ.pop("HELDOUT_DATABASE_URL", None)
    command = str(Path(sys.executable).parent / "heldout")  # the installed console script
    subprocess.run([command, "db", "upgrade"], env=environ, check=True, capture_output=True)
    process = subprocess.Popen([command, "worker"],
                               env=environ, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # generous: a loaded CI machine imports slowly
        assert process.stderr is not None
        started = ""
        while "worker started" not in started and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            started += line
        assert "worker started: sweep-drafts" in started
        process.terminate()
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
