"""Anonymous abuse of the HTTP API, played against real servers: forged keys and rate limits,
bodies before authentication, forged log lines, non-ASCII versions, /readyz's words."""

from __future__ import annotations

import json
import secrets
import string
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from heldout.api.app import create_app
from heldout.config import Settings
from tests.api.conftest import FEATURES, METADATA
from tests.live import make_key, serving
from tests.security.server_process import ServerProcess, server_process

ALPHABET = string.ascii_letters + string.digits


def forged(prefix: str | None = None) -> str:
    """A well-formed key that no user holds (with ``prefix``, or a random one)."""
    prefix = prefix or "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))
    return f"hld_{prefix}_" + "".join(secrets.choice(ALPHABET) for _ in range(40))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def local_settings(settings_for: Callable[..., Settings], tmp_path: Path) -> Settings:
    return settings_for("local", tmp_path / "data")


@pytest.fixture
def limited(local_settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server (uvicorn) with a small burst, and keys of a publisher and a participant."""
    settings = local_settings.model_copy(update={"rate_limit_per_minute": 6,
                                                 "rate_limit_burst": 3})
    keys = {"alice": make_key(settings, "alice", "participant"),
            "pub": make_key(settings, "pub", "publisher")}
    with serving(create_app(settings)) as url:
        yield url, keys


def test_a_forged_key_with_a_real_prefix_cannot_spend_the_users_bucket(
        limited: tuple[str, dict[str, str]]) -> None:
    url, keys = limited
    prefix = keys["alice"].split("_")[1]
    statuses = [httpx.get(f"{url}/api/v1/datasets", headers=bearer(forged(prefix))).status_code
                for _ in range(6)]
    assert statuses[:3] == [401, 401, 401]  # counted against the address ...
    assert statuses[3:] == [429, 429, 429]  # ... which runs out
    for _ in range(3):  # alice's own bucket is untouched
        assert httpx.get(f"{url}/api/v1/datasets", headers=bearer(keys["alice"])).status_code \
            == 200


def test_random_key_prefixes_buy_no_fresh_buckets(limited: tuple[str, dict[str, str]]) -> None:
    url, _keys = limited
    statuses = [httpx.get(f"{url}/api/v1/datasets", headers=bearer(forged())).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    refused = httpx.get(f"{url}/api/v1/datasets")  # anonymous: the same address bucket
    assert refused.status_code == 429 and "address" in refused.json()["detail"]
    assert "Retry-After" in refused.headers


def test_bodies_are_not_parsed_before_authentication(
        limited: tuple[str, dict[str, str]]) -> None:
    url, keys = limited
    route = f"{url}/api/v1/datasets/pets/versions"
    not_json = b"{" * 4096  # a route that parsed it first would answer 422
    anonymous = httpx.post(route, content=not_json,
                           headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401, anonymous.text
    assert "needs an API key" in anonymous.json()["detail"]
    bad_key = httpx.post(route, content=not_json, headers={
        "Content-Type": "application/json", **bearer(forged())})
    assert bad_key.status_code == 401
    assert "not valid" in bad_key.json()["detail"]
    # A signed-in publisher's metadata body is small: 1 MiB.
    big = json.dumps({"version": "1.0.0", "features": FEATURES.to_hf(), "metadata": METADATA,
                      "pad": "x" * (1024 * 1024)})
    too_big = httpx.post(route, content=big, headers={
        "Content-Type": "application/json", **bearer(keys["pub"])})
    assert too_big.status_code == 413
    assert "1048576" in too_big.json()["detail"]


@pytest.mark.slow
def test_control_characters_cannot_forge_log_lines(local_settings: Settings) -> None:
    forged_line = "2026-12-01 00:00:00,000 INFO [x] heldout.api.access: request_id=x GET " \
        "/api/v1/admin/users 200 1.0ms root key=…abcd"
    with server_process(local_settings) as server:
        r = httpx.get(f"{server.url}/api/v1/datasets/x%0a{forged_line.replace(' ', '%20')}"
                      "%0d%1b[31m")
        assert r.status_code in (404, 422)
        _stop_and_flush(server)
        log = server.log_text()
    assert "x\\n2026-12-01" in log  # logged, escaped
    assert "\\r\\x1b[31m" in log
    for line in log.splitlines():
        assert not line.startswith("2026-12-01 00:00:00,000"), line
    assert "\x1b" not in log


def _stop_and_flush(server: ServerProcess) -> None:
    server.process.terminate()
    server.process.wait(15)


@pytest.mark.parametrize("version", ["1.0.1\u0660", "\u0661.0.0", "1.0.0-\u0663", "１.0.0"])
def test_versions_with_non_ascii_digits_are_refused(limited: tuple[str, dict[str, str]],
                                                    version: str) -> None:
    url, keys = limited
    r = httpx.post(f"{url}/api/v1/datasets/pets/versions", headers=bearer(keys["pub"]),
                   json={"version": version, "features": FEATURES.to_hf(),
                         "metadata": METADATA})
    assert r.status_code == 422, r.text
    assert "not a semantic version" in r.json()["detail"]
    assert httpx.get(f"{url}/api/v1/datasets/pets/versions/{version}").status_code == 422


@pytest.mark.parametrize("name", ["p\u0435ts", "pets\u0661", "ｐets"])
def test_names_with_non_ascii_characters_are_refused(limited: tuple[str, dict[str, str]],
                                                     name: str) -> None:
    url, keys = limited
    r = httpx.post(f"{url}/api/v1/datasets/{name}/versions", headers=bearer(keys["pub"]),
                   json={"version": "1.0.0", "features": FEATURES.to_hf(),
                         "metadata": METADATA})
    assert r.status_code == 422, r.text
    assert "is not allowed" in r.json()["detail"]


def test_readyz_names_the_failed_part_without_the_backends_words(tmp_path: Path) -> None:
    from tests.live import free_port

    port = free_port()  # nobody listens there
    settings = Settings(environment="test", data_dir=tmp_path, storage_backend="s3",
                        s3_endpoint=f"127.0.0.1:{port}", s3_access_key="AKIA-SECRET-LOOKING")
    with serving(create_app(settings)) as url:
        r = httpx.get(f"{url}/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failed"] == ["public_store", "private_store"]
    assert body["checks"] == {"database": "ok", "public_store": "unavailable",
                              "private_store": "unavailable"}
    assert str(port) not in r.text and "AKIA" not in r.text and "127.0.0.1" not in r.text


def test_tracebacks_keep_every_forged_line_indented() -> None:
    import logging

    from heldout.logsafe import EscapingFormatter

    formatter = EscapingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("bad\nINFO forged line\u2028more")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "path %s", ("/a\nINFO b",),
                                   exc_info=sys.exc_info())
    lines = formatter.format(record).splitlines()
    assert lines[0] == "ERROR path /a\\nINFO b"
    assert all(line.startswith("    ") for line in lines[1:])
    assert not any(line.startswith("INFO") for line in lines)
