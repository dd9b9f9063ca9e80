"""``heldout login``, ``whoami`` and ``logout``: sign in to a server once, per user."""

from __future__ import annotations

import sys

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import console, errors, print_json
from heldout.cli.remote import JSON_OPTION, TOKEN_OPTION, URL_OPTION, connect
from heldout.client import credentials
from heldout.errors import InvalidInput


def _read_token(token: str | None) -> str:
    """The key from --token, else piped on stdin, else asked for (not echoed)."""
    if token:
        return token.strip()
    if not sys.stdin.isatty():
        piped = sys.stdin.readline().strip()
        if piped:
            return piped
        raise InvalidInput("no API key: pass --token KEY, pipe the key on stdin, or run "
                           "`heldout login` in a terminal to be asked for it")
    return str(typer.prompt("API key", hide_input=True)).strip()


@handle_errors
def login_command(
    url: str | None = typer.Argument(None, metavar="[URL]",
                                     help="Server (default: --url, HELDOUT_URL, the saved "
                                          "one, else http://127.0.0.1:8000)."),
    url_option: str | None = URL_OPTION,
    token: str | None = typer.Option(None, "--token", metavar="KEY",
                                     help="The API key (default: read from stdin or asked "
                                          "for)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check an API key with a server and save both for later commands.

    The URL and key go to credentials.json in your config directory (HELDOUT_CONFIG_DIR,
    else e.g. ~/.config/heldout), readable only by you. Later commands use them unless
    --url/--token or HELDOUT_URL/HELDOUT_TOKEN say otherwise; the key is only ever sent to
    the URL it was saved with.
    """
    key = _read_token(token)
    with connect(url or url_option, key, url_flag="the URL argument" if url else "--url"
                 ) as client:
        me = client.whoami()
        server = client.url
    path = credentials.save(server, key)
    if as_json:
        print_json({"url": server, **me, "saved_to": str(path)})
        return
    console.print(f"signed in to {server} as [bold]{me['user']}[/] ({me['role']}); key saved "
                  f"to {path} (readable only by you)", highlight=False)


@handle_errors
def whoami_command(
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the server in use, the user its key belongs to, and where each came from."""
    target = credentials.resolve(url, token)
    if target.token is None:
        raise InvalidInput(f"no API key for {target.url} (URL from {target.url_source}): run "
                           "`heldout login`, pass --token or set HELDOUT_TOKEN")
    with connect(url, token) as client:
        me = client.whoami()
    view = {"url": target.url, "url_from": target.url_source, "key_from": target.token_source,
            **me}
    if as_json:
        print_json(view)
        return
    teams = ", ".join(me.get("teams") or []) or "none"
    console.print(f"[bold]{me['user']}[/] ({me['role']}; teams: {teams}) on {target.url}",
                  highlight=False)
    console.print(f"  URL from {target.url_source}; key {me.get('key')} from "
                  f"{target.token_source}", highlight=False)


@handle_errors
def logout_command(as_json: bool = JSON_OPTION) -> None:
    """Forget the saved sign-in (the key itself stays valid: revoke it on the server)."""
    removed = credentials.forget()
    if as_json:
        print_json({"removed": str(removed) if removed else None})
    elif removed:
        console.print(f"signed out: removed {removed}", highlight=False)
    else:
        errors.print("not signed in (nothing saved)")
