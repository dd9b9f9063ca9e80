"""The root ``heldout`` command: every command is one row of a table below.

To add a command, append an ``Entry`` to ``COMMANDS`` (or ``DATASETS_COMMANDS``): its name,
one line of help, whether it is a ``CLIENT`` command (talks to a server) or an ``OPERATOR``
command (the server's own catalog and store), and ``"module:attribute"`` of a command function
or a ``typer.Typer`` app. The module is imported only when the command runs, so keep
``heldout --help`` fast by not importing it here.
"""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

import typer

from heldout import __version__
from heldout.cli.lazy import CLIENT, OPERATOR, Entry, lazy_group, run_guarded

DATASETS_COMMANDS: list[Entry] = [
    Entry("list", "List datasets on a server (filters: --task, --modality, --license, "
          "--search).", CLIENT, "heldout.cli.datasets:list_command"),
    Entry("show", "Show a dataset version: splits, features, statistics.", CLIENT,
          "heldout.cli.datasets:show_command"),
    Entry("head", "Print the first rows of a split, read on the server.", CLIENT,
          "heldout.cli.head:head_command"),
    Entry("pull", "Download a version (parallel, resumable, sha256-verified).", CLIENT,
          "heldout.cli.pull:pull_command"),
    Entry("terms", "Read or accept a gated dataset's terms.", CLIENT,
          "heldout.cli.terms:terms_command"),
    Entry("publish", "Check a folder or table and publish it (to a server with --server, "
          "else into this machine's store).", CLIENT, "heldout.cli.publish:publish_command"),
    Entry("manage", "Show or change a dataset you own: visibility, terms, grants, text, "
          "deprecation, latest.", CLIENT, "heldout.cli.manage:manage_command"),
    Entry("yank", "Yank a version you own (hidden from latest and listings) or --undo.", CLIENT,
          "heldout.cli.manage:yank_command"),
    Entry("build", "Build a built-in dataset (digits, spoken-digits) into this machine's "
          "store.", OPERATOR, "heldout.cli.publish:build_command"),
    Entry("access", "Show or change who may read a dataset (visibility, terms, grants).",
          OPERATOR, "heldout.cli.access:access_command"),
]

COMMANDS: list[Entry] = [
    Entry("login", "Check an API key with a server and save both for later commands.", CLIENT,
          "heldout.cli.login:login_command"),
    Entry("whoami", "Show the server in use and the user of its key.", CLIENT,
          "heldout.cli.login:whoami_command"),
    Entry("logout", "Forget the saved sign-in.", CLIENT, "heldout.cli.login:logout_command"),
    Entry("datasets", "Browse, publish and download datasets.", CLIENT,
          entries=DATASETS_COMMANDS),
    Entry("serve", "Run the HTTP API (applies catalog migrations first).", OPERATOR,
          "heldout.cli.serve:serve"),
    Entry("worker", "Run background jobs (sweep abandoned drafts).", OPERATOR,
          "heldout.cli.worker:worker"),
    Entry("db", "Catalog database: migrations and reindex from the bucket.", OPERATOR,
          "heldout.cli.db:app"),
    Entry("benchmarks", "Benchmarks: browse them; sync definitions, rescore, run the "
          "baselines.", CLIENT, "heldout.cli.benchmarks:app"),
    Entry("submit", "Submit predictions to a benchmark.", CLIENT,
          "heldout.cli.submit:submit_command"),
    Entry("leaderboard", "Show a benchmark's leaderboard.", CLIENT,
          "heldout.cli.leaderboard:leaderboard_command"),
    Entry("submissions", "Your submissions: list, show, select finals.", CLIENT,
          "heldout.cli.submissions:app"),
    Entry("users", "Manage user accounts.", OPERATOR, "heldout.cli.users:app"),
    Entry("keys", "Issue, list and revoke API keys.", OPERATOR, "heldout.cli.keys:app"),
]

app = typer.Typer(
    name="heldout",
    help="Heldout: open AI training data and held-out benchmarks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: rich costs more than the rest of start-up
    cls=lazy_group(COMMANDS),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"heldout {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Heldout: open AI training data and held-out benchmarks.

    Client commands talk to a Heldout server (--url, else HELDOUT_URL, else the URL saved by
    `heldout login`); operator commands work on the server's own catalog and store.
    """


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings (a yanked version, a deprecated dataset) as one ``warning:`` line."""
    sys.stderr.write(f"warning: {message}\n")


def main() -> None:
    """The ``heldout`` console script."""
    warnings.showwarning = _show_warning
    run_guarded(app)
