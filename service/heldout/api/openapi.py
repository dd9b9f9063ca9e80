"""The OpenAPI document: FastAPI's, plus the bearer security scheme, who may call each
operation (derived from the route's dependencies, so a new route is described without extra
work), and one ``Problem`` schema that every error answer refers to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from heldout.api.deps import RoleCheck, optional_user, require_user
from heldout.api.schemas.common import Problem

SECURITY_SCHEMES = {"bearerAuth": {
    "type": "http", "scheme": "bearer", "bearerFormat": "hld_<prefix>_<secret>",
    "description": "an API key (`heldout keys create USER`, or POST "
                   "/api/v1/admin/users/{name}/keys) as `Authorization: Bearer <key>`",
}}
AUTH_EXTENSION = "x-heldout-auth"
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "required": [{"bearerAuth": []}],
    "optional": [{}, {"bearerAuth": []}],
    "none": [],
}


def operation_id(route: APIRoute) -> str:
    """An operation's id is its function's name (``list_datasets``): what generated clients
    call their methods. Names must be unique across routers (``tests/api/test_openapi.py``)."""
    return route.name


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def route_auth(route: Any) -> dict[str, Any]:
    """``{"key": "required"|"optional"|"none", "roles": [...]}`` from the route's dependencies."""
    calls = list(_calls(route.dependant))
    roles = sorted({role for call in calls if isinstance(call, RoleCheck) for role in call.roles})
    if roles or any(call is require_user for call in calls):
        return {"key": "required", "roles": roles}
    if any(call is optional_user for call in calls):
        return {"key": "optional", "roles": []}
    return {"key": "none", "roles": []}


def _auth_text(auth: dict[str, Any]) -> str:
    if auth["key"] == "none":
        return "**Auth:** none."
    if auth["key"] == "optional":
        return ("**Auth:** optional API key; anonymous callers see only what is public "
                "(gated and private datasets need a key).")
    if auth["roles"]:
        roles = " or ".join(f"`{role}`" for role in auth["roles"])
        return f"**Auth:** an API key with role {roles}."
    return "**Auth:** an API key (any role)."


def describe_security(document: dict[str, Any], app: FastAPI) -> None:
    """Add ``bearerAuth`` and, on every operation, ``security`` and ``x-heldout-auth``."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        auth = route_auth(route)
        security = SECURITY[auth["key"]]
        path = document["paths"].get(route.path_format, {})
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            operation["security"] = security
            operation[AUTH_EXTENSION] = auth
            text = operation.get("description", "")
            operation["description"] = f"{text}\n\n{_auth_text(auth)}".strip()


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document served at ``/openapi.json`` (built once per app)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                           description=app.description, routes=app.routes, tags=app.openapi_tags)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    describe_security(document, app)
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_openapi`'s document."""

    def openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
