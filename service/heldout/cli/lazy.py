"""Command tables and a typer group that imports a command's module only when it runs.

``heldout --help`` lists every command from its table entry (name, one-line help, kind)
without importing the module behind it, so start-up costs only typer; ``heldout datasets pull``
imports ``heldout.cli.pull`` and nothing else (the lazy-subcommand pattern from click's docs).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import typer
import typer.main
from typer import _click
from typer.core import TyperCommand, TyperGroup

CLIENT = "client"
OPERATOR = "operator"
PANELS = {
    CLIENT: "Client commands (talk to a Heldout server)",
    OPERATOR: "Operator commands (this machine's catalog and store)",
}
EPILOGS = {
    CLIENT: "Client command: talks to a Heldout server. URL and key: --url/--token, else "
            "HELDOUT_URL/HELDOUT_TOKEN, else the saved `heldout login`.",
    OPERATOR: "Operator command: works on this machine's catalog and store (HELDOUT_DATA_DIR, "
              "HELDOUT_DATABASE_URL, HELDOUT_STORAGE_*), not through a server.",
}


@dataclass(frozen=True)
class Entry:
    """One command in a table.

    ``target`` is ``"module:attribute"`` naming a command function or a ``typer.Typer`` app;
    ``entries`` instead makes a nested lazy group (such as ``heldout datasets``). ``kind`` is
    ``client``, ``operator`` or ``None`` (a group whose sub-commands are of both kinds).
    """

    name: str
    help: str
    kind: str | None = CLIENT
    target: str = ""
    entries: Sequence[Entry] = field(default_factory=tuple)


def _stub(entry: Entry) -> _click.Command:
    """A placeholder used only to list ``entry`` in help, without importing its module."""
    return TyperCommand(entry.name, help=entry.help, short_help=entry.help,
                        rich_help_panel=PANELS.get(entry.kind or ""))


def _group_callback() -> None:
    """A group's own callback: nothing to do before its sub-command runs."""


def _mark(command: _click.Command, kind: str | None) -> None:
    """Put the client/operator line under the help of ``command`` and its sub-commands."""
    if kind is not None and not command.epilog:
        command.epilog = EPILOGS[kind]
    for sub in getattr(command, "commands", {}).values():
        _mark(sub, kind)


def load_entry(entry: Entry) -> _click.Command:
    """Import and build the click command behind ``entry``."""
    if entry.entries:
        group_app = typer.Typer(name=entry.name, help=entry.help, no_args_is_help=True,
                                add_completion=False, rich_markup_mode=None,
                                cls=lazy_group(entry.entries))
        group_app.callback()(_group_callback)
        command = typer.main.get_command(group_app)
    else:
        module, _, attribute = entry.target.partition(":")
        target: Any = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            command = typer.main.get_command(target)
        else:
            single = typer.Typer(add_completion=False, rich_markup_mode=None)
            single.command(entry.name)(target)
            command = typer.main.get_command(single)
    command.name = entry.name
    command.rich_help_panel = PANELS.get(entry.kind or "")  # type: ignore[attr-defined]
    if not entry.entries:  # a lazy group's commands are marked as each one loads
        _mark(command, entry.kind)
    return command


class LazyGroup(TyperGroup):
    """A typer group over a table of entries, each loaded on first use."""

    entries: Sequence[Entry] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        self._loaded: dict[str, _click.Command] = {}

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [e.name for e in self.entries] + super().list_commands(ctx)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        entry = next((e for e in self.entries if e.name == cmd_name), None)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return _stub(entry)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_entry(entry)
        return self._loaded[cmd_name]

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """One section per kind (client, operator), in table order."""
        sections: dict[str, list[tuple[str, str]]] = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            title = getattr(command, "rich_help_panel", None) or "Commands"
            sections.setdefault(title, []).append((name, command.get_short_help_str(200)))
        for title, rows in sections.items():
            with formatter.section(title):
                formatter.write_dl(rows)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()


def interrupted() -> None:
    """Ctrl-C: one line on stderr, exit code 130 (128 + SIGINT), no traceback."""
    sys.stderr.write("\ninterrupted\n")
    sys.stderr.flush()
    raise SystemExit(130)


def lazy_group(entries: Sequence[Entry]) -> type[LazyGroup]:
    """A LazyGroup class over ``entries`` (typer takes the group class, not an instance)."""
    return type("LazyGroup", (LazyGroup,), {"entries": tuple(entries)})


def run_guarded(main: Callable[[], Any]) -> None:
    """Run ``main`` so that Ctrl-C, even during imports, ends with one line and code 130."""
    try:
        main()
    except KeyboardInterrupt:
        interrupted()
