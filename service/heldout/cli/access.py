"""``heldout datasets access``: visibility, terms and grants of a dataset (server database)."""

from __future__ import annotations

from pathlib import Path

import typer

from heldout.accounts import access, audit, users
from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json
from heldout.cli.server import open_services
from heldout.errors import NotFound


@handle_errors
def access_command(
    name: str = typer.Argument(..., help="Dataset name."),
    visibility: str | None = typer.Option(None, "--visibility",
                                          help="public, gated or private."),
    terms_file: Path | None = typer.Option(None, "--terms-file", exists=True, dir_okay=False,
                                           help="Terms users must accept (gated datasets)."),
    terms_version: str | None = typer.Option(None, "--terms-version",
                                             help="Version of the terms, e.g. 2026-12."),
    grant_user: list[str] = typer.Option([], "--grant-user",
                                         help="Let this user read it (repeatable)."),
    grant_team: list[str] = typer.Option([], "--grant-team",
                                         help="Let this team read it (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show or change who may read a dataset. With no options, show the current settings.

    Gated datasets need terms: each user accepts them once (recorded) before downloading.
    Private datasets are readable by their owner, admins and the granted users and teams.
    """
    terms_text = terms_file.read_text(encoding="utf-8") if terms_file else None
    with open_services() as services, services.catalog.session() as session:
        dataset = access.find_dataset(session, name)
        if dataset is None:
            raise NotFound(f"dataset {name!r} does not exist (run `heldout db reindex` if it "
                           "is in the bucket but not the catalog)")
        changes = {"visibility": visibility, "terms_version": terms_version,
                   "terms_changed": terms_text is not None or None,
                   "grant_users": grant_user or None, "grant_teams": grant_team or None}
        access.set_access(session, dataset, visibility=visibility, terms_version=terms_version,
                          terms_text=terms_text)
        for user in grant_user:
            access.add_grant(session, dataset, user_id=users.get_user(session, user).id)
        for team in grant_team:
            access.add_grant(session, dataset, team_id=users.get_team(session, team).id)
        if any(v is not None for v in changes.values()):
            audit.record(session, "dataset.access_changed", name, detail={
                k: v for k, v in changes.items() if v is not None} | {"via": "cli"})
        grants = access.list_grants(session, dataset)
        view = {"name": dataset.name, "visibility": dataset.visibility,
                "terms_version": dataset.terms_version, "grants": grants}
    if as_json:
        print_json(view)
        return
    console.print(f"[bold]{view['name']}[/]: {view['visibility']}"
                  + (f", terms version {view['terms_version']}" if view["terms_version"] else ""))
    for grant in grants:
        console.print(f"  readable by {grant}")

