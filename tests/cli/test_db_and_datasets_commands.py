"""`heldout --version`, `heldout db …` and `heldout datasets list|show` as a user runs them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heldout import __version__, layout
from heldout.cli.main import app
from heldout.config import Settings
from heldout.services import build_services
from tests.dbfixtures import POSTGRES_URL, _fresh_postgres_database
from tests.helpers import publish_tiny


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HELDOUT_DATABASE_URL", "HELDOUT_STORAGE_BACKEND", "HELDOUT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELDOUT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def published(data_dir: Path) -> Path:
    services = build_services(Settings())
    publish_tiny(services.repository, version="1.0.0")
    publish_tiny(services.repository, version="1.1.0")
    services.close()
    return data_dir


runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"heldout {__version__}"


def test_db_upgrade_creates_the_sqlite_catalog(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "catalog.db").exists()


def test_datasets_list_and_show(published: Path) -> None:
    listed = runner.invoke(app, ["datasets", "list", "--local", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["name"], r["latest_version"], r["task"]) for r in rows] == [
        ("tiny", "1.1.0", "image-classification")
    ]
    table = runner.invoke(app, ["datasets", "list", "--local"])
    assert "tiny" in table.output and "1.1.0" in table.output

    shown = runner.invoke(app, ["datasets", "show", "tiny@1.0.0", "--local", "--json"])
    manifest = json.loads(shown.output)
    assert manifest["version"] == "1.0.0"
    assert manifest["held_out"]["test"]["label_columns"] == ["label"]

    human = runner.invoke(app, ["datasets", "show", "tiny", "--local"], env={"COLUMNS": "160"})
    assert human.exit_code == 0, human.output
    for text in ("tiny@1.1.0", "train", "ClassLabel(3: cat, dog, fox)", "Class balance",
                 "label"):
        assert text in human.output


def test_show_errors_are_one_clear_line(published: Path) -> None:
    missing = runner.invoke(app, ["datasets", "show", "nope", "--local"])
    assert missing.exit_code == 1
    assert "error: dataset 'nope' does not exist (no committed version)" in missing.output
    bad = runner.invoke(app, ["datasets", "show", "../etc@1.0.0", "--local"])
    assert bad.exit_code == 1
    assert "is not allowed" in bad.output
    assert "Traceback" not in bad.output


def test_reindex_rebuilds_the_catalog_from_the_bucket(published: Path) -> None:
    for leftover in published.glob("catalog.db*"):
        leftover.unlink()
    gone = runner.invoke(app, ["datasets", "list", "--local", "--json"])
    assert gone.exit_code == 1
    error = json.loads(gone.output)["error"]
    assert error["type"] == "not-found" and "catalog.db does not exist" in error["detail"]
    result = runner.invoke(app, ["db", "reindex", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["versions_added"] == 2
    rows = json.loads(runner.invoke(app, ["datasets", "list", "--local", "--json"]).output)
    assert rows[0]["latest_version"] == "1.1.0"


@pytest.fixture(params=["sqlite", "postgresql"])
def two_catalogs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """URLs of two empty catalog databases of one engine (PostgreSQL when configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("HELDOUT_TEST_DATABASE_URL is not set: no PostgreSQL on this machine")
    with contextlib.ExitStack() as stack:
        first, second = (stack.enter_context(contextmanager(_fresh_postgres_database)(POSTGRES_URL))
                         for _ in range(2))
        yield first, second


def test_a_fresh_catalog_is_rebuilt_from_the_bucket_alone(
    data_dir: Path, two_catalogs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: "The bucket is the source of truth": a new, empty database (SQLite or
    PostgreSQL) learns every committed version from `heldout db reindex`, nothing else."""
    first, second = two_catalogs
    monkeypatch.setenv("HELDOUT_DATABASE_URL", first)
    services = build_services(Settings())
    services.catalog.upgrade()
    publish_tiny(services.repository, version="1.0.0")
    publish_tiny(services.repository, version="1.1.0")
    publish_tiny(services.repository, name="other", version="2.0.0")
    services.close()

    monkeypatch.setenv("HELDOUT_DATABASE_URL", second)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["datasets", "list", "--local", "--json"]).output) == []
    result = runner.invoke(app, ["db", "reindex", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["versions_seen"], report["versions_added"]) == (3, 3)
    rows = json.loads(runner.invoke(app, ["datasets", "list", "--local", "--json"]).output)
    assert [(r["name"], r["latest_version"], r["task"]) for r in rows] == [
        ("other", "2.0.0", "image-classification"), ("tiny", "1.1.0", "image-classification")]
    shown = json.loads(runner.invoke(app, ["datasets", "show", "tiny@1.0.0", "--local",
                                           "--json"]).output)
    assert shown["splits"]["train"]["num_rows"] == 10

    # a version gone from the bucket drops out of the rebuilt catalog too
    services = build_services(Settings())
    services.stores.public.delete(layout.manifest_key("tiny", "1.1.0"))
    services.close()
    again = json.loads(runner.invoke(app, ["db", "reindex", "--json"]).output)
    assert again["versions_removed"] == 1
    rows = json.loads(runner.invoke(app, ["datasets", "list", "--local", "--json"]).output)
    assert [(r["name"], r["latest_version"]) for r in rows] == [("other", "2.0.0"),
                                                               ("tiny", "1.0.0")]
