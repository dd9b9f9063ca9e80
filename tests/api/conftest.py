"""Fixtures for API tests: an app per store backend, users with keys, publishing over HTTP."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from heldout.accounts.keys import create_key
from heldout.accounts.users import create_user
from heldout.api.app import create_app
from heldout.config import Settings
from heldout.formats.features import Audio, ClassLabel, Features, Image, Value
from heldout.formats.manifest import ShardInfo
from heldout.formats.writer import ShardWriter
from heldout.services import Services, build_services
from tests.helpers import png_bytes

LABELS = ["cat", "dog", "fox"]
FEATURES = Features({
    "id": Value("string"),
    "image": Image(),
    "clip": Audio(sampling_rate=8000),
    "caption": Value("string"),
    "label": ClassLabel(LABELS),
})
LABEL_COLUMNS = ["caption", "label"]
USERS = {"root": "admin", "pub": "publisher", "pub2": "publisher", "alice": "participant",
         "bob": "participant", "lab1": "lab"}
METADATA = {"title": "Pets with clips", "description": "pictures and sounds of pets",
            "license": "CC-BY-4.0", "task": "image-classification", "modality": "multimodal"}


def wav_bytes(seed: int, seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A short mono WAV of noise."""
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * rate))
    out = io.BytesIO()
    soundfile.write(out, samples.astype("float32"), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def secret_caption(i: int) -> str:
    """A held-out label value that cannot occur by accident anywhere else."""
    return f"HELDOUT-SECRET-{i:04d}-zq"


def make_rows(split: str, count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        held = split == "test"
        rows.append({
            "id": f"{split}-{i:04d}",
            "image": {"bytes": png_bytes(i + (1000 if held else 0), size=12 + i % 5),
                      "path": f"{split}-{i}.png"},
            "clip": {"bytes": wav_bytes(i), "path": f"{split}-{i}.wav"},
            "caption": secret_caption(i) if held else f"public caption {i}",
            "label": i % len(LABELS),
        })
    return rows


@dataclass
class Built:
    """Shard files written locally for one version, ready to upload."""

    folder: Path
    shards: list[ShardInfo]
    labels: Path | None
    rows: dict[str, list[dict[str, Any]]]


def build_version(folder: Path, train: int = 23, test: int = 9,
                  target_bytes: int = 6000) -> Built:
    """Write train (several shards, small row groups) and a held-out test split."""
    rows = {"train": make_rows("train", train), "test": make_rows("test", test)}
    shards: list[ShardInfo] = []
    with ShardWriter(folder, "train", FEATURES, target_bytes=target_bytes,
                     media_rows_per_group=4) as writer:
        writer.write_rows(rows["train"])
        shards += writer.close()
    public = FEATURES.drop(LABEL_COLUMNS)
    with ShardWriter(folder, "test", public, target_bytes=target_bytes,
                     media_rows_per_group=4) as writer:
        writer.write_rows([{k: v for k, v in r.items() if k in public} for r in rows["test"]])
        shards += writer.close()
    labels_dir = folder / "labels"
    with ShardWriter(labels_dir, "test", FEATURES.select(["id", *LABEL_COLUMNS]),
                     target_bytes=2**40) as writer:
        writer.write_rows([{k: r[k] for k in ("id", *LABEL_COLUMNS)} for r in rows["test"]])
        (label_shard,) = writer.close()
    return Built(folder, shards, labels_dir / label_shard.path, rows)


@dataclass
class Api:
    """A running app (TestClient), its services and a key per seeded user."""

    client: TestClient
    services: Services
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"} if user else {}

    def publish(self, built: Built, name: str = "pets", version: str = "1.0.0",
                user: str = "pub", declared: list[dict[str, Any]] | None = None
                ) -> Any:
        """Create a draft, upload every shard and the labels, commit; returns the response."""
        draft_id = self.start(name, version, user)
        base = f"/api/v1/datasets/{name}/versions/{version}/drafts/{draft_id}"
        uploaded = []
        for shard in built.shards:
            body = (built.folder / shard.path).read_bytes()
            r = self.client.put(f"{base}/shards/{Path(shard.path).name}", content=body,
                                headers=self.auth(user))
            assert r.status_code == 200, r.text
            uploaded.append(r.json())
        if built.labels is not None:
            r = self.client.put(f"{base}/labels/test",
                                params={"label_columns": ",".join(LABEL_COLUMNS)},
                                content=built.labels.read_bytes(), headers=self.auth(user))
            assert r.status_code == 200, r.text
        return self.client.post(f"{base}/commit", json={
            "shards": declared if declared is not None else uploaded,
            "statistics": {"rows": sum(len(v) for v in built.rows.values())},
        }, headers=self.auth(user))

    def start(self, name: str, version: str, user: str = "pub") -> str:
        r = self.client.post(f"/api/v1/datasets/{name}/versions", json={
            "version": version, "features": FEATURES.to_hf(), "metadata": METADATA,
        }, headers=self.auth(user))
        assert r.status_code == 201, r.text
        return str(r.json()["draft_id"])


def seed_users(services: Services) -> dict[str, str]:
    """Create the USERS and one key each (through the accounts API, as the CLI does)."""
    keys = {}
    with services.catalog.session() as session:
        for name, role in USERS.items():
            keys[name] = create_key(session, create_user(session, name, role)).key
    return keys


def make_api(settings: Settings) -> Iterator[Api]:
    services = build_services(settings)
    app = create_app(settings, services)
    keys = seed_users(services)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, services, settings, keys)
    services.close()


@pytest.fixture(params=["local", "s3"])
def api(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
        tmp_path: Path) -> Iterator[Api]:
    """The app over each store backend in turn, with seeded users (no rate limit: a test that
    walks every route sends more than a client would; test_rate_limit covers the limits)."""
    yield from make_api(settings_for(request.param, tmp_path / "data", rate_limit_per_minute=0))


@pytest.fixture
def local_api(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[Api]:
    """The app over the local store (for behaviour that does not depend on the backend)."""
    yield from make_api(settings_for("local", tmp_path / "data"))


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_version(tmp_path / "build")


@pytest.fixture
def published(api: Api, built: Built) -> Built:
    r = api.publish(built)
    assert r.status_code == 200, r.text
    return built
