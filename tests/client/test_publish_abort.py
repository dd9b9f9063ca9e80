"""Publishing over HTTP: "any failure aborts the draft, so nothing is left behind".

Each test makes one step of ``Client.publish_folder`` fail on the real server, then lists both
stores: no shard, no labels, no draft lock and no manifest of the version may remain, and the
same version can be published at once afterwards (no stale draft blocks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from heldout.client.http import Client
from heldout.config import Settings
from heldout.errors import HeldoutError
from heldout.services import build_services
from tests.api.conftest import FEATURES, METADATA, build_version
from tests.live import free_port, make_key, running_api


@pytest.fixture
def server(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = settings_for("local", tmp_path / "server",
                            public_base_url=f"http://127.0.0.1:{free_port()}")
    with running_api(settings) as url:
        yield settings, url


def stored_keys(settings: Settings) -> list[str]:
    """Every object in the public and the private store."""
    services = build_services(settings)
    try:
        return sorted([i.key for i in services.stores.public.list("")]
                      + [i.key for i in services.stores.private.list("")])
    finally:
        services.close()


def publisher(settings: Settings, url: str) -> Client:
    return Client(url, token=make_key(settings, "pub", "publisher"), backoff=0.01)


def test_a_failed_commit_aborts_the_draft(server: tuple[Settings, str], tmp_path: Path) -> None:
    settings, url = server
    built = build_version(tmp_path / "v")
    assert built.labels is not None
    labels = pq.read_table(built.labels)
    pq.write_table(labels.slice(0, labels.num_rows - 1), built.labels)  # one test id unlabelled
    client = publisher(settings, url)
    with pytest.raises(HeldoutError, match="label"):
        client.publish_folder(built.folder, "pets", "1.0.0", metadata=METADATA)
    assert stored_keys(settings) == []
    pq.write_table(labels, built.labels)
    again = client.publish_folder(built.folder, "pets", "1.0.0", metadata=METADATA)
    assert again.version == "1.0.0"


def test_a_failed_upload_aborts_the_draft(server: tuple[Settings, str], tmp_path: Path) -> None:
    settings, url = server
    built = build_version(tmp_path / "v")
    last = built.folder / built.shards[-1].path  # uploaded after the others are stored
    good = last.read_bytes()
    last.write_bytes(b"not a parquet file" * 100)
    client = publisher(settings, url)
    with pytest.raises(HeldoutError):
        client.publish_folder(built.folder, "pets", "1.0.0", features=FEATURES.to_hf(),
                              metadata=METADATA)
    assert stored_keys(settings) == []
    last.write_bytes(good)
    again = client.publish_folder(built.folder, "pets", "1.0.0", metadata=METADATA)
    assert again.version == "1.0.0"
