"""Names are taken at first commit: a draft claims nothing, an aborted or expired draft leaves
the name free, and operator publishes name their owner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from heldout.accounts.access import find_dataset
from heldout.accounts.users import get_user
from heldout.catalog.models import Dataset
from heldout.cli.main import app
from heldout.config import Settings
from heldout.repository import _now
from heldout.services import build_services
from tests.live import free_port, make_key, running_api
from tests.security.test_hostile_uploads import (
    FEATURES,
    METADATA,
    Publisher,
    ids,
    images,
    parquet,
)


@pytest.fixture
def server(settings_for: Callable[..., Settings],
           tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = settings_for("local", tmp_path / "server",
                            public_base_url=f"http://127.0.0.1:{free_port()}")
    with running_api(settings) as url:
        yield settings, url


def publish(url: str, key: str, name: str, version: str = "1.0.0") -> httpx.Response:
    """A complete small version over HTTP (no held-out split)."""
    client = httpx.Client(base_url=url + "/api/v1", timeout=60,
                          headers={"Authorization": f"Bearer {key}"})
    created = client.post(f"/datasets/{name}/versions",
                          json={"version": version, "features": FEATURES.drop(["label"]).to_hf(),
                                "metadata": METADATA})
    if created.status_code != 201:
        return created
    base = f"/datasets/{name}/versions/{version}/drafts/{created.json()['draft_id']}"
    client.put(f"{base}/shards/train-00000-of-00001.parquet",
               content=parquet(id=ids(3), image=images(3)))
    return client.post(f"{base}/commit", json={})


def owner_of(settings: Settings, name: str) -> int | str | None:
    services = build_services(settings)
    try:
        with services.catalog.session() as session:
            row = find_dataset(session, name)
            return "absent" if row is None else row.owner_id
    finally:
        services.close()


def test_an_aborted_or_expired_draft_leaves_the_name_free(server: tuple[Settings, str]) -> None:
    settings, url = server
    squatter, real = (make_key(settings, n, "publisher") for n in ("squatter", "real"))
    aborted = Publisher(url, squatter, "pets")
    assert owner_of(settings, "pets") == "absent"  # a draft claims nothing
    assert aborted.client.delete(aborted.base).status_code == 200
    Publisher(url, squatter, "cats")  # left to expire
    services = build_services(settings)
    try:
        ttl = services.repository.draft_ttl
        assert services.repository.cleanup_abandoned_drafts(_now() + ttl + timedelta(1))
    finally:
        services.close()
    for name in ("pets", "cats"):
        assert publish(url, real, name).status_code == 200
        refused = publish(url, squatter, name, "99.0.0")
        assert refused.status_code == 403 and "another publisher" in refused.text
    assert owner_of(settings, "pets") != "absent"


def test_an_operator_publish_names_its_owner(server: tuple[Settings, str],
                                             tmp_path: Path) -> None:
    """A row a draft left behind (as older releases did) gives its creator nothing: the
    operator's publish makes the dataset theirs (no owner) or ``--owner``'s."""
    settings, url = server
    squatter = make_key(settings, "squatter", "publisher")
    services = build_services(settings)
    try:
        with services.catalog.session() as session:
            session.add(Dataset(name="digits", owner_id=get_user(session, "squatter").id))
    finally:
        services.close()
    env = {"HELDOUT_DATA_DIR": str(settings.data_dir), "HELDOUT_ENVIRONMENT": "test"}
    built = CliRunner().invoke(app, ["datasets", "build", "digits", "--json"], env=env)
    assert built.exit_code == 0, built.output
    assert owner_of(settings, "digits") is None
    refused = publish(url, squatter, "digits", "99.0.0")
    assert refused.status_code == 403
    make_key(settings, "ada", "publisher")
    owned = CliRunner().invoke(app, ["datasets", "build", "digits", "--version", "1.0.1",
                                     "--owner", "ada", "--json"], env=env)
    assert owned.exit_code == 0, owned.output
    assert owner_of(settings, "digits") not in (None, "absent")
