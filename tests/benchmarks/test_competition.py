"""Competitions: keyed public/private split, hidden private scores until reveal, Ladder,
final selections, embargoed phase splits, challenge confirmation, other teams' privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from heldout.accounts import audit
from heldout.accounts.users import add_member, create_team, get_user
from heldout.benchmarks.queue import drain
from heldout.benchmarks.split import public_mask, split_key
from tests.benchmarks.conftest import LABELS, BenchApi, csv_predictions, spec, truth_table


def competition(**fields: Any) -> dict[str, Any]:
    return spec(id="toy-comp", public_fraction=0.5, **fields)


def predictions(bench: BenchApi, wrong_every: int | None) -> bytes:
    """Predictions that are wrong on every ``wrong_every``-th row (None: all right)."""
    truth = truth_table(bench.services)
    labels = truth.column("label").to_pylist()
    guess = [(v + 1) % 3 if wrong_every and i % wrong_every == 0 else v
             for i, v in enumerate(labels)]
    return csv_predictions(truth, "prediction", [LABELS[g] for g in guess])


def test_split_is_keyed_and_stable() -> None:
    ids = [f"id-{i}" for i in range(2000)]
    a = public_mask(ids, split_key("secret-1", "bench"), 0.3)
    assert a.tolist() == public_mask(ids, split_key("secret-1", "bench"), 0.3).tolist()
    assert 0.25 < a.mean() < 0.35
    assert a.tolist() != public_mask(ids, split_key("secret-2", "bench"), 0.3).tolist()
    assert a.tolist() != public_mask(ids, split_key("secret-1", "other"), 0.3).tolist()


def test_private_scores_hidden_until_reveal(bench: BenchApi) -> None:
    bench.sync(competition())
    client, api = bench.api.client, bench.api
    r = bench.submit("toy-comp", predictions(bench, 3))
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    drain(bench.services)
    mine = client.get(f"/api/v1/submissions/{sid}", headers=api.auth("alice")).json()
    assert mine["scores"]["public"]["n"] + 0 > 0
    assert mine["scores"]["private"] is None
    assert client.get("/api/v1/benchmarks/toy-comp/leaderboard?view=private").status_code == 403
    admin_view = client.get(f"/api/v1/submissions/{sid}", headers=api.auth("root")).json()
    assert admin_view["scores"]["private"]["n"] + mine["scores"]["public"]["n"] == 90
    r = client.post("/api/v1/benchmarks/toy-comp/reveal", headers=api.auth("alice"))
    assert r.status_code == 403
    assert client.post("/api/v1/benchmarks/toy-comp/reveal",
                       headers=api.auth("root")).status_code == 200
    mine = client.get(f"/api/v1/submissions/{sid}", headers=api.auth("alice")).json()
    assert mine["scores"]["private"] == admin_view["scores"]["private"]
    board = client.get("/api/v1/benchmarks/toy-comp/leaderboard?view=private").json()
    assert board["entries"][0]["primary"] == mine["scores"]["private"]["primary"]
    with bench.services.catalog.session() as session:
        events, _ = audit.list_events(session, action="benchmark.revealed")
    assert events and events[0]["target"] == "toy-comp"


def test_another_teams_submission_is_unreadable(local_bench: BenchApi) -> None:
    services, api = local_bench.services, local_bench.api
    with services.catalog.session() as session:
        team = create_team(session, "ants")
        add_member(session, team, get_user(session, "alice"))
        add_member(session, team, get_user(session, "lab1"))
    local_bench.sync(spec())
    sid = local_bench.submit("toy-cls", predictions(local_bench, None)).json()["id"]
    client = api.client
    assert client.get(f"/api/v1/submissions/{sid}", headers=api.auth("bob")).status_code == 404
    assert client.get(f"/api/v1/submissions/{sid}").status_code == 401
    assert client.get(f"/api/v1/submissions/{sid}", headers=api.auth("lab1")).status_code == 200
    assert client.post(f"/api/v1/submissions/{sid}/select",
                       headers=api.auth("bob")).status_code == 404
    drain(services)
    board = client.get("/api/v1/benchmarks/toy-cls/leaderboard").json()
    assert board["entries"][0]["participant"] == "ants"


def test_ladder_shows_only_real_improvements(local_bench: BenchApi) -> None:
    local_bench.sync(competition(public_feedback="ladder", ladder_threshold=0.05))
    api = local_bench.api
    shown = []
    for wrong_every in (2, 3, 30, 29, None):
        r = local_bench.submit("toy-comp", predictions(local_bench, wrong_every))
        assert r.status_code == 202, r.text
        drain(local_bench.services)
        doc = api.client.get(f"/api/v1/submissions/{r.json()['id']}",
                             headers=api.auth("alice")).json()
        assert "metrics" not in doc["scores"]["public"] or not doc["scores"]["public"]["metrics"]
        shown.append(doc["scores"]["public"]["ladder"])
    values = [s["value"] for s in shown]
    assert shown[0]["updated"] is True
    assert all(v * 100 % 5 < 1e-6 or v * 100 % 5 > 5 - 1e-6 for v in values)  # multiples of η
    assert values == sorted(values)  # never goes down
    # 1/30 vs 1/29 wrong differ by far less than 0.05: the second shows the same number
    assert shown[3]["updated"] is False and values[3] == values[2]
    board = api.client.get("/api/v1/benchmarks/toy-comp/leaderboard").json()
    entry = board["entries"][0]
    assert entry["primary"] == values[-1]
    assert entry["intervals"] == {} and entry["tied_with_leader"] is None


def test_final_selection_decides_the_private_board(local_bench: BenchApi) -> None:
    local_bench.sync(competition(max_final_selections=1))
    api = local_bench.api
    good = local_bench.submit("toy-comp", predictions(local_bench, None)).json()["id"]
    bad = local_bench.submit("toy-comp", predictions(local_bench, 2)).json()["id"]
    drain(local_bench.services)
    r = api.client.post(f"/api/v1/submissions/{bad}/select", headers=api.auth("alice"))
    assert r.status_code == 200 and r.json()["selected"] is True
    r = api.client.post(f"/api/v1/submissions/{good}/select", headers=api.auth("alice"))
    assert r.status_code == 409
    board = api.client.get("/api/v1/benchmarks/toy-comp/leaderboard?view=private",
                           headers=api.auth("root")).json()
    assert board["entries"][0]["submission_id"] == bad
    api.client.post(f"/api/v1/submissions/{bad}/select", json={"selected": False},
                    headers=api.auth("alice"))
    board = api.client.get("/api/v1/benchmarks/toy-comp/leaderboard?view=private",
                           headers=api.auth("root")).json()
    assert board["entries"][0]["submission_id"] == good


def test_embargoed_phase_split_is_not_downloadable(local_bench: BenchApi) -> None:
    now = datetime.now(UTC)
    local_bench.sync(competition(phases=[
        {"name": "a", "ends": (now + timedelta(days=1)).isoformat()},
        {"name": "b", "starts": (now + timedelta(days=1)).isoformat(), "split": "stage2"}]))
    client = local_bench.api.client
    base = "/api/v1/datasets/toy/versions/1.0.0"
    r = client.get(f"{base}/files?split=stage2")
    assert r.status_code == 403 and r.json()["type"].endswith("/embargoed")
    listed = client.get(f"{base}/files").json()["files"]
    assert not any(f["split"] == "stage2" for f in listed)
    assert any(f["split"] == "test" for f in listed)
    assert client.get(f"{base}/rows?split=stage2").status_code == 403
    assert client.get(f"{base}/rows?split=test").status_code == 200
    manifest = client.get(base).json()
    shard = manifest["splits"]["stage2"]["shards"][0]["path"]
    assert client.get(f"{base}/files/{shard}").status_code == 403


def test_challenge_needs_admin_confirmation(local_bench: BenchApi) -> None:
    local_bench.sync(competition(challenge={"target": 0.99, "prize": "a medal"}))
    api = local_bench.api
    local_bench.submit("toy-comp", predictions(local_bench, 2))
    drain(local_bench.services)
    r = api.client.post("/api/v1/benchmarks/toy-comp/challenge/confirm",
                        headers=api.auth("root"))
    assert r.status_code == 409  # nobody meets it yet
    winner = local_bench.submit("toy-comp", predictions(local_bench, None), user="bob").json()
    local_bench.submit("toy-comp", predictions(local_bench, None))  # later: not first
    drain(local_bench.services)
    board = api.client.get("/api/v1/benchmarks/toy-comp/leaderboard").json()
    assert board["challenge"]["met"] is None
    assert api.client.post("/api/v1/benchmarks/toy-comp/challenge/confirm",
                           headers=api.auth("bob")).status_code == 403
    r = api.client.post("/api/v1/benchmarks/toy-comp/challenge/confirm",
                        headers=api.auth("root"))
    assert r.status_code == 200, r.text
    assert r.json()["submission_id"] == winner["id"] and r.json()["score"] == 1.0
    board = api.client.get("/api/v1/benchmarks/toy-comp/leaderboard").json()
    assert board["challenge"]["met"]["submission_id"] == winner["id"]
    assert [e["met_challenge"] for e in board["entries"] if e["user"] == "bob"] == [True]
    with local_bench.services.catalog.session() as session:
        events, _ = audit.list_events(session, action="benchmark.challenge_met")
    assert events[0]["detail"]["submission_id"] == winner["id"]
