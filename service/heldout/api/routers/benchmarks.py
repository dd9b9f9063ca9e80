"""Benchmarks over HTTP: list, show, create (admin), trials, leaderboards and admin acts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from heldout.accounts import access
from heldout.accounts.roles import Principal
from heldout.api.deps import (
    MAX_OFFSET,
    AuthFirstRoute,
    client_ip,
    get_services,
    optional_user,
    request_id,
    require_admin,
)
from heldout.api.schemas.benchmarks import (
    BenchmarkDoc,
    ChallengeMet,
    Leaderboard,
    Rescored,
    Revealed,
    SyncResultDoc,
    Trial,
)
from heldout.api.schemas.common import Page, next_url
from heldout.benchmarks import actions, phases, registry, trials
from heldout.benchmarks import leaderboard as boards
from heldout.benchmarks.documents import benchmark_doc
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.catalog.benchmark_models import Submission
from heldout.errors import NotFound
from heldout.names import NAME_PATTERN
from heldout.services import Services

router = APIRouter(prefix="/api/v1", tags=["benchmarks"], route_class=AuthFirstRoute)
BENCHMARK = Path(description="benchmark id", examples=["digits-classification"],
                 json_schema_extra={"pattern": f"^{NAME_PATTERN.pattern}$"})


def actor_of(request: Request, user: Principal | None) -> actions.Actor:
    return actions.Actor(user.id if user else None, client_ip(request), request_id(request))


@router.get("/benchmarks", response_model=Page[BenchmarkDoc], summary="List benchmarks")
def list_benchmarks(request: Request, limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0, le=MAX_OFFSET),
                    services: Services = Depends(get_services)) -> dict[str, Any]:
    """Every benchmark, by id; no account needed."""
    now = phases.now_utc()
    with services.catalog.session() as session:
        rows = registry.list_rows(session)
        counts = {pk: int(n) for pk, n in session.execute(
            select(Submission.benchmark_id, func.count()).group_by(Submission.benchmark_id))}
        items = [benchmark_doc(r, registry.spec_of(r), now, counts.get(r.id, 0))
                 for r in rows[offset:offset + limit]]
    return {"items": items, "total": len(rows), "limit": limit, "offset": offset,
            "next": next_url(request.url, len(rows), limit, offset)}


@router.get("/benchmarks/{benchmark_id}", response_model=BenchmarkDoc,
            summary="One benchmark")
def get_benchmark(benchmark_id: str = BENCHMARK,
                  services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.catalog.session() as session:
        row, spec = registry.find(session, benchmark_id)
        count = session.scalar(select(func.count()).select_from(Submission)
                               .where(Submission.benchmark_id == row.id)) or 0
        return benchmark_doc(row, spec, phases.now_utc(), int(count))


@router.post("/benchmarks", response_model=SyncResultDoc, status_code=201,
             summary="Create or update a benchmark (admin)")
def create_benchmark(request: Request, body: BenchmarkSpec = Body(
        description="a benchmark definition: the fields of a benchmarks/*.yaml file"),
        user: Principal = Depends(require_admin),
        services: Services = Depends(get_services)) -> dict[str, Any]:
    """Validated as a YAML file is at sync; a change that alters scores after submissions
    exist needs ``version`` + 1 (409 otherwise)."""
    return actions.create_benchmark(services, body, actor_of(request, user)).to_dict()


@router.get("/benchmarks/{benchmark_id}/trials", response_model=Page[Trial],
            summary="The trial list of a verification benchmark")
def list_trials(request: Request, benchmark_id: str = BENCHMARK,
                limit: int = Query(10000, ge=1, le=1_000_000),
                offset: int = Query(0, ge=0, le=MAX_OFFSET),
                user: Principal | None = Depends(optional_user),
                services: Services = Depends(get_services)) -> dict[str, Any]:
    """Trials to score (``id``, ``enroll_id``, ``test_id``; never whether they match):
    a prediction file gives a ``score`` per trial ``id``."""
    with services.catalog.session() as session:
        _row, spec = registry.find(session, benchmark_id)
        access.check_read(session, user, spec.dataset_name)  # the trials name its test ids
    if spec.task != "verification":
        raise NotFound(f"benchmark {spec.id!r} is not a verification benchmark: no trials")
    table = trials.public_trials(services, spec)
    items = table.slice(offset, limit).to_pylist()
    return {"items": items, "total": table.num_rows, "limit": limit, "offset": offset,
            "next": next_url(request.url, table.num_rows, limit, offset)}


@router.get("/benchmarks/{benchmark_id}/leaderboard", response_model=Leaderboard,
            summary="The leaderboard (JSON, or CSV with ?format=csv)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def get_leaderboard(benchmark_id: str = BENCHMARK,
                    view: str = Query("public", pattern="^(public|private)$"),
                    format: str = Query("json", pattern="^(json|csv)$"),
                    user: Principal | None = Depends(optional_user),
                    services: Services = Depends(get_services)) -> Any:
    """No account needed. ``view=private`` once the competition is over or revealed
    (admins any time)."""
    admin = bool(user and user.is_admin)
    if format == "csv":
        doc, body = boards.rendered(services, benchmark_id, view, admin, "csv",
                                    lambda d: boards.to_csv(d).encode())
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{doc["benchmark"]}-{view}.csv"'})
    _, body = boards.rendered(services, benchmark_id, view, admin, "json", _leaderboard_json)
    return Response(body, media_type="application/json")


def _leaderboard_json(doc: dict[str, Any]) -> bytes:
    """The response body, checked against the response model once per board change (a cached
    board is served as these bytes, without validating it again)."""
    return Leaderboard.model_validate(doc).model_dump_json(by_alias=True).encode()


@router.post("/benchmarks/{benchmark_id}/reveal", response_model=Revealed,
             summary="Show private scores now (admin)")
def reveal(request: Request, benchmark_id: str = BENCHMARK,
           user: Principal = Depends(require_admin),
           services: Services = Depends(get_services)) -> dict[str, Any]:
    when = actions.reveal(services, benchmark_id, actor_of(request, user))
    return {"benchmark": benchmark_id, "revealed_at": when.isoformat()}


@router.post("/benchmarks/{benchmark_id}/rescore", response_model=Rescored, status_code=202,
             summary="Score every submission again (admin); old scores stay in history")
def rescore(request: Request, benchmark_id: str = BENCHMARK,
            user: Principal = Depends(require_admin),
            services: Services = Depends(get_services)) -> dict[str, Any]:
    count = actions.rescore(services, benchmark_id, actor_of(request, user))
    return {"benchmark": benchmark_id, "queued": count}


@router.post("/benchmarks/{benchmark_id}/challenge/confirm", response_model=ChallengeMet,
             summary="Confirm the first submission meeting the challenge target (admin)")
def confirm_challenge(request: Request, benchmark_id: str = BENCHMARK,
                      user: Principal = Depends(require_admin),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    return actions.confirm_challenge(services, benchmark_id, actor_of(request, user))
