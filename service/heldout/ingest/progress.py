"""A rich progress bar for ingest: files, megabytes and rate per split."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class _Megabytes(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.fields.get('nbytes', 0) / 1e6:8.1f} MB", style="cyan")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:7.0f} files/s", style="green")


class IngestProgress:
    """``start(split, total)``, then ``advance(files, nbytes)``; silent when disabled."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            _Megabytes(),
            _Rate(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            disable=not enabled,
        )
        self._task: TaskID | None = None
        self._bytes = 0

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, split: str, total: int | None) -> None:
        """Begin the bar of one split."""
        self._bytes = 0
        self._task = self._progress.add_task(split, total=total, nbytes=0)

    def advance(self, files: int, nbytes: int) -> None:
        """Count checked files."""
        if self._task is not None:
            self._bytes += nbytes
            self._progress.update(self._task, advance=files, nbytes=self._bytes)
