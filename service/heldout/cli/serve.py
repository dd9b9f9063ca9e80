"""``heldout serve``: apply migrations, then run the API with uvicorn."""

from __future__ import annotations

import logging

import typer
import uvicorn
from uvicorn.supervisors import ChangeReload, Multiprocess

from heldout.cli.common import handle_errors
from heldout.cli.launch import AppFactory
from heldout.cli.output import console
from heldout.cli.server import load_settings
from heldout.config import Settings
from heldout.errors import HeldoutError
from heldout.logs import log_config
from heldout.services import build_services
from heldout.storage.factory import ensure_buckets

log = logging.getLogger("heldout.serve")


def _settings_for(host: str, port: int) -> Settings:
    """The environment's settings; unless HELDOUT_PUBLIC_BASE_URL is set, URLs in answers name
    this server's own --host and --port."""
    settings = load_settings()
    if "public_base_url" in settings.model_fields_set:
        return settings
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return settings.model_copy(update={"public_base_url": f"http://{shown}:{port}"})


def _prepare(settings: Settings) -> None:
    """Create or migrate the catalog and the buckets once, before any worker starts."""
    services = build_services(settings, migrate=True)
    try:
        ensure_buckets(services.stores)
    except HeldoutError as exc:  # /readyz reports it until the store is back
        console.print(f"[yellow]warning:[/] object store not ready: {exc.detail}")
    finally:
        services.close()


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    reload: bool = typer.Option(False, "--reload", help="Restart on code changes (development;"
                                " settings from HELDOUT_* only)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Run the HTTP API (migrations are applied first, once, before workers start)."""
    settings = _settings_for(host, port)
    _prepare(settings)
    console.print(f"Heldout API on http://{host}:{port}  (docs: /docs, {workers} worker(s); "
                  f"public URL {settings.public_base_url})", highlight=False)
    factory = AppFactory(settings)  # each worker process builds its app from these settings
    config = uvicorn.Config(
        "heldout.api.app:app_from_env" if reload else factory, factory=True, host=host,
        port=port, workers=workers, reload=reload, log_config=log_config(log_level),
        proxy_headers=True, server_header=False,
        # a worker answers uvicorn's health ping only once its imports are done: allow a
        # busy machine more than the 5 s default before it is declared dead
        timeout_worker_healthcheck=60,
    )
    server = uvicorn.Server(config)
    if reload:
        ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
    elif workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
