"""Versions published before the secrecy guarantees keep working: reindex, show, the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from heldout import layout
from heldout.api.app import create_app
from heldout.cli.main import app
from heldout.services import build_services
from tests.helpers import publish_tiny
from tests.s3server import make_settings

NEW_FIELDS = ("held_out_labels_public", "held_out_labels_public_reason")


def test_an_old_version_reindexes_shows_and_serves(tmp_path: Path) -> None:
    settings = make_settings("local", tmp_path / "data")
    services = build_services(settings)
    try:
        publish_tiny(services.repository)
        # Make it look like a version written before this change: no mark, no report.
        key = layout.manifest_key("tiny", "1.0.0")
        old = json.loads(services.stores.public.get_bytes(key))
        for field in NEW_FIELDS:
            old.pop(field)
        services.stores.public.delete(key)
        services.stores.public.put(key, json.dumps(old).encode())
        services.stores.private.delete(layout.report_key("tiny", "1.0.0"))
    finally:
        services.close()
    env = {"HELDOUT_DATA_DIR": str(tmp_path / "data"), "HELDOUT_ENVIRONMENT": "test"}
    runner = CliRunner()
    reindexed = runner.invoke(app, ["db", "reindex", "--json"], env=env)
    assert reindexed.exit_code == 0, reindexed.output
    shown = runner.invoke(app, ["datasets", "show", "tiny", "--local", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["held_out_labels_public"] is False
    assert "republish" in body["private_report"]["missing"]
    table = runner.invoke(app, ["datasets", "show", "tiny", "--local"], env=env)
    assert table.exit_code == 0 and "Private ingest report" in table.output
    with TestClient(create_app(settings)) as client:
        version = client.get("/api/v1/datasets/tiny").json()["versions"][0]
        assert version["held_out_labels_public"] is False
        assert version["held_out_labels_public_reason"] is None
        assert client.get("/api/v1/datasets/tiny/versions/1.0.0").status_code == 200
