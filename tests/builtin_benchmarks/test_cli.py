"""The benchmark commands as a user runs them: real subprocesses against a live server
(``submit``, ``leaderboard --csv``, ``benchmarks list``, ``submissions``) and on the operator's
own catalog (``benchmarks sync|list|baselines``)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.builtin_benchmarks.conftest import GROUP, fresh_data
from tests.builtin_benchmarks.live import (
    BUILTIN_IDS,
    Live,
    expected,
    live_server,
    noisy_predictions,
    write_csv,
)

pytestmark = [GROUP, pytest.mark.slow]
HELDOUT = str(Path(sys.executable).with_name("heldout"))


@pytest.fixture(scope="module")
def live(builtin_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = fresh_data(builtin_data, tmp_path_factory.mktemp("cli"), rate_limit_per_minute=0)
    with live_server(settings) as server:
        yield server


def run(live: Live, *args: str, user: str | None = "alice", server: bool = True
        ) -> subprocess.CompletedProcess[str]:
    """``heldout ARGS`` with the client variables (or the operator's HELDOUT_DATA_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELDOUT_")}
    env.update(HELDOUT_ENVIRONMENT="test", HELDOUT_DATA_DIR=str(live.settings.data_dir),
               COLUMNS="200")
    if server:
        env["HELDOUT_URL"] = live.url
    if user:
        env["HELDOUT_TOKEN"] = live.keys[user]
    return subprocess.run([HELDOUT, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_benchmarks_list_and_show_from_a_server(live: Live) -> None:
    listed = run(live, "benchmarks", "list", "--json", user=None)
    assert listed.returncode == 0, listed.stderr
    assert set(BUILTIN_IDS) <= {d["id"] for d in json.loads(listed.stdout)}
    table = run(live, "benchmarks", "list", user=None)
    assert "spoken-digits-asr-zh-challenge" in table.stdout and "competition" in table.stdout
    shown = run(live, "benchmarks", "show", "spoken-digits-asr-zh-challenge", user=None)
    assert shown.returncode == 0, shown.stderr
    assert "cer (↓ lower is better)" in shown.stdout and "main" in shown.stdout


def test_submit_waits_and_prints_scores_then_leaderboard_csv(live: Live, tmp_path: Path) -> None:
    with_client = expected(live.services, json.loads(
        run(live, "benchmarks", "show", "digits-classification", "--json").stdout))
    path = write_csv(tmp_path / "predictions.csv",
                     noisy_predictions(with_client, np.random.default_rng(5)))
    shown = run(live, "submit", "digits-classification", str(path), "--model-name", "cli-model")
    assert shown.returncode == 0, shown.stderr
    assert "scored" in shown.stdout and "accuracy (primary)" in shown.stdout
    assert "[0." in shown.stdout  # an interval
    as_json = run(live, "submit", "digits-classification", str(path), "--model-name", "cli-2",
                  "--json")
    doc = json.loads(as_json.stdout)
    assert doc["status"] == "scored" and doc["model_name"] == "cli-2"
    assert set(doc["scores"]["public"]["metrics"]) == {"accuracy", "f1_macro", "top_2_accuracy"}

    board = run(live, "leaderboard", "digits-classification", "--csv", user=None)
    assert board.returncode == 0, board.stderr
    rows = list(csv.DictReader(io.StringIO(board.stdout)))
    assert rows[0]["rank"] == "1" and rows[0]["participant"] == "alice"
    assert rows[0]["model_name"] in ("cli-model", "cli-2")
    table = run(live, "leaderboard", "digits-classification", user=None)
    assert "accuracy ↑ higher is better" in table.stdout

    mine = json.loads(run(live, "submissions", "list", "digits-classification", "--json").stdout)
    assert mine["total"] == 2
    one = run(live, "submissions", "show", doc["id"])
    assert one.returncode == 0 and doc["id"] in one.stdout


def test_errors_are_one_line(live: Live, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", {"id": ["x"], "prediction": ["1"]})
    unknown = run(live, "submit", "no-such-benchmark", str(path), "--model-name", "m")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error:") and len(unknown.stderr.strip().splitlines()) == 1
    bad = run(live, "submit", "digits-classification", str(path), "--model-name", "m")
    assert bad.returncode == 1 and bad.stderr.startswith("error:")
    assert "missing" in bad.stderr
    anonymous = run(live, "submit", "digits-classification", str(path), "--model-name", "m",
                    user=None)
    assert anonymous.returncode == 1 and "HELDOUT_TOKEN" in anonymous.stderr


def test_operator_sync_and_local_list(live: Live) -> None:
    synced = run(live, "benchmarks", "sync", "--json", user=None, server=False)
    assert synced.returncode == 0, synced.stderr
    assert {r["action"] for r in json.loads(synced.stdout)} == {"unchanged"}
    local = run(live, "benchmarks", "list", "--json", user=None, server=False)
    assert {d["id"] for d in json.loads(local.stdout)} >= set(BUILTIN_IDS)
    digits = run(live, "benchmarks", "baselines", "digits-classification", "--json",
                 user=None, server=False)
    assert digits.returncode == 0, digits.stderr
    (result,) = json.loads(digits.stdout)
    assert result["status"] == "scored" and result["primary"] > 0.5
