"""The API against its own contract, on a live server: schemathesis (every check) with an
admin key and with none, real manifests round-tripping, and a client generated from the
committed ``docs/openapi.json`` by a standard generator."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from heldout.api.app import create_app
from heldout.api.schemas.common import Page
from heldout.api.schemas.datasets import DatasetSummary
from heldout.formats.manifest import Manifest
from heldout.ingest.builtin import build_builtin
from heldout.services import build_services, build_stores
from heldout.storage.factory import ensure_buckets
from tests.api.conftest import Api, build_version, seed_users
from tests.live import free_port, serving
from tests.s3server import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_contract")]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_EXAMPLES = 4
CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass
class Live:
    """A served app with two published datasets and a key per seeded user."""

    url: str
    keys: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    settings = make_settings("local", folder / "data", rate_limit_per_minute=0,
                             public_base_url=f"http://127.0.0.1:{port}")
    ensure_buckets(build_stores(settings))
    services = build_services(settings)
    app = create_app(settings, services)
    keys = seed_users(services)
    api = Api(TestClient(app), services, settings, keys)
    assert api.publish(build_version(folder / "pets")).status_code == 200
    build_builtin(services.repository, "digits", workers=1)
    try:
        with serving(app, port, lifespan="off") as url:
            yield Live(url, keys, folder)
    finally:
        services.close()


@pytest.mark.parametrize("name", ["pets", "digits"])
def test_served_manifests_round_trip_through_the_model(live: Live, name: str) -> None:
    body = httpx.get(f"{live.url}/api/v1/datasets/{name}/versions/latest").content
    manifest = Manifest.model_validate_json(body)
    assert manifest.format == "heldout.manifest/1"
    assert manifest.to_json() == body  # byte for byte: the model is the format, not a new shape


def schemathesis(live: Live, *args: str) -> subprocess.Popen[str]:
    """``schemathesis run … --checks all`` against the live server, bounded and seeded."""
    command = [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run",
               f"{live.url}/openapi.json", "--checks", "all",
               "--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--no-shrink",
               "--generation-database", "none", "--phases", "examples,coverage,fuzzing",
               "--workers", "1", "--no-color", "--request-timeout", "60", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=live.folder)  # its cache stays out of the repo


def test_schemathesis_all_checks_with_an_admin_key_and_without_a_key(live: Live) -> None:
    """No 5xx, no answer that breaks its own schema, status codes, content types, headers,
    auth: every check schemathesis has. Both runs go at once (the server is mostly idle)."""
    httpx.get(f"{live.url}/openapi.json", timeout=300)  # built once, then cached by the app
    runs = {"admin key": schemathesis(live, "--header",
                                      f"Authorization: Bearer {live.keys['root']}"),
            "no key": schemathesis(live)}
    outputs = {who: run.communicate(timeout=600)[0] for who, run in runs.items()}
    for who, run in runs.items():
        assert run.returncode == 0, f"schemathesis with {who}:\n{outputs[who][-8000:]}"
        assert "generated" in outputs[who] and " passed" in outputs[who]


def test_a_generated_client_lists_datasets_and_reads_a_manifest(live: Live,
                                                               tmp_path: Path) -> None:
    package = "heldout_generated_client"
    subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path",
                    str(ROOT / "docs" / "openapi.json"), "--meta", "none",
                    "--output-path", str(tmp_path / package)],
                   check=True, capture_output=True, timeout=300, cwd=tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        generated = importlib.import_module(package)
        list_datasets = importlib.import_module(f"{package}.api.datasets.list_datasets")
        get_manifest = importlib.import_module(f"{package}.api.datasets.get_manifest")
        client = generated.Client(base_url=live.url)
        page = list_datasets.sync(client=client, limit=1)
        assert page.total == 2 and [d.name for d in page.items] == ["digits"]
        assert page.next_.endswith("limit=1&offset=1")  # `next` is a builtin: next_
        manifest = get_manifest.sync(client=client, name="pets", version="latest")
        assert manifest.name == "pets" and manifest.format_ == "heldout.manifest/1"
        assert sorted(manifest.splits.additional_properties) == ["test", "train"]
        assert manifest.held_out.additional_properties["test"].split == "test"
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[module]


def test_the_python_client_returns_typed_pages(live: Live) -> None:
    from heldout.client.http import Client

    with Client(live.url) as client:
        page = client.list_datasets(limit=1)
        assert isinstance(page, Page) and isinstance(page.items[0], DatasetSummary)
        assert page["items"][0]["name"] == "digits"  # the dict form still reads
        assert page.to_dict()["items"][0]["name"] == "digits"
        assert client.dataset("pets").versions[0].held_out == ["test"]
