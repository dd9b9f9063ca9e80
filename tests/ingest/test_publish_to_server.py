"""``heldout datasets publish --server URL``: a publisher with a key and no store credentials."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from heldout.config import Settings
from heldout.services import build_services
from tests.ingest.conftest import image_bytes, read_labels, read_split, write
from tests.live import free_port, make_key, running_api

CLASSES = ("cat", "dog")


def image_folder(root: Path, *, leak: bool = False) -> dict[str, dict[str, bytes]]:
    """``root/{split}/{class}/{i}.png``; returns each split's files by relative path."""
    files: dict[str, dict[str, bytes]] = {"train": {}, "test": {}}
    for s, split in enumerate(files):
        for c, cls in enumerate(CLASSES):
            for i in range(3 + s):
                data = image_bytes(100 * s + 10 * c + i)
                write(root / split / cls / f"{i}.png", data)
                files[split][f"{cls}/{i}.png"] = data
    if leak:
        write(root / "train" / "cat" / "copy.png", files["test"]["dog/1.png"])
    return files


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
           tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = settings_for(request.param, tmp_path / "server",
                            public_base_url=f"http://127.0.0.1:{free_port()}")
    with running_api(settings) as url:
        yield settings, url


def assert_nothing_published(settings: Settings) -> None:
    """No version of ``pets`` and no draft left on the server."""
    services = build_services(settings)
    try:
        assert services.repository.list_versions("pets") == []
        assert list(services.stores.private.list("private/drafts/")) == []
    finally:
        services.close()


def publish(source: Path, url: str, key: str, *extra: str) -> object:
    return CliRunner().invoke(
        app, ["datasets", "publish", str(source), "--name", "pets", "--version", "1.0.0",
              "--server", url, "--held-out", "test", "--license", "CC-BY-4.0", *extra],
        env={"HELDOUT_TOKEN": key, "HELDOUT_DATA_DIR": str(source.parent / "client-data")},
    )


def test_publish_to_server_writes_checked_version(server: tuple[Settings, str],
                                                   tmp_path: Path) -> None:
    settings, url = server
    files = image_folder(tmp_path / "src")
    result = publish(tmp_path / "src", url, make_key(settings, "pub", "publisher"), "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert out["splits"] == {"train": 6, "test": 8} and out["held_out"] == ["test"]

    services = build_services(settings)
    try:
        manifest = services.repository.manifest("pets", "1.0.0")
        assert manifest.license == "CC-BY-4.0" and manifest.modality == "image"
        assert manifest.statistics["num_files"] == {"train": 6, "test": 8}
        assert "test" not in manifest.statistics["class_balance"]  # held out: private
        report = services.repository.report("pets", "1.0.0")
        assert report["statistics"]["class_balance"]["test"] == {"cat": 4, "dog": 4}
        train = read_split(services.repository, manifest, "train")
        names = manifest.label_names["label"]
        got = {f"{names[r['label']]}/{r['image']['path']}": r["image"]["bytes"]
               for r in train.to_pylist()}
        assert got == files["train"]
        test = read_split(services.repository, manifest, "test")
        assert test.column_names == ["id", "image"]
        labels = read_labels(services.repository, manifest, "test")
        assert sorted(labels.column("id").to_pylist()) == sorted(test.column("id").to_pylist())
        by_bytes = {r["image"]["bytes"]: r["id"] for r in test.to_pylist()}
        label_of = dict(zip(labels.column("id").to_pylist(), labels.column("label").to_pylist(),
                            strict=True))
        for rel, data in files["test"].items():
            assert names[label_of[by_bytes[data]]] == rel.split("/")[0]
            # the publisher's own pipeline drew the ids; the server keeps the map privately
            assert report["held_out_ids"]["test"][f"test/{rel}"] == by_bytes[data]
        assert services.repository.list_versions("pets") == ["1.0.0"]
    finally:
        services.close()
    assert not (tmp_path / "client-data").exists()  # nothing written to a local store


def test_leakage_is_refused_before_anything_reaches_the_server(server: tuple[Settings, str],
                                                               tmp_path: Path) -> None:
    settings, url = server
    image_folder(tmp_path / "src", leak=True)
    result = publish(tmp_path / "src", url, make_key(settings, "pub", "publisher"))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "train/cat/copy.png" in result.output  # type: ignore[attr-defined]
    assert_nothing_published(settings)


def test_publish_to_server_needs_a_publisher_key(server: tuple[Settings, str],
                                                 tmp_path: Path) -> None:
    settings, url = server
    image_folder(tmp_path / "src")
    result = publish(tmp_path / "src", url, make_key(settings, "ann", "participant"))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "publisher" in result.output  # type: ignore[attr-defined]
    assert_nothing_published(settings)
