"""A real server with a class-folder dataset published with a held-out test split, by both
publishing paths (an operator writing to the store, a publisher with ``publish --server``),
twice each; attackers then play every recovery route against it with no key at all.

The source is what makes label recovery easy when secrecy fails: sorted class folders with
guessable file names (``test/{bird,cat,dog}/img_000.png``), unequal class sizes, and
duplicates, a near-duplicate, a leaked file and a broken file that involve held-out items.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from heldout.cli.main import app
from heldout.config import Settings
from heldout.ingest.pipeline import PublishOptions, publish_source
from heldout.ingest.sources.folder import FolderSource
from heldout.repository import DatasetMetadata
from heldout.services import Services, build_services, build_stores
from heldout.storage.factory import ensure_buckets
from tests.live import free_port, make_key, running_api
from tests.s3server import S3Endpoint, empty_and_remove_bucket, make_settings

TEST_COUNTS = {"bird": 60, "cat": 40, "dog": 20}  # sorted folders, unequal classes
TRAIN_COUNTS = {"bird": 15, "cat": 10, "dog": 5}
VERSIONS = ("1.0.0", "1.1.0")
PATHS = ("operator", "server")  # local publish into the store / publish --server over HTTP


def image(seed: int) -> bytes:
    """A small random grayscale PNG with some structure (so pHash means something)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (4, 4)).astype(np.uint8)
    pixels = np.kron(base, np.ones((8, 8), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def class_folder(root: Path) -> Path:
    """``root/{train,test}/{class}/img_{i:03d}.png`` plus troublemakers in the test split."""
    seed = 0
    for split, counts in (("train", TRAIN_COUNTS), ("test", TEST_COUNTS)):
        for cls, count in counts.items():
            for i in range(count):
                seed += 1
                _write(root / split / cls / f"img_{i:03d}.png", image(seed))
    _write(root / "test" / "dog" / "zz_dup.png", (root / "test/dog/img_000.png").read_bytes())
    _write(root / "test" / "cat" / "zz_broken.png", b"\x89PNG\r\n\x1a\nnot really")
    _write(root / "train" / "bird" / "zz_leak.png", (root / "test/cat/img_001.png").read_bytes())
    near = np.asarray(Image.open(root / "test/bird/img_002.png")).copy()
    near[0, 0] ^= 1  # one pixel off: a near-duplicate (pHash distance ~0), different bytes
    buffer = io.BytesIO()
    Image.fromarray(near, mode="L").save(buffer, format="PNG")
    _write(root / "train" / "dog" / "zz_near.png", buffer.getvalue())
    return root


@dataclass
class World:
    """A running server and what was published on it."""

    backend: str
    settings: Settings
    url: str
    source: Path
    admin_key: str
    publisher_key: str
    datasets: dict[str, str] = field(default_factory=dict)  # path → dataset name

    def services(self) -> Services:
        return build_services(self.settings)

    def truth(self, name: str, version: str) -> dict[str, str]:
        """Held-out id → class name, read from the private store (what attackers lack)."""
        import pyarrow.parquet as pq

        services = self.services()
        try:
            manifest = services.repository.manifest(name, version)
            key = services.repository.stores.private.get_bytes(
                f"private/labels/{name}/{version}/test.parquet")
            table = pq.read_table(io.BytesIO(key))
            names = manifest.label_names["label"]
            return {row["id"]: names[row["label"]] for row in table.to_pylist()}
        finally:
            services.close()


def chance_bound(truth: dict[str, str]) -> float:
    """The best label-blind accuracy (the majority class's share) plus 3 standard errors."""
    counts = list(_counts(truth.values()).values())
    n = sum(counts)
    chance = max(counts) / n
    return chance + 3 * math.sqrt(chance * (1 - chance) / n)


def _counts(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def _metadata() -> DatasetMetadata:
    return DatasetMetadata(title="Birds, cats and dogs", license="CC-BY-4.0",
                           task="image-classification", modality="image")


def _publish_operator(settings: Settings, source: Path, name: str, version: str) -> None:
    services = build_services(settings)
    try:
        publish_source(services.repository, FolderSource(source, "image"), name, version,
                       _metadata(), PublishOptions(held_out=["test"], skip_invalid=True,
                                                   allow_leakage=True, workers=1))
    finally:
        services.close()


def _publish_server(url: str, key: str, source: Path, name: str, version: str) -> None:
    result = CliRunner().invoke(
        app, ["datasets", "publish", str(source), "--name", name, "--version", version,
              "--server", url, "--held-out", "test", "--license", "CC-BY-4.0",
              "--skip-invalid", "--allow-leakage", "--workers", "1", "--json"],
        env={"HELDOUT_TOKEN": key, "HELDOUT_DATA_DIR": str(source.parent / "client-data")},
    )
    assert result.exit_code == 0, result.output


def _world(backend: str, root: Path, endpoint: S3Endpoint | None) -> Iterator[World]:
    settings = make_settings(backend, root / "server", endpoint,
                             public_base_url=f"http://127.0.0.1:{free_port()}")
    ensure_buckets(build_stores(settings))
    source = class_folder(root / "src")
    try:
        with running_api(settings) as url:
            world = World(backend, settings, url, source, make_key(settings, "root", "admin"),
                          make_key(settings, "pub", "publisher"))
            for path in PATHS:
                name = f"pets-{path}"
                world.datasets[path] = name
                for version in VERSIONS:
                    if path == "operator":
                        _publish_operator(settings, source, name, version)
                    else:
                        _publish_server(url, world.publisher_key, source, name, version)
            yield world
    finally:
        if endpoint is not None:
            for bucket in (settings.public_bucket, settings.private_bucket):
                empty_and_remove_bucket(endpoint, bucket)


@pytest.fixture(scope="module", params=["local", "s3"])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The published world on each store backend (local folder, SeaweedFS)."""
    endpoint = request.getfixturevalue("s3_server") if request.param == "s3" else None
    yield from _world(request.param, tmp_path_factory.mktemp(f"world-{request.param}"),
                      endpoint)
