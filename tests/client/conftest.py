"""Fixtures for client tests: a dataset published with the real repository, served by the
real API behind a fault-injecting proxy (:mod:`tests.client.faultproxy`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from PIL import Image as PILImage

from heldout.config import Settings
from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.services import build_services
from tests.client.faultproxy import FaultProxy, running_app

LABELS = ["cat", "dog", "bird"]
FEATURES = Features({"id": Value("string"), "image": Image(), "label": ClassLabel(LABELS),
                     "note": Value("string")})


def png(seed: int, size: int = 8) -> bytes:
    """A small, valid, distinct PNG."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def make_rows(split: str, count: int, pad: int = 0) -> list[dict[str, Any]]:
    """Rows of the demo dataset (``pad`` random bytes appended to each PNG to grow shards)."""
    rng = np.random.default_rng(len(split) * 1000 + count)
    rows = []
    for i in range(count):
        data = png(hash((split, i)) % 2**32) + (rng.bytes(pad) if pad else b"")
        rows.append({"id": f"{split}-{i:04d}", "image": {"bytes": data, "path": f"{i}.png"},
                     "label": LABELS[i % 3], "note": f"row {i} of {split}"})
    return rows


def publish_demo(repository: DatasetRepository, name: str = "pets", version: str = "1.0.0",
                 *, train: int = 250, test: int = 60, pad: int = 2000) -> dict[str, list[Any]]:
    """Publish train (several shards) and a held-out test split; return the rows written."""
    draft = repository.create_draft(
        name, version, features=FEATURES,
        metadata=DatasetMetadata(title="Pets", description="demo", license="CC-BY-4.0",
                                 task="image-classification", modality="image"),
    )
    rows = {"train": make_rows("train", train, pad), "test": make_rows("test", test, pad)}
    draft.write_split("train", rows["train"])
    draft.write_split("test", rows["test"], held_out=True, label_columns=["label"])
    draft.commit()
    return rows


class Published(NamedTuple):
    """``pets@1.0.0`` published with the real repository into the store the API serves."""

    repository: DatasetRepository
    rows: dict[str, list[Any]]
    root: Path  # local backend: the public store's ``datasets`` folder (objects as files)
    settings: Settings


@contextmanager
def publishing(settings: Settings) -> Iterator[Published]:
    """Publish the demo dataset with the server's own services (closed afterwards)."""
    services = build_services(settings)
    try:
        rows = publish_demo(services.repository)
        root = settings.local_store_root / settings.public_bucket / "datasets"
        yield Published(services.repository, rows, root, settings)
    finally:
        services.close()


@contextmanager
def behind(proxy: FaultProxy, settings: Settings) -> Iterator[FaultProxy]:
    """The real API for ``settings`` running, with ``proxy`` forwarding to it."""
    with running_app(settings) as url:
        proxy.start(url)
        try:
            yield proxy
        finally:
            proxy.stop()


@pytest.fixture
def listening_proxy() -> Iterator[FaultProxy]:
    """A fault proxy bound to its port (not yet forwarding): its URL goes in the settings."""
    with FaultProxy() as proxy:
        yield proxy


@pytest.fixture
def published(listening_proxy: FaultProxy, settings_for: Callable[..., Settings],
              tmp_path: Path) -> Iterator[Published]:
    """``pets@1.0.0`` (train in 2 shards) on the local store of a server whose public URL is
    the proxy's."""
    settings = settings_for("local", tmp_path / "server", shard_target_bytes=200_000,
                            public_base_url=listening_proxy.url)
    with publishing(settings) as published:
        yield published


@pytest.fixture
def proxy(listening_proxy: FaultProxy, published: Published) -> Iterator[FaultProxy]:
    """The real API serving ``published``, reached through a fault-injecting proxy."""
    with behind(listening_proxy, published.settings) as proxy:
        yield proxy


def set_visibility(settings: Settings, name: str, visibility: str) -> None:
    """Make a dataset public, gated (terms version "1") or private in the server's catalog."""
    from heldout.accounts.access import find_dataset, set_access

    services = build_services(settings)
    try:
        with services.catalog.session() as session:
            dataset = find_dataset(session, name)
            assert dataset is not None
            set_access(session, dataset, visibility=visibility, terms_version="1",
                       terms_text="Research use only.")
            session.commit()
    finally:
        services.close()


def expected_public(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows as they read back from the public shards (labels as indices, held-out dropped)."""
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in drop}
        if "label" in item:
            item["label"] = LABELS.index(item["label"])
        out.append(item)
    return out


def without_paths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Held-out rows as comparable content: ids (drawn at random per publish) and media file
    names (renamed after them) dropped, in a canonical order (the public order is secret)."""
    out = [{k: ({**v, "path": None} if k == "image" else v) for k, v in row.items() if k != "id"}
           for row in rows]
    return sorted(out, key=lambda row: row["image"]["bytes"])
