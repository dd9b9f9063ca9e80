"""Errors are RFC 9457 problem+json with a stable type and a request id, also in the log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heldout.config import Settings
from tests.api.conftest import Api, Built, make_api
from tests.live import serving

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"https://heldout.dev/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
def small_api(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[Api]:
    """An app whose upload limit is 4 KiB (JSON bodies then too)."""
    yield from make_api(settings_for("local", tmp_path / "data", max_upload_bytes=4096))


def test_problem_shapes_for_404_409_422_401_403_405(local_api: Api, built: Built) -> None:
    c = local_api.client
    assert_problem(c.get("/api/v1/datasets/nope"), 404, "not-found")
    assert_problem(c.get("/api/v1/no/such/route"), 404, "not-found")
    assert_problem(c.get("/api/v1/datasets", params={"limit": 5000}), 422, "invalid-input")
    assert_problem(c.get("/api/v1/datasets/Bad Name!"), 422, "invalid-name")
    assert_problem(c.delete("/healthz"), 405, "method-not-allowed")
    # GET and POST on this path are separate routes: Allow names both
    not_allowed = c.delete("/api/v1/admin/users", headers=local_api.auth("root"))
    assert "use GET, POST" in assert_problem(not_allowed, 405, "method-not-allowed")["detail"]
    assert not_allowed.headers["allow"] == "GET, POST"
    assert_problem(c.post("/api/v1/admin/users", json={"name": "x", "role": "admin"}), 401,
                   "unauthorized")
    assert_problem(c.get("/api/v1/admin/users", headers={"Authorization": "Bearer nonsense"}),
                   401, "unauthorized")
    forbidden = assert_problem(c.get("/api/v1/admin/users", headers=local_api.auth("alice")),
                               403, "forbidden")
    assert "alice" in forbidden["detail"]
    assert local_api.publish(built).status_code == 200
    body = {"version": "1.0.0", "features": {"id": {"dtype": "string", "_type": "Value"}},
            "metadata": {"task": "image-classification"}}
    assert_problem(c.post("/api/v1/datasets/pets/versions", json=body,
                          headers=local_api.auth("pub")), 409, "version-immutable")
    invalid = assert_problem(c.post("/api/v1/datasets/pets/versions", json={"version": "2.0.0"},
                                    headers=local_api.auth("pub")), 422, "invalid-input")
    assert "body.features" in invalid["detail"]


def test_request_id_is_echoed_and_in_the_log_line(local_api: Api,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="heldout")
    r = local_api.client.get("/api/v1/datasets/nope", headers={"X-Request-ID": "trace-42"})
    assert r.headers["x-request-id"] == "trace-42"
    assert r.json()["request_id"] == "trace-42"
    lines = [rec.getMessage() for rec in caplog.records if "trace-42" in rec.getMessage()]
    assert lines and "/api/v1/datasets/nope" in lines[0] and " 404 " in lines[0]
    fresh = local_api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert fresh.headers["x-request-id"] != "bad id with spaces"
    assert len(fresh.headers["x-request-id"]) == 32


def test_413_for_a_declared_oversize_body(small_api: Api) -> None:
    draft_id = small_api.start("pets", "1.0.0")
    url = (f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}/shards/"
           "train-00000-of-00001.parquet")
    r = small_api.client.put(url, content=b"x" * 5000, headers=small_api.auth("pub"))
    body = assert_problem(r, 413, "payload-too-large")
    assert "5000" in body["detail"] and "4096" in body["detail"]
    big_json = {"version": "1.0.0", "features": {}, "metadata": {"description": "y" * 5000}}
    r = small_api.client.post("/api/v1/datasets/other/versions", json=big_json,
                              headers=small_api.auth("pub"))
    assert_problem(r, 413, "payload-too-large")


def test_413_for_a_chunked_oversize_body(small_api: Api) -> None:
    draft_id = small_api.start("pets", "1.0.0")
    url = (f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}/shards/"
           "train-00000-of-00001.parquet")

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"z" * 1000

    r = small_api.client.put(url, content=chunks(), headers=small_api.auth("pub"))
    body = assert_problem(r, 413, "payload-too-large")
    assert "4096" in body["detail"]
    # nothing of the refused upload is left in the store
    assert not [i.key for i in small_api.services.stores.public.list("datasets/pets/")]


def test_413_chunked_over_real_http(small_api: Api) -> None:
    """Through uvicorn: a chunked upload over the limit ends in a 413 problem."""
    draft_id = small_api.start("pets", "1.0.0")
    path = (f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}/shards/"
            "train-00000-of-00001.parquet")

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(8):
            yield b"z" * 1000

    with serving(small_api.client.app, lifespan="off") as url:
        r = httpx.put(url + path, content=chunks(), headers=small_api.auth("pub"))
    assert_problem(r, 413, "payload-too-large")


def test_unexpected_errors_are_500_problems_with_the_request_id(
    local_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    app = local_api.client.app

    @app.get("/boom")  # type: ignore[attr-defined]
    def boom() -> None:
        raise RuntimeError("kaput")

    caplog.set_level(logging.ERROR, logger="heldout")
    r = local_api.client.get("/boom", headers={"X-Request-ID": "boom-1"})
    body = assert_problem(r, 500, "internal")
    assert "boom-1" in body["detail"] and "kaput" not in body["detail"]
    assert any("boom-1" in rec.getMessage() for rec in caplog.records)
