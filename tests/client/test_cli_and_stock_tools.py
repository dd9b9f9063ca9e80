"""``heldout datasets pull`` (from the real API behind the fault proxy) and stock tools reading
what it pulled (no Heldout code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from tests.client.conftest import Published, expected_public, without_paths
from tests.client.faultproxy import Fault, FaultProxy


def pull(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, ["datasets", "pull", *args], env=env)


def test_pull_writes_a_verified_folder_and_reuses_it(proxy: FaultProxy,
                                                     tmp_path: Path) -> None:
    env = {"HELDOUT_URL": proxy.url, "HELDOUT_TOKEN": ""}
    out = tmp_path / "pets"
    result = pull("pets@1.0.0", "-o", str(out), "--json", env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out) and summary["verified"] is True
    assert summary["downloaded_files"] == 6 and summary["splits"]["train"]["num_rows"] == 250
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "test-00000-of-00001.parquet", "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet"]
    assert {"manifest.json", "croissant.json", "README.md"} <= {p.name for p in out.iterdir()}
    again = pull("pets@1.0.0", "-o", str(out), "--json", env=env)
    assert json.loads(again.stdout)["reused_files"] == 6

    text = pull("pets", "-o", str(out), "--split", "train", env=env)
    assert text.exit_code == 0, text.output
    assert "sha256 verified" in text.stdout and "datasets.load_dataset(" in text.stdout


def test_pull_resumes_after_a_cut_connection(proxy: FaultProxy, published: Published,
                                             tmp_path: Path) -> None:
    rel = published[0].manifest("pets").splits["train"].shards[0].path
    proxy.faults[rel] = Fault(cut_after=50_000)
    env = {"HELDOUT_URL": proxy.url}
    result = pull("pets", "-o", str(tmp_path / "p"), "--json", env=env)
    assert result.exit_code == 0, result.output
    ranges = [r.headers.get("Range") for r in proxy.requests if r.path.endswith(rel)]
    assert ranges == [None, "bytes=50000-"]


def test_pull_reports_corruption_and_exits_non_zero(proxy: FaultProxy,
                                                    published: Published,
                                                    tmp_path: Path) -> None:
    rel = published[0].manifest("pets").splits["test"].shards[0].path
    stored = published[2] / "pets" / "1.0.0" / rel
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    result = pull("pets", "-o", str(tmp_path / "p"), env={"HELDOUT_URL": proxy.url})
    assert result.exit_code == 1
    assert rel in result.stderr and "corrupt" in result.stderr
    assert not (tmp_path / "p" / rel).exists()


def test_pull_explains_a_missing_dataset(proxy: FaultProxy, tmp_path: Path) -> None:
    result = pull("ghost@2.0.0", "-o", str(tmp_path), env={"HELDOUT_URL": proxy.url})
    assert result.exit_code == 1
    assert "ghost@2.0.0 does not exist" in result.stderr


def test_pull_refuses_a_bad_reference(tmp_path: Path) -> None:
    result = pull("Bad Name", env={"HELDOUT_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 1 and "not allowed" in result.stderr


@pytest.fixture
def pulled(proxy: FaultProxy, tmp_path: Path) -> Path:
    out = tmp_path / "pulled"
    result = pull("pets", "-o", str(out), env={"HELDOUT_URL": proxy.url})
    assert result.exit_code == 0, result.output
    return out


def test_stock_datasets_reads_the_pulled_folder(pulled: Path, published: Published,
                                                tmp_path: Path) -> None:
    import datasets

    loaded = datasets.load_dataset("parquet", data_dir=str(pulled),
                                   cache_dir=str(tmp_path / "hf"))
    assert set(loaded) == {"train", "test"}
    assert loaded["train"].features["label"].names == ["cat", "dog", "bird"]
    assert isinstance(loaded["train"].features["image"], datasets.Image)
    train = loaded["train"].cast_column("image", datasets.Image(decode=False))
    assert train.to_list() == expected_public(published[1]["train"])
    # One stock config shares one schema, so the held-out split shows an all-null label there;
    # loaded alone it has no label column at all. Either way no label value is in the folder.
    assert set(loaded["test"]["label"]) == {None}
    test = datasets.load_dataset("parquet", data_files={"test": str(pulled / "data" / "test-*")},
                                 cache_dir=str(tmp_path / "hf2"))["test"]
    assert test.num_rows == 60 and "label" not in test.column_names
    # What the README recommends: the folder itself, whose card's configs keep the held-out
    # split in its own config (no label column at all).
    by_card = datasets.load_dataset(str(pulled), cache_dir=str(tmp_path / "hf3"))
    assert by_card["train"].features["label"].names == ["cat", "dog", "bird"]
    assert "test" not in by_card or "label" not in by_card["test"].column_names


def test_pandas_and_duckdb_read_the_pulled_folder(pulled: Path, published: Published) -> None:
    import duckdb
    import pandas as pd

    frame = pd.read_parquet(pulled / "data")
    assert len(frame) == 310
    train = pd.read_parquet(sorted((pulled / "data").glob("train-*.parquet")))
    assert list(train["id"]) == [r["id"] for r in published[1]["train"]]
    assert [bytes(b["bytes"]) for b in train["image"]] == [
        r["image"]["bytes"] for r in published[1]["train"]]
    pattern = str(pulled / "data" / "train-*.parquet")
    count, labels = duckdb.sql(
        f"SELECT count(*), count(DISTINCT label) FROM read_parquet('{pattern}')").fetchall()[0]
    assert (count, labels) == (250, 3)


def test_client_rows_match_stock_rows(pulled: Path, published: Published) -> None:
    import pyarrow.parquet as pq

    test = pq.read_table(pulled / "data" / "test-00000-of-00001.parquet").to_pylist()
    assert without_paths(test) == without_paths(
        expected_public(published[1]["test"], drop=("label",)))


def test_gated_pull_explains_the_terms_command_then_works(proxy: FaultProxy,
                                                          published: Published,
                                                          tmp_path: Path) -> None:
    from tests.client.conftest import set_visibility
    from tests.live import make_key

    set_visibility(published.settings, "pets", "gated")
    env = {"HELDOUT_URL": proxy.url, "HELDOUT_TOKEN": make_key(published.settings, "ann",
                                                                "participant")}
    refused = pull("pets", "-o", str(tmp_path / "p"), env=env)
    assert refused.exit_code == 1
    assert "heldout datasets terms pets --accept" in " ".join(refused.output.split())
    shown = CliRunner().invoke(app, ["datasets", "terms", "pets"], env=env)
    assert shown.exit_code == 0 and "Research use only." in shown.stdout
    assert "Not accepted yet" in shown.stdout
    accepted = CliRunner().invoke(app, ["datasets", "terms", "pets", "--accept", "--json"],
                                  env=env)
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout) == {"dataset": "pets", "terms_version": "1",
                                           "text": "Research use only.", "accepted": True}
    assert pull("pets", "-o", str(tmp_path / "p"), env=env).exit_code == 0
    public = CliRunner().invoke(app, ["datasets", "terms", "nope"], env=env)
    assert public.exit_code == 1 and "nope" in public.output


def test_list_and_show_ask_the_server_with_url(proxy: FaultProxy, tmp_path: Path) -> None:
    env = {"HELDOUT_URL": proxy.url, "HELDOUT_DATA_DIR": str(tmp_path / "empty-local")}
    listed = CliRunner().invoke(app, ["datasets", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [(r["name"], r["latest_version"]) for r in json.loads(listed.stdout)] == [
        ("pets", "1.0.0")]
    shown = CliRunner().invoke(app, ["datasets", "show", "pets"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "pets@1.0.0" in shown.stdout and "ClassLabel(3: cat, dog, bird)" in shown.stdout
    as_json = CliRunner().invoke(app, ["datasets", "show", "pets@1.0.0", "--json"], env=env)
    assert json.loads(as_json.stdout)["splits"]["train"]["num_rows"] == 250
    missing = CliRunner().invoke(app, ["datasets", "show", "ghost"], env=env)
    assert missing.exit_code == 1 and "ghost" in missing.output
    assert not (tmp_path / "empty-local").exists()  # nothing local was opened
