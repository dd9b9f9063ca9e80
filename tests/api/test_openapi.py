"""The OpenAPI document: committed snapshot current, every 2xx typed, auth and errors declared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from heldout import __version__
from heldout.api.snapshot import SNAPSHOT, render
from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
TYPING_KEYS = {"$ref", "properties", "items", "anyOf", "oneOf", "allOf", "enum", "const"}
NO_BODY = {"204", "304"}


@pytest.fixture
def document(local_api: Api) -> dict[str, Any]:
    response = local_api.client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items()]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def is_typed(document: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """A schema that says what the body holds: not missing, ``{}`` or a bare object."""
    if not schema:
        return False
    schema = resolve(document, schema)
    if schema.get("type") == "string":
        return True  # binary bodies (files, images, audio) and text
    if schema.get("type") in ("integer", "number", "boolean", "array"):
        return True
    return bool(TYPING_KEYS & set(schema))


def untyped_2xx(document: dict[str, Any]) -> list[str]:
    found = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status in NO_BODY:
                continue
            content = response.get("content") or {}
            if not content or not all(is_typed(document, media.get("schema"))
                                      for media in content.values()):
                found.append(f"{method} {path} → {status}")
    return found


def test_snapshot_is_current(document: dict[str, Any]) -> None:
    committed = (ROOT / SNAPSHOT).read_text(encoding="utf-8")
    assert render(document) == committed, (
        "the served OpenAPI document differs from docs/openapi.json: run `./dev openapi` and "
        "commit the diff (every API change is a reviewed diff)")


def test_no_operation_has_an_untyped_2xx(document: dict[str, Any]) -> None:
    assert untyped_2xx(document) == []
    assert len(operations(document)) >= 27


def test_the_check_catches_an_untyped_route(document: dict[str, Any]) -> None:
    loose = json.loads(json.dumps(document))
    op = loose["paths"]["/api/v1/datasets"]["get"]
    op["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object", "additionalProperties": True}
    loose["paths"]["/healthz"]["get"]["responses"]["200"].pop("content")
    assert sorted(untyped_2xx(loose)) == ["GET /api/v1/datasets → 200", "GET /healthz → 200"]


def test_version_security_and_problems_are_declared(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == __version__
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for method, path, operation in operations(document):
        where = f"{method} {path}"
        auth = operation["x-heldout-auth"]
        assert auth["key"] in ("required", "optional", "none"), where
        assert "**Auth:**" in operation["description"], where
        assert ({"bearerAuth": []} in operation["security"]) == (auth["key"] != "none"), where
        if path.startswith("/api/v1/admin/"):
            assert auth == {"key": "required", "roles": ["admin"]}, where
        for status in ("4XX", "5XX"):
            content = operation["responses"][status]["content"]
            assert content == {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}, where
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


def test_list_routes_share_the_page_shape(document: dict[str, Any]) -> None:
    lists = {"/api/v1/datasets", "/api/v1/admin/users", "/api/v1/admin/users/{name}/keys",
             "/api/v1/admin/teams", "/api/v1/admin/terms-acceptances", "/api/v1/admin/audit"}
    for path in lists:
        schema = document["paths"][path]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        properties = resolve(document, schema)["properties"]
        assert {"items", "total", "limit", "offset", "next"} <= set(properties), path


def test_operation_ids_are_unique_function_names(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert "list_datasets" in ids and "get_manifest" in ids


def test_patterns_are_json_schema_regexes(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "?P<" not in text  # Python named groups are not ECMA 262: other tools choke on them
