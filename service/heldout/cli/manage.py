"""``heldout datasets manage`` and ``yank``: publishers change the datasets they own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json
from heldout.cli.remote import JSON_OPTION, TOKEN_OPTION, URL_OPTION, connect
from heldout.errors import InvalidInput
from heldout.names import parse_ref

VISIBILITY_HELP = "public, gated (users accept --terms-file first) or private (owner, admins, " \
                  "--grant-user/--grant-team)."


def read_terms(terms_file: Path | None, terms_version: str | None) -> dict[str, Any]:
    """``terms_text``/``terms_version`` from --terms-file/--terms-version (default: today)."""
    if terms_file is None:
        if terms_version is not None:
            raise InvalidInput("--terms-version needs --terms-file (the terms themselves)")
        return {}
    text = terms_file.read_text(encoding="utf-8")
    if not text.strip():
        raise InvalidInput(f"--terms-file {terms_file} is empty")
    version = terms_version or datetime.now(UTC).strftime("%Y-%m-%d")
    return {"terms_text": text, "terms_version": version}


def _changes(visibility: str | None, terms: dict[str, Any], title: str | None,
             description: str | None, deprecate: str | None, undeprecate: bool,
             latest: str | None, unpin_latest: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {k: v for k, v in {
        "visibility": visibility, "title": title, "description": description}.items()
        if v is not None} | terms
    if deprecate is not None and undeprecate:
        raise InvalidInput("pass --deprecate MESSAGE or --undeprecate, not both")
    if deprecate is not None:
        changes |= {"deprecated": True, "deprecation_message": deprecate}
    elif undeprecate:
        changes["deprecated"] = False
    if latest is not None and unpin_latest:
        raise InvalidInput("pass --latest VERSION or --unpin-latest, not both")
    if latest is not None or unpin_latest:
        changes["latest"] = latest
    return changes


@handle_errors
def manage_command(
    name: str = typer.Argument(..., help="A dataset you own."),
    visibility: str | None = typer.Option(None, "--visibility", help=VISIBILITY_HELP),
    terms_file: Path | None = typer.Option(None, "--terms-file", exists=True, dir_okay=False,
                                           help="Terms users accept before downloading."),
    terms_version: str | None = typer.Option(None, "--terms-version",
                                             help="Version of the terms (default: today)."),
    grant_user: list[str] = typer.Option([], "--grant-user", help="Let this user read it "
                                         "(repeatable)."),
    grant_team: list[str] = typer.Option([], "--grant-team", help="Let this team read it "
                                         "(repeatable)."),
    title: str | None = typer.Option(None, "--title", help="New title."),
    description: str | None = typer.Option(None, "--description", help="New description."),
    deprecate: str | None = typer.Option(None, "--deprecate", metavar="MESSAGE",
                                         help="Deprecate the dataset, saying why / what "
                                              "instead."),
    undeprecate: bool = typer.Option(False, "--undeprecate", help="Undo --deprecate."),
    latest: str | None = typer.Option(None, "--latest", metavar="VERSION",
                                      help="Make VERSION what `latest` means (the only way a "
                                           "pre-release becomes latest)."),
    unpin_latest: bool = typer.Option(False, "--unpin-latest",
                                      help="`latest` back to the newest release."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show or change a dataset you own (as its publisher, or as an admin).

    With no options, show its settings. Every change is written to the server's audit log.
    """
    changes = _changes(visibility, read_terms(terms_file, terms_version), title, description,
                       deprecate, undeprecate, latest, unpin_latest)
    with connect(url, token) as client:
        view = client.update_dataset(name, **changes) if changes else \
            client.dataset_settings(name)
        for user in grant_user:
            view = client.grant(name, user=user)
        for team in grant_team:
            view = client.grant(name, team=team)
    if as_json:
        print_json(view)
    else:
        print_settings(view)


def print_settings(view: dict[str, Any]) -> None:
    """The settings of a dataset, a line each."""
    terms = f", terms version {view['terms_version']}" if view.get("terms_version") else ""
    console.print(f"[bold]{view['name']}[/]: {view['visibility']}{terms}; owner "
                  f"{view.get('owner') or '(operator)'}", highlight=False)
    latest = view.get("latest_version") or "none (no release yet)"
    pinned = " (pinned)" if view.get("pinned_latest") else ""
    console.print(f"  latest: {latest}{pinned}", highlight=False)
    if view.get("deprecated"):
        console.print(f"  [yellow]deprecated:[/] {view.get('deprecation_message')}",
                      highlight=False)
    for version, reason in sorted(view.get("yanked", {}).items()):
        console.print(f"  [yellow]yanked[/] {version}: {reason}", highlight=False)
    for grant in view.get("grants", []):
        console.print(f"  readable by {grant}", highlight=False)


@handle_errors
def yank_command(
    ref: str = typer.Argument(..., help="NAME@VERSION to yank."),
    reason: str | None = typer.Option(None, "--reason", help="Why (shown to whoever still "
                                      "downloads it)."),
    undo: bool = typer.Option(False, "--undo", help="Restore a yanked version."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Yank a version of a dataset you own: it leaves `latest` and listings, and is still
    downloadable by its exact number, with a warning (as on PyPI)."""
    name, version = parse_ref(ref)
    if version == "latest":
        raise InvalidInput(f"name the version to yank: {name}@VERSION")
    if not undo and not reason:
        raise InvalidInput("say why with --reason (it is shown to whoever downloads it)")
    with connect(url, token) as client:
        view = client.unyank(name, version) if undo else client.yank(name, version, str(reason))
    if as_json:
        print_json(view)
    else:
        print_settings(view)
