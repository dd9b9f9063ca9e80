"""Every built-in benchmark end to end over HTTP: a real server on loopback, the Python client,
valid and invalid prediction files, scores equal to ``heldout.scoring.score()`` on the same
file, the competition's reveal and final selection, and the baselines on the leaderboards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from heldout.benchmarks.baselines.run import run_baselines
from heldout.client.http import Client
from heldout.errors import Forbidden, InvalidInput
from heldout.scoring import read_predictions, score
from tests.builtin_benchmarks.conftest import GROUP, fresh_data
from tests.builtin_benchmarks.live import (
    BUILTIN_IDS,
    Expected,
    Live,
    expected,
    live_server,
    noisy_predictions,
    public_part,
    with_other_ids,
    write_csv,
    write_jsonl,
)

pytestmark = [GROUP, pytest.mark.slow]
CHALLENGE = "spoken-digits-asr-zh-challenge"


@pytest.fixture(scope="module")
def live(builtin_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = fresh_data(builtin_data, tmp_path_factory.mktemp("e2e"), rate_limit_per_minute=0)
    with live_server(settings) as server:
        yield server


def client_of(live: Live, user: str) -> Client:
    return Client(live.url, token=live.keys[user], max_retries=1)


def _only(table: pa.Table, ids: list[Any]) -> pa.Table:
    column = pc.cast(table["id"], pa.string())
    return table.filter(pc.is_in(column, value_set=pa.array([str(i) for i in ids])))


def assert_scores_match(shown: dict[str, Any], exp: Expected, truth: dict[str, list[Any]],
                        file: Path, metrics: list[str]) -> None:
    """The service's scores equal score() of the same file on the same examples."""
    table, _ = read_predictions(file)
    report = score(exp.task, truth, _only(table, truth["id"]), exp.config,
                   label_names=exp.label_names)
    assert shown["n"] == len(truth["id"])
    for metric in metrics:
        assert shown["metrics"][metric] == pytest.approx(report.metrics[metric], abs=1e-12)
        interval = report.intervals[metric]
        assert shown["intervals"][metric]["low"] == pytest.approx(interval.low, abs=1e-12)
        assert shown["intervals"][metric]["high"] == pytest.approx(interval.high, abs=1e-12)


@pytest.mark.parametrize("benchmark", BUILTIN_IDS)
def test_a_valid_file_is_scored_exactly_as_score_does(live: Live, benchmark: str,
                                                      tmp_path: Path) -> None:
    with client_of(live, "alice") as alice, client_of(live, "root") as root:
        doc = alice.benchmark(benchmark)
        exp = expected(live.services, doc)
        columns = noisy_predictions(exp, np.random.default_rng(7))
        scored_only = write_csv(tmp_path / "scored.csv", columns)
        upload = write_jsonl(tmp_path / "predictions.jsonl", with_other_ids(exp, columns))
        sub = alice.submit(benchmark, upload, "noisy-oracle", description="truth, spoiled",
                           link="https://example.org/code", timeout=300)
        assert sub["status"] == "scored", sub
        full = root.submission(sub["id"])  # admins see raw and private scores
        board = alice.leaderboard(benchmark)
    if doc["kind"] == "standing":
        assert_scores_match(full["scores"]["public"], exp, exp.truth, scored_only,
                            doc["metrics"])
        assert sub["scores"]["public"] == full["scores"]["public"]
    else:
        public = public_part(live, benchmark, exp.truth, doc["public_fraction"])
        private_ids = set(exp.truth["id"]) - set(public["id"])
        private = {k: [v for i, v in zip(exp.truth["id"], values, strict=True)
                       if i in private_ids] for k, values in exp.truth.items()}
        assert_scores_match(full["scores"]["public"], exp, public, scored_only, doc["metrics"])
        assert_scores_match(full["scores"]["private"], exp, private, scored_only,
                            doc["metrics"])
        assert sub["scores"]["public"]["ladder"] is not None  # the owner sees the Ladder
        assert sub["scores"]["public"]["metrics"] == {} and sub["scores"]["private"] is None
    assert [e["participant"] for e in board["entries"] if e["submission_id"] == sub["id"]] \
        == ["alice"]


def _bad_files(exp: Expected, good: dict[str, list[Any]]) -> dict[str, tuple[dict[str, Any], str]]:
    """Broken variants of a good file and a word the rejection must contain."""
    value_column = next(c for c in good if c != "id")
    missing = {k: v[1:] for k, v in good.items()}
    unknown = {k: [*v, v[0]] for k, v in good.items()}
    unknown["id"] = [*good["id"][:-1], good["id"][-1], "no-such-id"]
    renamed = {"id": good["id"], "guess": good[value_column]}
    bad_value = dict(good)
    if exp.task == "verification":
        bad_value["score"] = ["nan", *good["score"][1:]]
    elif exp.task == "classification":
        bad_value["prediction"] = ["eleven", *good["prediction"][1:]]
    else:
        bad_value = {"id": good["id"], "text": [None, *good["text"][1:]]}
    return {"missing": (missing, "missing"), "unknown": (unknown, "no-such-id"),
            "column": (renamed, value_column), "value": (bad_value, "row")}


@pytest.mark.parametrize("benchmark", BUILTIN_IDS)
def test_invalid_files_are_refused_with_the_problem_named(live: Live, benchmark: str,
                                                          tmp_path: Path) -> None:
    with client_of(live, "bob") as bob:
        doc = bob.benchmark(benchmark)
        exp = expected(live.services, doc)
        good = with_other_ids(exp, noisy_predictions(exp, np.random.default_rng(1)))
        for case, (columns, word) in _bad_files(exp, good).items():
            path = write_jsonl(tmp_path / f"{case}.jsonl", columns)
            with pytest.raises(InvalidInput) as caught:
                bob.submit(benchmark, path, f"broken-{case}")
            assert word in caught.value.detail, (case, caught.value.detail)
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        with pytest.raises(InvalidInput, match="empty"):
            bob.submit(benchmark, empty, "empty")
        assert bob.submissions(benchmark)["total"] == 0  # nothing half-made is left


def test_benchmark_documents_carry_the_dataset_warning(live: Live) -> None:
    with Client(live.url) as anonymous:
        docs = {d["id"]: d for d in anonymous.benchmarks()["items"]}
    assert set(BUILTIN_IDS) <= set(docs)
    for benchmark in BUILTIN_IDS:
        doc = docs[benchmark]
        name, version = doc["dataset"].split("@")
        manifest = live.services.repository.manifest(name, version)
        public = bool(getattr(manifest, "held_out_labels_public", False))
        assert doc["held_out_labels_public"] is public
        assert bool(doc["warnings"]) is public
    assert docs[CHALLENGE]["kind"] == "competition"
    assert docs[CHALLENGE]["current_phase"] == "main"
    assert docs["digits-classification"]["direction"] == "higher-is-better"
    assert docs["spoken-digits-asr-zh"]["direction"] == "lower-is-better"


def test_competition_final_selection_and_reveal(live: Live, tmp_path: Path) -> None:
    with client_of(live, "bob") as bob, client_of(live, "root") as root:
        exp = expected(live.services, bob.benchmark(CHALLENGE))
        perfect = write_csv(tmp_path / "perfect.csv", with_other_ids(
            exp, {"id": exp.truth["id"], "text": exp.truth["text"]}))
        noisy = write_csv(tmp_path / "noisy.csv", with_other_ids(
            exp, noisy_predictions(exp, np.random.default_rng(3))))
        first = bob.submit(CHALLENGE, perfect, "perfect")
        second = bob.submit(CHALLENGE, noisy, "noisy")
        with pytest.raises(Forbidden):
            bob.leaderboard(CHALLENGE, view="private")
        assert bob.select(second["id"])["selected"] is True
        root.request("POST", f"/benchmarks/{CHALLENGE}/reveal")
        revealed = bob.submission(first["id"])
        board = bob.leaderboard(CHALLENGE, view="private")
    assert revealed["scores"]["private"]["primary"] == 0.0
    mine = [e for e in board["entries"] if e["participant"] == "bob"]
    assert [e["submission_id"] for e in mine] == [second["id"]]  # the selection counts


def test_baselines_are_scored_better_than_chance_and_flagged(live: Live) -> None:
    chance = {"digits-classification": 0.5, "spoken-digits-kws": 0.3,
              "spoken-digits-asr-en": 0.6, "spoken-digits-asr-zh": 0.6,
              "spoken-digits-speaker-verification": 0.45, CHALLENGE: 0.6}
    results = {r.benchmark: r for r in run_baselines(live.services, if_missing=True)}
    assert set(results) == set(chance)
    for benchmark, bound in chance.items():
        result = results[benchmark]
        assert result.action == "submitted" and result.status == "scored", result
        assert result.primary is not None
        higher = benchmark in ("digits-classification", "spoken-digits-kws")
        assert result.primary > bound if higher else result.primary < bound, result
    again = run_baselines(live.services, if_missing=True)
    assert {r.action for r in again} == {"present"}
    with Client(live.url) as anonymous:
        board = anonymous.leaderboard("digits-classification")
    assert [e["baseline"] for e in board["entries"] if e["participant"] == "heldout-baselines"] \
        == [True]
