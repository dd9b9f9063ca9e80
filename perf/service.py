"""Benchmark service speed on loopback, in one run: upload → scored, submissions/s, leaderboards.

One API process (uvicorn in a thread, the embedded setup: local folder store, SQLite, the
in-process scoring worker), real HTTP through ``heldout.Client`` / httpx:

1. Time from upload to scored for a 10⁵-row prediction file (a standing classification
   benchmark over a 10⁵-example held-out split, accuracy + macro-F1 with 1,000 bootstrap
   resamples), median of ``--repeats`` runs. Goal: < 1 s.
2. Accepted submissions/s with 4 concurrent clients (1,000-row files on a second benchmark),
   and the time until the worker has scored all of them.
3. Leaderboard GETs/s (4 concurrent clients) with 10,000 stored submissions, against a bare
   FastAPI endpoint returning a constant served the same way. Goal: ≥ 0.5× that ceiling.

    .venv/bin/python perf/service.py [--rows 100000] [--stored 10000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import serving  # noqa: E402
from tests.s3server import make_settings  # noqa: E402

from heldout import layout  # noqa: E402
from heldout.accounts.keys import create_key  # noqa: E402
from heldout.accounts.users import create_user  # noqa: E402
from heldout.api.app import create_app  # noqa: E402
from heldout.benchmarks.registry import sync_benchmarks  # noqa: E402
from heldout.catalog.benchmark_models import Benchmark, Submission  # noqa: E402
from heldout.client.http import Client  # noqa: E402
from heldout.formats.features import ClassLabel, Features, Value  # noqa: E402
from heldout.parquet_footer import iter_rows  # noqa: E402
from heldout.repository import DatasetMetadata, DatasetRepository  # noqa: E402
from heldout.services import Services, build_services  # noqa: E402

LABELS = [f"c{i}" for i in range(10)]
CLIENTS = 4


def publish(repo: DatasetRepository, name: str, rows: int, rng: np.random.Generator) -> None:
    """A classification dataset: 10 train rows, ``rows`` held-out test rows."""
    features = Features({"id": Value("string"), "x": Value("float32"),
                         "label": ClassLabel(LABELS)})
    draft = repo.create_draft(name, "1.0.0", features=features, metadata=DatasetMetadata(
        title=name, license="CC0-1.0", task="image-classification", modality="tabular"))
    labels = rng.integers(0, 10, rows)
    draft.write_split("train", [{"id": f"t{i}", "x": 0.0, "label": i % 10} for i in range(10)])
    draft.write_split("test", ({"id": f"{i:07d}", "x": float(i), "label": int(labels[i])}
                               for i in range(rows)), held_out=True, label_columns=["label"])
    draft.commit()


def spec(benchmark: str, dataset: str) -> str:
    return (f"id: {benchmark}\ntitle: {benchmark}\ndataset: {dataset}@1.0.0\nsplit: test\n"
            "task: classification\ntruth_column: label\ninput_columns: [x]\n"
            "metrics: [accuracy, f1_macro]\nprimary_metric: accuracy\nlicense: CC0-1.0\n"
            "phases: [{name: main, daily_quota: null}]\n")


def public_test_ids(services: Services, dataset: str) -> list[str]:
    """The test split's public ids (drawn afresh at commit, so read back from the shards)."""
    manifest = services.repository.manifest(dataset)
    ids: list[str] = []
    for shard in manifest.splits["test"].shards:
        key = layout.shard_key(dataset, manifest.version, shard.path)
        for batch in iter_rows(services.stores.public, key, shard.num_bytes):
            ids += [str(row["id"]) for row in batch]
    return ids


def prediction_file(folder: Path, name: str, ids: list[str], seed: int) -> Path:
    """A CSV with a (mostly wrong) prediction for every test id."""
    rng = np.random.default_rng(seed)
    guesses = rng.integers(0, 10, len(ids))
    path = folder / name
    rows = (f"{i},c{g}\n" for i, g in zip(ids, guesses, strict=True))
    path.write_text("id,prediction\n" + "".join(rows))
    return path


def setup(folder: Path, rows: int) -> tuple[Services, dict[str, str]]:
    settings = make_settings("local", folder / "data", rate_limit_per_minute=0)
    services = build_services(settings)
    rng = np.random.default_rng(0)
    publish(services.repository, "perf-large", rows, rng)
    publish(services.repository, "perf-small", 1000, rng)
    specs = folder / "benchmarks"
    specs.mkdir()
    (specs / "large.yaml").write_text(spec("perf-large", "perf-large"))
    (specs / "small.yaml").write_text(spec("perf-small", "perf-small"))
    sync_benchmarks(services, specs)
    keys = {}
    with services.catalog.session() as session:
        for i in range(CLIENTS):
            keys[f"p{i}"] = create_key(session, create_user(session, f"p{i}", "participant")).key
    return services, keys


def wait_scored(client: Client, sid: str) -> dict[str, Any]:
    while True:
        doc = client.submission(sid)
        if doc["status"] in ("scored", "failed"):
            return doc
        time.sleep(0.005)


def upload_to_scored(url: str, key: str, path: Path, repeats: int
                     ) -> tuple[list[float], list[float]]:
    """(upload → scored, upload → 202 accepted) seconds of each run."""
    total, accepted = [], []
    with Client(url, token=key) as client:
        for i in range(repeats):
            start = time.perf_counter()
            sid = client.upload("perf-large", path, f"latency-{i}")["id"]
            accepted.append(time.perf_counter() - start)
            doc = wait_scored(client, sid)
            total.append(time.perf_counter() - start)
            assert doc["status"] == "scored", doc
    return total, accepted


def scored_count(services: Services, benchmark: str) -> int:
    with services.catalog.session() as session:
        return session.query(Submission).join(Benchmark).filter(
            Benchmark.name == benchmark, Submission.status.in_(("scored", "failed"))).count()


def concurrent_submissions(services: Services, url: str, keys: dict[str, str], path: Path,
                           each: int) -> tuple[float, float]:
    """(accepted/s, scored/s) for CLIENTS clients uploading ``each`` files at once."""
    def one(key: str) -> int:
        with Client(url, token=key) as client:
            for n in range(each):
                client.upload("perf-small", path, f"burst-{n}")
        return each

    before = scored_count(services, "perf-small")
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(one, list(keys.values())))
    accepted = time.perf_counter() - start
    while scored_count(services, "perf-small") < before + total:
        time.sleep(0.01)
    return total / accepted, total / (time.perf_counter() - start)


def store_submissions(services: Services, count: int, holders: int = 500) -> None:
    """``count`` scored submissions to perf-small from ``holders`` users (copies of a real
    scored one, so tie checks read a real prediction file)."""
    rng = np.random.default_rng(1)
    with services.catalog.session() as session:
        base = session.query(Submission).join(Benchmark).filter(
            Benchmark.name == "perf-small", Submission.status == "scored").first()
        assert base is not None
        users = [create_user(session, f"lb{i:04d}", "participant") for i in range(holders)]
        session.flush()
        now = datetime.now(UTC)
        for n in range(count):
            value = float(rng.uniform(0.05, 0.15))
            scores = {**base.public_scores, "primary": value,
                      "metrics": {**base.public_scores["metrics"], "accuracy": value}}
            user = users[n % holders]
            session.add(Submission(
                id=f"lb{n:08d}", benchmark_id=base.benchmark_id,
                benchmark_version=base.benchmark_version, phase=base.phase, user_id=user.id,
                holder=f"user:{user.id}", model_name=f"model-{n}", filename=base.filename,
                object_key=base.object_key, size=base.size, status="scored",
                created_at=now - timedelta(seconds=count - n), scored_at=now,
                public_scores=scores, history=[]))


def gets_per_second(url: str, seconds: float) -> float:
    """GETs of ``url`` per second from CLIENTS threads with keep-alive connections."""
    stop = time.perf_counter() + seconds

    def loop() -> int:
        done = 0
        with httpx.Client() as http:
            while time.perf_counter() < stop:
                http.get(url).raise_for_status()
                done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(lambda _: loop(), range(CLIENTS)))
    return total / (time.perf_counter() - start)


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, int]:
        return {"ok": 1}

    return app


def measure(label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    print(f"  ({label}: {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--each", type=int, default=10, help="uploads per client")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        services, keys = measure("setup", lambda: setup(folder, args.rows))
        large = prediction_file(folder, "large.csv", public_test_ids(services, "perf-large"), 1)
        small = prediction_file(folder, "small.csv", public_test_ids(services, "perf-small"), 2)
        app = create_app(services.settings, services, scoring_worker=True)
        with serving(app) as url, serving(bare_app()) as bare:
            times, accepted_times = upload_to_scored(url, keys["p0"], large, args.repeats)
            accepted, scored = concurrent_submissions(services, url, keys, small, args.each)
            measure("store", lambda: store_submissions(services, args.stored))
            board = f"{url}/api/v1/benchmarks/perf-small/leaderboard"
            measure("first leaderboard", lambda: httpx.get(board, timeout=600).raise_for_status())
            ours = gets_per_second(board, args.seconds)
            ceiling = gets_per_second(f"{bare}/constant", args.seconds)
        services.close()
    median = statistics.median(times)
    print(f"upload → scored, {args.rows:,}-row file: median {median:.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}; goal < 1 s: "
          f"{'met' if median < 1 else 'not met'}); of which upload → 202 accepted "
          f"{statistics.median(accepted_times):.3f} s")
    print(f"{CLIENTS} concurrent clients, 1,000-row files: {accepted:.1f} accepted/s, "
          f"{scored:.1f} scored/s end to end")
    print(f"leaderboard GET with {args.stored:,} stored submissions: {ours:.0f}/s; bare FastAPI "
          f"constant: {ceiling:.0f}/s; ratio {ours / ceiling:.2f}× (goal ≥ 0.5×)")


if __name__ == "__main__":
    main()
