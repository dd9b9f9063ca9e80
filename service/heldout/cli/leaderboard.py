"""``heldout leaderboard BENCHMARK [--json|--csv] [--view public|private]``."""

from __future__ import annotations

import sys

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import print_json
from heldout.cli.scores import print_leaderboard
from heldout.client.http import Client
from heldout.errors import InvalidInput


@handle_errors
def leaderboard_command(
    benchmark: str = typer.Argument(..., help="Benchmark id."),
    view: str = typer.Option("public", "--view", help="public, or private (competitions, once "
                             "revealed or ended; admins any time)."),
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard document."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the leaderboard as CSV."),
    url: str | None = typer.Option(None, "--url", envvar="HELDOUT_URL",
                                   help="The Heldout server (HELDOUT_URL)."),
) -> None:
    """Show a benchmark's leaderboard: best entry per team, ranked, with 95% intervals."""
    if as_json and as_csv:
        raise InvalidInput("choose one of --json and --csv")
    with Client(url) as client:
        if as_csv:
            sys.stdout.write(client.leaderboard_csv(benchmark, view))
            return
        doc = client.leaderboard(benchmark, view)
    if as_json:
        print_json(doc)
    else:
        print_leaderboard(doc)
