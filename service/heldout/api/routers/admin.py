"""Admin routes: users, keys, teams, dataset access (visibility, terms, grants), audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from heldout.accounts import access, audit, keys, users
from heldout.accounts.roles import Principal, Role
from heldout.api.deps import (
    MAX_OFFSET,
    AuthFirstRoute,
    audit_request,
    get_services,
    page_url,
    require_admin,
)
from heldout.api.params import NAME_SCHEMA
from heldout.api.schemas.accounts import (
    ApiKey,
    DatasetAccessView,
    Grant,
    IssuedKey,
    Team,
    TeamMembership,
    User,
)
from heldout.api.schemas.audit import AuditEvent
from heldout.api.schemas.common import Page, page
from heldout.api.schemas.datasets import TermsAcceptance
from heldout.catalog.models import Dataset
from heldout.errors import InvalidInput, NotFound
from heldout.services import Services

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)],
                   route_class=AuthFirstRoute)
T = TypeVar("T")


def _limit(default: int = 100) -> Any:
    return Query(default, ge=1, le=1000, description="the most entries in the page")


OFFSET = Query(0, ge=0, le=MAX_OFFSET, description="entries to skip")


def _slice(request: Request, items: Sequence[T], limit: int, offset: int) -> Page[T]:
    """One page of a list the catalog returned whole (users, keys, teams: short lists)."""
    return page(items[offset:offset + limit], len(items), limit, offset, page_url(request))


class NewUser(BaseModel):
    name: str = Field(json_schema_extra=NAME_SCHEMA)
    role: Role
    email: str | None = Field(None, max_length=users.EMAIL_MAX,
                              json_schema_extra={"pattern": "@"})


class NewKey(BaseModel):
    label: str = Field("", max_length=keys.LABEL_MAX)


class NewTeam(BaseModel):
    name: str = Field(json_schema_extra=NAME_SCHEMA)


class NewMember(BaseModel):
    user: str
    benchmark: str | None = None


class DatasetAccess(BaseModel):
    visibility: str | None = Field(None, description="public, gated or private")
    terms_version: str | None = None
    terms_text: str | None = None


class NewGrant(BaseModel):
    """Exactly one of ``user`` and ``team``."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["user"], "properties": {"user": {"type": "string"}}},
        {"required": ["team"], "properties": {"team": {"type": "string"}}},
    ]})

    user: str | None = None
    team: str | None = None


@router.post("/users", status_code=201, summary="Create a user", response_model=User)
def create_user(request: Request, body: NewUser, admin: Principal = Depends(require_admin),
                services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.catalog.session() as session:
        view = users.user_dict(users.create_user(session, body.name, body.role, body.email))
    audit_request(services, request, admin, "user.created", body.name, {"role": body.role})
    return view


@router.get("/users", summary="List users", response_model=Page[User])
def list_users(request: Request, limit: int = _limit(), offset: int = OFFSET,
               services: Services = Depends(get_services)) -> Page[User]:
    with services.catalog.session() as session:
        items = [User.model_validate(users.user_dict(u)) for u in users.list_users(session)]
    return _slice(request, items, limit, offset)


@router.post("/users/{name}/keys", status_code=201,
             summary="Issue an API key (the key is in this answer only)",
             response_model=IssuedKey)
def create_key(request: Request, name: str, body: NewKey | None = None,
               admin: Principal = Depends(require_admin),
               services: Services = Depends(get_services)) -> IssuedKey:
    with services.catalog.session() as session:
        issued = keys.create_key(session, users.get_user(session, name),
                                 body.label if body else "")
    audit_request(services, request, admin, "key.created", name, {"prefix": issued.prefix})
    return IssuedKey(key=issued.key, prefix=issued.prefix, user=issued.user,
                     label=issued.label, masked=issued.masked, created_at=issued.created_at,
                     note="store this key now: it is shown only once")


@router.get("/users/{name}/keys", summary="A user's keys (prefixes and last 4 only)",
            response_model=Page[ApiKey])
def list_keys(request: Request, name: str, limit: int = _limit(), offset: int = OFFSET,
              services: Services = Depends(get_services)) -> Page[ApiKey]:
    with services.catalog.session() as session:
        user = users.get_user(session, name)
        items = [ApiKey.model_validate(keys.key_dict(k)) for k in keys.list_keys(session, user)]
    return _slice(request, items, limit, offset)


@router.delete("/keys/{prefix}", summary="Revoke an API key", response_model=ApiKey)
def revoke_key(request: Request, prefix: str, admin: Principal = Depends(require_admin),
               services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.catalog.session() as session:
        view = keys.key_dict(keys.revoke_key(session, prefix))
    audit_request(services, request, admin, "key.revoked", prefix)
    return view


@router.post("/teams", status_code=201, summary="Create a team", response_model=Team)
def create_team(request: Request, body: NewTeam, admin: Principal = Depends(require_admin),
                services: Services = Depends(get_services)) -> Team:
    with services.catalog.session() as session:
        view = Team.model_validate(users.create_team(session, body.name))
    audit_request(services, request, admin, "team.created", body.name)
    return view


@router.get("/teams", summary="List teams", response_model=Page[Team])
def list_teams(request: Request, limit: int = _limit(), offset: int = OFFSET,
               services: Services = Depends(get_services)) -> Page[Team]:
    with services.catalog.session() as session:
        items = [Team.model_validate(t) for t in users.list_teams(session)]
    return _slice(request, items, limit, offset)


@router.post("/teams/{name}/members", status_code=201, summary="Add a user to a team",
             response_model=TeamMembership)
def add_member(request: Request, name: str, body: NewMember,
               admin: Principal = Depends(require_admin),
               services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.catalog.session() as session:
        users.add_member(session, users.get_team(session, name), users.get_user(session, body.user),
                         body.benchmark)
    audit_request(services, request, admin, "team.member_added", name, {"user": body.user})
    return {"team": name, "user": body.user, "benchmark": body.benchmark}


def _dataset(session: Any, name: str) -> Dataset:
    row = access.find_dataset(session, name)
    if row is None:
        raise NotFound(f"dataset {name!r} does not exist (run `heldout db reindex` if it is in "
                       "the bucket but not the catalog)")
    return row


@router.patch("/datasets/{name}", summary="Set visibility and terms of a dataset",
              response_model=DatasetAccessView)
def update_dataset(request: Request, name: str, body: DatasetAccess,
                   admin: Principal = Depends(require_admin),
                   services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.catalog.session() as session:
        row = access.set_access(session, _dataset(session, name), visibility=body.visibility,
                                terms_version=body.terms_version, terms_text=body.terms_text)
        view = {"name": row.name, "visibility": row.visibility,
                "terms_version": row.terms_version, "terms_text": row.terms_text}
    audit_request(services, request, admin, "dataset.access_changed", name,
           body.model_dump(exclude_none=True))
    return view


@router.post("/datasets/{name}/grants", status_code=201,
             summary="Let a user or a team read a private dataset", response_model=Grant)
def add_grant(request: Request, name: str, body: NewGrant,
              admin: Principal = Depends(require_admin),
              services: Services = Depends(get_services)) -> dict[str, Any]:
    if (body.user is None) == (body.team is None):
        raise InvalidInput("a grant names exactly one of 'user' or 'team'")
    with services.catalog.session() as session:
        row = _dataset(session, name)
        if body.user is not None:
            access.add_grant(session, row, user_id=users.get_user(session, body.user).id)
        else:
            access.add_grant(session, row, team_id=users.get_team(session, str(body.team)).id)
    audit_request(services, request, admin, "dataset.grant_added", name,
           body.model_dump(exclude_none=True))
    return {"dataset": name, "user": body.user, "team": body.team}


@router.get("/terms-acceptances", summary="Who accepted which dataset terms, and when",
            response_model=Page[TermsAcceptance])
def list_acceptances(request: Request, dataset: str | None = None, user: str | None = None,
                     limit: int = _limit(), offset: int = OFFSET,
                     services: Services = Depends(get_services)) -> Page[TermsAcceptance]:
    with services.catalog.session() as session:
        items = [TermsAcceptance.model_validate(a)
                 for a in access.list_acceptances(session, dataset, user)]
    return _slice(request, items, limit, offset)


@router.get("/audit", summary="The audit log, newest first", response_model=Page[AuditEvent])
def list_audit(
    request: Request,
    action: str | None = Query(None, description="e.g. dataset.download"),
    user: str | None = None,
    target: str | None = Query(None, description="target prefix, e.g. pets@1.0.0"),
    limit: int = _limit(),
    offset: int = OFFSET,
    services: Services = Depends(get_services),
) -> Page[AuditEvent]:
    with services.catalog.session() as session:
        items, total = audit.list_events(session, action=action, user=user,
                                         target_prefix=target, limit=limit, offset=offset)
    events = [AuditEvent.model_validate(item) for item in items]
    return page(events, total, limit, offset, page_url(request))
