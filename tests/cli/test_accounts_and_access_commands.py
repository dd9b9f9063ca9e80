"""`heldout users`, `heldout keys` and `heldout datasets access` as an operator runs them,
checked through the running app with the keys they print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from heldout.api.app import create_app
from heldout.cli.main import app
from heldout.config import Settings
from heldout.services import build_services
from tests.helpers import publish_tiny

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HELDOUT_DATABASE_URL", "HELDOUT_STORAGE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELDOUT_DATA_DIR", str(tmp_path / "data"))
    services = build_services(Settings())
    publish_tiny(services.repository)
    services.close()
    return tmp_path / "data"


def cli(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def key_for(user: str, role: str) -> str:
    cli("users", "create", user, "--role", role)
    return str(cli("keys", "create", user)["key"])


def test_private_dataset_with_a_grant(data_dir: Path, tmp_path: Path) -> None:
    ann, bob = key_for("ann", "participant"), key_for("bob", "participant")
    shown = cli("datasets", "access", "tiny")
    assert shown == {"name": "tiny", "visibility": "public", "terms_version": None, "grants": []}
    changed = cli("datasets", "access", "tiny", "--visibility", "private", "--grant-user", "ann")
    assert changed["visibility"] == "private" and changed["grants"] == ["user ann"]

    with TestClient(create_app(Settings())) as client:
        manifest = "/api/v1/datasets/tiny/versions/1.0.0"
        assert client.get(manifest, headers={"Authorization": f"Bearer {ann}"}).status_code == 200
        refused = client.get(manifest, headers={"Authorization": f"Bearer {bob}"})
        assert refused.status_code == 404 and "tiny" in refused.json()["detail"]
        anonymous = client.get(manifest)
        assert anonymous.status_code == 404 and anonymous.json()["type"].endswith("/not-found")


def test_gated_needs_terms_and_unknown_names_are_clear(data_dir: Path, tmp_path: Path) -> None:
    no_terms = runner.invoke(app, ["datasets", "access", "tiny", "--visibility", "gated"])
    assert no_terms.exit_code == 1 and "needs terms" in no_terms.output
    terms = tmp_path / "terms.md"
    terms.write_text("Research use only.\n", encoding="utf-8")
    gated = cli("datasets", "access", "tiny", "--visibility", "gated", "--terms-file",
                str(terms), "--terms-version", "2026-12")
    assert gated["visibility"] == "gated" and gated["terms_version"] == "2026-12"
    ghost = runner.invoke(app, ["datasets", "access", "ghost", "--visibility", "private"])
    assert ghost.exit_code == 1 and "ghost" in ghost.output
    nobody = runner.invoke(app, ["datasets", "access", "tiny", "--grant-user", "nobody"])
    assert nobody.exit_code == 1 and "nobody" in nobody.output
