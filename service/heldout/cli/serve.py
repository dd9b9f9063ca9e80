"""``heldout serve``: apply migrations, then run the API with uvicorn."""

from __future__ import annotations

import logging
import os

import typer

from heldout.api.app import SKIP_MIGRATIONS_ENV
from heldout.cli.common import handle_errors, load_settings
from heldout.cli.output import console
from heldout.errors import HeldoutError
from heldout.logs import log_config
from heldout.services import build_services
from heldout.storage.factory import ensure_buckets

log = logging.getLogger("heldout.serve")


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    reload: bool = typer.Option(False, "--reload", help="Restart on code changes (development)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Run the HTTP API (migrations are applied first, once, before workers start)."""
    import uvicorn

    settings = load_settings()
    services = build_services(settings, migrate=True)
    try:
        ensure_buckets(services.stores)
    except HeldoutError as exc:  # /readyz reports it until the store is back
        console.print(f"[yellow]warning:[/] object store not ready: {exc.detail}")
    finally:
        services.close()
    os.environ[SKIP_MIGRATIONS_ENV] = "1"
    if "HELDOUT_PUBLIC_BASE_URL" not in os.environ:  # URLs in answers must reach this server
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["HELDOUT_PUBLIC_BASE_URL"] = f"http://{shown}:{port}"
    console.print(f"Heldout API on http://{host}:{port}  (docs: /docs, {workers} worker(s); "
                  f"public URL {os.environ['HELDOUT_PUBLIC_BASE_URL']})")
    uvicorn.run(
        "heldout.api.app:app_from_env", factory=True, host=host, port=port,
        workers=None if reload else workers, reload=reload, log_config=log_config(log_level),
        proxy_headers=True, server_header=False,
        # a worker importing the app on a busy machine can take longer than uvicorn's 5 s
        timeout_worker_healthcheck=60,
    )
