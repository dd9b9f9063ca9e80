"""Walk every GET route of the OpenAPI document: no answer carries a held-out label."""

from __future__ import annotations

import io
import itertools
import re

from heldout.accounts.keys import authenticate
from heldout.benchmarks.queue import drain
from heldout.benchmarks.registry import upsert
from heldout.benchmarks.spec import parse_spec
from heldout.benchmarks.submissions import create_submission
from tests.api.conftest import LABEL_COLUMNS, Api, Built, secret_caption

PARAM = re.compile(r"{(\w+)(?::path)?}")


def _benchmarks(api: Api, built: Built) -> list[str]:
    """A classification, a speech (truth: the secret captions) and a verification benchmark
    over pets, with a scored submission each; returns the submission ids."""
    common = {"version": 1, "dataset": "pets@1.0.0", "split": "test", "title": "Pets"}
    specs = [
        {"id": "pets-cls", "task": "classification", "truth_column": "label",
         "metrics": ["accuracy"], "primary_metric": "accuracy", "public_fraction": 0.5},
        {"id": "pets-asr", "task": "speech-recognition", "truth_column": "caption",
         "metrics": ["wer"], "primary_metric": "wer"},
        {"id": "pets-sv", "task": "verification", "metrics": ["eer"], "primary_metric": "eer",
         "trials": {"speaker_column": "label", "pairs": 20}},
    ]
    for item in specs:
        upsert(api.services, parse_spec({**common, **item}), "test")
    page = api.client.get("/api/v1/datasets/pets/versions/1.0.0/rows",
                          params={"split": "test", "offset": 0, "length": 100}).json()
    ids = [r["id"] for r in page["rows"]]
    assert len(ids) == len(built.rows["test"])
    trials = api.client.get("/api/v1/benchmarks/pets-sv/trials").json()["items"]
    files = {
        "pets-cls": "id,prediction\n" + "".join(f"{i},cat\n" for i in ids),
        "pets-asr": "id,text\n" + "".join(f"{i},a caption\n" for i in ids),
        "pets-sv": "id,score\n" + "".join(f"{t['id']},0.5\n" for t in trials),
    }
    with api.services.catalog.session() as session:
        alice = authenticate(session, api.keys["alice"])
    made = [create_submission(api.services, benchmark_id=b, user=alice, filename="p.csv",
                              file=io.BytesIO(body.encode()), model_name="m")["id"]
            for b, body in files.items()]
    drain(api.services)
    return made


def _candidates(api: Api, built: Built) -> dict[str, list[str]]:
    files = api.client.get("/api/v1/datasets/pets/versions/1.0.0/files",
                           headers=api.auth("root")).json()["files"]
    prefix = api.client.get("/api/v1/admin/users/root/keys",
                            headers=api.auth("root")).json()["items"][0]["prefix"]
    return {
        "name": ["pets", "root", "red"],  # dataset, user and team names share the parameter
        "version": ["1.0.0", "latest"],
        "split": ["test", "train"],
        "row_index": ["0", str(len(built.rows["test"]) - 1)],
        "column": ["image", "clip", *LABEL_COLUMNS, "id"],
        "path": [f["path"] for f in files] + [
            "private/labels/pets/1.0.0/test.parquet",
            "../../private/labels/pets/1.0.0/test.parquet",
            "data/../../../private/labels/pets/1.0.0/test.parquet", "labels/test.parquet",
        ],
        "prefix": [prefix],
        "benchmark_id": ["pets-cls", "pets-asr", "pets-sv"],
        "submission_id": _benchmarks(api, built),
    }


def test_no_get_route_serves_a_held_out_label(api: Api, published: Built) -> None:
    c = api.client
    assert c.post("/api/v1/admin/teams", json={"name": "red"},
                  headers=api.auth("root")).status_code == 201
    secrets = [secret_caption(i) for i in range(len(published.rows["test"]))]
    # the secrets are real: they are in the private labels object
    labels = api.services.stores.private.get_bytes("private/labels/pets/1.0.0/test.parquet")
    assert secrets[0].encode() in labels

    spec = c.get("/openapi.json").json()
    candidates = _candidates(api, published)
    walked: dict[str, int] = {}
    for route, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        names = PARAM.findall(route)
        unknown = [n for n in names if n not in candidates]
        assert not unknown, f"add candidates for {unknown} of {route} to this test"
        query = {p["name"]: "test" for p in operations["get"].get("parameters", [])
                 if p["in"] == "query" and p["name"] == "split"}
        query.update({p["name"]: "private" for p in operations["get"].get("parameters", [])
                      if p["in"] == "query" and p["name"] == "view"})
        query.update({p["name"]: "100" for p in operations["get"].get("parameters", [])
                      if p["in"] == "query" and p["name"] == "length"})
        successes = 0
        for values in itertools.product(*(candidates[n] for n in names)):
            url = route
            for name, value in zip(names, values, strict=True):
                url = re.sub(r"{" + name + r"(?::path)?}", value, url, count=1)
            for user in (None, "root", "alice", "lab1"):
                r = c.get(url, params=query, headers=api.auth(user))
                assert r.status_code < 500, (url, r.text)
                body = r.content
                for secret in secrets:
                    assert secret.encode() not in body, f"{url} leaked a held-out label"
                # error bodies may echo the caller's own (private/…) path back; answers may not
                if r.status_code < 300:
                    assert b"private/" not in body, f"{url} mentions the private prefix"
                successes += r.status_code < 300
        walked[route] = successes
    assert all(walked.values()), f"routes never answered 2xx: {walked}"
    assert len(walked) >= 10
    # rows of the held-out split carry only its public columns
    rows = c.get("/api/v1/datasets/pets/versions/1.0.0/rows",
                 params={"split": "test", "length": 100}).json()
    assert set(rows["features"]) == {"id", "image", "clip"}
    assert all(set(row) == {"id", "image", "clip"} for row in rows["rows"])
    # and the private file paths are refused
    for path in candidates["path"][-4:]:
        r = c.get(f"/api/v1/datasets/pets/versions/1.0.0/files/{path}",
                  headers=api.auth("root"))
        assert r.status_code == 404, path
