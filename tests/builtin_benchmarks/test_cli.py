"""The benchmark commands as a user runs them against a live server: ``submit``,
``leaderboard --csv`` and ``benchmarks list`` as real subprocesses, the rest in process
(CliRunner), and the operator commands on the server's own catalog."""

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
from typer.testing import CliRunner

from heldout.cli.main import app
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
runner = CliRunner()


@pytest.fixture(scope="module")
def live(builtin_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = fresh_data(builtin_data, tmp_path_factory.mktemp("cli"), rate_limit_per_minute=0)
    with live_server(settings) as server:
        yield server


def environment(live: Live, user: str | None, server: bool) -> dict[str, str]:
    """The client variables (HELDOUT_URL, HELDOUT_TOKEN) or the operator's HELDOUT_DATA_DIR."""
    env = {"HELDOUT_ENVIRONMENT": "test", "HELDOUT_DATA_DIR": str(live.settings.data_dir),
           "COLUMNS": "200", "HELDOUT_URL": live.url if server else "",
           "HELDOUT_TOKEN": live.keys[user] if user else ""}
    return {k: v for k, v in env.items() if v}


def run(live: Live, *args: str, user: str | None = "alice") -> subprocess.CompletedProcess[str]:
    """``heldout ARGS`` in a subprocess, as a user types it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELDOUT_")}
    env.update(environment(live, user, True))
    return subprocess.run([HELDOUT, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def invoke(live: Live, *args: str, user: str | None = "alice", server: bool = True) -> str:
    """``heldout ARGS`` in process; returns stdout (and fails the test on a non-zero exit)."""
    env = {k: None for k in os.environ if k.startswith("HELDOUT_")}
    result = runner.invoke(app, list(args), env={**env, **environment(live, user, server)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_benchmarks_list_and_show_from_a_server(live: Live) -> None:
    listed = run(live, "benchmarks", "list", "--json", user=None)
    assert listed.returncode == 0, listed.stderr
    assert set(BUILTIN_IDS) <= {d["id"] for d in json.loads(listed.stdout)}
    shown = run(live, "benchmarks", "show", "spoken-digits-asr-zh-challenge", user=None)
    assert shown.returncode == 0, shown.stderr
    assert "cer (↓ lower is better)" in shown.stdout and "competition" in shown.stdout
    doc = json.loads(invoke(live, "benchmarks", "show", "spoken-digits-kws", "--json",
                            user=None))
    assert doc["kind"] == "standing" and doc["direction"] == "higher-is-better"


def test_submit_waits_and_prints_scores_then_leaderboard_csv(live: Live, tmp_path: Path) -> None:
    exp = expected(live.services, json.loads(
        invoke(live, "benchmarks", "show", "digits-classification", "--json")))
    path = write_csv(tmp_path / "predictions.csv",
                     noisy_predictions(exp, np.random.default_rng(5)))
    shown = run(live, "submit", "digits-classification", str(path), "--model-name", "cli-model")
    assert shown.returncode == 0, shown.stderr
    assert "scored" in shown.stdout and "accuracy (primary)" in shown.stdout
    assert "[0." in shown.stdout  # an interval
    doc = json.loads(invoke(live, "submit", "digits-classification", str(path),
                            "--model-name", "cli-2", "--json"))
    assert doc["status"] == "scored" and doc["model_name"] == "cli-2"
    assert set(doc["scores"]["public"]["metrics"]) == {"accuracy", "f1_macro", "top_2_accuracy"}

    board = run(live, "leaderboard", "digits-classification", "--csv", user=None)
    assert board.returncode == 0, board.stderr
    rows = list(csv.DictReader(io.StringIO(board.stdout)))
    assert rows[0]["rank"] == "1" and rows[0]["participant"] == "alice"
    assert rows[0]["model_name"] in ("cli-model", "cli-2")
    table = run(live, "leaderboard", "digits-classification", user=None)
    assert "accuracy ↑ higher is better" in table.stdout

    mine = json.loads(invoke(live, "submissions", "list", "digits-classification", "--json"))
    assert mine["total"] == 2
    assert doc["id"] in invoke(live, "submissions", "show", doc["id"])


def test_errors_are_one_line(live: Live, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", {"id": ["x"], "prediction": ["1"]})
    unknown = run(live, "submit", "no-such-benchmark", str(path), "--model-name", "m")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error:") and len(unknown.stderr.strip().splitlines()) == 1
    env = {k: None for k in os.environ if k.startswith("HELDOUT_")}
    bad = runner.invoke(app, ["submit", "digits-classification", str(path), "--model-name", "m"],
                        env={**env, **environment(live, "alice", True)})
    assert bad.exit_code == 1 and bad.stderr.startswith("error:")
    assert "no prediction" in " ".join(bad.stderr.split())
    anonymous = runner.invoke(app, ["submit", "digits-classification", str(path),
                                    "--model-name", "m"], env={**env, **environment(live, None,
                                                                                   True)})
    assert anonymous.exit_code == 1 and "HELDOUT_TOKEN" in anonymous.stderr


def test_operator_sync_list_and_baselines(live: Live) -> None:
    synced = json.loads(invoke(live, "benchmarks", "sync", "--json", user=None, server=False))
    assert {r["action"] for r in synced} == {"unchanged"}
    local = json.loads(invoke(live, "benchmarks", "list", "--json", user=None, server=False))
    assert {d["id"] for d in local} >= set(BUILTIN_IDS)
    (result,) = json.loads(invoke(live, "benchmarks", "baselines", "digits-classification",
                                  "--json", user=None, server=False))
    assert result["status"] == "scored" and result["primary"] > 0.5
