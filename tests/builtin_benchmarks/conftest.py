"""Fixtures for the built-in benchmarks: the built-in datasets, built once per test session.

Building ``digits`` and ``spoken-digits`` takes a few seconds, so it happens once (per xdist
worker: every test here is in one xdist group) into a session folder; a test that changes the
catalog or store works on its own copy (:func:`fresh_data`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout.config import Settings
from heldout.ingest.builtin import build_builtin
from heldout.layout import labels_key
from heldout.services import Services, build_services
from tests.s3server import make_settings

GROUP = pytest.mark.xdist_group("builtin-benchmarks")


@pytest.fixture(scope="session")
def builtin_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (local store + SQLite) holding digits@1.0.0 and spoken-digits@1.0.0."""
    folder = tmp_path_factory.mktemp("builtin") / "heldout-data"
    services = build_services(make_settings("local", folder))
    try:
        for name in ("digits", "spoken-digits"):
            build_builtin(services.repository, name, workers=1)
    finally:
        services.close()
    return folder


def fresh_data(builtin_data: Path, tmp_path: Path, **overrides: object) -> Settings:
    """Settings over a private copy of the built-in data folder."""
    target = tmp_path / "heldout-data"
    shutil.copytree(builtin_data, target)
    settings: Settings = make_settings("local", target, **overrides)
    return settings


@pytest.fixture(scope="session")
def builtin_services(builtin_data: Path) -> Services:
    """Read-only services over the session's built-in data (don't submit through these)."""
    return build_services(make_settings("local", builtin_data))


def private_labels(services: Services, name: str, split: str = "test") -> pa.Table:
    """Held-out labels, read as the scorer reads them (tests only; never a participant)."""
    data = services.stores.private.get_bytes(labels_key(name, "1.0.0", split))
    return pq.read_table(pa.BufferReader(data))
