"""``heldout users``: manage accounts on the server's own database."""

from __future__ import annotations

import typer

from heldout.accounts.roles import ROLES
from heldout.accounts.users import create_user, list_users, user_dict
from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json, print_table
from heldout.cli.server import open_services

app = typer.Typer(help="Manage user accounts (on the server's database).",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.command("create")
@handle_errors
def create_command(
    name: str = typer.Argument(..., help="User name (a-z, 0-9, '.', '_', '-')."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    email: str | None = typer.Option(None, "--email", help="Contact address."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a user (then give them a key with `heldout keys create NAME`)."""
    with open_services() as services, services.catalog.session() as session:
        view = user_dict(create_user(session, name, role, email))
    if as_json:
        print_json(view)
    else:
        console.print(f"created user [bold]{name}[/] with role {role}")


@app.command("list")
@handle_errors
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List users."""
    with open_services() as services, services.catalog.session() as session:
        rows = [user_dict(u) for u in list_users(session)]
    if as_json:
        print_json(rows)
        return
    print_table("Users", ["name", "role", "email", "disabled", "created"],
                [[r["name"], r["role"], r["email"], r["disabled"], r["created_at"]]
                 for r in rows])
