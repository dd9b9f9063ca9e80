"""API key lifecycle over the admin API: issued once, hashed, last-used, revoked, never logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from heldout.catalog.models import ApiKey
from tests.api.conftest import Api


def test_key_lifecycle(local_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c, admin = local_api.client, local_api.auth("root")
    r = c.post("/api/v1/admin/users", json={"name": "carol", "role": "participant",
                                            "email": "carol@example.org"}, headers=admin)
    assert r.status_code == 201 and r.json()["role"] == "participant"
    issued = c.post("/api/v1/admin/users/carol/keys", json={"label": "laptop"}, headers=admin)
    assert issued.status_code == 201
    key, prefix = issued.json()["key"], issued.json()["prefix"]
    assert key.startswith(f"hld_{prefix}_") and len(key) > 40
    listed = c.get("/api/v1/admin/users/carol/keys", headers=admin).json()["items"]
    assert listed[0]["last_used_at"] is None and key not in str(listed)
    assert listed[0]["masked"].endswith(key[-4:])

    bearer = {"Authorization": f"Bearer {key}"}
    assert c.get("/api/v1/datasets", headers=bearer).status_code == 200
    used = c.get("/api/v1/admin/users/carol/keys", headers=admin).json()["items"][0]
    assert used["last_used_at"] is not None

    # a key with the right prefix but a wrong secret is refused
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert c.get("/api/v1/datasets", headers={"Authorization": f"Bearer {forged}"}
                 ).status_code == 401

    assert c.delete(f"/api/v1/admin/keys/{prefix}", headers=admin).status_code == 200
    revoked = c.get("/api/v1/datasets", headers=bearer)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert key not in revoked.text
    assert c.delete("/api/v1/admin/keys/nosuchkey", headers=admin).status_code == 404

    # no plaintext key anywhere in the database, only its hash
    with local_api.services.catalog.session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        assert row is not None and row.key_hash != key and key not in row.key_hash
        for table in inspect(session.bind).get_table_names():
            dump = str(session.execute(text(f'SELECT * FROM "{table}"')).all())
            assert key not in dump and key[len(f"hld_{prefix}_"):] not in dump
    db_file = Path(local_api.settings.resolved_database_url.removeprefix("sqlite:///"))
    for path in db_file.parent.glob(db_file.name + "*"):
        assert key.encode() not in path.read_bytes()

    # keys never reach the log; the masked form does
    log_text = "\n".join(rec.getMessage() for rec in caplog.records)
    for secret in [key, *local_api.keys.values()]:
        assert secret not in log_text
    assert f"…{key[-4:]}" in log_text


def test_malformed_authorization_headers_are_401(local_api: Api) -> None:
    c = local_api.client
    for header in ("Basic abc", "Bearer", "Bearer hld_short", "Token x"):
        r = c.get("/api/v1/datasets", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_admin_user_creation_validates_role_and_duplicates(local_api: Api) -> None:
    c, admin = local_api.client, local_api.auth("root")
    bad = c.post("/api/v1/admin/users", json={"name": "dave", "role": "king"}, headers=admin)
    assert bad.status_code == 422 and "role" in bad.json()["detail"]
    dup = c.post("/api/v1/admin/users", json={"name": "alice", "role": "lab"}, headers=admin)
    assert dup.status_code == 409 and "alice" in dup.json()["detail"]
    names = [u["name"] for u in c.get("/api/v1/admin/users", headers=admin).json()["items"]]
    assert "alice" in names and "dave" not in names
