"""``heldout keys``: issue, list and revoke API keys on the server's own database."""

from __future__ import annotations

import typer

from heldout.accounts.keys import create_key, key_dict, list_keys, revoke_key
from heldout.accounts.users import get_user
from heldout.cli.common import handle_errors
from heldout.cli.output import console, errors, print_json, print_table
from heldout.cli.server import open_services

app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)


@app.command("create")
@handle_errors
def create_command(
    user: str = typer.Argument(..., help="The user the key belongs to."),
    label: str = typer.Option("", "--label", help="What the key is for (e.g. 'laptop')."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a key and print it once: it is stored only as a hash and cannot be shown again."""
    with open_services() as services, services.catalog.session() as session:
        issued = create_key(session, get_user(session, user), label)
    if as_json:
        print_json({"key": issued.key, "prefix": issued.prefix, "user": issued.user,
                    "label": issued.label})
        return
    print(issued.key)
    errors.print(f"key {issued.prefix} for {user}: store it now, it is shown only once "
                 "(use it as HELDOUT_TOKEN)")


@app.command("list")
@handle_errors
def list_command(
    user: str = typer.Argument(..., help="Whose keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List a user's keys (prefix and last 4 characters only)."""
    with open_services() as services, services.catalog.session() as session:
        rows = [key_dict(k) for k in list_keys(session, get_user(session, user))]
    if as_json:
        print_json(rows)
        return
    print_table(f"Keys of {user}", ["prefix", "key", "label", "created", "last used", "revoked"],
                [[r["prefix"], r["masked"], r["label"], r["created_at"], r["last_used_at"],
                  r["revoked_at"]] for r in rows])


@app.command("revoke")
@handle_errors
def revoke_command(prefix: str = typer.Argument(..., help="The key's prefix.")) -> None:
    """Revoke a key: requests with it fail with 401 from now on."""
    with open_services() as services, services.catalog.session() as session:
        row = key_dict(revoke_key(session, prefix))
    console.print(f"revoked key {row['masked']} of {row['user']}")
