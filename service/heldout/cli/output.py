"""Printing for commands: readable rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

console = Console(soft_wrap=True)  # lines are never wrapped (tables still fit the width)
errors = Console(stderr=True, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (no colour, no wrapping)."""
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                no_wrap: Sequence[str] = ()) -> None:
    """Print a table with a title; columns in ``no_wrap`` are never cut or wrapped."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap,
                         overflow="fold" if column in no_wrap else "ellipsis",
                         min_width=None)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def human_bytes(size: float) -> str:
    """1536 → '1.5 KB'."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def transfer_progress(quiet: bool) -> Progress:
    """A progress bar for downloads and uploads (bytes, rate, time left) on stderr."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        disable=quiet,
        transient=False,
    )


def transfer_callback(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    """A client progress callback for ``task``: ``(0, total)`` sets the total (and shows the
    task), ``(n, 0)`` advances it by ``n`` bytes."""

    def progress(advance: int, total: int) -> None:
        if total:
            bar.update(task, total=total, visible=True)
        elif advance:
            bar.advance(task, advance)

    return progress
