"""``heldout datasets head`` and ``list`` as a user sees them (the installed script, piped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from heldout.config import Settings
from heldout.services import build_services
from tests.cli.test_as_a_user import User
from tests.helpers import publish_tiny
from tests.live import free_port, running_api


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path / "server", environment="test",
                        public_base_url=f"http://127.0.0.1:{free_port()}")
    services = build_services(settings)
    publish_tiny(services.repository, name="a-rather-long-dataset-name-for-the-listing")
    services.close()
    with running_api(settings) as served:
        yield served


@pytest.mark.slow
def test_head_and_list(url: str, tmp_path: Path) -> None:
    user = User(tmp_path / "home")
    name = "a-rather-long-dataset-name-for-the-listing"
    head = user.run("datasets", "head", name, "-n", "3", "--url", url, COLUMNS="80")
    assert head.returncode == 0, head.stderr
    assert "train, rows 0–2 of 10" in head.stdout and "cat (0)" in head.stdout
    assert "image " in head.stdout  # media shown as kind and size
    page = json.loads(user.run("datasets", "head", name, "--split", "test", "--json",
                               "--url", url).stdout)
    assert page["split"] == "test" and "label" not in page["rows"][0]  # held out
    listed = user.run("datasets", "list", "--url", url, COLUMNS="80")
    assert name in listed.stdout  # never cut
    assert user.json("datasets", "list", "--search", "nothing-like-it", "--url", url) == []
