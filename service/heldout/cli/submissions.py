"""``heldout submissions list|show|select``: your submissions on a server."""

from __future__ import annotations

from typing import Any

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json, print_table
from heldout.cli.scores import number, print_submission
from heldout.client.http import Client

app = typer.Typer(help="Your submissions: list, show, select finals.", no_args_is_help=True)
URL_OPTION = typer.Option(None, "--url", envvar="HELDOUT_URL",
                          help="The Heldout server (HELDOUT_URL; key from HELDOUT_TOKEN).")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _primary(doc: dict[str, Any]) -> str:
    public = (doc.get("scores") or {}).get("public") or {}
    if public.get("ladder") is not None:
        return number((public.get("ladder") or {}).get("value"))
    return number(public.get("primary"))


@app.command("list")
@handle_errors
def list_command(benchmark: str = typer.Argument(..., help="Benchmark id."),
                 limit: int = typer.Option(50, "--limit", min=1, max=500),
                 url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Your (and your team's) submissions to a benchmark, newest first."""
    with Client(url) as client:
        page = client.submissions(benchmark, limit=limit)
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        console.print(f"no submissions to {benchmark} yet")
        return
    print_table(f"Your submissions to {benchmark} ({page['total']})",
                ["id", "created", "model", "status", "public primary", "selected"],
                [[d["id"], (d.get("created_at") or "")[:19], d["model_name"], d["status"],
                  _primary(d), "yes" if d.get("selected") else ""] for d in page["items"]])


@app.command("show")
@handle_errors
def show_command(submission: str = typer.Argument(..., help="Submission id."),
                 url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """One submission: status, scores with 95% intervals, failure reason."""
    with Client(url) as client:
        doc = client.submission(submission)
    if as_json:
        print_json(doc)
    else:
        print_submission(doc)


@app.command("select")
@handle_errors
def select_command(submission: str = typer.Argument(..., help="Submission id."),
                   undo: bool = typer.Option(False, "--undo", help="Unselect it."),
                   url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Mark a submission as one of your final selections (competitions)."""
    with Client(url) as client:
        doc = client.select(submission, not undo)
    if as_json:
        print_json(doc)
    else:
        state = "selected" if doc.get("selected") else "not selected"
        console.print(f"submission {doc['id']} is {state} as a final submission")
