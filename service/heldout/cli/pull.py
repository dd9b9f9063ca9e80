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
from heldout.names import parse_ref


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
    url: str | None = typer.Option(None, "--url", envvar="HELDOUT_URL",
                                   help="Server URL (default http://127.0.0.1:8000)."),
    workers: int = typer.Option(8, "--workers", min=1, max=64,
                                help="Parallel downloads."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Download a dataset version (parallel, resumable, sha256-verified).

    Run it again after an interruption to resume. Every file is checked against the
    manifest's sha256 before it is put in place. The folder is a Hugging Face Parquet dataset
    folder: datasets.load_dataset("parquet", data_dir=FOLDER). Reads HELDOUT_URL and
    HELDOUT_TOKEN.
    """
    from heldout.client.download import download_version
    from heldout.client.http import Client

    name, version = parse_ref(ref)
    with Client(url, workers=workers) as client, transfer_progress(as_json) as bar:
        task = bar.add_task(f"{name}@{version}", total=None)
        progress = transfer_callback(bar, task)

        result = download_version(client, name, version,
                                  split=list(split) if split else None,
                                  output_dir=output, progress=progress)
        bar.update(task, description=f"{name}@{result.version}")
    summary: dict[str, Any] = {
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
    if as_json:
        print_json(summary)
        return
    rows = sum(result.manifest.splits[s].num_rows for s in result.splits)
    console.print(
        f"[green]✓[/] {result.name}@{result.version}: {len(result.splits)} split(s) "
        f"({', '.join(result.splits)}), {rows} rows, sha256 verified — "
        f"{result.downloaded_files} file(s) downloaded ({human_bytes(result.downloaded_bytes)}),"
        f" {result.reused_files} reused from cache"
    )
    console.print(f"  {result.path}")
    console.print(f'  load with: datasets.load_dataset("parquet", data_dir="{result.path}")',
                  highlight=False, markup=False)


def register(datasets_app: typer.Typer) -> None:
    """Add ``pull`` to the ``heldout datasets`` command group."""
    datasets_app.command("pull")(handle_errors(pull_command))
