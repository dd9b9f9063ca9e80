"""Admin acts (create, rescore, disqualify), leaderboard details (CSV, ties, baselines,
warnings), failures shown to their owner, speech and verification benchmarks."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from heldout.accounts import audit
from heldout.accounts.keys import authenticate
from heldout.benchmarks.queue import drain
from heldout.benchmarks.submissions import create_submission
from heldout.catalog.benchmark_models import QuotaCounter, Submission
from heldout.layout import manifest_key
from tests.benchmarks.conftest import (
    LABELS,
    WORDS,
    BenchApi,
    csv_predictions,
    parquet_bytes,
    publish_toy,
    spec,
    truth_table,
)


def names(bench: BenchApi, wrong_every: int | None = None) -> bytes:
    truth = truth_table(bench.services)
    labels = truth.column("label").to_pylist()
    guess = [(v + 1) % 3 if wrong_every and i % wrong_every == 0 else v
             for i, v in enumerate(labels)]
    return csv_predictions(truth, "prediction", [LABELS[g] for g in guess])


def events(bench: BenchApi, action: str) -> list[dict[str, object]]:
    with bench.services.catalog.session() as session:
        return audit.list_events(session, action=action)[0]


def test_admin_creates_benchmarks_over_http(local_bench: BenchApi) -> None:
    api = local_bench.api
    r = api.client.post("/api/v1/benchmarks", json=spec(), headers=api.auth("alice"))
    assert r.status_code == 403
    r = api.client.post("/api/v1/benchmarks", json=spec(metrics=["acc"]),
                        headers=api.auth("root"))
    assert r.status_code == 422 and "'acc' is not a classification metric" in r.json()["detail"]
    r = api.client.post("/api/v1/benchmarks", json=spec(split="train"), headers=api.auth("root"))
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-benchmark")
    assert "field 'split': 'train' is not a held-out split" in r.json()["detail"]
    r = api.client.post("/api/v1/benchmarks", json=spec(), headers=api.auth("root"))
    assert r.status_code == 201 and r.json()["action"] == "created"
    assert events(local_bench, "benchmark.created")[0]["target"] == "toy-cls"


def test_rescore_keeps_history_and_disqualify_hides(local_bench: BenchApi) -> None:
    local_bench.sync(spec())
    api = local_bench.api
    first = local_bench.submit("toy-cls", names(local_bench, 2)).json()["id"]
    second = local_bench.submit("toy-cls", names(local_bench), user="bob").json()["id"]
    drain(local_bench.services)
    before = api.client.get(f"/api/v1/submissions/{first}", headers=api.auth("root")).json()
    r = api.client.post("/api/v1/benchmarks/toy-cls/rescore", headers=api.auth("root"))
    assert r.status_code == 202 and r.json()["queued"] == 2
    assert drain(local_bench.services) == 2
    after = api.client.get(f"/api/v1/submissions/{first}", headers=api.auth("root")).json()
    assert after["status"] == "scored"
    old = after["history"][0]["public_scores"]
    assert old["metrics"] == before["scores"]["public"]["metrics"]
    assert old["intervals"] == before["scores"]["public"]["intervals"]
    assert after["scores"]["public"] == before["scores"]["public"]
    assert events(local_bench, "benchmark.rescored")[0]["detail"] == {"submissions": 2}
    board = api.client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    assert [e["submission_id"] for e in board["entries"]] == [second, first]
    r = api.client.post(f"/api/v1/submissions/{second}/disqualify",
                        json={"reason": "used the test labels"}, headers=api.auth("root"))
    assert r.status_code == 200
    board = api.client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    assert [e["submission_id"] for e in board["entries"]] == [first]
    assert events(local_bench, "submission.disqualified")[0]["detail"] == {
        "reason": "used the test labels"}


def test_leaderboard_csv_ties_and_baselines(local_bench: BenchApi) -> None:
    local_bench.sync(spec())
    services, api = local_bench.services, local_bench.api
    with services.catalog.session() as session:
        root = authenticate(session, api.keys["root"])
    create_submission(services, benchmark_id="toy-cls", user=root, baseline=True,
                      file=io.BytesIO(names(local_bench, 2)), filename="b.csv",
                      model_name="majority baseline")
    local_bench.submit("toy-cls", names(local_bench), model="=HYPERLINK(\"x\")")
    local_bench.submit("toy-cls", names(local_bench, 45), user="bob", model="+nearly")
    drain(services)
    board = api.client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    entries = board["entries"]
    assert [e["user"] for e in entries] == ["alice", "bob", "root"]
    assert [e["tied_with_leader"] for e in entries] == [True, True, False]
    assert [e["baseline"] for e in entries] == [False, False, True]
    assert entries[0]["primary_interval"]["low"] <= entries[0]["primary"]
    r = api.client.get("/api/v1/benchmarks/toy-cls/leaderboard?format=csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["model_name"] == "'=HYPERLINK(\"x\")"
    assert rows[1]["model_name"] == "'+nearly"
    assert float(rows[0]["accuracy"]) == 1.0


def test_scoring_failure_is_shown_and_refunded(local_bench: BenchApi) -> None:
    local_bench.sync(spec(phases=[{"name": "main", "daily_quota": 1}]))
    api = local_bench.api
    sid = local_bench.submit("toy-cls", names(local_bench)).json()["id"]
    with local_bench.services.catalog.session() as session:
        key = session.get(Submission, sid).object_key  # type: ignore[union-attr]
    local_bench.services.stores.private.delete(key)  # the store lost it: our fault
    drain(local_bench.services)
    doc = api.client.get(f"/api/v1/submissions/{sid}", headers=api.auth("alice")).json()
    assert doc["status"] == "failed"
    assert "did not count against the quota" in doc["failure_reason"]
    with local_bench.services.catalog.session() as session:
        used = {c.day: c.used for c in session.query(QuotaCounter).filter_by(kind="accepted")}
    assert set(used.values()) == {0}
    assert local_bench.submit("toy-cls", names(local_bench)).status_code == 202


def test_dataset_version_gone_and_labels_public_warning(local_bench: BenchApi) -> None:
    publish_toy(local_bench.services.repository, "toy", "2.0.0", labels_public="built from MNIST")
    (result,) = local_bench.sync(spec(dataset="toy@2.0.0"))
    assert "public elsewhere" in result.warnings[0]
    api = local_bench.api
    doc = api.client.get("/api/v1/benchmarks/toy-cls").json()
    assert doc["held_out_labels_public"] is True
    assert "public elsewhere" in doc["warnings"][0] and "MNIST" in doc["warnings"][0]
    board = api.client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    assert board["warnings"] == doc["warnings"]
    local_bench.services.stores.public.delete(manifest_key("toy", "2.0.0"))
    r = local_bench.submit("toy-cls", names(local_bench))
    assert r.status_code == 410 and r.json()["type"].endswith("/dataset-version-gone")


def test_speech_benchmark_with_filter(local_bench: BenchApi) -> None:
    local_bench.sync(spec(id="toy-asr", task="speech-recognition", truth_column="text",
                          metrics=["wer", "cer"], primary_metric="wer", normalizer="basic",
                          filter={"label": "bee"}))
    truth = truth_table(local_bench.services)
    keep = [i for i, v in enumerate(truth.column("label").to_pylist()) if v == 1]
    part = truth.take(keep)
    texts = part.column("text").to_pylist()
    hyp = [t if i % 2 else t.split()[0] for i, t in enumerate(texts)]
    # Participants can't tell which rows the filter selects: they predict every row of the
    # split, and the rows outside the filter are ignored, not scored.
    all_text = truth.column("text").to_pylist()
    for position, text in zip(keep, hyp, strict=True):
        all_text[position] = text
    r = local_bench.submit("toy-asr", csv_predictions(truth, "text", all_text))
    assert r.status_code == 202, r.text
    drain(local_bench.services)
    doc = local_bench.api.client.get(f"/api/v1/submissions/{r.json()['id']}",
                                     headers=local_bench.api.auth("alice")).json()
    assert doc["scores"]["public"]["n"] == len(keep)
    assert 0 < doc["scores"]["public"]["metrics"]["wer"] < 1
    board = local_bench.api.client.get("/api/v1/benchmarks/toy-asr/leaderboard").json()
    assert board["direction"] == "lower-is-better"
    # Leaving rows out is refused, and the answer names rows of the whole split, so it can't
    # tell which rows the filter selects (here: exactly the ones the file left out).
    r = local_bench.submit("toy-asr", csv_predictions(part, "text", texts))
    assert r.status_code == 422, r.text
    problem = r.json()["errors"][0]
    assert problem["kind"] == "missing_ids" and problem["count"] == len(truth) - len(keep)
    left_out = {truth.column("id")[i].as_py() for i in range(len(truth)) if i not in keep}
    assert set(problem["first"]) <= left_out
    whole = csv_predictions(truth, "text", truth.column("text").to_pylist())
    stranger = whole.replace(b"\n", b"\nnot-in-split,x\n", 1)
    r = local_bench.submit("toy-asr", stranger)  # an id that is not in the split at all
    assert r.status_code == 422 and r.json()["errors"][0]["kind"] == "unknown_ids"
    assert WORDS  # the texts come from WORDS


def test_verification_benchmark_has_a_public_trial_list(local_bench: BenchApi) -> None:
    local_bench.sync(spec(id="toy-sv", task="verification", metrics=["eer", "min_dcf"],
                          primary_metric="eer", trials={"speaker_column": "speaker",
                                                        "pairs": 200}))
    client = local_bench.api.client
    page = client.get("/api/v1/benchmarks/toy-sv/trials?limit=1000").json()
    assert page["total"] == 200
    assert set(page["items"][0]) == {"id", "enroll_id", "test_id"}
    assert client.get("/api/v1/benchmarks/toy-cls/trials").status_code == 404
    truth = truth_table(local_bench.services)
    speaker = dict(zip(truth.column("id").to_pylist(), truth.column("speaker").to_pylist(),
                       strict=True))
    trials = page["items"]
    scores = [1.0 if speaker[t["enroll_id"]] == speaker[t["test_id"]] else 0.0 for t in trials]
    table = pa.table({"id": [t["id"] for t in trials], "score": scores})
    r = local_bench.submit("toy-sv", parquet_bytes(table), filename="s.parquet")
    assert r.status_code == 202, r.text
    drain(local_bench.services)
    doc = client.get(f"/api/v1/submissions/{r.json()['id']}",
                     headers=local_bench.api.auth("alice")).json()
    assert doc["scores"]["public"]["metrics"]["eer"] == 0.0
    targets = sum(scores)
    assert 0 < targets < len(scores)  # both kinds of trials


def test_gated_dataset_needs_its_terms_before_a_submission(local_bench: BenchApi) -> None:
    local_bench.sync(spec())
    api = local_bench.api
    r = api.client.patch("/api/v1/admin/datasets/toy", headers=api.auth("root"),
                         json={"visibility": "gated", "terms_text": "be nice",
                               "terms_version": "1"})
    assert r.status_code == 200, r.text
    r = local_bench.submit("toy-cls", names(local_bench))
    assert r.status_code == 403 and "terms" in r.json()["detail"]
    assert api.client.post("/api/v1/datasets/toy/terms",
                           headers=api.auth("alice")).status_code == 201
    assert local_bench.submit("toy-cls", names(local_bench)).status_code == 202
