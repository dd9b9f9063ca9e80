"""``heldout datasets pull NAME[@VERSION]``: download a version from a server, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import (
    console,
    human_bytes,
    print_json,
    transfer_callback,
    transfer_progress,
)
from heldout.cli.remote import TOKEN_OPTION, URL_OPTION, connect
from heldout.client.download import Download, download_version
from heldout.names import parse_ref


@handle_errors
def pull_command(
    ref: str = typer.Argument(..., help="NAME or NAME@VERSION (default: latest)."),
    split: list[str] | None = typer.Option(
        None, "--split", "-s", help="Only this split (repeat for several). Default: all."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o",
        help="Folder to write the version into (default: the cache, "
             "$HELDOUT_CACHE_DIR or ~/.cache/heldout/NAME/VERSION).",
    ),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    workers: int = typer.Option(8, "--workers", min=1, max=64,
                                help="Parallel downloads."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Download a dataset version (parallel, resumable, sha256-verified).

    Run it again after an interruption to resume. Every file is checked against the
    manifest's sha256 before it is put in place. The folder is a Hugging Face dataset
    folder: datasets.load_dataset(FOLDER).
    """
    name, version = parse_ref(ref)
    with connect(url, token, workers=workers) as client, transfer_progress(as_json) as bar:
        task = bar.add_task(f"{name}@{version}", total=None)
        result = download_version(client, name, version,
                                  split=list(split) if split else None,
                                  output_dir=output, progress=transfer_callback(bar, task))
        bar.update(task, description=f"{name}@{result.version}")
    if as_json:
        print_json(_summary(result))
    else:
        _print_summary(result)


def _summary(result: Download) -> dict[str, Any]:
    return {
        "name": result.name,
        "version": result.version,
        "path": str(result.path),
        "splits": {s: {"num_rows": result.manifest.splits[s].num_rows,
                       "files": [str(p) for p in result.shard_paths(s)]} for s in result.splits},
        "downloaded_files": result.downloaded_files,
        "reused_files": result.reused_files,
        "downloaded_bytes": result.downloaded_bytes,
        "seconds": round(result.seconds, 3),
        "verified": True,
    }


def _print_summary(result: Download) -> None:
    rows = sum(result.manifest.splits[s].num_rows for s in result.splits)
    console.print(
        f"[green]✓[/] {result.name}@{result.version}: {len(result.splits)} split(s) "
        f"({', '.join(result.splits)}), {rows} rows, sha256 verified — "
        f"{result.downloaded_files} file(s) downloaded ({human_bytes(result.downloaded_bytes)}),"
        f" {result.reused_files} reused from cache"
    )
    console.print(f"  {result.path}")
    console.print(f'  load with: datasets.load_dataset("{result.path}")',
                  highlight=False, markup=False)
