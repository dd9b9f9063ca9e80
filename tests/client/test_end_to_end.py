"""The client and ``heldout datasets pull`` against the real API (uvicorn) on both stores."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from heldout.client import Client
from heldout.config import Settings
from heldout.errors import IntegrityError, NotFound
from heldout.services import build_services
from tests.client.conftest import expected_public, publish_demo, set_visibility, without_paths
from tests.live import free_port, make_key, running_api


class Served:
    """A published dataset behind a running API."""

    def __init__(self, settings: Settings, url: str, rows: dict[str, list[Any]]) -> None:
        self.settings = settings
        self.url = url
        self.rows = rows

    def stores(self) -> Any:
        from heldout.services import build_stores

        return build_stores(self.settings)


@pytest.fixture(params=["local", "s3"])
def served(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
           tmp_path: Path) -> Iterator[Served]:
    settings = settings_for(request.param, tmp_path / "server", shard_target_bytes=200_000,
                            public_base_url=f"http://127.0.0.1:{free_port()}")
    services = build_services(settings)
    try:
        rows = publish_demo(services.repository)
    finally:
        services.close()
    with running_api(settings) as url:
        yield Served(settings, url, rows)


def test_client_pulls_every_published_row(served: Served, tmp_path: Path) -> None:
    client = Client(served.url, cache_dir=tmp_path / "cache")
    tables = client.load_dataset("pets", as_arrow=True)
    assert tables["train"].to_pylist() == expected_public(served.rows["train"])
    assert without_paths(tables["test"].to_pylist()) == without_paths(
        expected_public(served.rows["test"], drop=("label",)))
    dataset = client.load_dataset("pets", "train", "1.0.0")
    assert dataset.num_rows == 250 and dataset[5]["image"].size == (8, 8)
    assert dataset.features["label"].names == ["cat", "dog", "bird"]


def test_cli_pull_gives_a_folder_stock_tools_read(served: Served, tmp_path: Path) -> None:
    import datasets
    import duckdb
    import pandas as pd

    out = tmp_path / "pets"
    result = CliRunner().invoke(app, ["datasets", "pull", "pets", "-o", str(out), "--json"],
                                env={"HELDOUT_URL": served.url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["downloaded_files"] == 6
    loaded = datasets.load_dataset("parquet", data_dir=str(out), cache_dir=str(tmp_path / "hf"))
    train = loaded["train"].cast_column("image", datasets.Image(decode=False))
    assert train.to_list() == expected_public(served.rows["train"])
    frame = pd.read_parquet(sorted((out / "data").glob("train-*.parquet")))
    assert list(frame["id"]) == [r["id"] for r in served.rows["train"]]
    pattern = out / "data" / "*.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall() == [(310,)]


def test_a_corrupt_shard_in_the_store_is_detected(served: Served, tmp_path: Path) -> None:
    stores = served.stores()
    key = "datasets/pets/1.0.0/data/train-00001-of-00002.parquet"
    data = bytearray(stores.public.get_bytes(key))
    data[len(data) // 3] ^= 0x55
    stores.public.put(key, bytes(data))
    client = Client(served.url, cache_dir=tmp_path)
    with pytest.raises(IntegrityError, match=r"data/train-00001-of-00002\.parquet is corrupt"):
        client.load_dataset("pets", "train")
    assert not (tmp_path / "pets" / "1.0.0" / "data" / "train-00001-of-00002.parquet").exists()
    assert client.load_dataset("pets", "test", as_arrow=True).num_rows == 60  # the rest is fine


def test_a_download_killed_half_way_resumes_with_range(served: Served, tmp_path: Path) -> None:
    stores = served.stores()
    rel = "data/train-00000-of-00002.parquet"
    source = stores.public.get_bytes(f"datasets/pets/1.0.0/{rel}")
    partial = tmp_path / "pets" / "1.0.0" / ".heldout" / "partial" / (rel + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(source[: len(source) // 2])  # what a killed run leaves
    result = Client(served.url, cache_dir=tmp_path).download("pets", "1.0.0", split="train")
    assert (result.path / rel).read_bytes() == source
    total = sum(s.num_bytes for s in result.manifest.all_shards() if s.split == "train")
    metadata = sum((result.path / p).stat().st_size
                   for p in ("manifest.json", "croissant.json", "README.md"))
    assert result.downloaded_bytes == total + metadata - len(source) // 2


def test_listed_urls_work_with_plain_http(served: Served) -> None:
    listing = Client(served.url).files("pets", "1.0.0")
    assert {"manifest.json", "croissant.json", "README.md"} <= {f["path"] for f in listing["files"]}
    for item in listing["files"]:
        url = httpx.URL(served.url).join(item["url"])
        body = httpx.get(url).content  # no token, no Heldout code
        if item.get("sha256"):
            assert hashlib.sha256(body).hexdigest() == item["sha256"], item["path"]
        assert len(body) == item["num_bytes"], item["path"]
    if served.settings.storage_backend == "s3":  # presigned: straight from the object store
        assert not any(f["url"].startswith(served.url) for f in listing["files"])


def test_unknown_dataset_is_a_clear_404(served: Served, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="ghost"):
        Client(served.url, cache_dir=tmp_path).download("ghost")


def write_folder(folder: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    """A version folder as a publisher writes it: shards, plus the held-out test labels."""
    from heldout.formats.writer import write_split
    from tests.client.conftest import FEATURES

    write_split(folder, "train", FEATURES, rows["train"], target_bytes=60_000,
                media_rows_per_group=20)
    write_split(folder, "test", FEATURES.drop(["label"]),
                [{k: v for k, v in r.items() if k != "label"} for r in rows["test"]])
    write_split(folder / "labels", "test", FEATURES.select(["id", "label"]),
                [{"id": r["id"], "label": r["label"]} for r in rows["test"]])


def test_publish_over_http_then_pull(served: Served, tmp_path: Path) -> None:
    from tests.client.conftest import make_rows

    rows = {"train": make_rows("train", 120, 1000), "test": make_rows("test", 30, 1000)}
    write_folder(tmp_path / "draft", rows)
    key = make_key(served.settings, "pub", "publisher")
    uploaded: list[int] = []
    manifest = Client(served.url, key).publish_folder(
        tmp_path / "draft", "pets-http", "1.0.0",
        metadata={"title": "Pets over HTTP", "license": "CC-BY-4.0",
                  "task": "image-classification", "modality": "image"},
        progress=lambda n, _total: uploaded.append(n),
    )
    assert manifest.held_out["test"].label_columns == ["label"]
    assert manifest.splits["train"].num_rows == 120 and len(manifest.splits["train"].shards) > 1
    assert sum(uploaded) == sum(p.stat().st_size for p in (tmp_path / "draft").rglob("*.parquet"))

    client = Client(served.url, cache_dir=tmp_path / "cache")
    listing = client.files("pets-http", "1.0.0")
    assert not any("label" in f["path"] for f in listing["files"])
    tables = client.load_dataset("pets-http", as_arrow=True)
    assert tables["train"].to_pylist() == expected_public(rows["train"])
    assert "label" not in tables["test"].column_names
    # the server re-drew the held-out ids (and order): nothing of the upload's is public
    public_ids = {r["id"] for r in tables["test"].to_pylist()}
    assert len(public_ids) == len(rows["test"])
    assert not public_ids & {r["id"] for r in rows["test"]}


def test_publishing_needs_a_publisher_key(served: Served, tmp_path: Path) -> None:
    from heldout.errors import Forbidden, Unauthorized
    from tests.client.conftest import make_rows

    write_folder(tmp_path / "draft", {"train": make_rows("train", 5), "test": make_rows("test", 3)})
    with pytest.raises(Unauthorized, match="HELDOUT_TOKEN"):
        Client(served.url, "").publish_folder(tmp_path / "draft", "nope", "1.0.0")
    key = make_key(served.settings, "someone", "participant")
    with pytest.raises(Forbidden, match="publisher"):
        Client(served.url, key).publish_folder(tmp_path / "draft", "nope", "1.0.0")


def test_gated_and_private_datasets_give_clear_errors(served: Served, tmp_path: Path) -> None:
    from heldout.errors import Forbidden, Unauthorized

    key = make_key(served.settings, "reader", "participant")
    set_visibility(served.settings, "pets", "gated")
    with pytest.raises(Unauthorized, match=r"set HELDOUT_TOKEN.*gated"):
        Client(served.url, "", cache_dir=tmp_path).download("pets")
    reader = Client(served.url, key, cache_dir=tmp_path)
    with pytest.raises(Forbidden, match="accept its terms"):
        reader.download("pets")
    reader.accept_terms("pets")
    assert reader.download("pets", split="test").downloaded_files == 4

    set_visibility(served.settings, "pets", "private")
    with pytest.raises(NotFound, match="'pets' does not exist"):
        Client(served.url, key, cache_dir=tmp_path / "other").download("pets")
