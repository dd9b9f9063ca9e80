"""``/healthz`` (the process is up) and ``/readyz`` (database and both stores answer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from heldout.api.deps import get_services
from heldout.api.problems import PROBLEM_CONTENT, problem_response
from heldout.api.schemas.health import Health, Readiness
from heldout.errors import PROBLEM_BASE, HeldoutError
from heldout.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up", response_model=Health)
def healthz() -> Health:
    """Always 200 while the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", summary="Database and object store are reachable",
            response_model=Readiness,
            responses={503: {"description": "a dependency is down (named in `checks` and "
                                            "`failed`)", "content": PROBLEM_CONTENT}})
def readyz(services: Services = Depends(get_services)) -> Any:
    """200 when the catalog database and both stores answer; else 503 naming what failed."""
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
        except HeldoutError as exc:
            checks[name] = exc.detail
        except Exception as exc:  # a probe must never take readiness down with a 500
            checks[name] = f"{type(exc).__name__}: {exc}"
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return problem_response(
            503, PROBLEM_BASE + "not-ready", "Service not ready",
            "not ready: " + "; ".join(f"{name}: {checks[name]}" for name in failed),
            instance="/readyz", checks=checks, failed=failed,
        )
    return Readiness(status="ready", checks=checks)
