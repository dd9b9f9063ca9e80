"""Hostile publishers: inputs that used to be 500s, and per-publisher caps on drafts and
datasets (each a clear 4xx problem)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heldout.config import Settings
from tests.api.conftest import FEATURES, METADATA, Api, build_version, make_api

VERSIONS = "/api/v1/datasets/{name}/versions"


@pytest.fixture
def capped(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[Api]:
    settings = settings_for("local", tmp_path / "data", rate_limit_per_minute=0,
                            max_open_drafts_per_user=2, max_datasets_per_user=1)
    yield from make_api(settings)


def _start(api: Api, name: str, version: str, user: str = "pub",
           features: dict[str, Any] | None = None,
           metadata: dict[str, Any] | None = None) -> Any:
    return api.client.post(VERSIONS.format(name=name), headers=api.auth(user), json={
        "version": version, "features": features or FEATURES.to_hf(),
        "metadata": metadata or METADATA})


def _problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["detail"])


def test_an_empty_task_is_a_422_not_a_500(capped: Api) -> None:
    detail = _problem(_start(capped, "pets", "1.0.0", metadata={**METADATA, "task": ""}), 422)
    assert "metadata.task" in detail
    detail = _problem(_start(capped, "pets", "1.0.0",
                             metadata={**METADATA, "license": "MIT\n"}), 422)
    assert "metadata.license" in detail


def test_features_nested_400_deep_are_a_422(capped: Api) -> None:
    deep: dict[str, Any] = {"_type": "Value", "dtype": "string"}
    for _ in range(400):
        deep = {"_type": "List", "feature": deep}
    detail = _problem(_start(capped, "pets", "1.0.0",
                             features={**FEATURES.to_hf(), "deep": deep}), 422)
    assert "more than 32 levels deep" in detail and len(detail) < 300


def test_json_nested_200000_deep_is_a_4xx(capped: Api) -> None:
    body = "[" * 200_000 + "]" * 200_000
    r = capped.client.post(VERSIONS.format(name="pets"), content=body, headers={
        **capped.auth("pub"), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


def test_open_drafts_are_capped_per_publisher(capped: Api) -> None:
    first = _start(capped, "pets", "1.0.0")
    assert first.status_code == 201
    assert _start(capped, "pets", "1.1.0").status_code == 201
    detail = _problem(_start(capped, "pets", "1.2.0"), 429)
    assert "2 open drafts" in detail and "HELDOUT_MAX_OPEN_DRAFTS_PER_USER=2" in detail
    assert "pets@1.0.0" in detail
    assert _start(capped, "pets", "1.9.0", user="pub2").status_code != 429  # per publisher
    assert _start(capped, "zoo", "1.0.0", user="root").status_code == 201  # admins: no cap
    aborted = capped.client.delete(
        f"{VERSIONS.format(name='pets')}/1.0.0/drafts/{first.json()['draft_id']}",
        headers=capped.auth("pub"))
    assert aborted.status_code == 200
    assert _start(capped, "pets", "1.2.0").status_code == 201  # a slot is free again


def test_datasets_are_capped_per_publisher(capped: Api, tmp_path: Path) -> None:
    assert capped.publish(build_version(tmp_path / "b1")).status_code == 200  # pub owns pets
    detail = _problem(_start(capped, "birds", "1.0.0"), 403)
    assert "already owns 1 datasets" in detail
    assert "HELDOUT_MAX_DATASETS_PER_USER=1" in detail
    assert _start(capped, "pets", "2.0.0").status_code == 201  # new versions of its own: fine
