"""Publishing over HTTP (draft, streamed shards and labels, commit) on both stores."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from heldout import layout
from tests.api.conftest import LABEL_COLUMNS, Api, Built, build_version


def _read_back(api: Api, name: str, version: str, split: str) -> list[dict]:
    """Every row of ``split`` as downloaded through the files listing's URLs."""
    listing = api.client.get(f"/api/v1/datasets/{name}/versions/{version}/files",
                             params={"split": split}).json()
    tables = []
    for item in listing["files"]:
        if item["split"] != split:
            continue
        url = item["url"]
        if url.startswith(api.settings.public_base_url):  # local: this service's route
            data = api.client.get(url.removeprefix(api.settings.public_base_url)).content
        else:  # S3: a presigned URL, fetched with plain HTTP
            data = httpx.get(url).content
        tables.append(pq.read_table(pa.BufferReader(data)))
    return pa.concat_tables(tables).to_pylist()


def _content(rows: list[dict]) -> list[tuple[bytes, bytes]]:
    return sorted((r["image"]["bytes"], r["clip"]["bytes"]) for r in rows)


def test_publish_over_http_then_read_every_row_back(api: Api, built: Built) -> None:
    r = api.publish(built)
    assert r.status_code == 200, r.text
    manifest = r.json()
    assert manifest["name"] == "pets" and manifest["version"] == "1.0.0"
    assert manifest["splits"]["train"]["num_rows"] == 23
    assert len(manifest["splits"]["train"]["shards"]) > 1
    assert manifest["held_out"]["test"]["label_columns"] == LABEL_COLUMNS
    assert api.client.get("/api/v1/datasets/pets/versions/latest").json() == manifest

    train = _read_back(api, "pets", "1.0.0", "train")
    assert train == built.rows["train"]
    # The server re-draws held-out ids and order (it trusts neither); contents are intact.
    test = _read_back(api, "pets", "1.0.0", "test")
    expected = [{k: v for k, v in row.items() if k not in LABEL_COLUMNS}
                for row in built.rows["test"]]
    assert _content(test) == _content(expected)
    assert not {r["id"] for r in test} & {r["id"] for r in expected}

    # the labels went to the private store only
    stores = api.services.stores
    assert stores.private.exists(layout.labels_key("pets", "1.0.0", "test"))
    assert not any(i.key.startswith("private/") for i in stores.public.list(""))

    listed = api.client.get("/api/v1/datasets").json()
    assert [item["name"] for item in listed["items"]] == ["pets"]
    detail = api.client.get("/api/v1/datasets/pets").json()
    assert [v["version"] for v in detail["versions"]] == ["1.0.0"]


def test_new_version_lists_newest_first_and_latest_resolves(local_api: Api,
                                                            tmp_path: Path) -> None:
    for version, folder in (("1.0.0", "a"), ("1.10.0", "b"), ("1.2.0", "c")):
        r = local_api.publish(build_version(tmp_path / folder, train=5, test=3), version=version)
        assert r.status_code == 200, r.text
    detail = local_api.client.get("/api/v1/datasets/pets").json()
    assert [v["version"] for v in detail["versions"]] == ["1.10.0", "1.2.0", "1.0.0"]
    assert detail["latest_version"] == "1.10.0"
    files = local_api.client.get("/api/v1/datasets/pets/versions/latest/files").json()
    assert files["version"] == "1.10.0"
    assert all("/versions/1.10.0/files/" in f["url"] for f in files["files"])


def test_corrupted_shard_in_the_store_is_refused_at_commit_naming_the_file(
    api: Api, built: Built
) -> None:
    draft_id = api.start("pets", "1.0.0")
    base = f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}"
    uploaded = []
    for shard in built.shards:
        r = api.client.put(f"{base}/shards/{Path(shard.path).name}",
                           content=(built.folder / shard.path).read_bytes(),
                           headers=api.auth("pub"))
        uploaded.append(r.json())
    victim = built.shards[1]
    key = layout.shard_key("pets", "1.0.0", victim.path)
    data = bytearray(api.services.stores.public.get_bytes(key))
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of a shard
    api.services.stores.public.put(key, bytes(data))
    r = api.client.post(f"{base}/commit", json={"shards": uploaded}, headers=api.auth("pub"))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/integrity")
    assert victim.path in problem["detail"] and "sha256" in problem["detail"]
    assert api.client.get("/api/v1/datasets/pets/versions/1.0.0").status_code == 404


def test_declared_checksum_that_differs_from_the_upload_is_refused(local_api: Api,
                                                                  built: Built) -> None:
    declared = [s.model_dump() for s in built.shards]
    declared[0]["sha256"] = "0" * 64
    r = local_api.publish(built, declared=declared)
    assert r.status_code == 422
    assert built.shards[0].path in r.json()["detail"]


def test_committed_version_and_live_draft_conflict(local_api: Api, built: Built) -> None:
    body = {"version": "1.0.0", "features": {"id": {"dtype": "string", "_type": "Value"}},
            "metadata": {"task": "image-classification"}}
    first = local_api.client.post("/api/v1/datasets/pets/versions", json=body,
                                  headers=local_api.auth("pub"))
    assert first.status_code == 201
    again = local_api.client.post("/api/v1/datasets/pets/versions", json=body,
                                  headers=local_api.auth("pub"))
    assert again.status_code == 409
    assert first.json()["draft_id"] in again.json()["detail"]
    draft = f"/api/v1/datasets/pets/versions/1.0.0/drafts/{first.json()['draft_id']}"
    assert local_api.client.delete(draft, headers=local_api.auth("pub")).status_code == 200
    assert local_api.publish(built).status_code == 200
    committed = local_api.client.post("/api/v1/datasets/pets/versions", json=body,
                                      headers=local_api.auth("pub"))
    assert committed.status_code == 409
    assert committed.json()["type"].endswith("/version-immutable")


def test_publishing_needs_the_role_and_ownership(local_api: Api, built: Built) -> None:
    body = {"version": "1.0.0", "features": {"id": {"dtype": "string", "_type": "Value"}},
            "metadata": {"task": "image-classification"}}
    url = "/api/v1/datasets/pets/versions"
    assert local_api.client.post(url, json=body).status_code == 401
    assert local_api.client.post(url, json=body, headers=local_api.auth("alice")).status_code \
        == 403
    assert local_api.publish(built).status_code == 200  # pub owns "pets" now
    body["version"] = "2.0.0"
    other = local_api.client.post(url, json=body, headers=local_api.auth("pub2"))
    assert other.status_code == 403
    assert "another publisher" in other.json()["detail"]
    admin = local_api.client.post(url, json=body, headers=local_api.auth("root"))
    assert admin.status_code == 201


def test_bad_shard_name_and_labels_without_columns_are_named(local_api: Api,
                                                           built: Built) -> None:
    draft_id = local_api.start("pets", "1.0.0")
    base = f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}"
    r = local_api.client.put(f"{base}/shards/evil.parquet", content=b"x",
                             headers=local_api.auth("pub"))
    assert r.status_code == 422 and "evil.parquet" in r.json()["detail"]
    r = local_api.client.put(f"{base}/labels/test", params={"label_columns": "nope"},
                             content=built.labels.read_bytes() if built.labels else b"",
                             headers=local_api.auth("pub"))
    assert r.status_code == 422 and "nope" in r.json()["detail"]


def test_upload_is_streamed_from_a_generator_body(local_api: Api, built: Built) -> None:
    """A chunked body (no Content-Length) arrives whole, in order."""
    draft_id = local_api.start("pets", "1.0.0")
    shard = built.shards[0]
    data = (built.folder / shard.path).read_bytes()

    def chunks():  # type: ignore[no-untyped-def]
        stream = io.BytesIO(data)
        while chunk := stream.read(777):
            yield chunk

    r = local_api.client.put(
        f"/api/v1/datasets/pets/versions/1.0.0/drafts/{draft_id}/shards/"
        f"{Path(shard.path).name}", content=chunks(), headers=local_api.auth("pub"))
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] == shard.sha256 and r.json()["num_rows"] == shard.num_rows
