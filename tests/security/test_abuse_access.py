"""Reads of gated and private datasets leave a trace: manifest reads are audited like the
rest; and every router refuses anonymous callers of its signed-in routes before the body."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter

import heldout.api.routers
from heldout.api.deps import AuthFirstRoute
from heldout.config import Settings
from tests.api.conftest import Api, build_version, make_api

MANIFEST = "/api/v1/datasets/pets/versions/{version}"


@pytest.fixture(params=["local", "s3"])
def pets(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
         tmp_path: Path) -> Iterator[Api]:
    """An API over each store with ``pets@1.0.0`` published."""
    settings = settings_for(request.param, tmp_path / "data", rate_limit_per_minute=0)
    for api in make_api(settings):
        assert api.publish(build_version(tmp_path / "build")).status_code == 200
        yield api


def _events(api: Api, action: str) -> list[dict]:
    r = api.client.get("/api/v1/admin/audit", params={"action": action},
                       headers=api.auth("root"))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _set(api: Api, **body: str) -> None:
    r = api.client.patch("/api/v1/admin/datasets/pets", json=body, headers=api.auth("root"))
    assert r.status_code == 200, r.text


def test_manifest_reads_of_private_datasets_are_audited(pets: Api) -> None:
    c = pets.client
    assert c.get(MANIFEST.format(version="1.0.0")).status_code == 200
    assert _events(pets, "dataset.manifest") == []  # public: not audited
    _set(pets, visibility="private")
    assert c.get(MANIFEST.format(version="latest"), headers=pets.auth("alice")).status_code \
        == 404  # not allowed: nothing read, nothing to audit
    r = c.get(MANIFEST.format(version="latest"),
              headers={**pets.auth("pub"), "X-Request-ID": "owner-reads"})
    assert r.status_code == 200
    (event,) = _events(pets, "dataset.manifest")
    assert event["user"] == "pub" and event["target"] == "pets@1.0.0"
    assert event["request_id"] == "owner-reads" and event["client_ip"]
    assert event["detail"] == {"requested": "latest"}


def test_manifest_reads_of_gated_datasets_are_audited(pets: Api) -> None:
    _set(pets, visibility="gated", terms_version="v1", terms_text="No redistribution.")
    c = pets.client
    assert c.post("/api/v1/datasets/pets/terms", headers=pets.auth("alice")).status_code == 201
    assert c.get(MANIFEST.format(version="1.0.0"), headers=pets.auth("alice")).status_code \
        == 200
    (event,) = _events(pets, "dataset.manifest")
    assert event["user"] == "alice" and event["target"] == "pets@1.0.0"


def test_every_router_authenticates_before_reading_the_body() -> None:
    """A router built without AuthFirstRoute would parse anonymous bodies (FastAPI reads
    the body before it solves dependencies)."""
    package = heldout.api.routers
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                assert value.route_class is AuthFirstRoute, (
                    f"{module.__name__}: build the router with APIRouter(..., "
                    "route_class=AuthFirstRoute) from heldout.api.deps, so anonymous callers "
                    "of its signed-in routes are refused before their body is parsed")
