"""Bad uploads get one clear problem+json and leave nothing behind; quotas and idempotency hold
under concurrent requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from heldout.benchmarks.queue import drain
from heldout.catalog.benchmark_models import QuotaCounter, Submission
from tests.benchmarks.conftest import (
    LABELS,
    BenchApi,
    bench_api_for,
    csv_predictions,
    spec,
    truth_table,
)


def good_body(bench: BenchApi) -> bytes:
    truth = truth_table(bench.services)
    return csv_predictions(truth, "prediction", [LABELS[v] for v in truth.column("label")
                                                 .to_pylist()])


def nothing_stored(bench: BenchApi) -> bool:
    return list(bench.services.stores.private.list("private/submissions/")) == []


def slug(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]


def test_request_problems(local_bench: BenchApi) -> None:
    local_bench.sync(spec())
    client, auth = local_bench.api.client, local_bench.api.auth("alice")
    r = client.post("/api/v1/benchmarks/toy-cls/submissions", content=b"id,prediction\n",
                    headers={**auth, "Content-Type": "text/csv"})
    assert (r.status_code, slug(r)) == (415, "unsupported-media-type")
    r = local_bench.submit("toy-cls", b"")
    assert (r.status_code, slug(r)) == (422, "invalid-input")
    assert "empty" in r.json()["detail"]
    r = local_bench.submit("nope", good_body(local_bench))
    assert (r.status_code, slug(r)) == (404, "not-found")
    r = local_bench.submit("toy-cls", good_body(local_bench), filename="p.xlsx")
    assert (r.status_code, slug(r)) == (422, "invalid-input")
    r = client.post("/api/v1/benchmarks/toy-cls/submissions",
                    files={"file": ("p.csv", good_body(local_bench))}, data={"model_name": "m"})
    assert r.status_code == 401
    assert nothing_stored(local_bench)


def test_oversized_upload_is_413_while_streaming(settings_for: Any, tmp_path: Any) -> None:
    settings = settings_for("local", tmp_path / "d", max_prediction_bytes=1000,
                            rate_limit_per_minute=0)
    for bench in bench_api_for(settings, tmp_path / "b"):
        bench.sync(spec())

        def chunks() -> Any:
            yield b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\""
            yield b"\r\n\r\n"
            for _ in range(3000):
                yield b"x" * 1024
            yield b"\r\n--xyz--\r\n"

        r = bench.api.client.post(
            "/api/v1/benchmarks/toy-cls/submissions", content=chunks(),
            headers={**bench.api.auth("alice"),
                     "Content-Type": "multipart/form-data; boundary=xyz"})
        assert (r.status_code, slug(r)) == (413, "payload-too-large")
        r = bench.submit("toy-cls", b"id,prediction\n" + b"a,b\n" * 300)
        assert (r.status_code, slug(r)) == (413, "payload-too-large")
        assert nothing_stored(bench)


def test_closed_and_upcoming_phases_are_refused(local_bench: BenchApi) -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    local_bench.sync(spec(id="ended", phases=[{"name": "main", "starts": past.isoformat(),
                                                "ends": (past + timedelta(days=1)).isoformat()}]))
    future = datetime.now(UTC) + timedelta(days=2)
    local_bench.sync(spec(id="later", phases=[{"name": "main", "starts": future.isoformat()}]))
    r = local_bench.submit("ended", good_body(local_bench))
    assert (r.status_code, slug(r)) == (409, "phase-closed")
    assert "every phase has ended" in r.json()["detail"]
    r = local_bench.submit("later", good_body(local_bench))
    assert (r.status_code, slug(r)) == (409, "phase-closed")
    assert "opens" in r.json()["detail"]
    assert nothing_stored(local_bench)


def test_daily_quota_holds_under_concurrent_uploads(bench: BenchApi) -> None:
    bench.sync(spec(phases=[{"name": "main", "daily_quota": 3}]))
    body = good_body(bench)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: bench.submit("toy-cls", body, model=f"m{i}"),
                                range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [202] * 3 + [429] * 5, [r.text for r in results]
    refused = next(r for r in results if r.status_code == 429)
    assert slug(refused) == "quota-exceeded"
    assert int(refused.headers["Retry-After"]) > 0
    with bench.services.catalog.session() as session:
        assert session.query(Submission).count() == 3
    assert len(list(bench.services.stores.private.list("private/submissions/"))) == 3
    # another participant has their own quota
    assert bench.submit("toy-cls", body, user="bob").status_code == 202


def test_idempotency_key_makes_one_submission_under_concurrency(bench: BenchApi) -> None:
    bench.sync(spec())
    body = good_body(bench)
    headers = {"Idempotency-Key": "upload-42"}
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: bench.submit("toy-cls", body, headers=headers),
                                range(6)))
    assert {r.status_code for r in results} == {202}, [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    with bench.services.catalog.session() as session:
        assert session.query(Submission).count() == 1
        used = session.query(QuotaCounter).filter_by(kind="accepted", day="").one().used
    assert used == 1
    assert len(list(bench.services.stores.private.list("private/submissions/"))) == 1


def test_rejected_files_cost_no_quota_but_have_their_own_cap(settings_for: Any,
                                                             tmp_path: Any) -> None:
    settings = settings_for("local", tmp_path / "d", rejected_daily_cap=2,
                            rate_limit_per_minute=0)
    for bench in bench_api_for(settings, tmp_path / "b"):
        bench.sync(spec(phases=[{"name": "main", "daily_quota": 1}]))
        bad = b"id,prediction\nnope,ant\n"
        assert bench.submit("toy-cls", bad).status_code == 422
        assert bench.submit("toy-cls", bad).status_code == 422
        r = bench.submit("toy-cls", bad)
        assert (r.status_code, slug(r)) == (429, "quota-exceeded")
        assert "rejected" in r.json()["detail"]
        # accepted quota untouched by the rejections … until the cap, which blocks all uploads
        assert bench.submit("toy-cls", good_body(bench), user="bob").status_code == 202
        drain(bench.services)
