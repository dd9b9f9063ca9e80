"""Publisher self-service: the owner (or an admin) of a dataset manages it over the API.

Visibility and terms, grants, title and description, deprecation, yanking versions and
pinning ``latest``. Every change is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from heldout.accounts import access, users
from heldout.accounts.roles import Principal
from heldout.api.deps import AuthFirstRoute, audit_request, get_services, require_user
from heldout.api.params import NAME, SEMVER
from heldout.api.schemas.manage import DatasetChanges, DatasetSettings, Grant, Yank
from heldout.catalog import lifecycle
from heldout.catalog.models import Dataset, User, iso
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["managing datasets"],
                   route_class=AuthFirstRoute)


def _settings(session: Session, dataset: Dataset) -> DatasetSettings:
    owner = session.get(User, dataset.owner_id) if dataset.owner_id else None
    return DatasetSettings(
        name=dataset.name, owner=owner.name if owner else None,
        visibility=dataset.visibility, terms_version=dataset.terms_version,
        title=dataset.title, description=dataset.description,
        deprecated=dataset.deprecated_at is not None,
        deprecation_message=dataset.deprecation_message,
        deprecated_at=iso(dataset.deprecated_at), latest_version=dataset.latest_version,
        pinned_latest=dataset.pinned_latest, grants=access.list_grants(session, dataset),
        yanked=lifecycle.yanked_versions(session, dataset),
    )


def _apply(session: Session, dataset: Dataset, body: DatasetChanges) -> None:
    access.set_access(session, dataset, visibility=body.visibility,
                      terms_version=body.terms_version, terms_text=body.terms_text)
    if body.title is not None:
        dataset.title = body.title
    if body.description is not None:
        dataset.description = body.description
    if body.deprecated is True:
        lifecycle.deprecate(session, dataset, body.deprecation_message)
    elif body.deprecated is False:
        lifecycle.undeprecate(session, dataset)
    if "latest" in body.model_fields_set:
        lifecycle.pin_latest(session, dataset, body.latest)


@router.get("/datasets/{name}/settings", response_model=DatasetSettings,
            summary="A dataset's settings (owner or admin)")
def dataset_settings(name: str = NAME, user: Principal = Depends(require_user),
                 services: Services = Depends(get_services)) -> DatasetSettings:
    with services.catalog.session() as session:
        return _settings(session, access.check_can_manage(session, user, name))


@router.patch("/datasets/{name}", response_model=DatasetSettings,
              summary="Change a dataset you own: visibility, terms, text, deprecation, latest")
def change_dataset(request: Request, body: DatasetChanges, name: str = NAME,
                   user: Principal = Depends(require_user),
                   services: Services = Depends(get_services)) -> DatasetSettings:
    with services.catalog.session() as session:
        dataset = access.check_can_manage(session, user, name)
        _apply(session, dataset, body)
        view = _settings(session, dataset)
    changed: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "terms_text" in changed:
        changed["terms_text"] = "(changed)"
    audit_request(services, request, user, "dataset.changed", name, changed)
    return view


@router.post("/datasets/{name}/grants", response_model=DatasetSettings, status_code=201,
             summary="Let a user or team read a private dataset you own")
def grant_dataset(request: Request, body: Grant, name: str = NAME,
              user: Principal = Depends(require_user),
              services: Services = Depends(get_services)) -> DatasetSettings:
    with services.catalog.session() as session:
        dataset = access.check_can_manage(session, user, name)
        if body.user is not None:
            access.add_grant(session, dataset, user_id=users.get_user(session, body.user).id)
        else:
            access.add_grant(session, dataset,
                             team_id=users.get_team(session, str(body.team)).id)
        view = _settings(session, dataset)
    audit_request(services, request, user, "dataset.grant_added", name,
                  body.model_dump(exclude_none=True))
    return view


@router.post("/datasets/{name}/versions/{version}/yank", response_model=DatasetSettings,
             summary="Yank a version: hidden from latest and listings, still downloadable")
def yank_version(request: Request, body: Yank, name: str = NAME, version: str = SEMVER,
                 user: Principal = Depends(require_user),
                 services: Services = Depends(get_services)) -> DatasetSettings:
    with services.catalog.session() as session:
        dataset = access.check_can_manage(session, user, name)
        lifecycle.yank(session, dataset, version, body.reason)
        view = _settings(session, dataset)
    audit_request(services, request, user, "dataset.version_yanked", f"{name}@{version}",
                  {"reason": body.reason})
    return view


@router.delete("/datasets/{name}/versions/{version}/yank", response_model=DatasetSettings,
               summary="Undo a yank")
def unyank_version(request: Request, name: str = NAME, version: str = SEMVER,
                   user: Principal = Depends(require_user),
                   services: Services = Depends(get_services)) -> DatasetSettings:
    with services.catalog.session() as session:
        dataset = access.check_can_manage(session, user, name)
        lifecycle.unyank(session, dataset, version)
        view = _settings(session, dataset)
    audit_request(services, request, user, "dataset.version_unyanked", f"{name}@{version}")
    return view
