"""``heldout serve``'s in-process scoring thread scores a submission with no worker process."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from heldout.api.app import create_app
from heldout.benchmarks.registry import sync_benchmarks
from heldout.config import Settings
from heldout.services import build_services
from tests.api.conftest import seed_users
from tests.benchmarks.conftest import (
    LABELS,
    csv_predictions,
    publish_toy,
    spec,
    truth_table,
    write_specs,
)


def test_serve_scores_in_a_thread(settings_for: Callable[..., Settings], tmp_path: Path) -> None:
    settings = settings_for("local", tmp_path / "data", rate_limit_per_minute=0)
    services = build_services(settings)
    keys = seed_users(services)
    publish_toy(services.repository)
    sync_benchmarks(services, write_specs(tmp_path / "b", spec()))
    truth = truth_table(services)
    body = csv_predictions(truth, "prediction",
                           [LABELS[v] for v in truth.column("label").to_pylist()])
    auth = {"Authorization": f"Bearer {keys['alice']}"}
    with TestClient(create_app(settings, services, scoring_worker=True)) as client:
        r = client.post("/api/v1/benchmarks/toy-cls/submissions", headers=auth,
                        files={"file": ("p.csv", body)}, data={"model_name": "m"})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        status = "queued"
        while status != "scored" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = client.get(f"/api/v1/submissions/{r.json()['id']}",
                                headers=auth).json()["status"]
        assert status == "scored"
    services.close()
