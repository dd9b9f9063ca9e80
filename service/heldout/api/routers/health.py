"""``/healthz`` (the process is up) and ``/readyz`` (database and both stores answer)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends

from heldout.api.deps import AuthFirstRoute, get_services
from heldout.api.problems import PROBLEM_CONTENT, problem_response
from heldout.api.schemas.health import Health, Readiness
from heldout.errors import PROBLEM_BASE
from heldout.services import Services

log = logging.getLogger("heldout.api.health")
router = APIRouter(tags=["health"], route_class=AuthFirstRoute)


@router.get("/healthz", summary="The process is up", response_model=Health)
def healthz() -> Health:
    """Always 200 while the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", summary="Database and object store are reachable",
            response_model=Readiness,
            responses={503: {"description": "a dependency is down (named in `checks` and "
                                            "`failed`)", "content": PROBLEM_CONTENT}})
def readyz(services: Services = Depends(get_services)) -> Any:
    """200 when the catalog database and both stores answer; else 503 naming which failed
    (never the backend's error text, which may name hosts and credentials: that is logged)."""
    checks: dict[str, str] = {}
    probes = {
        "database": services.catalog.ping,
        "public_store": services.stores.public.ping,
        "private_store": services.stores.private.ping,
    }
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception:  # a probe must never take readiness down with a 500
            # The backend's own words (hosts, ports, driver messages) go to the log only.
            log.warning("readiness check %s failed", name, exc_info=True)
            checks[name] = "unavailable"
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return problem_response(
            503, PROBLEM_BASE + "not-ready", "Service not ready",
            "not ready: " + ", ".join(f"{name} unavailable" for name in failed)
            + " (details are in the server log)",
            instance="/readyz", checks=checks, failed=failed,
        )
    return Readiness(status="ready", checks=checks)
