"""``heldout users``, ``heldout keys`` and ``heldout serve`` on the server's own database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from heldout.cli.main import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"HELDOUT_DATA_DIR": str(tmp_path / "data"), "HELDOUT_ENVIRONMENT": "test"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0  # operators need a catalog
    return values


def test_users_and_keys_commands(env: dict[str, str]) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["users", "create", "alice", "--role", "publisher",
                               "--email", "alice@example.org"])
    assert made.exit_code == 0, made.output
    dup = runner.invoke(app, ["users", "create", "alice", "--role", "publisher"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    bad = runner.invoke(app, ["users", "create", "bob", "--role", "king"])
    assert bad.exit_code == 1 and "role" in bad.output
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"]).stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "publisher")]

    created = runner.invoke(app, ["keys", "create", "alice", "--label", "laptop"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("hld_")
    keys = json.loads(runner.invoke(app, ["keys", "list", "alice", "--json"]).stdout)
    assert len(keys) == 1 and keys[0]["label"] == "laptop" and key not in json.dumps(keys)
    table = runner.invoke(app, ["keys", "list", "alice"]).stdout
    assert key not in table and keys[0]["prefix"] in table
    revoked = runner.invoke(app, ["keys", "revoke", keys[0]["prefix"]])
    assert revoked.exit_code == 0 and key not in revoked.output
    assert json.loads(runner.invoke(app, ["keys", "list", "alice", "--json"]).stdout)[0][
        "revoked_at"]
    missing = runner.invoke(app, ["keys", "create", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_serve_runs_migrations_and_answers_with_two_workers(env: dict[str, str],
                                                            tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    runner = CliRunner()
    assert runner.invoke(app, ["users", "create", "root", "--role", "admin"]).exit_code == 0
    key = runner.invoke(app, ["keys", "create", "root"]).stdout.strip().splitlines()[0]
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "heldout"), "serve", "--port", str(port),
         "--workers", "2"],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        users = httpx.get(f"http://127.0.0.1:{port}/api/v1/admin/users",
                          headers={"Authorization": f"Bearer {key}", "X-Request-ID": "cli-1"})
        assert users.status_code == 200
        assert [u["name"] for u in users.json()["items"]] == ["root"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "[cli-1]" in output and "request_id=cli-1" in output
    assert key not in output and f"…{key[-4:]}" in output
