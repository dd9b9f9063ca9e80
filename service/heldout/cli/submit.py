"""``heldout submit BENCHMARK FILE --model-name …``: upload predictions, wait, print scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.status import Status

from heldout.cli.common import handle_errors
from heldout.cli.output import errors, print_json
from heldout.cli.scores import print_submission
from heldout.client.http import Client

URL_OPTION = typer.Option(None, "--url", envvar="HELDOUT_URL",
                          help="The Heldout server (HELDOUT_URL; key from HELDOUT_TOKEN).")


def _progress(status: Status) -> Any:
    def update(doc: dict[str, Any]) -> None:
        status.update(f"submission {doc['id']}: {doc['status']}…")
    return update


@handle_errors
def submit_command(
    benchmark: str = typer.Argument(..., help="Benchmark id."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="Predictions: .csv, .jsonl or .parquet keyed by id."),
    model_name: str = typer.Option(..., "--model-name", help="Name shown on the leaderboard."),
    description: str | None = typer.Option(None, "--description", help="What the model is."),
    link: str | None = typer.Option(None, "--link", help="Code or paper URL."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once the file is accepted."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds to wait for the score."),
    url: str | None = URL_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the submission document."),
) -> None:
    """Submit a prediction file to a benchmark; wait for its score (unless --no-wait)."""
    with Client(url) as client, Status(f"uploading {file.name}…", console=errors) as status:
        doc = client.submit(benchmark, file, model_name, description=description, link=link,
                            wait=not no_wait, timeout=timeout,
                            progress=None if as_json else _progress(status))
    if as_json:
        print_json(doc)
    else:
        print_submission(doc)
    if doc["status"] == "failed":
        raise typer.Exit(1)
