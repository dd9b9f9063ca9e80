"""An anonymous attacker plays every recovery route against a real server; none does better
than chance (the majority class's share + 3 standard errors).

Each test prints the recovery rate it measured (``pytest -s`` shows them).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from tests.security.conftest import PATHS, TEST_COUNTS, VERSIONS, World, chance_bound

pytestmark = pytest.mark.slow
CLASSES = sorted(TEST_COUNTS)
SOURCE_NAME = re.compile(r"(?:test/)?(bird|cat|dog)/[A-Za-z0-9_.]+\.png")


def anonymous(world: World) -> httpx.Client:
    return httpx.Client(base_url=world.url + "/api/v1", timeout=60)


def public_ids(world: World, name: str, version: str) -> list[str]:
    """The test split's ids in the order anyone reads them (the /rows preview)."""
    ids: list[str] = []
    with anonymous(world) as client:
        while True:
            page = client.get(f"/datasets/{name}/versions/{version}/rows",
                              params={"split": "test", "offset": len(ids), "length": 100})
            assert page.status_code == 200, page.text
            body = page.json()
            ids.extend(row["id"] for row in body["rows"])
            if len(ids) >= body["num_rows_total"]:
                return ids


def public_documents(world: World, name: str, version: str) -> dict[str, str]:
    """Every public document of a version as text: manifest, Croissant, card, dataset
    document, file list and the test split's rows."""
    base = f"/datasets/{name}/versions/{version}"
    with anonymous(world) as client:
        docs = {path: client.get(f"{base}/files/{path}").text
                for path in ("manifest.json", "croissant.json", "README.md")}
        docs["api-manifest"] = client.get(base).text
        docs["dataset"] = client.get(f"/datasets/{name}").text
        docs["files"] = client.get(f"{base}/files").text
        docs["rows"] = client.get(f"{base}/rows", params={"split": "test", "length": 100}).text
    return docs


def accuracy(guesses: dict[str, str], truth: dict[str, str]) -> float:
    return sum(guesses[i] == label for i, label in truth.items()) / len(truth)


def train_prior(world: World, name: str, version: str) -> dict[str, int]:
    with anonymous(world) as client:
        manifest = client.get(f"/datasets/{name}/versions/{version}").json()
    balance = manifest["statistics"]["class_balance"]
    assert "test" not in balance, "the held-out split's class balance is public"
    return dict(balance["train"])


def report(route: str, world: World, path: str, rate: float, bound: float) -> None:
    print(f"\n[recovery] {route:<28} {world.backend:<5} {path:<8} "
          f"rate {rate:.3f} (chance + 3 SE = {bound:.3f})")


@pytest.mark.parametrize("path", PATHS)
def test_row_order_and_class_proportions_give_chance(world: World, path: str) -> None:
    """The attacker assumes sorted class folders and cuts the public row order by the class
    proportions they can see (train's: the test split's are not public)."""
    name, version = world.datasets[path], VERSIONS[0]
    prior = train_prior(world, name, version)
    ids = public_ids(world, name, version)
    total = sum(prior.values())
    guesses: dict[str, str] = {}
    start = 0
    for cls in CLASSES:
        stop = start + round(len(ids) * prior[cls] / total)
        guesses.update((i, cls) for i in ids[start:stop])
        start = stop
    guesses.update((i, CLASSES[-1]) for i in ids[start:])
    truth = world.truth(name, version)
    rate, bound = accuracy(guesses, truth), chance_bound(truth)
    report("order + proportions", world, path, rate, bound)
    assert rate <= bound


def _candidate_ids() -> dict[str, str]:
    """Ids an attacker recomputes from guessable source names and indices → class."""
    out: dict[str, str] = {}
    for cls in CLASSES:
        for i in range(300):
            for name in (f"test/{cls}/img_{i:03d}.png", f"{cls}/img_{i:03d}.png",
                         f"test/{cls}/zz_dup.png"):
                digest = hashlib.sha1(name.encode()).hexdigest()
                out[digest[:16]] = out[digest] = cls
    offsets = {cls: sum(TEST_COUNTS[c] for c in CLASSES[:k]) for k, cls in enumerate(CLASSES)}
    for cls in CLASSES:  # indices in sorted order (HF / table sources used them)
        for i in range(TEST_COUNTS[cls]):
            index = offsets[cls] + i
            for text in (str(index), f"{index:08d}", f"test-{index:07d}"):
                out[text] = cls
    return out


@pytest.mark.parametrize("path", PATHS)
def test_recomputed_ids_give_chance(world: World, path: str) -> None:
    name, version = world.datasets[path], VERSIONS[0]
    prior = train_prior(world, name, version)
    fallback = max(prior, key=prior.__getitem__)
    candidates = _candidate_ids()
    ids = public_ids(world, name, version)
    hits = [i for i in ids if i in candidates]
    assert hits == []
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)  # 96 random bits each
    truth = world.truth(name, version)
    rate = accuracy({i: candidates.get(i, fallback) for i in ids}, truth)
    bound = chance_bound(truth)
    report("recomputed ids", world, path, rate, bound)
    assert rate <= bound


@pytest.mark.parametrize("path", PATHS)
def test_names_in_public_documents_give_chance(world: World, path: str) -> None:
    """Source names of held-out files (duplicates, near-duplicates, leakage, skipped files)
    would give labels away through their folder and their hash; none is public."""
    name, version = world.datasets[path], VERSIONS[0]
    docs = public_documents(world, name, version)
    text = "\n".join(docs.values())
    found = {m.group(0): m.group(1) for m in SOURCE_NAME.finditer(text)}
    assert found == {}, f"held-out source names are public: {sorted(found)[:5]}"
    for token in ("img_", "zz_dup", "zz_broken", "zz_leak", "zz_near"):
        assert token not in text
    manifest: dict[str, Any] = json.loads(docs["manifest.json"])
    stats = manifest["statistics"]
    assert stats["duplicates"]["test"] == {"groups": 1, "extra_copies": 1}  # a count only
    assert stats["skipped_files"] == {"test": 1}
    assert manifest["skipped_files"] == []
    assert manifest["leakage"]["exact_duplicates_across_splits"] == 1
    assert manifest["leakage"]["examples"] == []
    assert stats["near_duplicates"]["pairs"] >= 1 and stats["near_duplicates"]["examples"] == []
    by_hash = {hashlib.sha1(n.encode()).hexdigest()[:16]: c for n, c in found.items()}
    prior = train_prior(world, name, version)
    fallback = max(prior, key=prior.__getitem__)
    truth = world.truth(name, version)
    rate = accuracy({i: by_hash.get(i, fallback) for i in truth}, truth)
    bound = chance_bound(truth)
    report("names in public documents", world, path, rate, bound)
    assert rate <= bound


@pytest.mark.parametrize("path", PATHS)
def test_two_publishes_share_no_ids_or_order(world: World, path: str) -> None:
    """Labels learnt for one publish (say, leaked) say nothing about another publish of the
    same source: no shared id, and the row order is drawn afresh."""
    name = world.datasets[path]
    first, second = (public_ids(world, name, v) for v in VERSIONS)
    assert not set(first) & set(second)
    other = world.datasets[next(p for p in PATHS if p != path)]
    assert not set(first) & set(public_ids(world, other, VERSIONS[0]))
    known = world.truth(name, VERSIONS[0])  # everything about the first publish
    truth = world.truth(name, VERSIONS[1])
    fallback = max(known.values(), key=list(known.values()).count)
    by_id = accuracy({i: known.get(i, fallback) for i in truth}, truth)
    by_position = accuracy({i: known[first[k]] for k, i in enumerate(second)}, truth)
    bound = chance_bound(truth)
    report("ids of another publish", world, path, by_id, bound)
    report("positions of another publish", world, path, by_position, bound)
    assert by_id <= bound and by_position <= bound


def test_private_report_is_for_owners_and_admins(world: World) -> None:
    """Source names → ids, the held-out class balance and the withheld file names are in the
    private report: admins and the dataset's owner read it, nobody else (404)."""
    def get(name: str, key: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        with httpx.Client(base_url=world.url + "/api/v1", timeout=60) as client:
            return client.get(f"/datasets/{name}/versions/latest/report", headers=headers)

    operator, server = world.datasets["operator"], world.datasets["server"]
    assert get(operator, None).status_code == 404
    assert get(server, None).status_code == 404
    assert get(operator, world.publisher_key).status_code == 404  # not theirs
    for name, key in ((operator, world.admin_key), (server, world.publisher_key)):
        answer = get(name, key)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids = body["held_out_ids"]["test"]
        assert len(ids) == sum(TEST_COUNTS.values()) + 1  # with the duplicate
        assert set(ids.values()) == set(world.truth(name, VERSIONS[1]))
        assert "test/cat/img_001.png" in ids
        assert body["statistics"]["class_balance"]["test"] == {"bird": 60, "cat": 40, "dog": 21}
        assert any(s["file"] == "test/cat/zz_broken.png" for s in body["skipped_files"])
        assert body["leakage"]["examples"]


def test_datasets_show_gives_the_report_to_owners_only(world: World) -> None:
    """``heldout datasets show --url`` shows the private report with the owner's key only;
    on the server's own store (the operator's view) it is always shown."""
    name = world.datasets["server"]

    def show(env: dict[str, str]) -> dict[str, Any]:
        where = [] if env.get("HELDOUT_URL") else ["--local"]  # the operator's own store
        result = CliRunner().invoke(app, ["datasets", "show", name, "--json", *where], env=env)
        assert result.exit_code == 0, result.output
        body: dict[str, Any] = json.loads(result.stdout)
        return body

    remote = {"HELDOUT_URL": world.url}
    assert "private_report" not in show({**remote, "HELDOUT_TOKEN": ""})
    owner = show({**remote, "HELDOUT_TOKEN": world.publisher_key})
    assert "test/dog/zz_dup.png" in owner["private_report"]["held_out_ids"]["test"]
    assert "test" not in owner["statistics"]["class_balance"]
    if world.backend == "local":
        local = {"HELDOUT_URL": "", "HELDOUT_DATA_DIR": str(world.settings.data_dir),
                 "HELDOUT_ENVIRONMENT": "test"}
        assert show(local)["private_report"]["statistics"]["class_balance"]["test"]
