"""Private and gated datasets refuse the wrong user; reads by the right one are audited."""

from __future__ import annotations

from tests.api.conftest import Api, Built

FILES = "/api/v1/datasets/pets/versions/1.0.0/files"


def _patch(api: Api, **body: str) -> None:
    r = api.client.patch("/api/v1/admin/datasets/pets", json=body, headers=api.auth("root"))
    assert r.status_code == 200, r.text


def _audit(api: Api, **params: str) -> list[dict]:
    r = api.client.get("/api/v1/admin/audit", params=params, headers=api.auth("root"))
    assert r.status_code == 200
    return list(r.json()["items"])


def test_private_dataset_is_hidden_from_others_and_audited_for_granted_users(
    api: Api, published: Built
) -> None:
    _patch(api, visibility="private")
    c = api.client
    for who in (None, "alice", "pub2"):
        assert c.get(FILES, headers=api.auth(who)).status_code == 404
        assert c.get("/api/v1/datasets/pets", headers=api.auth(who)).status_code == 404
        listed = c.get("/api/v1/datasets", headers=api.auth(who)).json()
        assert listed["items"] == [] and listed["total"] == 0
    # the owner and admins see it; a grant lets alice in
    assert c.get(FILES, headers=api.auth("pub")).status_code == 200
    r = c.post("/api/v1/admin/datasets/pets/grants", json={"user": "alice"},
               headers=api.auth("root"))
    assert r.status_code == 201
    files = c.get(FILES, headers={**api.auth("alice"), "X-Request-ID": "alice-files"})
    assert files.status_code == 200
    shard = next(f for f in files.json()["files"] if f["split"] == "train")
    path = f"{FILES}/{shard['path']}"
    assert c.get(path, headers=api.auth("alice")).status_code == 200
    assert c.get(path, headers=api.auth("bob")).status_code == 404
    events = _audit(api, user="alice")
    actions = {(e["action"], e["target"]) for e in events}
    assert ("dataset.files", "pets@1.0.0") in actions
    assert ("dataset.download", f"pets@1.0.0/{shard['path']}") in actions
    listing_event = next(e for e in events if e["action"] == "dataset.files")
    assert listing_event["request_id"] == "alice-files"
    assert listing_event["client_ip"]
    assert listing_event["at"]
    assert not _audit(api, user="bob")


def test_team_grant_opens_a_private_dataset_to_its_members(api: Api, published: Built) -> None:
    _patch(api, visibility="private")
    c, admin = api.client, api.auth("root")
    assert c.post("/api/v1/admin/teams", json={"name": "red"}, headers=admin).status_code == 201
    assert c.post("/api/v1/admin/teams/red/members", json={"user": "bob"},
                  headers=admin).status_code == 201
    assert c.get(FILES, headers=api.auth("bob")).status_code == 404
    assert c.post("/api/v1/admin/datasets/pets/grants", json={"team": "red"},
                  headers=admin).status_code == 201
    assert c.get(FILES, headers=api.auth("bob")).status_code == 200
    assert [i["name"] for i in c.get("/api/v1/datasets", headers=api.auth("bob")).json()
            ["items"]] == ["pets"]
    assert c.get(FILES, headers=api.auth("alice")).status_code == 404


def test_gated_dataset_needs_accepted_terms_and_records_the_acceptance(
    api: Api, published: Built
) -> None:
    c = api.client
    missing = c.patch("/api/v1/admin/datasets/pets", json={"visibility": "gated"},
                      headers=api.auth("root"))
    assert missing.status_code == 422 and "terms" in missing.json()["detail"]
    _patch(api, visibility="gated", terms_version="v1", terms_text="No redistribution.")
    # listed and described to everyone, with the terms
    detail = c.get("/api/v1/datasets/pets").json()
    assert detail["terms"] == {"version": "v1", "text": "No redistribution.", "accepted": False}
    assert detail["can_download"] is False
    assert c.get(FILES).status_code == 401
    refused = c.get(FILES, headers=api.auth("alice"))
    assert refused.status_code == 403
    assert "/api/v1/datasets/pets/terms" in refused.json()["detail"]
    assert refused.json()["terms_version"] == "v1"
    rows = "/api/v1/datasets/pets/versions/1.0.0/rows"
    assert c.get(rows, headers=api.auth("alice")).status_code == 403

    accepted = c.post("/api/v1/datasets/pets/terms", headers=api.auth("alice"))
    assert accepted.status_code == 201
    assert accepted.json()["terms_version"] == "v1"
    assert c.get(FILES, headers=api.auth("alice")).status_code == 200
    assert c.get(rows, headers=api.auth("alice")).status_code == 200
    assert c.get(FILES, headers=api.auth("bob")).status_code == 403
    assert c.get("/api/v1/datasets/pets", headers=api.auth("alice")).json()["terms"][
        "accepted"] is True

    listed = c.get("/api/v1/admin/terms-acceptances", headers=api.auth("root")).json()["items"]
    assert [(a["dataset"], a["user"], a["terms_version"]) for a in listed] == [
        ("pets", "alice", "v1")]
    assert listed[0]["accepted_at"]
    assert c.get("/api/v1/admin/terms-acceptances",
                 headers=api.auth("alice")).status_code == 403
    # new terms: the old acceptance no longer opens the data
    _patch(api, terms_version="v2", terms_text="Also no commercial use.")
    assert c.get(FILES, headers=api.auth("alice")).status_code == 403
    actions = {e["action"] for e in _audit(api, user="alice")}
    assert {"dataset.terms_accepted", "dataset.files", "dataset.rows"} <= actions


def test_public_dataset_reads_are_not_audited(local_api: Api, built: Built) -> None:
    assert local_api.publish(built).status_code == 200
    assert local_api.client.get(FILES).status_code == 200
    assert not _audit(local_api, action="dataset.files")


def test_accepting_terms_of_a_public_dataset_is_a_clear_error(local_api: Api,
                                                              built: Built) -> None:
    assert local_api.publish(built).status_code == 200
    r = local_api.client.post("/api/v1/datasets/pets/terms", headers=local_api.auth("alice"))
    assert r.status_code == 409 and "not gated" in r.json()["detail"]


def test_listing_filters_search_and_paginates(local_api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.api.conftest import build_version

    for name in ("birds", "cats", "dogs"):
        r = local_api.publish(build_version(tmp_path / name, train=3, test=2), name=name)
        assert r.status_code == 200, r.text
    c = local_api.client
    page = c.get("/api/v1/datasets", params={"limit": 2, "offset": 1}).json()
    assert [i["name"] for i in page["items"]] == ["cats", "dogs"] and page["total"] == 3
    assert c.get("/api/v1/datasets", params={"q": "CAT"}).json()["total"] == 1
    assert c.get("/api/v1/datasets", params={"task": "image-classification"}).json()[
        "total"] == 3
    assert c.get("/api/v1/datasets", params={"modality": "audio"}).json()["total"] == 0
    assert c.get("/api/v1/datasets", params={"license": "cc-by-4.0"}).json()["total"] == 3
    item = c.get("/api/v1/datasets", params={"q": "dogs"}).json()["items"][0]
    assert set(item) == {"name", "title", "description", "task", "modality", "license",
                         "visibility", "latest_version", "deprecated", "deprecation_message"}
