"""/healthz and /readyz, including a store that cannot be reached."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from heldout.api.app import create_app
from heldout.config import Settings
from tests.api.conftest import Api


def test_ready_when_database_and_stores_answer(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    r = api.client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "public_store": "ok", "private_store": "ok"}


def test_readyz_503_names_the_store_on_a_closed_port(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(environment="test", data_dir=tmp_path, storage_backend="s3",
                        s3_endpoint=f"127.0.0.1:{port}")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["checks"]["database"] == "ok"
    assert set(body["failed"]) == {"public_store", "private_store"}
    assert body["checks"]["public_store"] == "unavailable"
    assert "public_store" in body["detail"]
    assert str(port) not in r.text  # the backend's error text (hosts, ports) stays in the log


def test_openapi_and_docs_are_served(local_api: Api) -> None:
    spec = local_api.client.get("/openapi.json").json()
    assert "/api/v1/datasets/{name}/versions/{version}/files" in spec["paths"]
    assert local_api.client.get("/docs").status_code == 200


def test_readyz_503_names_the_database(settings_for: Callable[..., Settings],
                                       tmp_path: Path) -> None:
    from heldout.services import build_services

    settings = settings_for("local", tmp_path / "data")
    services = build_services(settings)
    app = create_app(settings, services)
    services.catalog.engine.dispose()
    db = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    db.unlink()
    db.mkdir()  # a folder where the database file was: SQLite cannot open it
    with TestClient(app) as client:
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failed"] == ["database"]
    assert r.json()["checks"]["database"] == "unavailable"
    assert "sqlite" not in r.text.lower() and str(db) not in r.text
