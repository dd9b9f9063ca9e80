"""The caller's own account: ``GET /api/v1/whoami`` (what ``heldout login`` checks a key with)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from heldout.accounts.roles import Principal
from heldout.accounts.users import team_names
from heldout.api.deps import AuthFirstRoute, get_services, require_user
from heldout.api.schemas.account import WhoAmI
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["account"], route_class=AuthFirstRoute)


@router.get("/whoami", response_model=WhoAmI, summary="The user of the API key sent")
def whoami(user: Principal = Depends(require_user),
           services: Services = Depends(get_services)) -> WhoAmI:
    """Who the ``Authorization: Bearer`` key belongs to: user, role and teams (401 without a
    valid key)."""
    with services.catalog.session() as session:
        teams = team_names(session, user.id)
    return WhoAmI(user=user.name, role=user.role, teams=teams, key=user.masked_key)
