"""Fixtures for benchmark tests: a small synthetic dataset, benchmarks over it, an API on
each store (local, S3) and catalog (SQLite, PostgreSQL when HELDOUT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from heldout.benchmarks.registry import sync_benchmarks
from heldout.benchmarks.truth import read_parquet
from heldout.config import Settings
from heldout.formats.features import ClassLabel, Features, Value
from heldout.layout import labels_key
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.services import Services
from tests.api.conftest import Api, make_api
from tests.dbfixtures import POSTGRES_URL, _fresh_postgres_database

LABELS = ["ant", "bee", "cow"]
WORDS = ["one two three", "four five", "six", "seven eight nine ten"]
N_TEST = 90
FEATURES = Features({"id": Value("string"), "x": Value("float32"), "label": ClassLabel(LABELS),
                     "text": Value("string"), "speaker": Value("string")})
LABEL_COLUMNS = ["label", "text", "speaker"]


def rows(split: str, count: int) -> list[dict[str, Any]]:
    return [{"id": f"{split}-{i:03d}", "x": float(i), "label": (i * 7) % 3,
             "text": WORDS[i % len(WORDS)], "speaker": f"spk{i % 6}"} for i in range(count)]


def publish_toy(repo: DatasetRepository, name: str = "toy", version: str = "1.0.0",
                labels_public: str | None = None) -> None:
    """train (12 rows), test (90, held out) and stage2 (30, held out); ``labels_public``: the
    reason the held-out labels are public elsewhere."""
    meta = DatasetMetadata(title="Toy", description="synthetic", license="CC0-1.0",
                           task="image-classification", modality="tabular",
                           held_out_labels_public=labels_public is not None,
                           held_out_labels_public_reason=labels_public)
    draft = repo.create_draft(name, version, features=FEATURES, metadata=meta)
    draft.write_split("train", rows("train", 12))
    draft.write_split("test", rows("test", N_TEST), held_out=True, label_columns=LABEL_COLUMNS)
    draft.write_split("stage2", rows("stage2", 30), held_out=True,
                      label_columns=LABEL_COLUMNS)
    draft.commit()


def spec(**fields: Any) -> dict[str, Any]:
    """A classification benchmark over toy@1.0.0 (fields override)."""
    base: dict[str, Any] = {
        "id": "toy-cls", "version": 1, "title": "Toy classification", "dataset": "toy@1.0.0",
        "split": "test", "task": "classification", "truth_column": "label",
        "input_columns": ["x"], "metrics": ["accuracy", "f1_macro"],
        "primary_metric": "accuracy", "license": "CC0-1.0",
    }
    base.update(fields)
    return base


def write_specs(folder: Path, *specs: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for item in specs:
        (folder / f"{item['id']}.yaml").write_text(yaml.safe_dump(item), encoding="utf-8")
    return folder


def truth_table(services: Services, split: str = "test") -> pa.Table:
    """The held-out labels as stored (tests may look; participants never can)."""
    return read_parquet(services, labels_key("toy", "1.0.0", split))


def csv_predictions(table: pa.Table, column: str, values: list[Any] | None = None) -> bytes:
    """A CSV with ``id`` and ``column`` (the true values unless ``values`` given)."""
    ids = table.column("id").to_pylist()
    data = values if values is not None else table.column(column).to_pylist()
    out = io.StringIO()
    out.write(f"id,{column}\n")
    for i, v in zip(ids, data, strict=True):
        out.write(f"{i},{v}\n")
    return out.getvalue().encode()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@dataclass
class BenchApi:
    """An Api with the toy dataset published and a folder for benchmark YAML."""

    api: Api
    folder: Path

    @property
    def services(self) -> Services:
        return self.api.services

    def sync(self, *specs: dict[str, Any]) -> list[Any]:
        return sync_benchmarks(self.services, write_specs(self.folder, *specs))

    def submit(self, benchmark: str, body: bytes, user: str = "alice",
               filename: str = "predictions.csv", model: str = "m1",
               headers: dict[str, str] | None = None) -> Any:
        return self.api.client.post(
            f"/api/v1/benchmarks/{benchmark}/submissions",
            files={"file": (filename, body, "application/octet-stream")},
            data={"model_name": model}, headers={**self.api.auth(user), **(headers or {})})


def database_for(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    if not POSTGRES_URL:
        pytest.skip("HELDOUT_TEST_DATABASE_URL is not set: no PostgreSQL on this machine")
    yield from _fresh_postgres_database(POSTGRES_URL)


def bench_api_for(settings: Settings, folder: Path) -> Iterator[BenchApi]:
    for api in make_api(settings):
        publish_toy(api.services.repository)
        yield BenchApi(api, folder)


@pytest.fixture(params=[("local", "sqlite"), ("s3", "sqlite"), ("local", "postgresql")],
                ids=["local-sqlite", "s3-sqlite", "local-postgresql"])
def bench(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
          tmp_path: Path) -> Iterator[BenchApi]:
    """The API with the toy dataset, on each store and catalog."""
    backend, db = request.param
    for url in database_for(db):
        overrides: dict[str, Any] = {"rate_limit_per_minute": 0}
        if url:
            overrides["database_url"] = url
        settings = settings_for(backend, tmp_path / "data", **overrides)
        yield from bench_api_for(settings, tmp_path / "benchmarks")


@pytest.fixture
def local_bench(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[BenchApi]:
    """The API with the toy dataset on the local store and SQLite."""
    settings = settings_for("local", tmp_path / "data", rate_limit_per_minute=0)
    yield from bench_api_for(settings, tmp_path / "benchmarks")
