"""Over HTTP on every store and catalog: submit, score, read; scores equal score()."""

from __future__ import annotations

import pyarrow as pa
import pytest

from heldout.benchmarks.queue import drain, run_next_job
from heldout.benchmarks.registry import find
from heldout.benchmarks.truth import load_truth
from heldout.scoring import ScoreConfig, score
from tests.benchmarks.conftest import (
    LABELS,
    BenchApi,
    csv_predictions,
    parquet_bytes,
    spec,
    truth_table,
)


def _names(values: list[int]) -> list[str]:
    return [LABELS[v] for v in values]


def test_standing_benchmark_end_to_end(bench: BenchApi) -> None:
    (result,) = bench.sync(spec())
    assert result.action == "created"
    client = bench.api.client
    listed = client.get("/api/v1/benchmarks").json()
    assert [b["id"] for b in listed["items"]] == ["toy-cls"]
    doc = client.get("/api/v1/benchmarks/toy-cls").json()
    assert doc["kind"] == "standing" and doc["direction"] == "higher-is-better"
    assert doc["current_phase"] == "main"

    truth = truth_table(bench.services)
    labels = truth.column("label").to_pylist()
    guess = [(v + (1 if i % 4 == 0 else 0)) % 3 for i, v in enumerate(labels)]
    body = csv_predictions(truth, "prediction", _names(guess))
    r = bench.submit("toy-cls", body)
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    assert r.json()["status"] == "queued"
    assert run_next_job(bench.services) is True
    assert run_next_job(bench.services) is False

    got = client.get(f"/api/v1/submissions/{sid}", headers=bench.api.auth("alice")).json()
    assert got["status"] == "scored", got
    with bench.services.catalog.session() as session:
        _row, benchmark = find(session, "toy-cls")
    expected = score("classification", load_truth(bench.services, benchmark), body,
                     ScoreConfig(primary_metric="accuracy"), name="predictions.csv")
    public = got["scores"]["public"]
    assert public["metrics"]["accuracy"] == expected.metrics["accuracy"]
    assert public["metrics"]["f1_macro"] == expected.metrics["f1_macro"]
    assert public["intervals"]["accuracy"]["low"] == expected.intervals["accuracy"].low
    assert got["scores"]["private"] is None

    board = client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    assert [e["submission_id"] for e in board["entries"]] == [sid]
    assert board["entries"][0]["primary"] == expected.metrics["accuracy"]
    assert board["entries"][0]["participant"] == "alice"


def test_parquet_file_and_listing_mine(local_bench: BenchApi) -> None:
    local_bench.sync(spec())
    truth = truth_table(local_bench.services)
    table = pa.table({"id": truth.column("id"),
                      "prediction": _names(truth.column("label").to_pylist())})
    r = local_bench.submit("toy-cls", parquet_bytes(table), filename="p.parquet")
    assert r.status_code == 202, r.text
    drain(local_bench.services)
    mine = local_bench.api.client.get("/api/v1/benchmarks/toy-cls/submissions?mine=1",
                                      headers=local_bench.api.auth("alice")).json()
    assert mine["total"] == 1
    assert mine["items"][0]["scores"]["public"]["primary"] == 1.0
    other = local_bench.api.client.get("/api/v1/benchmarks/toy-cls/submissions?mine=1",
                                       headers=local_bench.api.auth("bob")).json()
    assert other["total"] == 0


@pytest.mark.parametrize("case", ["missing", "unknown-label", "duplicate"])
def test_invalid_file_is_one_problem_and_leaves_nothing(local_bench: BenchApi, case: str) -> None:
    local_bench.sync(spec())
    truth = truth_table(local_bench.services)
    names = _names(truth.column("label").to_pylist())
    ids = truth.column("id").to_pylist()
    if case == "missing":
        body = csv_predictions(truth.slice(0, 80), "prediction", names[:80])
    elif case == "unknown-label":
        body = csv_predictions(truth, "prediction", ["zebra"] * 3 + names[3:])
    else:
        body = ("id,prediction\n" + "".join(f"{i},{n}\n" for i, n in zip(ids, names, strict=True))
                + f"{ids[0]},{names[0]}\n").encode()
    r = local_bench.submit("toy-cls", body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/invalid-predictions")
    assert problem["file"] == "predictions.csv"
    assert problem["errors"], problem
    if case == "missing":
        assert problem["errors"][0]["count"] == 10
        assert len(problem["errors"][0]["first"]) == 10
    assert list(local_bench.services.stores.private.list("private/submissions/")) == []
    mine = local_bench.api.client.get("/api/v1/benchmarks/toy-cls/submissions?mine=1",
                                      headers=local_bench.api.auth("alice")).json()
    assert mine["total"] == 0
