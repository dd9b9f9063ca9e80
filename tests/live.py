"""A running Heldout API for tests that need a real server: uvicorn in a thread, keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from heldout.config import Settings
from heldout.services import build_services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """``create_app(settings)`` served by uvicorn in a thread, on its ``public_base_url`` port."""
    import uvicorn

    from heldout.api.app import create_app

    port = int(settings.public_base_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


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
