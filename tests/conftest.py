"""Shared pytest fixtures. Each owner keeps their fixtures in their own delimited block."""

from __future__ import annotations

# ---- storage fixtures (owner: storage) -------------------------------------------------------
# s3_server:     session-wide real S3 server (SeaweedFS, or HELDOUT_TEST_S3_ENDPOINT); never skipped
# local_stores:  Stores over two fresh folders in tmp_path
# s3_stores:     Stores over two fresh buckets on s3_server (removed afterwards)
# stores:        parametrized over ["local", "s3"]: run a test against both backends
# settings_for:  settings_for(backend, tmp_path, **overrides) -> Settings pointing at the test
#                server (S3 buckets are created); build an app/repository from it
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heldout.config import Settings
from heldout.services import build_stores
from heldout.storage.base import Stores
from heldout.storage.factory import ensure_buckets
from tests.s3server import (
    S3Endpoint,
    S3Server,
    empty_and_remove_bucket,
    endpoint_from_env,
    make_settings,
)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Endpoint]:
    """A running S3 server for the whole session: HELDOUT_TEST_S3_ENDPOINT, else SeaweedFS.

    Fails (never skips) when the server cannot be started.
    """
    configured = endpoint_from_env()
    if configured is not None:
        yield configured
        return
    try:
        server = S3Server.start()
    except Exception as exc:
        pytest.fail(f"could not start the SeaweedFS test server: {exc}", pytrace=False)
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def local_stores(tmp_path: Path) -> Stores:
    """Public and private LocalStores in a fresh folder."""
    stores = build_stores(make_settings("local", tmp_path / "heldout-data"))
    ensure_buckets(stores)
    return stores


@pytest.fixture
def s3_stores(s3_server: S3Endpoint, tmp_path: Path) -> Iterator[Stores]:
    """Public and private S3Stores on two fresh buckets (emptied and removed afterwards)."""
    settings = make_settings("s3", tmp_path / "heldout-data", s3_server)
    stores = build_stores(settings)
    ensure_buckets(stores)
    try:
        yield stores
    finally:
        for bucket in (settings.public_bucket, settings.private_bucket):
            empty_and_remove_bucket(s3_server, bucket)


@pytest.fixture(params=["local", "s3"])
def stores(request: pytest.FixtureRequest) -> Stores:
    """Stores of each backend in turn (the S3 server starts only when an s3 case runs)."""
    result: Stores = request.getfixturevalue(f"{request.param}_stores")
    return result


@pytest.fixture
def settings_for(request: pytest.FixtureRequest) -> Iterator[Callable[..., Settings]]:
    """A factory ``settings_for(backend, tmp_path, **overrides) -> Settings``.

    For "s3" the settings point at the test server with two fresh buckets, created now and
    removed after the test.
    """
    created: list[tuple[S3Endpoint, str]] = []

    def build(backend: str, tmp_path: Path, **overrides: Any) -> Settings:
        endpoint = request.getfixturevalue("s3_server") if backend == "s3" else None
        settings: Settings = make_settings(backend, Path(tmp_path), endpoint, **overrides)
        ensure_buckets(build_stores(settings))
        if endpoint is not None:
            created.extend((endpoint, b) for b in (settings.public_bucket, settings.private_bucket))
        return settings

    yield build
    for endpoint, bucket in created:
        empty_and_remove_bucket(endpoint, bucket)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every case that runs on the S3 server ``s3`` (an ``"s3"`` parameter, or the server
    fixtures), so ``-m "not s3"`` keeps exactly the local-store cases (``./dev mutate``)."""
    for item in items:
        params = getattr(item, "callspec", None)
        values = params.params.values() if params is not None else ()
        uses_server = {"s3_server", "s3_stores"} & set(getattr(item, "fixturenames", ()))
        if uses_server or any(isinstance(v, str) and v == "s3" for v in values):
            item.add_marker(pytest.mark.s3)
# ---- end of storage fixtures -----------------------------------------------------------------


# ---- client sign-in isolation (owner: cli) ----------------------------------------------------
# Every test gets its own empty config dir, so a developer's `heldout login` never leaks in.
@pytest.fixture(autouse=True)
def _isolated_sign_in(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELDOUT_CONFIG_DIR", str(tmp_path_factory.mktemp("heldout-config")))
