"""A running Heldout API for tests that need a real server: uvicorn in a thread, keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from heldout.config import Settings
from heldout.services import build_services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any, port: int = 0, lifespan: str = "on") -> Iterator[str]:
    """``app`` served by a real uvicorn in a thread on 127.0.0.1 (``port`` 0: a free one);
    yields its URL. ``lifespan="off"`` for an app whose lifespan a TestClient already runs."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """``create_app(settings)`` served on the port of its ``public_base_url``."""
    from heldout.api.app import create_app

    with serving(create_app(settings), int(settings.public_base_url.rsplit(":", 1)[1])) as url:
        yield url


def make_key(settings: Settings, user: str, role: str) -> str:
    """A user with ``role`` and a fresh API key, made in the server's own database."""
    from heldout.accounts.keys import create_key
    from heldout.accounts.users import create_user

    services = build_services(settings)
    try:
        with services.catalog.session() as session:
            issued = create_key(session, create_user(session, user, role))
            session.commit()
            return issued.key
    finally:
        services.close()
