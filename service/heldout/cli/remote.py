"""Plumbing of client commands: ``--url``/``--token`` and the ``Client`` they make.

Precedence for both: the flag, else ``HELDOUT_URL``/``HELDOUT_TOKEN``, else the sign-in saved
by ``heldout login`` (its key only for its own URL), else http://127.0.0.1:8000 and no key.
"""

from __future__ import annotations

import typer

from heldout.client.http import Client

URL_OPTION = typer.Option(
    None, "--url", metavar="URL",
    help="Heldout server (default: HELDOUT_URL, else `heldout login`, else "
         "http://127.0.0.1:8000).")
TOKEN_OPTION = typer.Option(
    None, "--token", metavar="KEY",
    help="API key (default: HELDOUT_TOKEN, else the key saved by `heldout login`).")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON (errors too).")


def connect(url: str | None, token: str | None, *, workers: int = 8,
            url_flag: str = "--url") -> Client:
    """A client for the chosen server; messages say which flag or variable chose it."""
    source = url_flag if url else None
    return Client(url, token, workers=workers, url_source=source)
