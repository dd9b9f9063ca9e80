"""The FastAPI application factory."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from heldout import __version__
from heldout.api.identity import IdentityMiddleware
from heldout.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from heldout.api.openapi import install_openapi, operation_id
from heldout.api.problems import PROBLEM_RESPONSES, install_problem_handlers
from heldout.api.ratelimit import TokenBuckets
from heldout.api.routers import (
    account,
    admin,
    benchmarks,
    datasets,
    health,
    manage,
    publish,
    submissions,
)
from heldout.benchmarks.queue import work_loop
from heldout.config import Settings
from heldout.services import Services, build_services
from heldout.storage.factory import ensure_buckets

# JSON bodies (drafts, commits, admin calls) are metadata parsed in memory: keep them small.
# Uploads (shards, labels, predictions) stream and may be as large as their rules allow;
# other bodies (multipart forms, spooled to disk by the parser) get OTHER_BODY_LIMIT.
JSON_BODY_LIMIT = 1024 * 1024
OTHER_BODY_LIMIT = 16 * 1024 * 1024
SKIP_MIGRATIONS_ENV = "HELDOUT_SKIP_MIGRATIONS"  # Settings.skip_migrations


def create_app(settings: Settings, services: Services | None = None,
               scoring_worker: bool = False, *, migrate: bool | None = None) -> FastAPI:
    """The API for ``settings``; builds (and on shutdown closes) Services unless given them,
    applying migrations unless ``migrate`` is False (default: unless skip_migrations).
    With ``scoring_worker`` a thread scores queued submissions while the app runs."""
    owned = services is None
    if services is None:
        if migrate is None:
            migrate = not settings.skip_migrations
        services = build_services(settings, migrate=migrate)
        if settings.storage_backend == "local":
            ensure_buckets(services.stores)  # folders only: no network

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if scoring_worker:
            thread = threading.Thread(target=work_loop, args=(services, stop),
                                      name="heldout-scoring", daemon=True)
            thread.start()
        yield
        if thread is not None:
            stop.set()
            services.scoring_wakeup.set()
            thread.join(30)
        if owned:
            services.close()

    # /docs and /redoc load Swagger UI and ReDoc from files in the fastapi-offline package,
    # never from a CDN, so they render on a machine without internet
    app = FastAPIOffline(
        title="Heldout",
        version=__version__,
        summary="Open AI training data and held-out benchmarks",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.preview_slots = threading.BoundedSemaphore(settings.preview_concurrency)
    install_problem_handlers(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    _add_middleware(app, settings, services)
    return app


ROUTERS = (health.router, datasets.router, publish.router, admin.router, account.router,
           manage.router, benchmarks.router, submissions.router)


def _add_middleware(app: FastAPI, settings: Settings, services: Services) -> None:
    """Body limits, identity + rate limits, and request ids (added last: outermost)."""
    upload_rules = [
        (re.compile(publish.UPLOAD_PATH), settings.max_upload_bytes),
        (re.compile(submissions.UPLOAD_PATH),
         settings.max_prediction_bytes + submissions.MULTIPART_OVERHEAD),
    ]
    app.add_middleware(BodyLimitMiddleware,
                       default_limit=min(OTHER_BODY_LIMIT, settings.max_upload_bytes),
                       json_limit=min(JSON_BODY_LIMIT, settings.max_upload_bytes),
                       rules=upload_rules)
    buckets = (TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
               if settings.rate_limit_per_minute else None)
    app.add_middleware(IdentityMiddleware, services=services, buckets=buckets)
    app.add_middleware(RequestContextMiddleware)  # outermost: ids on every response


def app_from_env() -> FastAPI:
    """The app for settings from ``HELDOUT_*`` variables (uvicorn ``--factory`` target); it
    runs a scoring worker thread unless ``HELDOUT_SERVE_WORKER=false``."""
    settings = Settings()
    return create_app(settings, scoring_worker=settings.serve_worker)
